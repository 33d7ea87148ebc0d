"""Extreme values anywhere a number, an id or a date goes: a clear exit 2 (or 3 for
a reference that matches nothing), never "unexpected ..."."""

import shutil
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli import when

HUGE = "99999999999999999999"  # past SQLite's 64-bit integers
PAST_INT64 = str(2**63)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A database with a record of each kind, made once; tests get a copy."""
    from conftest import built_once

    return built_once(
        tmp_path_factory,
        "extremes",
        (
            ["account", "new", "Acme"],
            ["contact", "add", "Jane Doe", "--account", "Acme", "--email", "jane@acme.example"],
            ["deal", "add", "Skates", "--account", "Acme", "--amount", "1200"],
            ["log", "Called", "--contact", "1"],
            ["task", "add", "Send quote", "--contact", "1"],
        ),
    )


@pytest.fixture
def copy(book, tmp_path, monkeypatch):
    path = tmp_path / "book.db"
    shutil.copy(book, path)
    monkeypatch.setenv("CRM_DB", str(path))
    return path


def clear(result) -> None:
    assert "unexpected" not in result.stderr, result.stderr
    assert result.exit_code in (0, 2, 3), (result.exit_code, result.stderr)
    if result.exit_code:
        assert result.stderr.startswith("Error: ") and result.stdout == ""


@pytest.mark.parametrize("number", [HUGE, PAST_INT64, "9" * 10_000])
@pytest.mark.parametrize(
    "command",
    [
        ["contact", "show"],
        ["deal", "show"],
        ["account", "show"],
        ["task", "done"],
        ["activity", "show"],
        ["undo"],
        ["contact", "edit", "1", "--title", "x", "--account"],
        ["log", "x", "--contact"],
        ["task", "add", "x", "--deal"],
    ],
    ids=" ".join,
)
def test_a_huge_number_is_no_such_id(crm, copy, command, number):
    result = crm.fails(3, *command, number)
    assert "no " in result.stderr


@pytest.mark.parametrize("option", ["--limit", "--offset"])
def test_limits_past_sqlite_integers_are_usage_errors(crm, copy, option):
    result = crm.fails(2, "list", option, PAST_INT64)
    assert "9,223,372,036,854,775,807" in result.stderr
    crm.ok("list", option, str(2**63 - 1))
    crm.fails(2, "search", "jane", "--limit", HUGE)
    crm.fails(2, "history", "--limit", HUGE)


def test_where_compares_any_finite_number_and_refuses_others(crm, copy):
    def names(*where):
        args = [arg for w in where for arg in ("--where", w)]
        return [deal["name"] for deal in crm.json("list", "deals", *args)]

    assert names("amount>1e19") == [] and names("amount<1e19") == ["Skates"]
    assert names("amount<1e999999999") == ["Skates"]
    assert names("amount>1,000", "amount<1,200.01") == ["Skates"]
    assert names(f"id={HUGE}") == [] and names(f"id<{HUGE}") == ["Skates"]
    assert names(f"probability>-{HUGE}") == ["Skates"]
    for value in ("inf", "-Infinity", "nan", "1,5"):
        result = crm.fails(2, "list", "deals", "--where", f"amount>{value}")
        assert "compares with numbers such as" in result.stderr
    assert crm.json("list", "--where", f"id={HUGE}") == []


@pytest.fixture
def zone(monkeypatch):
    def use(name: str):
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.mark.parametrize("name", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_moments_at_the_ends_of_the_calendar(zone, name):
    zone(name)
    assert when.moment("0001-01-01").startswith("0001-01-01T")  # noon: inside, anywhere
    assert when.moment("9999-12-31").startswith("9999-12-31T")
    assert when.moment("0001-01-02") < when.moment("0001-01-03")


def test_moments_outside_the_calendar_are_usage_errors(crm, copy, zone):
    zone("Asia/Tokyo")  # 0001-01-01T00:00 here is in year 0 in UTC
    result = crm.fails(2, "log", "x", "--at", "0001-01-01T00:00")
    assert "out of range" in result.stderr
    zone("America/New_York")  # and 9999-12-31T23:59 in the year 10000
    crm.fails(2, "log", "x", "--at", "9999-12-31T23:59")
    crm.ok("log", "x", "--at", "0001-01-01T00:00")
    for text in ("+99999y", "-10000d", "-9999y", "0000-01-01"):
        crm.fails(2, "log", "x", "--at", text)
    assert crm.json("activity", "list", "--sort", "at")[0]["at"].startswith("0001-01-01T")


def test_an_interval_reaching_past_9999_is_a_due_date_not_an_error(crm, copy):
    assert when.after("9999-06-01", "1y") == "9999-12-31"
    assert when.after("9999-12-30", "5d") == "9999-12-31"
    crm.ok("contact", "edit", "1", "--every", "9999y")
    crm.ok("due")


# Values a hostile tester tries; every command below must answer them clearly.
EXTREMES = [HUGE, PAST_INT64, f"-{PAST_INT64}", "-1", "0", "1.5", "1e19", "1e999999999", "inf",
            "nan", "", " ", "\x00", "\udcff", "１２", "²", "1,5", "0001-01-01", "9999-12-31T23:59",
            "+9999y", "-9999d", "\u200b", "a@xn--", "x" * 100_000]  # fmt: skip
HOSTILE = st.one_of(
    st.sampled_from(EXTREMES),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(max_size=20),
)
COMMANDS = [
    ["contact", "show"], ["deal", "show"], ["task", "done"], ["undo"], ["list", "--limit"],
    ["list", "--offset"], ["list", "deals", "--where", "amount>"], ["list", "--where", "id="],
    ["list", "tasks", "--where", "due<"], ["log", "x", "--at"], ["task", "add", "x", "--due"],
    ["deal", "add", "d", "--account", "1", "--amount"], ["deal", "edit", "1", "--probability"],
    ["contact", "edit", "1", "--every"], ["search", "x", "--limit"],
    ["history", "prune", "--before"],
]  # fmt: skip


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(command=st.sampled_from(COMMANDS), value=HOSTILE)
def test_hostile_values_never_end_in_an_unexpected_error(crm, copy, command, value):
    if command[-1].endswith(("=", ">", "<")):
        args = [*command[:-1], command[-1] + value]
    else:
        args = [*command, value]
    clear(crm(*args))
