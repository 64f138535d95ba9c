"""Custom Rasa policies of Concierge (loaded by the Rasa server, referenced from config.yml)."""
