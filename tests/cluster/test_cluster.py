"""The cluster end to end: 100 conversations through nginx, spread over 2 Rasa replicas (99 over REST, one in the
chat widget in Chromium); a quarter escalated and answered by agents signed in on different routing replicas, who
race for every claim; `kill -9` of one Rasa replica (the one holding the widget's socket) and one routing replica
while messages and agent replies are in flight, and the conversations go on with the survivors; then the outbox is
made to send relayed calls again. Every customer message and agent reply is checked against the widget, the tracker
store (PostgreSQL) and the escalation's transcript: each exactly once, in order; each escalation had one agent."""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import socketio
from playwright.sync_api import Page

from launcher.cluster import Cluster
from tests.cluster.clients import (
    Agent,
    Chat,
    LiveStream,
    agent_texts,
    customer_texts,
    handoff_endings,
    routing_rows,
    served,
    tracker_events,
    wait,
)
from tests.cluster.conftest import AGENT_PASSWORD, VIP_AGENTS
from tests.e2e.agents import AgentSession
from tests.e2e.browser import chromium, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.stack]

PLAIN, ESCALATED = 75, 24  # REST conversations; with the widget's, 100 in all and 25 escalated
PARALLEL = 8
VIP_LOGINS = ("demo-gold", "demo-platinum")
WIDGET_READY = "document.querySelector('[data-testid=chat-widget]')?.dataset.ready === 'true'"


def _replica(name: str, cluster: Cluster) -> str:
    spec = cluster.replica(name)
    return spec.health_url.split("/")[2]  # host:port


