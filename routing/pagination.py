"""Keyset pagination of list endpoints: a page ends with a `Link: <...>; rel="next"` header (RFC 8288) while more
rows follow, so that a client reads a list to its end and a short list is never mistaken for the whole.

The cursor is the sort key of a page's last row, opaque to clients (base64url JSON). Keyset rather than offsets: rows
that arrive or leave between two pages (open work changes all the time) never shift a page, so none is skipped or
shown twice by the shift.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from fastapi import Request, Response

from routing.errors import InvalidField

CURSOR_MAX_CHARS = 500


def encode_cursor(key: list[Any]) -> str:
    """An opaque cursor for a row's sort key (datetimes as ISO 8601)."""
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: tuple[type, ...]) -> list[Any]:
    """The sort key of `cursor`, checked against `types` (datetime, int, str; None allowed); a 422 on the `after`
    query parameter when it is not a cursor of this list."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong length")
        return [None if v is None else _moment(v) if t is datetime else _exact(t, v)
                for t, v in zip(types, values, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidField(("query", "after"), "not a cursor of this list; use the `next` link of the previous "
                                               "page") from exc


def _moment(value: object) -> datetime:
    if not isinstance(value, str) or (moment := datetime.fromisoformat(value)).tzinfo is None:
        raise ValueError("expected an ISO 8601 time with its offset")
    return moment


def _exact(kind: type, value: object) -> object:
    if type(value) is not kind:
        raise TypeError(f"expected {kind.__name__}")
    return value


def link_next(request: Request, response: Response, key: list[Any] | None) -> None:
    """Point to the page after the row with sort key `key` (None: this page is the last)."""
    if key is not None:
        url = request.url.include_query_params(after=encode_cursor(key))
        response.headers["Link"] = f'<{url}>; rel="next"'
