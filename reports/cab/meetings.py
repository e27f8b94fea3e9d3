"""The CAB's meeting cadence: the weekdays and time of
CHANGEBOARD_CAB_WEEKDAYS and CHANGEBOARD_CAB_TIME, in the reporting zone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from changeboard import config

# the settings a pack is built with, as config names them, their
# environment variables and the command line's options (report cab and
# report minutes: their Regenerate command names all three)
SETTINGS = (("REPORTING_TZ", "CHANGEBOARD_REPORTING_TZ", "reporting-tz"),
            ("CAB_TIME", "CHANGEBOARD_CAB_TIME", "cab-time"),
            ("CAB_WEEKDAYS", "CHANGEBOARD_CAB_WEEKDAYS", "cab-weekdays"))


def time_problem(text: str) -> str | None:
    try:
        time.fromisoformat(text.strip())
        return None
    except ValueError:
        return f"{text!r} is not a time of day: expected HH:MM, e.g. 10:00"


def _weekdays(text: str) -> list[int]:
    try:
        days = sorted({int(d) for d in text.split(",") if d.strip()})
    except ValueError:
        days = []
    if not days or not all(0 <= d <= 6 for d in days):
        raise ValueError(f"{text!r} is not a list of weekdays: expected "
                         "numbers 0-6 (0 = Monday), comma-separated, e.g. 1,3")
    return days


def weekdays_problem(text: str) -> str | None:
    try:
        _weekdays(text)
        return None
    except ValueError as problem:
        return str(problem)


PROBLEMS = {"REPORTING_TZ": config.zone_problem, "CAB_TIME": time_problem,
            "CAB_WEEKDAYS": weekdays_problem}


def settings_problem() -> str | None:
    """The first of the meeting settings that cannot be read, named with
    what is wrong (None: all can)."""
    for name, variable, _ in SETTINGS:
        problem = PROBLEMS[name](getattr(config, name))
        if problem:
            return f"{variable}: {problem}"
    return None


def reporting_zone() -> ZoneInfo:
    """CHANGEBOARD_REPORTING_TZ as a zone."""
    return ZoneInfo(config.REPORTING_TZ)


def cab_weekdays() -> list[int]:
    """Weekdays the CAB meets (0 = Monday), from CHANGEBOARD_CAB_WEEKDAYS."""
    try:
        return _weekdays(config.CAB_WEEKDAYS)
    except ValueError as problem:
        raise ValueError(f"CHANGEBOARD_CAB_WEEKDAYS: {problem}") from None


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


DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays",
             "Saturdays", "Sundays")


def off_cadence(day: date | datetime) -> str | None:
    """What a meeting picked on a day the CAB does not meet says: a
    Wednesday's pack of a Tuesday CAB was built with nothing said, its
    agenda holding changes decided the day before, and decisions saved
    there open a meeting of their own (a CAB chair's walkthrough). None
    on a CAB day."""
    if isinstance(day, datetime):
        day = day.astimezone(reporting_zone()).date()
    weekdays = cab_weekdays()
    if day.weekday() in weekdays:
        return None
    before = previous_meeting(meeting_on(day)).date()
    after = following_meeting(meeting_on(day)).date()
    names = [DAY_NAMES[d] for d in sorted(weekdays)]
    said = names[0] if len(names) == 1 else \
        ", ".join(names[:-1]) + " and " + names[-1]
    return (f"{day:%a %d %b %Y} is not a CAB day: the CAB meets on {said} "
            f"at {config.CAB_TIME.strip()} ({config.REPORTING_TZ}; "
            "CHANGEBOARD_CAB_WEEKDAYS and CHANGEBOARD_CAB_TIME). This pack "
            "is of a meeting on that day, and decisions recorded for it are "
            f"that meeting's; the CAB days around it are {before:%a %d %b} "
            f"and {after:%a %d %b %Y}.")