def _token(cluster: Cluster, external_id: str) -> str:
    s = cluster.cluster.stack
    response = httpx.post(f"{s.routing_url}/api/v1/identity/demo-token", json={"external_id": external_id},
                          headers={"Authorization": f"Bearer {s.service_token}"}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def _conversation_on(cluster: Cluster, replica: str) -> str:
    """A new conversation id that nginx sends to `replica` (found by asking for trackers through the front door)."""
    s, log = cluster.cluster.stack, cluster.cluster.nginx_dir / "access.log"
    for _ in range(50):
        candidate = f"sock-{uuid.uuid4().hex[:10]}"
        httpx.get(f"{s.rasa_url}/conversations/{candidate}/tracker", params={"token": s.rasa_token},
                  timeout=10).raise_for_status()
        lines = [line for line in log.read_text().splitlines() if f" {candidate} " in line]
        if lines and lines[-1].split(" ")[5] == replica:
            return candidate
    raise AssertionError(f"nginx never chose {replica}")


def test_an_agent_reply_reaches_a_socket_held_by_another_rasa_replica(cluster: Cluster) -> None:
    """The widget's socket is on Rasa replica 2 while the routing service's relay for its conversation lands on
    replica 1 (as after a replica is added and the hash moves a conversation whose socket stays open): the agent's
    notice, reply and the end of the handoff still reach the socket, once each (socket.io through Redis)."""
    s = cluster.cluster.stack
    holder, relay_target = _replica("rasa2", cluster), _replica("rasa1", cluster)
    conversation = _conversation_on(cluster, relay_target)
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    client = socketio.Client(reconnection=False, handle_sigint=False,
                             websocket_extra_options={"origin": s.routing_url})
    for name in ("session_confirm", "bot_uttered"):
        client.on(name, lambda data=None, name=name: events.put((name, data)))
    client.connect(f"http://{holder}", transports=["websocket"], wait_timeout=10)
    agent = AgentSession(s.routing_url, VIP_AGENTS[0], AGENT_PASSWORD)

    def texts_until(wanted: str) -> list[str]:
        seen: list[str] = []
        while not any(wanted in text for text in seen):
            try:
                name, data = events.get(timeout=20)
            except queue.Empty:
                raise AssertionError(f"{wanted!r} never reached the socket; got {seen}") from None
            if name == "bot_uttered":
                seen.append(str(data.get("text") or json.dumps(data)))
        return seen

    try:
        client.emit("session_request", {"session_id": conversation})
        assert events.get(timeout=10) == ("session_confirm", conversation)
        client.emit("user_uttered", {"message": "can I speak to a person please", "session_id": conversation,
                                     "metadata": {"customer_token": _token(cluster, "demo-gold")}})
        texts_until("connecting you")
        packet = agent.find(conversation, timeout=20)
        agent.post(f"/escalations/{packet['id']}/claim")
        texts_until("joined")
        reply = f"a reply across replicas {uuid.uuid4().hex[:6]}"
        agent.post(f"/escalations/{packet['id']}/messages", {"text": reply})
        assert sum(text == reply for text in texts_until(reply)) == 1
        agent.post(f"/escalations/{packet['id']}/resolve", {"disposition": "resolved"})
        texts_until("ended")
        relayed = [line.split(" ")[5] for line in (cluster.cluster.nginx_dir / "access.log").read_text().splitlines()
                   if f"/conversations/{conversation}/" in line and " POST " in line]
        assert relayed and set(relayed) == {relay_target}, relayed  # the relay did land on the other replica
        leftovers = []
        while not events.empty():
            leftovers.append(events.get())
        assert not any(name == "bot_uttered" and (data or {}).get("text") == reply for name, data in leftovers)
    finally:
        client.disconnect()
        agent.close()


def _replica_of(cluster: Cluster, conversation: str) -> str:
    """The Rasa replica nginx sends `conversation` to now (asked with a tracker read through the front door)."""
    s, log = cluster.cluster.stack, cluster.cluster.nginx_dir / "access.log"
    path = f"/conversations/{conversation}/tracker"

    def reads() -> list[str]:
        return [line for line in log.read_text().splitlines() if f" {path} " in line]

    before = len(reads())
    httpx.get(f"{s.rasa_url}{path}", params={"token": s.rasa_token}, timeout=30).raise_for_status()
    wait(lambda: len(reads()) > before, "nginx logging the tracker read", timeout=10)  # logged once answered
    return " ".join(reads()[-1].split(" ")[5:-2]).split(", ")[-1]  # the one that answered (after any that failed)


class Widget:
    """The chat widget of the demo shop in Chromium, reached through the front doors (routing and Rasa)."""

    def __init__(self, page: Page, routing_url: str, login: str) -> None:
        self.page = page
        page.goto(f"{routing_url}/shop")
        wait_until(page, WIDGET_READY, timeout=60)
        page.get_by_test_id("login-select").select_option(login)
        wait_until(page, f"{WIDGET_READY} && sessionStorage.getItem('shop-login') === '{login}'", timeout=60)
        page.get_by_test_id("chat-open").click()
        self.session_id = page.get_by_test_id("chat-widget").get_attribute("data-session-id") or ""
        self.sent: list[str] = []

    def say(self, text: str) -> None:
        wait_until(self.page, WIDGET_READY, timeout=90)  # connected (again)
        self.page.get_by_test_id("chat-input").fill(text)
        self.page.get_by_test_id("chat-input").press("Enter")
        self.sent.append(text)

    def texts(self, role: str) -> list[str]:
        return [t.strip() for t in self.page.locator(f".cw-log [data-role={role}]").all_inner_texts()]

    def wait_for(self, role: str, text: str, timeout: float = 90.0) -> None:
        wait_until(self.page, f"[...document.querySelectorAll('.cw-log [data-role={role}]')]"
                              f".some((n) => n.textContent.includes({json.dumps(text)}))", timeout=timeout)


def _kill(cluster: Cluster, name: str) -> None:
    proc = cluster.replica(name).proc
    assert proc is not None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def test_conversations_survive_replicas_dying_mid_run(cluster: Cluster) -> None:
    c = cluster.cluster
    s = c.stack
    access_log = c.nginx_dir / "access.log"
    routing = {name: f"http://{_replica(name, cluster)}" for name in ("routing1", "routing2")}
    rasa = {name: _replica(name, cluster) for name in ("rasa1", "rasa2")}
    tokens = [_token(cluster, login) for login in VIP_LOGINS]
    plain = [Chat(s.rasa_url) for _ in range(PLAIN)]
    escalated = [Chat(s.rasa_url, tokens[i % len(tokens)]) for i in range(ESCALATED)]
    # two agents of the vip desk, each signed in on a different routing replica; one watches the live stream there
    vera, victor = (Agent(routing[r], s.routing_url, login, AGENT_PASSWORD)
                    for r, login in zip(("routing1", "routing2"), VIP_AGENTS, strict=True))
    agents = {a.login: a for a in (vera, victor)}
    stream = LiveStream(f"{routing['routing1']}/api/v1/agent/stream",
                        str(vera.session.http.headers["Authorization"]).split()[1])
    pool = ThreadPoolExecutor(PARALLEL)
    started = time.monotonic()
    timings: dict[str, float] = {}
    try:
        with chromium() as browser:
            page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()

            # phase 1: every conversation talks; the escalated ones reach an agent, the widget's too
            widget = Widget(page, s.routing_url, "demo-platinum")
            widget.say("I want to talk to a human agent")

            def talk(chat: Chat) -> None:
                assert chat.say("hello"), "no answer"
                assert chat.say("which payment methods do you accept?"), "no answer"

            def escalate(chat: Chat) -> None:
                assert chat.say("hello")
                replies = chat.say("can I speak to a person please")
                assert any("connecting you" in r.get("text", "") for r in replies), replies

            list(pool.map(talk, plain))
            list(pool.map(escalate, escalated))

            def take(index: int, chat: Chat) -> None:
                """Both agents try to take it at once, from different replicas: exactly one gets it."""
                packet = vera.find(chat.sender)
                chat.escalation_id = packet["id"]
                start = threading.Barrier(2)
                contenders = list(agents.values())[::1 if index % 2 else -1]  # who is sent first alternates

                def attempt(agent: Agent) -> tuple[str, bool]:
                    start.wait(30)
                    return agent.login, agent.claim(chat.escalation_id)

                with ThreadPoolExecutor(2) as race:
                    won = dict(race.map(attempt, contenders))
                assert sum(won.values()) == 1, (chat.sender, won)
                chat.agent = next(login for login, ok in won.items() if ok)

            def answer_first(pair: tuple[int, Chat]) -> None:
                index, chat = pair
                take(index, chat)
                agent = agents[chat.agent]
                chat.replies.append(f"first answer for {chat.sender}")
                agent.reply(chat.escalation_id, chat.replies[-1])
                chat.during_handoff.append(f"my parcel {chat.sender} is late")
                assert chat.say(chat.during_handoff[-1]) == [], "the bot talked over the agent"
                agent.wait_for_customer_message(chat.escalation_id, chat.during_handoff[-1])

            list(pool.map(answer_first, enumerate(escalated)))
            winners = {chat.agent for chat in escalated}
            assert winners == set(agents), f"one agent took every escalation: {winners}"

            # the widget's conversation is taken by the agent on routing replica 2; the reply shows once
            widget_escalation = victor.find(widget.session_id)["id"]
            assert victor.claim(widget_escalation)
            widget.wait_for("agent", "has joined the chat")
            widget_replies = [f"hello from Victor {uuid.uuid4().hex[:6]}"]
            victor.reply(widget_escalation, widget_replies[-1])
            widget.wait_for("agent", widget_replies[-1])

            for chat in escalated:  # every reply is in the customer's conversation before anything is killed
                wait(lambda chat=chat: agent_texts(tracker_events(c.tracker_db, chat.sender))[-1:] == chat.replies[-1:],
                     f"the first reply in {chat.sender}")
            # the live stream of the agent on replica 1 showed the claims made on replica 2
            for chat in [chat for chat in escalated if chat.agent == victor.login][:5]:
                wait(lambda chat=chat: bool({"assigned", "active"} & set(stream.statuses_of(chat.escalation_id))),
                     f"the claim of escalation {chat.escalation_id} on the stream of replica 1", timeout=20)

            timings["phase 1"] = time.monotonic()
            before_kill = served(access_log.read_text(), s.rasa_port)
            for chat in plain + escalated:
                assert len(set(before_kill[chat.sender])) == 1, (chat.sender, before_kill[chat.sender])
            used = {replicas[0] for replicas in before_kill.values()}
            assert used == set(rasa.values()), f"one replica served every conversation: {used}"
            # the Rasa replica to kill is the one holding the widget's socket
            doomed = next(name for name, address in rasa.items() if address == _replica_of(cluster, widget.session_id))
            survivor = rasa["rasa2" if doomed == "rasa1" else "rasa1"]
            moved = [chat for chat in plain + escalated if before_kill[chat.sender][0] == rasa[doomed]]
            kill_line = [0]

            # phase 2: every conversation goes on while one Rasa and one routing replica are killed mid-run
            done = [0]
            lock = threading.Lock()

            def step() -> None:
                with lock:
                    done[0] += 1

            def go_on(chat: Chat) -> None:
                for text in ("what is your return policy?", "how long does shipping take?", "thanks, bye"):
                    assert chat.say(text), f"no answer to {text!r}"
                    step()

            def with_agent(chat: Chat) -> None:
                agent = agents[chat.agent]
                for turn in ("second", "third"):
                    chat.during_handoff.append(f"still waiting {chat.sender} ({turn})")
                    replies = chat.say(chat.during_handoff[-1])
                    # nothing, or (the routing replica died under the relay) "kept, will pass it on"
                    assert all("kept your message" in r.get("text", "") for r in replies), replies
                    agent.wait_for_customer_message(chat.escalation_id, chat.during_handoff[-1])
                    step()
                    chat.replies.append(f"{turn} answer for {chat.sender}")
                    agent.reply(chat.escalation_id, chat.replies[-1])
                    step()
                agent.resolve(chat.escalation_id)

            kill_after = (PLAIN * 3 + ESCALATED * 4) // 4
            killed = threading.Event()

            def killer() -> None:
                wait(lambda: done[0] >= kill_after, "the first quarter of phase 2", timeout=300)
                kill_line[0] = len(access_log.read_text().splitlines())
                _kill(cluster, doomed)
                _kill(cluster, "routing2")
                killed.set()
                timings["kill"] = time.monotonic()

            kill_thread = pool.submit(killer)
            jobs = [pool.submit(with_agent, chat) for chat in escalated] + [pool.submit(go_on, chat) for chat in plain]
            for job in jobs:
                job.result()
            kill_thread.result()
            assert killed.is_set()
            timings["phase 2"] = time.monotonic()
            # requests the front door had on the wire to the killed replica, or tried there before the survivor
            hit = [line for line in access_log.read_text().splitlines()[kill_line[0]:]
                   if line.split(" ")[1] == str(s.rasa_port) and rasa[doomed] in line]

            # the widget: it reconnects to the survivor; the agent goes on through the front door
            widget.say(f"are you still there? {uuid.uuid4().hex[:4]}")
            victor.wait_for_customer_message(widget_escalation, widget.sent[-1])
            assert _replica_of(cluster, widget.session_id) == survivor
            widget_replies.append(f"yes, still here {uuid.uuid4().hex[:6]}")
            victor.reply(widget_escalation, widget_replies[-1])
            widget.wait_for("agent", widget_replies[-1])
            victor.resolve(widget_escalation)
            widget.wait_for("notice", "back with the Concierge assistant")

            for chat in escalated:
                wait(lambda chat=chat: agent_texts(tracker_events(c.tracker_db, chat.sender))[-1:] == chat.replies[-1:],
                     f"the last reply in {chat.sender}", timeout=120)
                wait(lambda chat=chat: vera.detail(chat.escalation_id)["status"] == "resolved",
                     f"escalation {chat.escalation_id} resolved")
                wait(lambda chat=chat: handoff_endings(tracker_events(c.tracker_db, chat.sender)) >= 1,
                     f"the end of the handoff in {chat.sender}", timeout=120)

            # phase 3: one more message in every conversation, the escalated ones back with the bot: all of them
            # on the survivor (the dead replica's conversations too: PostgreSQL has their trackers)
            phase3_from = len(access_log.read_text().splitlines())
            list(pool.map(lambda chat: chat.say("do you ship abroad?") or pytest.fail(f"no answer in {chat.sender}"),
                          plain + escalated))

            def phase3() -> dict[str, list[str]]:
                return served("\n".join(access_log.read_text().splitlines()[phase3_from:]), s.rasa_port)

            # nginx logs a request once it has answered it: the last lines may come a moment after the answers
            wait(lambda: all(phase3()[chat.sender] for chat in plain + escalated), "nginx logging phase 3", 30)
            after_kill = phase3()
            assert moved, "no conversation was on the killed replica"
            for chat in plain + escalated:
                assert after_kill[chat.sender] and after_kill[chat.sender][-1].endswith(survivor), \
                    (chat.sender, after_kill[chat.sender])
            timings["phase 3"] = time.monotonic()

            # the outbox delivers at least once: make it send every relayed call of some conversations again, as
            # when an attempt landed but its outcome was lost; Rasa applies each once (bot_runtime/relay_once.py)
            again = [widget.session_id] + [chat.sender for chat in escalated[:5]]
            items = routing_rows(c.routing_db, "UPDATE escalation_outbox SET state = 'pending', "
                                 "next_attempt_at = '1970-01-01' WHERE conversation_id = ANY(%s) AND kind <> 'webhook' "
                                 "RETURNING id, attempts", again)
            assert len(items) >= 4 * len(again), items  # joined, replies, end of the handoff
            wait(lambda: all(row[0] == "sent" and row[1] > dict(items)[row[2]] for row in routing_rows(
                c.routing_db, "SELECT state, attempts, id FROM escalation_outbox WHERE id = ANY(%s)",
                [item[0] for item in items])), "the outbox sending every item again", timeout=120)
            # a barrier on the widget's socket: anything sent again reached it before the answer to this
            bot_before = len(widget.texts("bot"))
            widget.say("which payment methods do you accept?")
            wait_until(page, f"document.querySelectorAll('.cw-log [data-role=bot]').length > {bot_before}", timeout=90)

            timings["sent again"] = time.monotonic()
            # exactly once and in order: the widget, the tracker store and the escalation transcripts
            shown = widget.texts("agent")
            assert [t for t in shown if t in widget_replies] == widget_replies, shown
            assert sum("has joined the chat" in t for t in shown) == 1, shown
            assert widget.texts("notice").count("You're back with the Concierge assistant") == 1
            events = tracker_events(c.tracker_db, widget.session_id)
            assert customer_texts(events) == widget.sent
            assert [t for t in agent_texts(events) if t in widget_replies] == widget_replies
            assert handoff_endings(events) == 1
            for chat in plain + escalated:
                events = tracker_events(c.tracker_db, chat.sender)
                assert customer_texts(events) == chat.sent, chat.sender
            for chat in escalated:
                events = tracker_events(c.tracker_db, chat.sender)
                human = agent_texts(events)
                assert [t for t in human if t in chat.replies] == chat.replies, (chat.sender, human)
                assert sum("joined" in t for t in human) == 1, (chat.sender, human)
                assert handoff_endings(events) == 1, chat.sender
                detail = vera.detail(chat.escalation_id)
                assert [m["text"] for m in detail["messages"] if m["sender"] == "customer"] == chat.during_handoff
                assert [m["text"] for m in detail["messages"] if m["sender"] == "agent"] == chat.replies
                assert detail["status"] == "resolved"
            # no escalation ever had two agents: one assignment each, to the agent who won the race
            ids = [chat.escalation_id for chat in escalated] + [widget_escalation]
            assignments = routing_rows(c.routing_db, "SELECT e.escalation_id, count(*), min(a.login), max(a.login) "
                                       "FROM escalation_events e JOIN agents a ON a.id = e.agent_id "
                                       "WHERE e.to_status = 'assigned' AND e.escalation_id = ANY(%s) "
                                       "GROUP BY e.escalation_id", ids)
            by_id = {row[0]: row[1:] for row in assignments}
            for chat in escalated:
                assert by_id.get(chat.escalation_id) == (1, chat.agent, chat.agent), chat.sender
            assert by_id[widget_escalation] == (1, victor.login, victor.login)

        resent = sum(chat.resent for chat in plain + escalated)
        print(f"\n{PLAIN + ESCALATED + 1} conversations ({ESCALATED + 1} escalated, 1 in Chromium), "
              f"{len(moved)} moved from the killed Rasa replica to the survivor; {resent} customer messages sent "
              f"again after a failure on the wire, {sum(a.retried for a in agents.values())} agent calls retried; "
              f"{len(hit)} requests to the killed Rasa replica after the kill, "
              f"{sum(' 502 ' in line for line in hit)} of them answered 502")
    finally:
        print("seconds since the start: " + ", ".join(f"{name} {at - started:.0f}" for name, at in timings.items()))
        pool.shutdown(wait=False, cancel_futures=True)
        stream.close()
        for agent in agents.values():
            agent.close()
