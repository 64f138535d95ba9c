"""Learning from humans: a real escalated conversation is exported into masked review files for trainers."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import yaml

from launcher.settings import StackSettings
from tests.e2e.agents import AgentSession
from tests.e2e.customers import RestCustomer, shop_token

ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = ROOT / ".venv" / "bot" / "bin" / "python"


def _export(stack: StackSettings, out: Path, *source: str) -> str:
    result = subprocess.run(
        [str(BOT_PYTHON), str(ROOT / "scripts" / "export_reviews.py"), "--routing-url", stack.routing_url,
         "--service-token", stack.service_token, "--rasa-token", stack.rasa_token, "--out", str(out), *source],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_resolved_escalation_becomes_masked_review_files(stack: StackSettings, tmp_path: Path) -> None:
    customer = RestCustomer(stack, "review", shop_token(stack, "demo-platinum"))
    say, sender = customer.say, customer.sender
    alice = AgentSession(stack.routing_url, "alice")
    try:
        say("hello")
        replies = say("I want to talk to a human agent")
        assert any("connecting you" in r.get("text", "") for r in replies), replies
        packet = alice.find(sender)
        name = packet["customer_name"]
        assert name, "the demo platinum customer has a name"
        alice.post(f"/escalations/{packet['id']}/claim")
        alice.post(f"/escalations/{packet['id']}/messages", {"text": f"Hello {name.split()[0]}, Alice here."})
        personal = f"{name} here, write to me at {name.split()[0].lower()}.x@example.com about order C-100042"
        assert say(personal) == [], "the bot talked over the agent"
        alice.wait_for_customer_message(packet["id"], personal)
        alice.post(f"/escalations/{packet['id']}/resolve", {"disposition": "info_provided"})
        deadline = time.monotonic() + 15
        while not any(e.get("name") == "action_handoff_ended" for e in customer.tracker()["events"]):
            assert time.monotonic() < deadline, "the bot never resumed"
            time.sleep(0.3)
    finally:
        alice.close()

    over_http = tmp_path / "http"
    printed = _export(stack, over_http, "--rasa-url", stack.rasa_url)
    assert "candidate example(s)" in printed
    from_sqlite = tmp_path / "sqlite"
    _export(stack, from_sqlite, "--tracker-db", str(stack.var_dir / "tracker.db"))

    for folder in (over_http, from_sqlite):
        nlu_text = (folder / "nlu_candidates.yml").read_text()
        story_text = (folder / "test_stories.yml").read_text()
        nlu, stories = yaml.safe_load(nlu_text), yaml.safe_load(story_text)
        examples = [x.strip("- ").strip() for entry in nlu["nlu"] for x in entry["examples"].splitlines()]
        masked = "[NAME] here, write to me at [EMAIL] about order [ORDER]"
        assert masked in examples, examples
        ref = "conv-" + hashlib.sha256(sender.encode()).hexdigest()[:12]  # the id is a chat credential: never raw
        assert f"conversation {ref} (escalation {packet['id']})" in nlu_text  # the comment for the trainer
        assert sender not in nlu_text + story_text
        assert "sent while a human held the conversation" in nlu_text
        story = next(s for s in stories["stories"] if ref in s["story"])
        assert "resolved" in story["story"] and "info_provided" in story["story"]
        steps = story["steps"]
        assert {"user": masked, "intent": steps[[s.get("user") for s in steps].index(masked)]["intent"]} in steps
        assert {"action": "action_route"} in steps and {"action": "action_relay_to_agent"} in steps
        assert {"intent": "EXTERNAL_handoff_ended"} in steps and {"action": "action_handoff_ended"} in steps
        assert "# agent: Hello [NAME], Alice here." in story_text
        everything = nlu_text + story_text
        assert "@example.com" not in everything and "C-100042" not in everything
        for part in name.split():
            assert part.lower() not in everything.lower(), f"the customer's name {part!r} leaked"
    assert (over_http / "nlu_candidates.yml").read_text() == (from_sqlite / "nlu_candidates.yml").read_text()
