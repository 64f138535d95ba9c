"""Escalation HTTP API: the bot's side (service token) and the agents' side (agent token or console cookie,
live stream)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from routing.agents.deps import AgentDep
from routing.agents.service import agent_for_token
from routing.auth import require_service_token
from routing.db import SessionDep
from routing.errors import Conflict, InvalidField
from routing.escalations import claims, service
from routing.escalations.models import CLOSED_STATUSES, Escalation, Status
from routing.escalations.schemas import (
    AbandonIn,
    AgentTextIn,
    CallbackIn,
    CannedReplyOut,
    ClaimIn,
    ClosedEscalationOut,
    CustomerMessageIn,
    EscalationDetail,
    EscalationIn,
    EscalationStatusOut,
    EscalationSummary,
    HandbackIn,
    IdOut,
    ResolveIn,
    TransferIn,
)
from routing.inputs import ConversationId, PathId
from routing.live import HEARTBEAT
from routing.live_limits import LimitedStream
from routing.pagination import CURSOR_MAX_CHARS, decode_cursor, link_next
from routing.policy.deps import PolicyDep
from routing.sqltypes import UtcDatetime
from routing.state import HeartbeatDep, LiveHubDep, SessionMakerDep, StreamLimitsDep

service_router = APIRouter(prefix="/api/v1", tags=["escalations (bot)"], dependencies=[Depends(require_service_token)])
agent_router = APIRouter(prefix="/api/v1/agent", tags=["escalations (agent)"])


# ---- bot side -------------------------------------------------------------------------------------------------

@service_router.post("/escalations", response_model=EscalationStatusOut, status_code=status.HTTP_201_CREATED,
                     responses={200: {"description": "already open for this conversation / idempotency key"}})
def create_escalation(body: EscalationIn, response: Response, session: SessionDep, policy: PolicyDep
                      ) -> EscalationStatusOut:
    """Hand a conversation to a human queue. Closed queue → `ticket` or `callback_requested` (per the queue's
    `out_of_hours`); open but nobody online → `waiting` with `alternative` set so the bot can offer it."""
    esc, created = service.create(session, body, policy)
    if not created:
        response.status_code = status.HTTP_200_OK
    return service.status_out(session, esc, policy)


AGENT_CLOSED = f"{Status.RESOLVED},{Status.RETURNED_TO_BOT}"  # what trainers review by default


@service_router.get("/escalations", response_model=list[ClosedEscalationOut],
                    responses={200: {"description": 'one page; a `Link: <...>; rel="next"` header while more follow'}})
def closed_escalations(request: Request, response: Response, session: SessionDep,
                       status_: Annotated[str, Query(alias="status", max_length=200)] = AGENT_CLOSED,
                       since: UtcDatetime | None = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 500,
                       after: Annotated[str | None, Query(max_length=CURSOR_MAX_CHARS)] = None
                       ) -> list[dict[str, object]]:
    """Closed escalations for bot trainers (`status`: comma-separated closed statuses; `since`: closed at or after),
    oldest first, with the customer's name so that exports can mask it. A page holds `limit` rows; while more
    follow, the `Link` header's `next` URL (with an `after` cursor) gives the next page."""
    statuses = [s.strip() for s in status_.split(",") if s.strip()]
    unknown = sorted(set(statuses) - set(CLOSED_STATUSES))
    if not statuses or unknown:
        raise InvalidField(("query", "status"), f"Unknown closed status {', '.join(unknown) or '(empty)'}; "
                                                f"use {', '.join(CLOSED_STATUSES)}.")
    key = decode_cursor(after, (datetime, int)) if after else None
    rows, last = service.list_closed(session, statuses, since, limit, key)
    link_next(request, response, last)
    return rows


@service_router.get("/escalations/open", response_model=EscalationStatusOut)
def open_escalation(conversation_id: Annotated[ConversationId, Query()], session: SessionDep,
                    policy: PolicyDep) -> EscalationStatusOut:
    """The conversation's waiting/assigned/active escalation, or 404."""
    esc = service.find_open(session, conversation_id)
    if esc is None:
        raise service.EscalationNotFound()
    return service.status_out(session, esc, policy)


