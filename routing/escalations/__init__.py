"""Escalations to humans: lifecycle, handoff packet, claims, messages, notes, relay to Rasa."""
