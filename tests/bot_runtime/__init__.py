"""Tests of bot_runtime (Rasa-process additions); run with the bot runtime."""