@service_router.get("/escalations/{escalation_id}", response_model=EscalationStatusOut)
def escalation_status(escalation_id: PathId, session: SessionDep, policy: PolicyDep) -> EscalationStatusOut:
    """Status, position and wait estimate of one escalation."""
    return service.status_out(session, service.get(session, escalation_id), policy)


@service_router.post("/escalations/{escalation_id}/customer-messages", response_model=IdOut,
                     status_code=status.HTTP_201_CREATED)
def customer_message(escalation_id: PathId, body: CustomerMessageIn, session: SessionDep) -> IdOut:
    """A customer's message during the handoff, or the bot's notice about one (stored once per idempotency key, shown
    live to agents)."""
    return IdOut(id=service.add_customer_message(session, escalation_id, body.text, body.idempotency_key,
                                                 body.sender).id)


@service_router.post("/escalations/{escalation_id}/callback", response_model=EscalationStatusOut)
def request_callback(escalation_id: PathId, body: CallbackIn, session: SessionDep, policy: PolicyDep
                     ) -> EscalationStatusOut:
    """The customer prefers to be called back (unstaffed queue, expired wait, out of hours)."""
    return service.status_out(session, service.request_callback(session, escalation_id, body.contact), policy)


@service_router.post("/escalations/{escalation_id}/abandon", response_model=EscalationStatusOut)
def abandon(escalation_id: PathId, body: AbandonIn, session: SessionDep, policy: PolicyDep) -> EscalationStatusOut:
    """The customer left the conversation."""
    return service.status_out(session, service.abandon(session, escalation_id, body.reason), policy)


# ---- agent side -----------------------------------------------------------------------------------------------

def visible_escalation(escalation_id: PathId, agent: AgentDep, session: SessionDep) -> Escalation:
    """The escalation of the path, if the signed-in agent may see it; 404 otherwise (nothing leaks)."""
    esc = session.get(Escalation, escalation_id)
    if esc is None or not service.visible_to(esc, agent):
        raise service.EscalationNotFound()
    return esc


VisibleEscalation = Annotated[Escalation, Depends(visible_escalation, scope="function")]


@agent_router.get("/escalations", response_model=list[EscalationSummary],
                  responses={200: {"description": 'one page; a `Link: <...>; rel="next"` header while more follow'}})
def list_escalations(request: Request, response: Response, agent: AgentDep, session: SessionDep,
                     queue: str | None = None, status_: Annotated[Status | None, Query(alias="status")] = None,
                     limit: Annotated[int, Query(ge=1, le=500)] = 200,
                     after: Annotated[str | None, Query(max_length=CURSOR_MAX_CHARS)] = None) -> list[Escalation]:
    """Escalations of the queues I serve (open work unless `status` is given), by priority then arrival. 403 for a
    queue I do not serve. A page holds `limit` rows; while more follow, the `Link` header's `next` URL gives the
    next page."""
    if queue is not None and queue not in agent.queues:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"You do not serve the {queue!r} queue.")
    key = decode_cursor(after, (int, datetime, int)) if after else None
    rows, last = service.list_for_agent(session, agent, queue, status_, limit, key)
    link_next(request, response, last)
    return rows


@agent_router.get("/escalations/{escalation_id}", response_model=EscalationDetail)
def get_escalation(esc: VisibleEscalation, session: SessionDep, policy: PolicyDep) -> dict[str, object]:
    """The handoff packet with messages, internal notes and audit trail; 404 outside my queues."""
    return service.detail(session, esc, policy)


@agent_router.get("/escalations/{escalation_id}/canned-replies", response_model=list[CannedReplyOut])
def canned_replies(esc: VisibleEscalation, agent: AgentDep, session: SessionDep, policy: PolicyDep
                   ) -> list[dict[str, str]]:
    """The canned replies of the policy for this escalation's queue, with the customer's and my name filled in."""
    return service.canned_replies(session, esc, agent, policy)


@agent_router.post("/escalations/claim-next", response_model=EscalationDetail,
                   responses={204: {"description": "nothing waits in my queues"},
                              409: {"description": "I am at my max_chats"}})
def claim_next(agent: AgentDep, session: SessionDep, policy: PolicyDep, body: ClaimIn | None = None
               ) -> dict[str, object] | Response:
    """Take the next escalation: highest aged priority, then earliest SLA due. 204 when nothing waits."""
    esc = claims.claim_next(session, agent.id, policy, body.queues if body else None)
    if esc is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return service.detail(session, esc, policy)


