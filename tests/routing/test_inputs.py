"""Bad input gets a 4xx that names the field, and nothing is stored: the cases the API fuzz test first found."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from routing.escalations.models import Escalation
from routing.inputs import MAX_BODY_BYTES, MAX_INT


def _field_error(response: object, field: str) -> str:
    body = response.json()  # type: ignore[attr-defined]
    [error] = [e for e in body["detail"] if e["loc"][-1] == field]
    return str(error["msg"])


def test_text_the_database_cannot_store_is_refused(client: TestClient) -> None:
    for escaped, words in ((r"a\u0000b", "NUL"), (r"\ud800", "unicode")):  # JSON escapes, as clients send them
        body = '{"intent": "complaint", "conversation_id": "' + escaped + '"}'
        response = client.post("/api/v1/decisions", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert words in _field_error(response, "conversation_id")


def test_integers_and_ids_are_bounded(client: TestClient) -> None:
    assert client.get(f"/api/v1/customers/{MAX_INT + 1}").status_code == 422
    assert client.get("/api/v1/customers/-5").status_code == 422
    assert client.get(f"/api/v1/customers/{MAX_INT}").status_code == 404
    response = client.post("/api/v1/decisions", json={"conversation_id": "c", "intent": "complaint",
                                                      "bot_failures": 2**63})
    assert response.status_code == 422 and _field_error(response, "bot_failures")


def test_unknown_customers_null_statuses_and_huge_slas_are_field_errors(client: TestClient) -> None:
    packet = {"conversation_id": "c-1", "idempotency_key": "k-1", "tier": "gold", "queue": "vip"}
    unknown = client.post("/api/v1/escalations", json={**packet, "customer_id": 999_999})
    assert unknown.status_code == 422 and _field_error(unknown, "customer_id") == "unknown customer"
    huge = client.post("/api/v1/escalations", json={**packet, "sla_seconds": 10**12})
    assert huge.status_code == 422 and _field_error(huge, "sla_seconds")
    null = client.patch("/api/v1/orders/C-100001", json={"status": None})
    assert null.status_code == 422 and "always has a status" in _field_error(null, "status")
    long_fact = client.post("/api/v1/escalations", json={**packet, "facts": {"order_number": "C" * 33}})
    assert long_fact.status_code == 422 and _field_error(long_fact, "order_number")


def test_a_body_over_the_limit_gets_413_before_it_is_read(client: TestClient) -> None:
    body = b'{"conversation_id": "' + b"a" * (MAX_BODY_BYTES + 1) + b'", "intent": "complaint"}'
    response = client.post("/api/v1/decisions", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "over" in response.json()["detail"]


def test_a_full_transcript_is_not_free_form_json(client: TestClient) -> None:
    """The bot sends up to 40 transcript lines of up to 4,000 characters; their own fields bound them."""
    lines = [{"role": "customer", "text": "x" * 4000, "at": None} for _ in range(40)]
    packet = {"conversation_id": "c-long", "idempotency_key": "k-long", "tier": "gold", "queue": "vip",
              "transcript": lines}
    assert client.post("/api/v1/escalations", json=packet).status_code == 201
    too_long = [{"role": "customer", "text": "x" * 4001, "at": None}]
    refused = client.post("/api/v1/escalations", json={**packet, "idempotency_key": "k-2", "transcript": too_long})
    assert refused.status_code == 422


def test_dot_conversation_ids_are_refused_wherever_a_conversation_id_is_accepted(client: TestClient) -> None:
    """"." and ".." would be steps in the path of the Rasa URLs built with the id (/conversations/../trigger_intent
    is /trigger_intent); the bot's channel refuses them as senders, and so does every endpoint here."""
    for dots in (".", ".."):
        decision = client.post("/api/v1/decisions", json={"conversation_id": dots, "intent": "complaint"})
        packet = {"conversation_id": dots, "idempotency_key": f"k{dots}", "tier": "gold", "queue": "vip"}
        escalation = client.post("/api/v1/escalations", json=packet)
        rating = client.post("/api/v1/csat", json={"conversation_id": dots, "rating": 5, "rating_key": "k"})
        for refused in (decision, escalation, rating):
            assert refused.status_code == 422, refused.text
            assert "not conversation ids" in _field_error(refused, "conversation_id")
        lookup = client.get("/api/v1/escalations/open", params={"conversation_id": dots})
        assert lookup.status_code == 422 and "not conversation ids" in _field_error(lookup, "conversation_id")
    # ids that merely contain dots are ids like any other
    for dotted in ("...", "a.b", ".a"):
        answer = client.post("/api/v1/decisions", json={"conversation_id": dotted, "intent": "complaint"})
        assert answer.status_code == 200, answer.text


def test_facts_are_what_the_bot_knows_and_nothing_else(client: TestClient, demo_db: sessionmaker[Session]) -> None:
    """The bot's facts (order number, order task, email) are stored as sent; a key the bot does not send, or a value
    over its bound, is a 422 that names it, for a decision as for an escalation."""
    facts = {"order_number": "c100042", "order_query": "change_address", "email": "ada@example.com"}
    packet = {"conversation_id": "c-facts", "idempotency_key": "k-facts", "tier": "gold", "queue": "vip"}
    created = client.post("/api/v1/escalations", json={**packet, "facts": facts})
    assert created.status_code == 201, created.text
    with demo_db() as session:
        assert session.get(Escalation, created.json()["id"]).facts == facts  # type: ignore[union-attr]
    decision = {"conversation_id": "c-facts", "intent": "complaint"}
    assert client.post("/api/v1/decisions", json={**decision, "facts": {"order_number": "C-100042"}}).status_code == 200
    assert client.post("/api/v1/decisions", json=decision).status_code == 200  # no facts at all
    for wrong, field in (({"note": "free text"}, "note"), ({"order_number": "C-1 OR 1=1"}, "order_number"),
                         ({"order_query": "x" * 41}, "order_query"), ({"email": "not an email"}, "email"),
                         ({"order_number": 100042}, "order_number"), ({"email": "a\x00@b.cc"}, "email")):
        for path, body in (("/api/v1/escalations", {**packet, "idempotency_key": "k-wrong"}),
                           ("/api/v1/decisions", decision)):
            refused = client.post(path, json={**body, "facts": wrong})
            assert refused.status_code == 422 and _field_error(refused, field), (path, wrong, refused.text)
