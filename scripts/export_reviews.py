"""Export conversations that ended with a human into review files for bot trainers (learning from humans).

For every escalation closed by an agent (statuses resolved / returned_to_bot, from the routing service's service API)
it reads the conversation's events from Rasa's tracker store and writes, under reviews/<date>/:
- nlu_candidates.yml: customer messages the bot could not handle (nlu_fallback / out_of_scope), classified with low
  confidence, or sent while a human held the conversation, as Rasa NLU examples; a comment above each one gives the
  predicted intent and confidence, the conversation, and how to accept or discard it;
- test_stories.yml: each conversation as a candidate test story (human agents' messages as comments).
Personal data is masked in both files: emails [EMAIL], IBANs [IBAN], payment cards [CARD] (Luhn-checked), order
numbers in any spelling [ORDER], postcodes [POSTCODE], phone numbers [PHONE], and the customer's names known from
the routing record and the customer_name slot [NAME]; what the customer types while the address form asks for the
new address is dropped ([ADDRESS]). Conversation ids (they work as chat session credentials) become hashes, and
every free text is a quoted YAML scalar or a single-line comment.

Events come from Rasa's HTTP API when --rasa-url is given, otherwise from the SQLite tracker store
($CONCIERGE_TRACKER_DB, default var/tracker.db). Run with the bot runtime (`make export-reviews ARGS=...`):
  .venv/bot/bin/python scripts/export_reviews.py [--since 2026-11-01] [--rasa-url http://127.0.0.1:5005]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clock import utcnow  # noqa: E402

DEV_SECRET = "dev-only-change-me"
REJECTING_INTENTS = {"nlu_fallback", "out_of_scope"}
SKIPPED_ACTIONS = {"action_listen", "action_session_start"}
# slots worth replaying in a test story (none of them carries personal data)
STORY_SLOTS = {"handoff_active", "awaiting_contact", "verified", "order_query", "requested_slot"}

EMAIL = re.compile(r"[^@\s\[\]()]+@[^@\s\[\]()]+\.[A-Za-z]{2,}")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
CARD_LIKE = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")  # 13 to 19 digits, maybe grouped
ORDER = re.compile(r"\bC[\s-]?\d{4,}\b", re.IGNORECASE)  # C-100042, C100042, c 100042
POSTCODE = re.compile(r"\b(?:\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b")  # US ZIP, UK postcode
PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
ADDRESS_SLOT = "new_address"  # what the customer types while the shipping-address form asks for it is dropped


def luhn_valid(digits: str) -> bool:
    """The payment-card check digit (so that an order total or a date is not taken for a card)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if luhn_valid(digits) else match.group(0)


def conversation_ref(conversation_id: str) -> str:
    """A stable stand-in for a conversation id: the id itself works as a session credential for the chat."""
    return "conv-" + hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


@dataclass
class Masker:
    """Replaces personal data with placeholders."""

    names: set[str] = field(default_factory=set)

    def add_name(self, name: str | None) -> None:
        """A customer's full name and each of its parts (of 3 letters or more) will be masked."""
        if name:
            self.names.add(name.strip())
            self.names.update(part for part in re.split(r"[\s.,-]+", name) if len(part) >= 3)

    def __call__(self, text: str) -> str:
        text = EMAIL.sub("[EMAIL]", text)
        text = IBAN.sub("[IBAN]", text)
        text = CARD_LIKE.sub(_card, text)
        text = ORDER.sub("[ORDER]", text)
        text = POSTCODE.sub("[POSTCODE]", text)
        text = PHONE.sub("[PHONE]", text)
        for name in sorted(self.names, key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(name)}\b", "[NAME]", text, flags=re.IGNORECASE)
        return " ".join(text.split())


@dataclass(frozen=True)
class Candidate:
    """A customer message worth a trainer's look."""

    text: str
    predicted: str
    confidence: float
    suggested: str
    why: str
    conversation: str
    escalation: int


def closed_escalations(routing_url: str, token: str, statuses: str, since: str | None) -> list[dict[str, Any]]:
    """Every escalation closed by agents, from the routing service's service API: page after page, following the
    `next` link until the last page (the service pages its answers; no list stops silently)."""
    params: dict[str, str] | None = {"status": statuses, **({"since": since} if since else {})}
    url: str | None = f"{routing_url}/api/v1/escalations"
    found: list[dict[str, Any]] = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        while url is not None:
            response = client.get(url, params=params)
            response.raise_for_status()
            found += response.json()
            url, params = response.links.get("next", {}).get("url"), None  # the next URL carries every parameter
    return found


def events_over_http(rasa_url: str, token: str, conversation_id: str) -> list[dict[str, Any]]:
    """All events of a conversation from Rasa's HTTP API."""
    response = httpx.get(f"{rasa_url}/conversations/{conversation_id}/tracker",
                         params={"token": token, "include_events": "ALL"}, timeout=30)
    response.raise_for_status()
    return list(response.json().get("events") or [])


