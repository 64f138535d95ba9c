"""What the Rasa process says itself, without any custom action (the actions' sentences are in actions/messages.py:
the Rasa process never imports the action code)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # before any NLU work (bot_runtime/message_limit.py)
    "message_too_long": (
        "That message is too long for me: please keep it under {limit} characters. You could send the main point "
        "first, and the details in a second message."
    ),
    # when a custom action cannot run (bot_runtime/action_outage.py)
    "action_failed": (
        "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a moment; if it "
        "keeps happening, you can write to support@example.com."
    ),
}
