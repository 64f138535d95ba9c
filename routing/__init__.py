"""Concierge routing service: customers, orders, value tiers, routing policy, queues, agents, escalations."""
