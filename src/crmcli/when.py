"""WHEN: the dates and times people type, and keep-in-touch intervals.

Accepted: YYYY-MM-DD, YYYY-MM-DDTHH:MM (or a space instead of T), today,
tomorrow, yesterday, now, +3d / -2w / +1m / +1y (days, weeks, calendar months
and years, a month's end kept: Jan 31 + 1m = Feb 28), and weekday names
(`fri` or `friday` = the next Friday after today).

Dates are the user's local calendar; stored moments are UTC (`...Z`).  A date
without a time, used for a moment (an activity's `at`), means noon local time,
so it stays on the same calendar day in every time zone.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from crmcli.errors import InvalidValue

FORMS = (
    "YYYY-MM-DD, YYYY-MM-DDTHH:MM, today, tomorrow, yesterday, now, "
    "+3d, -2w, +1m, +1y, or a weekday (mon..sun)"
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_OFFSET = r"([+-])(\d{1,4})([dwmy])\Z"
_EVERY = r"(\d{1,4})([dwmy])\Z"


def today() -> dt.date:
    if os.environ.get("CRM_NOW"):
        return now().astimezone().date()
    return dt.date.today()


def now() -> dt.datetime:
    """This moment (UTC), or `$CRM_NOW` (an ISO 8601 moment such as
    2026-12-01T12:00:00Z), which tests set so that dates and their relative
    words stay the same from run to run."""
    fixed = os.environ.get("CRM_NOW")
    if fixed:
        try:
            moment = dt.datetime.fromisoformat(fixed)
        except ValueError:
            raise InvalidValue(f"CRM_NOW {fixed!r} is not an ISO 8601 moment") from None
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def stamp(moment: dt.datetime) -> str:
    # isoformat, not strftime: %Y writes the year 1 as `1`, not `0001`.
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    return utc.isoformat(timespec="seconds") + "Z"


def _bad(text: str, what: str = "date") -> InvalidValue:
    return InvalidValue(f"invalid {what} {text!r}: use {FORMS}")


def add(day: dt.date, count: int, unit: str) -> dt.date:
    """day + count units; months and years keep the day, clamped to the month's end."""
    if unit == "d":
        return day + dt.timedelta(days=count)
    if unit == "w":
        return day + dt.timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise InvalidValue("that date is out of range")
    import calendar  # only here: importing it costs start-up more than this needs

    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def parse(text: str, *, base: dt.date | None = None) -> tuple[dt.date, dt.time | None]:
    """A WHEN as (local date, local time or None)."""
    value = text.strip().lower()
    base = base or today()
    words = {"today": 0, "now": 0, "tomorrow": 1, "yesterday": -1}
    if value in words:
        clock = now().astimezone().time() if value == "now" else None
        return base + dt.timedelta(days=words[value]), clock
    if match := re.match(_OFFSET, value):
        sign, count, unit = match.groups()
        try:
            return add(base, int(count) * (-1 if sign == "-" else 1), unit), None
        except OverflowError:
            raise InvalidValue(f"{text.strip()!r} is out of range (years 1 to 9999)") from None
    if value in _WEEKDAYS or value in _FULL_WEEKDAYS:
        weekday = _WEEKDAYS.index(value) if value in _WEEKDAYS else _FULL_WEEKDAYS.index(value)
        ahead = (weekday - base.weekday() - 1) % 7 + 1  # 1..7: strictly after today
        return base + dt.timedelta(days=ahead), None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value), None
        if len(value) == 16 and value[10] in "t ":
            moment = dt.datetime.fromisoformat(value[:10] + "T" + value[11:])
            return moment.date(), moment.time()
    except ValueError:
        pass
    raise _bad(text)


def day(text: str | None, *, base: dt.date | None = None) -> str | None:
    """A WHEN as a calendar date YYYY-MM-DD (a time, if given, is dropped)."""
    if text is None or not text.strip():
        return None
    return parse(text, base=base)[0].isoformat()


def moment(text: str | None, *, start_of_day: bool = False) -> str | None:
    """A WHEN as a UTC timestamp; a bare date is noon (or 00:00 with start_of_day)."""
    if text is None or not text.strip():
        return None
    date, clock = parse(text)
    if clock is None:
        clock = dt.time(0, 0) if start_of_day else dt.time(12, 0)
    return stamp(_local(dt.datetime.combine(date, clock), text))


def _local(wall: dt.datetime, text: str) -> dt.datetime:
    """A local wall-clock time as an aware moment, up to the calendar's very ends.

    Python's own conversion fails within a day of year 1 or 9999; there, the
    zone's offset on the same day of a year just inside (years 4 and 9996 are
    leap years too) stands in for it."""
    try:
        return wall.astimezone()
    except (OverflowError, ValueError):
        pass
    try:
        near = wall.replace(year=4 if wall.year < 5000 else 9996).astimezone()
        return (wall - near.utcoffset()).replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00 east of UTC is in year 0
        raise InvalidValue(
            f"{text.strip()!r} is out of range: a moment must fall in the years 1 to 9999 in UTC"
        ) from None


def every(text: str | None) -> str | None:
    """A keep-in-touch interval such as 30d, 2w, 3m; '0' clears it (None)."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in ("0", "0d", "0w", "0m", "0y", ""):
        return None
    match = re.match(_EVERY, value)
    if not match or int(match.group(1)) == 0:
        raise InvalidValue(f"invalid interval {text!r}: use a count and d, w, m or y (30d, 2w, 3m)")
    return f"{int(match.group(1))}{match.group(2)}"


def after(date: str, interval: str) -> str:
    """The date `interval` (as stored by every()) after `date`; past the year
    9999, the last day there is (9999y after today is a listing, not an error)."""
    count, unit = int(interval[:-1]), interval[-1]
    try:
        return add(dt.date.fromisoformat(date[:10]), count, unit).isoformat()
    except (InvalidValue, OverflowError):
        return dt.date.max.isoformat()


# How tables and cards show dates to people (data formats keep ISO UTC).


def relative(day: dt.date, base: dt.date, *, overdue: bool = False) -> str:
    """`day` in words seen from `base`: today, tomorrow, yesterday, in 2 days,
    9 days ago, in 3 weeks, 5 months ago ...; past days of something still to
    do are overdue ("3 days overdue")."""
    days = (day - base).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1 and not overdue:
        return "yesterday"
    count, unit = _span(abs(days))
    words = f"{count} {unit}" + ("" if count == 1 else "s")
    if days > 0:
        return f"in {words}"
    return f"{words} overdue" if overdue else f"{words} ago"


def _span(days: int) -> tuple[int, str]:
    if days < 14:
        return days, "day"
    if days < 60:
        return days // 7, "week"
    if days < 730:
        return days // 30, "month"
    return days // 365, "year"


def local(stamp: str) -> dt.datetime | None:
    """A stored UTC moment (`...Z`) in the local zone ($TZ or the system's); None
    for text that is not one or falls off the calendar there."""
    try:
        moment = dt.datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone()
    except (ValueError, OverflowError, TypeError):
        return None


def calendar_day(text: str) -> dt.date | None:
    """A stored `YYYY-MM-DD` as a date; None for a year-less or other date."""
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
