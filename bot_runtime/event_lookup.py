"""Event classes looked up by type name from a table instead of a walk over every Event subclass.

Rasa 3.6 resolves each stored or received event's class (`Event.resolve_by_type`) by listing all subclasses of
`Event` recursively and scanning them: about 5% of the Rasa server's CPU under load, since every tracker read and
every action response deserialises its events this way. `install()` answers from a table of the same classes, in
the same order (the first class with the name wins, as in Rasa), rebuilt when a name is missing from it; unknown
names still go to Rasa's method, so defaults and errors are Rasa's own.
"""

from __future__ import annotations

from collections.abc import Callable

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_RASA_RESOLVE: Callable[..., type[Event] | None] = Event.resolve_by_type
_by_name: dict[str, type[Event]] = {}


def _rebuild() -> None:
    table: dict[str, type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    _by_name.clear()
    _by_name.update(table)


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """The event class named `type_name` (see `Event.resolve_by_type`)."""
    cls = _by_name.get(type_name)
    if cls is None:
        _rebuild()
        cls = _by_name.get(type_name)
    return cls if cls is not None else _RASA_RESOLVE(type_name, default)


def install() -> None:
    """Make `Event.resolve_by_type` use the table (idempotent)."""
    Event.resolve_by_type = staticmethod(resolve_by_type)
