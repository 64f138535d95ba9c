"""What the bot says about opening hours, composed from the routing service's answer for the customer's queue.

The bot never states hours it does not know: the weekly hours, whether the team is open now, when it closes and
when it opens again all come from the routing policy (through /queues/availability), with the time zone named, and
a time is also given in the customer's own zone when the widget told us which one that is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rasa_sdk import Tracker

from clock import utcnow

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UTC_NAMES = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Zulu"}


def zone_name(zone: str) -> str:
    """A zone as customers say it: "America/New_York" is "New York time", "UTC" stays "UTC"."""
    if zone in UTC_NAMES:
        return "UTC"
    return zone.rsplit("/", 1)[-1].replace("_", " ") + " time"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def days_text(days: list[str]) -> str:
    """"every day", "Monday to Friday", or "Monday, Wednesday and Friday"."""
    index = sorted({WEEKDAYS.index(d) for d in days})
    if len(index) == 7:
        return "every day"
    if len(index) >= 3 and index == list(range(index[0], index[-1] + 1)):
        return f"{DAY_NAMES[index[0]]} to {DAY_NAMES[index[-1]]}"
    return _join([DAY_NAMES[i] for i in index])


def around_the_clock(hours: dict[str, Any]) -> bool:
    """Open every hour of every day."""
    return len(set(hours["days"])) == 7 and hours["open"] == "00:00" and hours["close"] == "24:00"


def weekly_text(hours: dict[str, Any]) -> str | None:
    """"Monday to Friday, 09:00-17:00 New York time"; None when the queue has no opening days."""
    if not hours["days"]:
        return None
    if around_the_clock(hours):
        return "around the clock"
    return f"{days_text(hours['days'])}, {hours['open']}-{hours['close']} {zone_name(hours['timezone'])}"


def customer_zone(tracker: Tracker) -> str | None:
    """The IANA zone the chat widget reported for the customer's browser (message metadata), if valid."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            zone = (event.get("metadata") or {}).get("timezone")
            if isinstance(zone, str) and zone:
                try:
                    ZoneInfo(zone)
                except (ZoneInfoNotFoundError, ValueError):
                    return None
                return zone
    return None


def _day_and_time(instant: datetime, zone: str, now: datetime) -> str:
    local, today = instant.astimezone(ZoneInfo(zone)), now.astimezone(ZoneInfo(zone)).date()
    clock_time = local.strftime("%H:%M")
    if local.date() == today:
        return f"today at {clock_time}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {clock_time}"
    if local.date() < today + timedelta(days=7):
        return f"on {DAY_NAMES[local.weekday()]} at {clock_time}"
    return f"on {DAY_NAMES[local.weekday()]} {local.day} {local.strftime('%B')} at {clock_time}"


def instant_text(instant: datetime, zone: str, customer: str | None, now: datetime | None = None) -> str:
    """"tomorrow at 09:00 New York time (15:00 your time)": the customer's time only when their offset differs."""
    now = now or utcnow()
    text = f"{_day_and_time(instant, zone, now)} {zone_name(zone)}"
    theirs, ours = instant.astimezone(ZoneInfo(customer or zone)), instant.astimezone(ZoneInfo(zone))
    if customer and theirs.utcoffset() != ours.utcoffset():
        text += f" ({_day_and_time(instant, customer, now).replace(' at ', ', ', 1)} your time)"
    return text


def parse(value: str | None) -> datetime | None:
    """An ISO instant from the routing service's JSON."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def state_text(availability: dict[str, Any], customer: str | None) -> str:
    """Open now (until when) or closed (and when it opens again), as one sentence."""
    hours, zone = availability["hours"], availability["hours"]["timezone"]
    now = parse(availability.get("now")) or utcnow()
    if availability["open"]:
        closes = parse(availability.get("closes_at"))
        if around_the_clock(hours) or closes is None:
            return "They're available now."
        return f"They're open now, until {instant_text(closes, zone, customer, now).removeprefix('today at ')}."
    reopens = parse(availability.get("next_open_at"))
    if reopens is None:
        return "They're closed right now."
    return f"They're closed right now and open again {instant_text(reopens, zone, customer, now)}."
