"""Support agents: accounts, queues they serve, status, login tokens."""
