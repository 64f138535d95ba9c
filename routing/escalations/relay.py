"""Relay from the routing service into the customer's Rasa conversation (agent replies, end of the handoff)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from routing.inputs import DOT_SEGMENTS
from routing.webhooks import OutgoingHttp


class RelayError(Exception):
    """A call to Rasa failed; the message never carries Rasa's token (it is stored in the outbox and logged)."""


RELAY_ID = "relay_id"  # the call's key: Rasa applies a key once (bot_runtime/relay_once.py)
RATING_KEY = "rating_key"  # lets the customer rate the chat (routing/analytics/csat.py); the widget gets it


def path_segment(value: str) -> str:
    """`value` quoted as exactly one URL path segment: "/", "?", "#" and "%" are percent-quoted (safe=''). quote
    leaves dots alone, and "." or ".." would be steps in the path that clients, proxies and servers resolve
    (httpx sends /conversations/../trigger_intent as /trigger_intent; WHATWG parsers resolve "%2E%2E" as well), so
    they are refused (ValueError), as is an empty value. The service accepts no such conversation id
    (routing/inputs.py); this guards ids stored before it refused them."""
    if not value or value in DOT_SEGMENTS:
        raise ValueError(f"{value!r} cannot be a conversation id in a URL")
    return quote(value, safe="")


class RasaRelay:
    """Talks to Rasa's HTTP API (token auth) through the service's one outgoing client (`http`, also used for
    queue webhooks). Each call is tried `attempts` times (the client's default unless a call says otherwise; the
    outbox asks for one, since it retries with back-off itself), then raises."""

    def __init__(self, rasa_url: str, rasa_token: str, http: OutgoingHttp | None = None, attempts: int = 3) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.rasa_token = rasa_token
        self.http = http or OutgoingHttp(attempts=attempts)

    def _post(self, path: str, params: dict[str, str], body: object, attempts: int | None = None) -> None:
        # Rasa's token authentication reads the token from the query string only; it never reaches a stored error
        try:
            self.http.post_json(f"{self.rasa_url}{path}", body, params={**params, "token": self.rasa_token},
                                attempts=attempts)
        except httpx.HTTPError as exc:
            raise RelayError(f"{type(exc).__name__}: {exc}".replace(self.rasa_token, "[token]")) from None

    @staticmethod
    def _conversation(conversation_id: str) -> str:
        """The conversation id as one URL path segment that nothing on the way normalises (`path_segment`)."""
        try:
            return path_segment(conversation_id)
        except ValueError as exc:
            raise RelayError(str(exc)) from None

    def send_agent_message(self, conversation_id: str, text: str, agent_name: str, attempts: int | None = None,
                           relay_id: str | None = None) -> None:
        """Append a bot-uttered event carrying the agent's text; Rasa sends it to the customer's latest channel.

        The `custom` part follows the text on socket.io as `{"agent": name}`, so the widget shows who wrote it.
        `relay_id` (the outbox item's key) rides in the event's metadata: a second call with it changes nothing.
        """
        metadata = {"agent": agent_name, "source": "human", **({RELAY_ID: relay_id} if relay_id else {})}
        event = {"event": "bot", "text": text, "metadata": metadata,
                 "data": {"custom": {"data": {"agent": agent_name}}}}
        # No timestamp: Rasa stamps the event on its own (system) clock, which orders the tracker's events.
        # Rasa forwards appended bot events to the output channel only with execute_side_effects=true
        # (rasa/server.py append_events → processor.execute_side_effects).
        self._post(f"/conversations/{self._conversation(conversation_id)}/tracker/events",
                   {"output_channel": "latest", "execute_side_effects": "true"}, [event], attempts=attempts)

    def queue_update(self, conversation_id: str, event: str) -> None:
        """Tell the customer's conversation that their queue moved (`event` "moved") or their team closed ("closed");
        the bot's action_queue_update reads the escalation's status and updates the widget. One attempt: the next
        change sends a fresh update, so a lost one is not retried."""
        self._post(f"/conversations/{self._conversation(conversation_id)}/trigger_intent", {"output_channel": "latest"},
                   {"name": "EXTERNAL_queue_update", "entities": {"queue_event": event}}, attempts=1)

    def end_handoff(self, conversation_id: str, status: str, disposition: str | None, attempts: int | None = None,
                    relay_id: str | None = None, rating_key: str | None = None) -> None:
        """Resume the bot: trigger EXTERNAL_handoff_ended with the outcome (and `relay_id`, see
        `send_agent_message`, and the customer's `rating_key` after a chat with a person) as entities. Rasa keeps
        entities the domain does not declare in the triggered message, so neither needs a domain entry."""
        entities = {"handoff_status": status, "disposition": disposition or "",
                    **({RELAY_ID: relay_id} if relay_id else {}), **({RATING_KEY: rating_key} if rating_key else {})}
        self._post(f"/conversations/{self._conversation(conversation_id)}/trigger_intent", {"output_channel": "latest"},
                   {"name": "EXTERNAL_handoff_ended", "entities": entities}, attempts=attempts)
