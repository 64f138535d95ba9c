"""The review export leaves no personal data and no injected YAML, on realistic seeded PII (bot runtime)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _export() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_reviews", ROOT / "scripts" / "export_reviews.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["export_reviews"] = module
    spec.loader.exec_module(module)
    return module


PII = {
    "card": "my card 4111 1111 1111 1111 was charged twice",
    "card_dashes": "card 5500-0000-0000-0004 please",
    "iban": "refund to DE89 3704 0044 0532 0130 00 thanks",
    "orders": "orders C100042, c 100043 and C-100044 are late",
    "zip": "I live at 90210-1234 now",
    "uk": "postcode SW1A 1AA",
    "phone": "call +1 (555) 010-0199",
    "email": "write to ines.navarro@example.org",
    "name": "this is Ines Navarro speaking",
}
SECRETS = ["4111", "5500", "DE89", "100042", "100043", "100044", "90210", "SW1A", "555", "ines.navarro", "Navarro"]


def test_every_kind_of_personal_data_is_masked() -> None:
    export = _export()
    mask = export.Masker()
    mask.add_name("Ines Navarro")
    masked = {key: mask(text) for key, text in PII.items()}
    assert masked["card"] == "my card [CARD] was charged twice" and masked["card_dashes"] == "card [CARD] please"
    assert masked["iban"] == "refund to [IBAN] thanks"
    assert masked["orders"] == "orders [ORDER], [ORDER] and [ORDER] are late"
    assert masked["zip"] == "I live at [POSTCODE] now" and masked["uk"] == "postcode [POSTCODE]"
    assert masked["phone"] == "call [PHONE]" and masked["email"] == "write to [EMAIL]"
    assert masked["name"] == "this is [NAME] speaking"  # the full name first, then its parts
    assert mask("total 1234 5678 9012 3456 units") == "total [PHONE] units"  # not a card (Luhn), still masked as digits


def _user(text: str, intent: str = "nlu_fallback", confidence: float = 0.2) -> dict[str, object]:
    return {"event": "user", "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": []}}


def test_the_files_hold_no_pii_no_raw_ids_and_stay_valid_yaml() -> None:
    export = _export()
    conversation = 'abc"\n  - story: injected\n#'
    escalation = {"id": 7, "conversation_id": conversation, "status": "resolved", "disposition": "resolved"}
    events = [_user(text) for text in PII.values()]
    events += [{"event": "slot", "name": "requested_slot", "value": "new_address"},
               _user("221B Baker Street, London NW1 6XE", "inform", 0.9),
               {"event": "slot", "name": "requested_slot", "value": None},
               {"event": "bot", "text": "Thanks Ines, card 4111 1111 1111 1111 noted\n  - story: x",
                "metadata": {"source": "human"}}]
    mask = export.Masker()
    mask.add_name("Ines Navarro")
    found = export.candidates(events, escalation, mask, 0.6)
    nlu = export.nlu_yaml(found, "2026-12-01")
    stories = "\n".join(['version: "3.1"', "stories:", *export.story_lines(events, escalation, mask)]) + "\n"
    for text in (nlu, stories):
        assert not [secret for secret in SECRETS if secret in text], text
        assert "Baker" not in text and "NW1" not in text and conversation not in text
    parsed = yaml.safe_load(stories)
    [story] = parsed["stories"]
    assert story["story"].startswith("review conv-") and "[ADDRESS]" in stories
    assert len(yaml.safe_load(nlu)["nlu"]) == len(PII)  # the address turn is not a candidate
