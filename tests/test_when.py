"""WHEN forms, around month and year ends, and keep-in-touch intervals."""

import datetime as dt

import pytest

from crmcli import when
from crmcli.errors import InvalidValue

D = dt.date


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("2026-02-28", D(2026, 1, 1), D(2026, 2, 28)),
        ("today", D(2026, 12, 31), D(2026, 12, 31)),
        ("tomorrow", D(2026, 12, 31), D(2027, 1, 1)),
        ("yesterday", D(2027, 1, 1), D(2026, 12, 31)),
        ("Tomorrow", D(2028, 2, 28), D(2028, 2, 29)),  # leap year
        ("tomorrow", D(2027, 2, 28), D(2027, 3, 1)),
        ("+3d", D(2026, 12, 30), D(2027, 1, 2)),
        ("-2w", D(2027, 1, 5), D(2026, 12, 22)),
        ("+1m", D(2026, 1, 31), D(2026, 2, 28)),  # month end kept, clamped
        ("+1m", D(2028, 1, 31), D(2028, 2, 29)),
        ("+1m", D(2026, 12, 15), D(2027, 1, 15)),  # across the year
        ("-1m", D(2026, 3, 31), D(2026, 2, 28)),
        ("-1m", D(2027, 1, 10), D(2026, 12, 10)),
        ("+12m", D(2026, 5, 31), D(2027, 5, 31)),
        ("+1y", D(2028, 2, 29), D(2029, 2, 28)),
        ("+0d", D(2026, 6, 1), D(2026, 6, 1)),
        ("fri", D(2026, 11, 27), D(2026, 12, 4)),  # a Friday: the next one
        ("friday", D(2026, 11, 26), D(2026, 11, 27)),
        ("mon", D(2026, 12, 29), D(2027, 1, 4)),  # across the year
        ("SUN", D(2026, 11, 27), D(2026, 11, 29)),
        ("2026-11-27T09:30", D(2000, 1, 1), D(2026, 11, 27)),
        ("2026-11-27 09:30", D(2000, 1, 1), D(2026, 11, 27)),
    ],
)
def test_days(text, base, expected):
    assert when.day(text, base=base) == expected.isoformat()


@pytest.mark.parametrize(
    "text",
    ["next week", "2026-02-30", "2026-13-01", "+3", "3d", "+3x", "fr", "27/11/2026", "+99999d"],
)
def test_bad_forms_name_the_accepted_ones(text):
    with pytest.raises(InvalidValue, match="YYYY-MM-DD") as info:
        when.day(text)
    assert "+3d" in info.value.message and "mon..sun" in info.value.message


def test_date_limits_are_errors_not_crashes():
    with pytest.raises(InvalidValue, match="range"):
        when.day("+9999y", base=D(9000, 1, 1))
    with pytest.raises(InvalidValue):
        when.day("+9999d", base=D(9999, 12, 1))


def test_moments_are_utc_and_dates_mean_noon(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    import time

    time.tzset()
    try:
        assert when.moment("2026-07-01T09:30") == "2026-07-01T13:30:00Z"
        assert when.moment("2026-07-01") == "2026-07-01T16:00:00Z"
        assert when.moment("2026-07-01", start_of_day=True) == "2026-07-01T04:00:00Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_every():
    assert when.every("30d") == "30d"
    assert when.every(" 2W ") == "2w"
    assert when.every("03m") == "3m"
    assert when.every("0") is None
    for bad in ("monthly", "-1d", "1.5m", "d"):
        with pytest.raises(InvalidValue, match="interval"):
            when.every(bad)


def test_after():
    assert when.after("2026-01-31T10:00:00Z", "1m") == "2026-02-28"
    assert when.after("2026-12-25", "2w") == "2027-01-08"


# How tables and cards say dates (issue 15): words seen from a fixed day.
BASE = D(2026, 12, 1)


@pytest.mark.parametrize(
    ("day", "overdue", "words"),
    [
        (D(2026, 12, 1), False, "today"),
        (D(2026, 12, 2), False, "tomorrow"),
        (D(2026, 11, 30), False, "yesterday"),
        (D(2026, 12, 3), False, "in 2 days"),
        (D(2026, 11, 22), False, "9 days ago"),
        (D(2026, 11, 28), True, "3 days overdue"),
        (D(2026, 11, 30), True, "1 day overdue"),
        (D(2026, 12, 1), True, "today"),
        (D(2026, 12, 15), False, "2 weeks"),  # 14 days: weeks from here
        (D(2026, 10, 1), False, "2 months ago"),
        (D(2027, 12, 31), False, "in 13 months"),
        (D(2029, 1, 1), False, "in 2 years"),
        (D(2026, 9, 1), True, "3 months overdue"),
    ],
)
def test_relative_words(day, overdue, words):
    assert when.relative(day, BASE, overdue=overdue).endswith(words)


@pytest.fixture
def new_york():
    """TZ for this test only (time.tzset: the C library reads it once)."""
    import os
    import time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_stored_moments_are_shown_in_local_time(new_york):
    moment = when.local("2026-12-01T19:30:00Z")
    assert moment.strftime("%Y-%m-%d %H:%M") == "2026-12-01 14:30"
    summer = when.local("2026-07-01T03:00:00Z")  # EDT: the day before
    assert summer.strftime("%d %H:%M") == "30 23:00"
    assert when.local("not a moment") is None
    assert when.local("9999-12-31T23:59:59Z").year == 9999  # west of UTC: still on the calendar


def test_crm_now_fixes_now_and_today_for_tests(monkeypatch, new_york):
    monkeypatch.setenv("CRM_NOW", "2026-12-01T03:00:00Z")  # 22:00 the day before in New York
    assert when.stamp(when.now()) == "2026-12-01T03:00:00Z"
    assert when.today() == D(2026, 11, 30)
    assert when.day("tomorrow") == "2026-12-01"
    monkeypatch.setenv("CRM_NOW", "yesterday")
    with pytest.raises(InvalidValue, match="CRM_NOW"):
        when.now()


def test_calendar_day():
    assert when.calendar_day("2026-02-28") == D(2026, 2, 28)
    assert when.calendar_day("--04-23") is None and when.calendar_day("2026-02-30") is None
