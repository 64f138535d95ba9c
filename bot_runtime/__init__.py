"""Concierge's additions to the Rasa server process: the SQLite tracker store and the launcher's rasa entry point."""