def events_from_sqlite(db: Path, conversation_id: str) -> list[dict[str, Any]]:
    """All events of a conversation from Rasa's SQL tracker store (its `events` table), oldest first."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (conversation_id,)).fetchall()
    return [json.loads(row[0]) for row in rows]


def _is_external(event: dict[str, Any]) -> bool:
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
    return intent.startswith("EXTERNAL_")


def candidates(events: list[dict[str, Any]], escalation: dict[str, Any], mask: Masker,
               min_confidence: float) -> list[Candidate]:
    """Customer messages that were not handled, uncertain, or sent while a human held the conversation."""
    found = []
    with_human = False
    asked = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == "handoff_active":
            with_human = bool(event.get("value"))
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            asked = event.get("value")
        if event.get("event") != "user" or not event.get("text") or _is_external(event) or asked == ADDRESS_SLOT:
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name, confidence = intent.get("name") or "", float(intent.get("confidence") or 0.0)
        reasons = [r for r, hit in (("not handled by the bot", name in REJECTING_INTENTS),
                                    (f"confidence below {min_confidence}", confidence < min_confidence),
                                    ("sent while a human held the conversation", with_human)) if hit]
        if not reasons:
            continue
        ranking = [r.get("name") for r in parse.get("intent_ranking") or [] if r.get("name") not in REJECTING_INTENTS]
        found.append(Candidate(mask(event["text"]), name, confidence, (ranking or [name])[0] or name,
                               "; ".join(reasons), conversation_ref(escalation["conversation_id"]),
                               int(escalation["id"])))
    return found


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def nlu_yaml(found: list[Candidate], day: str) -> str:
    """Rasa NLU YAML, one entry per candidate with a comment for the trainer."""
    lines = ['version: "3.1"',
             f"# Candidate NLU examples from conversations that ended with a human (exported {day}).",
             "# For each entry: ACCEPT = set the right intent and move the example into data/nlu/;",
             "# DISCARD = delete the entry. This folder is never trained as it is.",
             "nlu:"]
    for c in found:
        lines += [f"  # conversation {c.conversation} (escalation {c.escalation}): predicted {c.predicted} "
                  f"({c.confidence:.2f}); {c.why}",
                  f"  - intent: {c.suggested}",
                  "    examples: |",
                  f"      - {c.text}"]
    if not found:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"


def story_lines(events: list[dict[str, Any]], escalation: dict[str, Any], mask: Masker) -> list[str]:
    """One candidate test story (Rasa test-story YAML) for a conversation."""
    title = (f"review {conversation_ref(escalation['conversation_id'])} (escalation {escalation['id']}, "
             f"{escalation['status']}, disposition {escalation.get('disposition') or 'none'})")
    lines = [f"  - story: {_q(title)}", "    steps:"]
    asked = None
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            asked = event.get("value")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            if _is_external(event) or not event.get("text"):
                lines += [f"      - intent: {_q(intent)}"]
            else:
                text = "[ADDRESS]" if asked == ADDRESS_SLOT else mask(event["text"])
                lines += [f"      - user: {_q(text)}", f"        intent: {_q(intent)}"]
        elif kind == "action" and event.get("name") not in SKIPPED_ACTIONS:
            lines.append(f"      - action: {_q(str(event.get('name')))}")
        elif kind == "slot" and event.get("name") in STORY_SLOTS:
            lines += ["      - slot_was_set:", f"          - {event['name']}: {json.dumps(event.get('value'))}"]
        elif kind == "active_loop":
            lines.append(f"      - active_loop: {event.get('name') or 'null'}")
        elif kind == "bot" and (event.get("metadata") or {}).get("source") == "human" and event.get("text"):
            lines.append(f"      # agent: {' '.join(mask(event['text']).split())}")
    return lines


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routing-url", default=env("CONCIERGE_ROUTING_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--service-token", default=env("CONCIERGE_SERVICE_TOKEN", DEV_SECRET))
    parser.add_argument("--rasa-url", default=None, help="read events over Rasa's HTTP API instead of SQLite")
    parser.add_argument("--rasa-token", default=env("CONCIERGE_RASA_TOKEN", DEV_SECRET))
    parser.add_argument("--tracker-db", type=Path,
                        default=Path(env("CONCIERGE_TRACKER_DB", str(ROOT / "var" / "tracker.db"))))
    parser.add_argument("--status", default="resolved,returned_to_bot", help="closed statuses to export")
    parser.add_argument("--since", default=None, help="only escalations closed at or after (ISO date or time)")
    parser.add_argument("--min-confidence", type=float, default=0.6, help="below this, a message is a candidate")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default reviews/<today>)")
    args = parser.parse_args(argv)

    day = utcnow().date().isoformat()
    out = args.out or ROOT / "reviews" / day
    if args.rasa_url is None and not args.tracker_db.exists():
        print(f"export-reviews: no tracker store at {args.tracker_db}; give --tracker-db or --rasa-url.",
              file=sys.stderr)
        return 1
    escalations = closed_escalations(args.routing_url.rstrip("/"), args.service_token, args.status, args.since)
    found: list[Candidate] = []
    stories: list[str] = []
    for escalation in escalations:
        conversation = escalation["conversation_id"]
        events = (events_over_http(args.rasa_url.rstrip("/"), args.rasa_token, conversation) if args.rasa_url
                  else events_from_sqlite(args.tracker_db, conversation))
        mask = Masker()
        mask.add_name(escalation.get("customer_name"))
        mask.add_name((escalation.get("contact") or {}).get("name"))
        for event in events:
            if event.get("event") == "slot" and event.get("name") == "customer_name":
                mask.add_name(event.get("value"))
        found += candidates(events, escalation, mask, args.min_confidence)
        stories += story_lines(events, escalation, mask)

    out.mkdir(parents=True, exist_ok=True)
    (out / "nlu_candidates.yml").write_text(nlu_yaml(found, day), encoding="utf-8")
    header = ['version: "3.1"', f"# Candidate test stories of conversations that ended with a human (exported {day}).",
              "# ACCEPT = fix the steps where the bot should have done better and move the story into",
              "# tests/test_stories.yml (or data/stories/); DISCARD = delete it."]
    (out / "test_stories.yml").write_text("\n".join(header + (["stories:"] + stories if stories else ["stories: []"]))
                                          + "\n", encoding="utf-8")
    print(f"export-reviews: {len(escalations)} conversation(s), {len(found)} candidate example(s) -> "
          f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
