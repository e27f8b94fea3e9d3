"""The CAB's meeting cadence: the weekdays and time of
CHANGEBOARD_CAB_WEEKDAYS and CHANGEBOARD_CAB_TIME, in the reporting zone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from changeboard import config


def reporting_zone() -> ZoneInfo:
    """CHANGEBOARD_REPORTING_TZ as a zone."""
    return ZoneInfo(config.REPORTING_TZ)


def cab_weekdays() -> list[int]:
    """Weekdays the CAB meets (0 = Monday), from CHANGEBOARD_CAB_WEEKDAYS."""
    days = sorted({int(d) for d in config.CAB_WEEKDAYS.split(",") if d.strip()})
    if not days or not all(0 <= d <= 6 for d in days):
        raise ValueError("CHANGEBOARD_CAB_WEEKDAYS must list days 0-6, "
                         f"got {config.CAB_WEEKDAYS!r}")
    return days


def meeting_on(day: date) -> datetime:
    """The meeting instant of a day: CHANGEBOARD_CAB_TIME in the reporting zone."""
    return datetime.combine(day, time.fromisoformat(config.CAB_TIME),
                            tzinfo=reporting_zone())


def _meetings_around(instant: datetime, step: int):
    local = instant.astimezone(reporting_zone()).date()
    weekdays = cab_weekdays()
    for offset in range(-8, 9)[::step]:
        day = local + timedelta(days=offset)
        if day.weekday() in weekdays:
            yield meeting_on(day)


def next_meeting(after: datetime | None = None) -> datetime:
    """The first meeting at or after the instant (default: now)."""
    after = after or datetime.now(reporting_zone())
    return next(m for m in _meetings_around(after, 1) if m >= after)


def following_meeting(meeting_at: datetime) -> datetime:
    """The first meeting strictly after this one: the review window's end."""
    return next(m for m in _meetings_around(meeting_at, 1) if m > meeting_at)


def previous_meeting(meeting_at: datetime) -> datetime:
    """The last meeting strictly before this one: "since last CAB" starts."""
    return next(m for m in _meetings_around(meeting_at, -1) if m < meeting_at)


def instant(value: date | datetime) -> datetime:
    """A day's meeting instant, or an instant (naive: in the reporting zone)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(
            tzinfo=reporting_zone())
    return meeting_on(value)


def window_end_text(end: datetime) -> str:
    """A review window's end as the CAB page's ?until= reads it: the day,
    YYYY-MM-DD, when the end is that day's meeting time, else the instant in
    ISO 8601 with its UTC offset, in the reporting zone
    (2026-01-23T00:00+00:00), so a link opens exactly that window."""
    local = instant(end).astimezone(reporting_zone())
    if local == meeting_on(local.date()):
        return local.date().isoformat()
    whole_minute = not (local.second or local.microsecond)
    return local.isoformat(timespec="minutes" if whole_minute else "auto")
