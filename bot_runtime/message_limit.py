"""A length limit on customer messages, enforced before any NLU work.

A 100,000-character message kept Rasa's NLU busy for up to a minute (every other conversation waited) and grew the
process by gigabytes. Beyond `MAX_MESSAGE_CHARS` (the chat widget's own limit) the message is not parsed and not
stored: the customer is told, in one sentence from bot_runtime/texts.py, to send something shorter. The HTTP body
itself is capped by Sanic (`SANIC_REQUEST_MAX_SIZE`, set by the launcher) before any of this runs.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor

from bot_runtime.texts import MESSAGES

MAX_MESSAGE_CHARS = 2000
_installed: list[bool] = []


def too_long(message: UserMessage) -> bool:
    """Whether the customer's text is over the limit."""
    return message.text is not None and len(message.text) > MAX_MESSAGE_CHARS


def install() -> None:
    """Answer over-long messages without parsing them (idempotent)."""
    if _installed:
        return
    _installed.append(True)
    original = MessageProcessor.handle_message

    async def handle_message(self: MessageProcessor, message: UserMessage) -> list[dict[str, Any]] | None:
        if not too_long(message):
            handled: list[dict[str, Any]] | None = await original(self, message)
            return handled
        text = MESSAGES["message_too_long"].format(limit=f"{MAX_MESSAGE_CHARS:,}")
        await message.output_channel.send_text_message(message.sender_id, text)
        if isinstance(message.output_channel, CollectingOutputChannel):
            collected: list[dict[str, Any]] = message.output_channel.messages
            return collected
        return None

    MessageProcessor.handle_message = handle_message