@agent_router.post("/escalations/{escalation_id}/claim", response_model=EscalationDetail,
                   responses={409: {"description": "already taken, or I am at my max_chats"}})
def claim_one(escalation_id: PathId, agent: AgentDep, session: SessionDep, policy: PolicyDep) -> dict[str, object]:
    """Take one specific escalation (waiting, callback or ticket) of my queues."""
    esc = claims.claim(session, agent.id, escalation_id)
    if esc is None:
        raise Conflict("Someone else has taken this escalation.")
    return service.detail(session, esc, policy)


@agent_router.post("/escalations/{escalation_id}/messages", response_model=IdOut, status_code=201)
def reply(esc: VisibleEscalation, body: AgentTextIn, agent: AgentDep, session: SessionDep) -> IdOut:
    """Reply to the customer (relayed through Rasa); the first reply makes the escalation active."""
    return IdOut(id=service.add_agent_message(session, esc, agent, body.text).id)


@agent_router.post("/escalations/{escalation_id}/notes", response_model=IdOut, status_code=201)
def note(esc: VisibleEscalation, body: AgentTextIn, agent: AgentDep, session: SessionDep) -> IdOut:
    """An internal note for colleagues; never reaches the customer."""
    return IdOut(id=service.add_note(session, esc, agent, body.text).id)


@agent_router.post("/escalations/{escalation_id}/transfer", response_model=EscalationSummary)
def transfer(esc: VisibleEscalation, body: TransferIn, agent: AgentDep, session: SessionDep, policy: PolicyDep
             ) -> Escalation:
    """Send the escalation to another queue's waiting line."""
    return service.transfer(session, esc, agent, body.queue, body.reason, policy)


@agent_router.post("/escalations/{escalation_id}/resolve", response_model=EscalationSummary)
def resolve(esc: VisibleEscalation, body: ResolveIn, agent: AgentDep, session: SessionDep, policy: PolicyDep
            ) -> Escalation:
    """Close with a disposition code; the bot resumes the conversation."""
    return service.resolve(session, esc, agent, body.disposition, body.note, policy)


@agent_router.post("/escalations/{escalation_id}/handback", response_model=EscalationSummary)
def handback(esc: VisibleEscalation, body: HandbackIn, agent: AgentDep, session: SessionDep, policy: PolicyDep
             ) -> Escalation:
    """Return the conversation to the bot."""
    return service.handback(session, esc, agent, body.disposition, body.note, policy)


def _still_signed_in(sessions: sessionmaker[Session], token: str) -> bool:
    with sessions() as session:
        return agent_for_token(session, token) is not None


@agent_router.get("/stream", response_class=StreamingResponse,
                  responses={200: {"content": {"text/event-stream": {}}},
                             429: {"description": "I have as many live streams open as allowed (Retry-After)"},
                             503: {"description": "the server has as many live streams open as allowed"}})
async def stream(request: Request, agent: AgentDep, session: SessionDep, sessions: SessionMakerDep, live: LiveHubDep,
                 heartbeat: HeartbeatDep, limits: StreamLimitsDep) -> StreamingResponse:
    """Server-Sent Events for my queues: escalation.created, escalation.updated, message.created; a heartbeat
    comment every 15 s. Signed in like every agent request (the console's cookie, or a bearer header); the sign-in
    is checked again at least once per heartbeat interval (busy queues included), and the stream ends once the
    session was signed out or expired. Streams are limited per agent (429) and per server (503), with Retry-After;
    a reader that falls too far behind gets a `reload` event and the stream ends (it reads everything again)."""
    served, token = frozenset(agent.queues), request.state.agent_token
    await run_in_threadpool(session.close)  # no database connection is held while the stream is open
    release = limits.acquire(agent.id)

    async def events() -> AsyncIterator[str]:
        checked = time.monotonic()
        async for chunk in live.stream(served, heartbeat):
            if chunk == HEARTBEAT or time.monotonic() - checked >= heartbeat:
                if not await run_in_threadpool(_still_signed_in, sessions, token):
                    return
                checked = time.monotonic()
            yield chunk

    return LimitedStream(events(), release, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
