"""The contract between the bot and the routing service: the routing service's OpenAPI is the one source, and the
routing client's TypedDicts (actions/routing_client.py) must say the same thing.

The two runtimes cannot share Python types (Python 3.10 + pydantic 1 beside Python 3.11 + pydantic 2), but the client
imports only httpx, actions.config, actions.typed_json and actions.routing_breaker, so it runs here. Every method of the
client is called through httpx.MockTransport, which records the method, path, query and body it builds, and the
TypedDict it checks the answer against. Each is then held against the operation the service documents: the path and
method exist, the query parameters are known, the body's TypedDict and the answer's TypedDict have the same fields as
the schemas, required the same way, with the same types (int/integer, str/string, bool/boolean, None/nullable,
Literal/enum, nested TypedDict/$ref, list/array). A field added, renamed or retyped on one side fails here.
"""

from __future__ import annotations

import asyncio
import json
import re
import types
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypedDict, Union, get_args, get_origin, get_type_hints, is_typeddict

import httpx
import pytest

from actions import routing_client
from actions.config import ActionSettings
from actions.routing_client import (
    AddressChange,
    CallbackRequest,
    CustomerMessage,
    DecisionRequest,
    EscalationPacket,
    OrderCheck,
    RoutingClient,
    TokenCheck,
)
from actions.typed_json import ShapeError, validated
from routing.app import create_app
from routing.settings import Settings

SETTINGS = ActionSettings(routing_url="http://routing.test", service_token="t")

PACKET: EscalationPacket = {
    "conversation_id": "conv-1", "idempotency_key": "conv-1:m-1", "customer_id": 7, "tier": "gold",
    "tier_reason": "Spent over 1,000 this year.", "queue": "vip", "priority": 80, "sla_seconds": 180,
    "reason": "A complaint is handled by a person.", "rule": "tier.sensitive_intent", "intent": "complaint",
    "facts": {"order_number": "C-100001", "order_query": "order_status", "email": "ada@example.com"},
    "summary": "Ada (gold) was escalated on 'complaint'.",
    "transcript": [{"role": "customer", "text": "My parcel is late", "at": "2026-11-01T12:00:00+00:00"}],
    "contact": {"email": "ada@example.com", "name": "Ada", "phone": None},
}

# every public method of the client, called once as an action would call it
CALLS: dict[str, Callable[[RoutingClient], Awaitable[Any]]] = {
    "verify_token": lambda c: c.verify_token("header.payload.signature"),
    "verify_order": lambda c: c.verify_order("C-100001", "ada@example.com"),
    "orders": lambda c: c.orders(7),
    "order": lambda c: c.order(7, "C-100001"),
    "cancel_order": lambda c: c.cancel_order(7, "C-100001"),
    "change_shipping_address": lambda c: c.change_shipping_address(7, "C-100001", "1 Main St\n10001 New York"),
    "start_return": lambda c: c.start_return(7, "C-100001"),
    "decide": lambda c: c.decide("conv-1", 7, "complaint", 1, 2, {"order_number": "C-100001"}),
    "availability": lambda c: c.availability("gold"),
    "escalate": lambda c: c.escalate(PACKET),
    "open_escalation": lambda c: c.open_escalation("conv-1"),
    "forward_customer_message": lambda c: c.forward_customer_message(3, "Hello?", "conv-1:m-2", sender="notice"),
    "request_callback": lambda c: c.request_callback(3, {"email": "ada@example.com", "phone": None, "name": "Ada"}),
}

# the TypedDict each body is built as (mypy holds the client's dict literals to it)
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/identity/verify"): TokenCheck,
    ("POST", "/api/v1/identity/verify-order"): OrderCheck,
    ("PUT", "/api/v1/customers/{customer_id}/orders/{order_number}/shipping-address"): AddressChange,
    ("POST", "/api/v1/decisions"): DecisionRequest,
    ("POST", "/api/v1/escalations"): EscalationPacket,
    ("POST", "/api/v1/escalations/{escalation_id}/customer-messages"): CustomerMessage,
    ("POST", "/api/v1/escalations/{escalation_id}/callback"): CallbackRequest,
}
UNREAD_ANSWERS = {("POST", "/api/v1/escalations/{escalation_id}/customer-messages")}  # only "arrived or not"


@dataclass
class Call:
    """One request the client built, and the shape it checked the answer against (None: it read no answer)."""

    name: str
    method: str
    path: str
    query: set[str]
    body: Any
    answer: Any


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The routing service's OpenAPI document, from the app as it runs in development."""
    database = tmp_path_factory.mktemp("contract") / "routing.db"
    app = create_app(Settings(env="development", database_url=f"sqlite:///{database}",
                              service_token="contract-service-token",
                              identity_secret="contract-identity-secret-of-32-bytes+"))
    yield app.openapi()
    app.state.relay.http.close()
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def calls() -> list[Call]:
    """What every method of the client sends, and the TypedDict it reads the answer as."""
    return asyncio.run(_record_calls())


