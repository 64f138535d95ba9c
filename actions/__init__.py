"""Concierge custom actions (Rasa SDK): identity, tiers, self-service look-ups, routing decisions, handoff."""
