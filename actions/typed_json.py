"""Decoded JSON checked against a TypedDict, strictly, before the code that reads it trusts its type.

`cast()` lets a renamed field or a changed type reach the reader as a KeyError or a wrong sentence far from the
cause; a check at the edge names the field instead. It is strict (no coercion: "1" is no int, 1 is no str, True
is no int) and tolerant of keys it does not know (a field the service adds is not an outage; the contract test,
tests/routing/test_contract.py, is what keeps the two sides equal). Each shape is compiled once into nested
closures, so a check costs a few microseconds; the value is returned as it is, not copied.

Shapes are what the routing client's TypedDicts use: TypedDicts (nested, `total=False` for keys that may be
absent), str, int, float, bool, None, Literal, unions (`X | None`), list[X], dict[str, X] and Any.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Hashable
from functools import cache
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints, is_typeddict

T = TypeVar("T")
Check = Callable[[Any], None]


class ShapeError(ValueError):
    """The value does not fit the shape; the message says where (`.orders[2].status: ...`)."""


def validated(shape: type[T], value: object) -> T:
    """`value` typed as `shape` once it fits; ShapeError otherwise."""
    _compiled(cast(Hashable, shape))(value)
    return cast(T, value)  # checked just above


def _fail(expected: str, value: object) -> ShapeError:
    got = "null" if value is None else f"{type(value).__name__} {value!r:.60}"
    return ShapeError(f"expected {expected}, got {got}")


@cache
def _compiled(shape: Any) -> Check:
    """The check of `shape` (cached: compiled once per shape)."""
    if shape is Any:
        return lambda value: None
    if shape is None or shape is type(None):
        return _exactly(type(None), "null")
    if shape is bool:
        return _exactly(bool, "bool")
    if shape is str:
        return _exactly(str, "str")
    if shape is int:
        return _exactly(int, "int")  # type() is: True and False are bools, not ints
    if shape is float:
        return _number
    if is_typeddict(shape):
        return _typed_dict(shape)
    origin, args = get_origin(shape), get_args(shape)
    if origin is Literal:
        return _literal(args)
    if origin is Union or origin is types.UnionType:
        return _union(args)
    if origin is list:
        return _list(args[0])
    if origin is dict and args[0] is str:
        return _dict(_compiled(args[1]))
    raise TypeError(f"no JSON check for {shape!r}")


def _exactly(kind: type, name: str) -> Check:
    def check(value: Any) -> None:
        if type(value) is not kind:
            raise _fail(name, value)
    return check


def _number(value: Any) -> None:
    if type(value) is not float and type(value) is not int:
        raise _fail("number", value)


def _literal(allowed: tuple[Any, ...]) -> Check:
    values = {(type(v), v) for v in allowed}  # the type too: 1 == True, yet Literal[1] does not allow True
    names = " | ".join(repr(v) for v in allowed)

    def check(value: Any) -> None:
        try:
            if (type(value), value) in values:
                return
        except TypeError:  # unhashable (a list or an object)
            pass
        raise _fail(names, value)
    return check


def _union(members: tuple[Any, ...]) -> Check:
    others = [_compiled(m) for m in members if m is not type(None)]
    nullable = len(others) < len(members)
    if nullable and len(others) == 1:
        [inner] = others

        def optional(value: Any) -> None:
            if value is not None:
                inner(value)
        return optional

    def check(value: Any) -> None:
        if value is None and nullable:
            return
        errors = []
        for member in others:
            try:
                member(value)
                return
            except ShapeError as error:
                errors.append(str(error))
        raise ShapeError(" or ".join(errors) if errors else str(_fail("null", value)))
    return check


def _list(shape: Any) -> Check:
    item, (kinds, texts) = _compiled(shape), _passing(shape)

    def check(value: Any) -> None:
        if type(value) is not list:
            raise _fail("list", value)
        for index, element in enumerate(value):
            kind = type(element)
            if kind in kinds or (kind is str and element in texts):
                continue
            try:
                item(element)
            except ShapeError as error:
                raise _at(f"[{index}]", error) from None
    return check


def _dict(item: Check) -> Check:
    def check(value: Any) -> None:
        if type(value) is not dict:
            raise _fail("object", value)
        for key, element in value.items():
            try:
                item(element)
            except ShapeError as error:
                raise _at(f".{key}", error) from None
    return check


def _typed_dict(shape: Any) -> Check:
    required = shape.__required_keys__
    # (name, types that pass as they are, texts that pass (a literal's), the field's check, required?): the loop
    # settles scalars and literals inline and calls a field's check only for nested shapes or to word a mismatch
    fields = [(name, *_passing(hint), _compiled(hint), name in required)
              for name, hint in get_type_hints(shape).items()]
    absent = object()

    def check(value: Any) -> None:
        if type(value) is not dict:
            raise _fail(f"object ({shape.__name__})", value)
        for name, kinds, texts, field, needed in fields:
            item = value.get(name, absent)
            kind = type(item)
            if kind in kinds or (kind is str and item in texts):
                continue
            if item is absent:
                if needed:
                    raise ShapeError(f".{name}: missing")
                continue
            try:
                field(item)
            except ShapeError as error:
                raise _at(f".{name}", error) from None
    return check


def _passing(shape: Any) -> tuple[frozenset[type], frozenset[str]]:
    """What passes `shape` without its check: any value of these types, or one of these texts (nothing, for a
    nested shape)."""
    if shape in _SCALARS:
        return _SCALARS[shape], frozenset()
    origin, args = get_origin(shape), get_args(shape)
    if origin is Literal and all(type(arg) is str for arg in args):
        return frozenset(), frozenset(args)
    if origin is Union or origin is types.UnionType:
        members = [_passing(arg) for arg in args]
        return frozenset().union(*(m[0] for m in members)), frozenset().union(*(m[1] for m in members))
    return frozenset(), frozenset()


_SCALARS: dict[Any, frozenset[type]] = {str: frozenset({str}), int: frozenset({int}), bool: frozenset({bool}),
                                        float: frozenset({int, float}), type(None): frozenset({type(None)}),
                                        None: frozenset({type(None)})}


def _at(step: str, error: ShapeError) -> ShapeError:
    """`error` one level further in: the path of steps (`.orders[2].status`) comes first, then the message."""
    text = str(error)
    return ShapeError(step + text if text.startswith((".", "[")) else f"{step}: {text}")
