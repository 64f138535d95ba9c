"""Concierge's additions to the Rasa server process: the SQLite tracker store and the launcher's rasa entry point."""

# Connections waiting to be accepted, for the Rasa server and the action server alike: Sanic's default of 100 resets
# connections when more arrive at once (a soak of 200 conversations did); the kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 2048