async def _record_calls() -> list[Call]:
    made: list[Call] = []
    original = routing_client._checked

    def answer(name: str, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        made.append(Call(name, request.method, request.url.path, set(request.url.params), body, None))
        return httpx.Response(200, json={})

    def checked(shape: Any, data: Any, call: str) -> Any:
        made[-1].answer = shape
        return _example(shape)  # what the method goes on to read, in the shape it expects

    routing_client._checked = checked  # type: ignore[assignment]
    try:
        for name, call in CALLS.items():
            async with RoutingClient(SETTINGS, transport=httpx.MockTransport(partial(answer, name))) as client:
                await call(client)
    finally:
        routing_client._checked = original  # type: ignore[assignment]
    return made


def test_every_method_of_the_client_is_held_to_the_contract(calls: list[Call]) -> None:
    public = {name for name, member in vars(RoutingClient).items()
              if not name.startswith("_") and asyncio.iscoroutinefunction(member)}
    assert public == set(CALLS), "add the new method to CALLS (and its body to BODIES)"
    assert [call.name for call in calls] == list(CALLS), "each method makes exactly one request"


def test_every_path_the_client_calls_exists_with_that_method(openapi: dict[str, Any], calls: list[Call]) -> None:
    problems = []
    for call in calls:
        template = _template(openapi, call.path)
        if template is None:
            problems.append(f"{call.name}: {call.method} {call.path}: no such path in the OpenAPI")
        elif call.method.lower() not in openapi["paths"][template]:
            problems.append(f"{call.name}: {call.path} ({template}) has no {call.method}")
        else:
            parameters = openapi["paths"][template][call.method.lower()].get("parameters", [])
            known = {p["name"] for p in parameters if p["in"] == "query"}
            needed = {p["name"] for p in parameters if p["in"] == "query" and p.get("required")}
            if call.query - known or needed - call.query:
                problems.append(f"{call.name}: query {sorted(call.query)}, the service takes {sorted(known)} "
                                f"(required {sorted(needed)})")
    assert not problems, "\n".join(problems)


def test_each_body_the_client_builds_fits_the_request_schema(openapi: dict[str, Any], calls: list[Call]) -> None:
    problems = []
    for call in calls:
        operation, key = _operation(openapi, call)
        if operation is None:
            continue  # test_every_path_the_client_calls_exists_with_that_method names it
        schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
        shape = BODIES.get(key)
        if (schema is None) != (call.body is None) or (shape is None) != (call.body is None):
            problems.append(f"{call.name}: body sent {call.body is not None}, documented {schema is not None}, "
                            f"typed {shape is not None}")
            continue
        if schema is None:
            continue
        try:
            validated(shape, call.body)  # the body as built is what its TypedDict says (strictly)
        except ShapeError as error:
            problems.append(f"{call.name}: the body it builds is no {shape.__name__}: {error}")
        if set(call.body) - set(get_type_hints(shape)):
            problems.append(f"{call.name}: sends keys its TypedDict does not name: "
                            f"{sorted(set(call.body) - set(get_type_hints(shape)))}")
        problems += [f"{call.name} body ({shape.__name__}){problem}"
                     for problem in _compare(openapi, shape, schema, request=True)]
    assert not problems, "\n".join(problems)


def test_each_answer_the_client_reads_is_typed_as_the_response_schema(openapi: dict[str, Any],
                                                                       calls: list[Call]) -> None:
    problems = []
    for call in calls:
        operation, key = _operation(openapi, call)
        if operation is None:
            continue  # test_every_path_the_client_calls_exists_with_that_method names it
        schema = _success_schema(operation)
        if key in UNREAD_ANSWERS:
            assert call.answer is None, f"{call.name} reads its answer now: remove it from UNREAD_ANSWERS"
            continue
        if call.answer is None or schema is None:
            problems.append(f"{call.name}: answer read as {call.answer}, documented {schema is not None}")
            continue
        problems += [f"{call.name} answer ({call.answer.__name__}){problem}"
                     for problem in _compare(openapi, call.answer, schema, request=False)]
    assert not problems, "\n".join(problems)


def test_the_comparison_sees_drift() -> None:
    """The comparison itself: a renamed, an added and a retyped field, and a lost null, each fail."""
    components = {"components": {"schemas": {"Out": {
        "type": "object", "required": ["a", "b"],
        "properties": {"a": {"type": "integer"}, "b": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}}}}
    ref = {"$ref": "#/components/schemas/Out"}

    def problems(**fields: Any) -> list[str]:
        return _compare(components, TypedDict("Shape", fields), ref, request=False)  # type: ignore[operator]

    assert problems(a=int, b=str | None) == []
    assert problems(a=int, c=str | None) != []  # renamed
    assert problems(a=int, b=str | None, c=int) != []  # added
    assert problems(a=str, b=str | None) != []  # retyped
    assert problems(a=int, b=str) != []  # null no longer allowed
    assert problems(a=bool, b=str | None) != []  # bool is not an integer
    assert problems(a=Literal[1, 2], b=str | None) != []  # a literal where the service has none


# ---- the comparison of a TypedDict with a JSON schema ----------------------------------------------------------


def _compare(openapi: dict[str, Any], shape: Any, schema: dict[str, Any], request: bool, where: str = ""
             ) -> list[str]:
    """The differences between a Python type (the client's) and a schema (the service's), `where` they are.

    Requests: the client may always send a field the service has a default for; everything else must match both
    ways, so that a field the service adds (or drops) fails here even while it is optional."""
    schema = _resolved(openapi, schema)
    members = list(get_args(shape)) if get_origin(shape) in (Union, types.UnionType) else [shape]
    options = [_resolved(openapi, s) for s in schema.get("anyOf", [schema])]
    client_null, service_null = type(None) in members, any(o.get("type") == "null" for o in options)
    members = [m for m in members if m is not type(None)]
    options = [o for o in options if o.get("type") != "null"]
    if client_null != service_null:
        return [f"{where}: {'null' if service_null else 'no null'} in the service, "
                f"{'null' if client_null else 'no null'} in the client"]
    if len(members) != 1 or len(options) != 1:
        return [f"{where}: client {shape}, service {schema}: only X or X | None can be compared"]
    return _compare_one(openapi, members[0], options[0], request, where)


def _compare_one(openapi: dict[str, Any], shape: Any, schema: dict[str, Any], request: bool, where: str
                 ) -> list[str]:
    kind, enum = schema.get("type"), schema.get("enum")
    if is_typeddict(shape):
        if kind != "object" or "properties" not in schema:
            return [f"{where}: client {shape.__name__}, service {kind}"]
        return _compare_fields(openapi, shape, schema, request, where)
    if get_origin(shape) is Literal:
        if enum is None or set(enum) != set(get_args(shape)):
            return [f"{where}: client Literal{list(get_args(shape))}, service {enum or kind}"]
        return []
    if get_origin(shape) is list:
        if kind != "array":
            return [f"{where}: client list, service {kind}"]
        return _compare(openapi, get_args(shape)[0], schema["items"], request, f"{where}[]")
    scalar = {str: "string", int: "integer", bool: "boolean", float: "number"}.get(shape)
    if scalar is None:
        return [f"{where}: client {shape} has no JSON counterpart here (Any is no contract)"]
    if enum is not None:
        return [f"{where}: the service allows only {enum}: type it as a Literal"]
    if kind != scalar:
        return [f"{where}: client {shape.__name__}, service {kind}"]
    return []


def _compare_fields(openapi: dict[str, Any], shape: Any, schema: dict[str, Any], request: bool, where: str
                    ) -> list[str]:
    hints = get_type_hints(shape)
    properties, required = schema["properties"], set(schema.get("required", []))
    problems = [f"{where}.{name}: in the service, not in the client" for name in properties if name not in hints]
    problems += [f"{where}.{name}: in the client, not in the service" for name in hints if name not in properties]
    for name in hints.keys() & properties.keys():
        client_required = name in shape.__required_keys__
        if request and name in required and not client_required:
            problems.append(f"{where}.{name}: the service requires it, the client may leave it out")
        if not request and client_required != (name in required):
            problems.append(f"{where}.{name}: {'always' if name in required else 'not always'} in the answer, "
                            f"{'required' if client_required else 'optional'} in the client")
        problems += _compare(openapi, hints[name], properties[name], request, f"{where}.{name}")
    return problems


def _resolved(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


# ---- helpers -----------------------------------------------------------------------------------------------------


def _template(openapi: dict[str, Any], path: str) -> str | None:
    """The documented path `path` is an instance of (a literal segment wins over a parameter, as in the app)."""
    matches = [t for t in openapi["paths"] if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", t), path)]
    return min(matches, key=lambda t: t.count("{"), default=None)


def _operation(openapi: dict[str, Any], call: Call) -> tuple[dict[str, Any] | None, tuple[str, str]]:
    """The documented operation of `call` (None when there is none: the path test says so) and its key."""
    template = _template(openapi, call.path)
    if template is None:
        return None, (call.method, call.path)
    return openapi["paths"][template].get(call.method.lower()), (call.method, template)


def _success_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for status, response in sorted(operation["responses"].items()):
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if status.startswith("2") and schema is not None:
            return dict(schema)
    return None


def _example(shape: Any) -> Any:
    """A value of `shape` (the first choice of each union and literal), for the method to read."""
    if is_typeddict(shape):
        return {name: _example(hint) for name, hint in get_type_hints(shape).items()}
    origin, args = get_origin(shape), get_args(shape)
    if origin in (Union, types.UnionType):
        return _example(next(a for a in args if a is not type(None)))
    if origin is Literal:
        return args[0]
    if origin is list:
        return [_example(args[0])]
    return {str: "x", int: 1, bool: True, float: 1.0}[shape]

