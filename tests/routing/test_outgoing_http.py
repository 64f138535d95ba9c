"""The one outgoing HTTP client: retries, then the last error; connections reused (fast tests beside the real ones
in test_webhooks.py and test_escalations_expiry_relay.py, which talk to a real HTTP server)."""

from __future__ import annotations

from urllib.parse import quote, unquote

import httpx
import pytest
from fixtures_human_support import Recorder

from routing.escalations.relay import RasaRelay, RelayError
from routing.webhooks import OutgoingHttp, notify_waiting


def _recording(statuses: list[int]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(statuses[min(len(seen), len(statuses)) - 1], json={})

    return httpx.MockTransport(answer), seen


def test_error_statuses_are_retried_then_raised() -> None:
    transport, seen = _recording([500, 503, 200])
    http = OutgoingHttp(attempts=3, backoff=0, transport=transport)
    notify_waiting(http, "http://chat-tool.example/hook", {"id": 7})
    assert len(seen) == 3 and seen[-1].url.path == "/hook"

    transport, seen = _recording([502])
    with pytest.raises(httpx.HTTPStatusError):
        OutgoingHttp(attempts=2, backoff=0, transport=transport).post_json("http://x.example/", {})
    assert len(seen) == 2


def test_a_queue_update_is_tried_once_and_its_error_never_shows_the_token() -> None:
    transport, seen = _recording([500])
    relay = RasaRelay("http://rasa.example", "rasa-secret-token",
                      OutgoingHttp(attempts=3, backoff=0, transport=transport))
    with pytest.raises(RelayError) as failed:
        relay.queue_update("conv-1", "moved")
    assert len(seen) == 1  # the next change sends a fresh update
    assert seen[0].url.params["token"] == "rasa-secret-token"
    assert seen[0].url.path == "/conversations/conv-1/trigger_intent"
    assert "500" in str(failed.value) and "rasa-secret-token" not in str(failed.value)  # stored in the outbox


@pytest.mark.parametrize("conversation", ["a?token=x", "a#frag", "../../status", "a/b", "line\nbreak"])
def test_a_client_chosen_conversation_id_stays_one_path_segment(conversation: str) -> None:
    transport, seen = _recording([200])
    RasaRelay("http://rasa.example", "t", OutgoingHttp(transport=transport)).end_handoff(conversation, "resolved",
                                                                                          None)
    [request] = seen
    assert request.url.raw_path.decode().split("?")[0].startswith("/conversations/")
    assert request.url.path == f"/conversations/{conversation}/trigger_intent"  # decoded: the id, whole
    assert request.url.params["token"] == "t" and "x" not in request.url.params.get_list("token")


@pytest.mark.parametrize("conversation", ["...", ".a", "a..", "%2e%2e", "..%2f", "a/../b"])
def test_ids_with_dots_reach_rasa_as_one_path_segment(conversation: str, hs_recorder: Recorder) -> None:
    """Over real HTTP: what the server receives is /conversations/<the id, percent-quoted>/..., never normalised."""
    relay = RasaRelay(hs_recorder.url, "t")
    relay.end_handoff(conversation, "resolved", None)
    relay.send_agent_message(conversation, "hi", "Alice")
    relay.queue_update(conversation, "moved")
    paths = [r["path"] for r in hs_recorder.requests]
    segment = quote(conversation, safe="")
    assert paths == [f"/conversations/{segment}/trigger_intent", f"/conversations/{segment}/tracker/events",
                     f"/conversations/{segment}/trigger_intent"]
    assert {unquote(path.split("/")[2]) for path in paths} == {conversation}


@pytest.mark.parametrize("conversation", [".", "..", ""])
def test_a_dot_segment_is_never_sent_to_rasa(conversation: str, hs_recorder: Recorder) -> None:
    """"." and ".." cannot be quoted into one segment (quote leaves dots alone; /conversations/../trigger_intent
    is /trigger_intent to httpx, nginx and Rasa): the relay refuses them, and nothing is sent."""
    relay = RasaRelay(hs_recorder.url, "t")
    for call in (lambda: relay.end_handoff(conversation, "resolved", None),
                 lambda: relay.send_agent_message(conversation, "hi", "Alice"),
                 lambda: relay.queue_update(conversation, "moved")):
        with pytest.raises(RelayError, match="cannot be a conversation id"):
            call()
    assert hs_recorder.requests == []
