"""Failures: one `Error:` line on stderr, nothing on stdout, the right exit code."""

import sqlite3

import pytest

from crmcli import db
from crmcli.store import accounts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "No such command"),
        (["account", "new", "X", "--colour", "red"], "No such option"),
        (["account", "show"], "Missing argument"),
        (["contact", "add", "X", "--email"], "requires an argument"),
    ],
)
def test_usage_errors_are_exit_2(crm, args, message):
    assert message in crm.fails(2, *args).stderr


def test_bare_group_shows_its_help(crm):
    result = crm.ok()
    assert "account" in result.stdout and "contact" in result.stdout
    assert "Exit codes" in result.stdout
    assert "edit" in crm.ok("account").stdout


def test_version(crm):
    assert crm.ok("--version").stdout.startswith("crm 0.")


def test_db_option_beats_environment(crm, tmp_path):
    crm.ok("--db", str(tmp_path / "other.db"), "account", "new", "Elsewhere")
    assert crm.json("account", "list") == []
    assert len(crm.json("--db", str(tmp_path / "other.db"), "account", "list")) == 1


def test_foreign_database_is_exit_1(crm, tmp_path):
    path = tmp_path / "foreign.db"
    sqlite3.connect(path).execute("CREATE TABLE x (y)").connection.commit()
    result = crm.fails(1, "--db", str(path), "account", "new", "X")
    assert "not a crm database" in result.stderr


def test_locked_database_is_exit_75_and_writes_nothing(crm, db_path):
    crm.ok("account", "new", "First")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = crm.fails(75, "account", "new", "Second", env={"CRM_LOCK_TIMEOUT": "0.2"})
    finally:
        holder.execute("ROLLBACK")
    assert "locked" in result.stderr and "retry" in result.stderr
    assert [a["name"] for a in crm.json("account", "list")] == ["First"]


def test_interrupt_is_exit_130_and_rolls_back(crm, monkeypatch):
    real = accounts.add_account

    def interrupted(conn, values, **kwargs):
        real(conn, values, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(accounts, "add_account", interrupted)
    result = crm.fails(130, "account", "new", "Half")
    assert "interrupted" in result.stderr
    assert crm.json("account", "list") == []


def test_unexpected_errors_hide_the_traceback_unless_debug(crm, monkeypatch):
    def broken(conn, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(accounts, "list_accounts", broken)
    result = crm.fails(1, "account", "list")
    assert "RuntimeError: boom" in result.stderr and "--debug" in result.stderr
    result = crm("--debug", "account", "list")
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def test_reads_create_no_database(crm, db_path):
    crm.ok("list")
    crm.ok("account", "list", "--json")
    crm.fails(3, "contact", "show", "nobody")
    crm.fails(2, "frobnicate")
    assert not db_path.exists() and not db_path.parent.joinpath("crm.db-wal").exists()


def test_usage_error_hints_at_help(crm):
    assert "(see 'crm account show -h')" in crm.fails(2, "account", "show").stderr


def test_markup_in_error_messages_is_not_interpreted(crm):
    result = crm.fails(3, "account", "show", "[bold]x[/]")
    assert "'[bold]x[/]'" in result.stderr


def test_sqlite_errors_map_to_exit_codes(db_path):
    db_path.write_bytes(b"garbage" * 1000)
    from crmcli.errors import DatabaseRefused

    with pytest.raises(DatabaseRefused, match="corrupt"), db.session(db_path, write=False):
        pass


def test_names_in_error_messages_cannot_drive_the_terminal(crm):
    crm.ok("account", "new", "Evil\x1b[2J Corp")
    result = crm.fails(3, "account", "show", "Evil Corp\x07")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "Evil\\x1b[2J Corp" in result.stderr  # offered as the closest name, escaped


def test_bytes_that_are_not_utf8_on_the_command_line_are_a_clear_error(crm):
    """The shell hands Python undecodable bytes as lone surrogates (\\udc85): they are
    refused as values, and the history still records the command line."""
    for args in (["contact", "add", "a\udc85b"], ["account", "new", "Acme", "--city", "\udc85"]):
        assert "not valid UTF-8 text" in crm.fails(2, *args).stderr
    crm.ok("contact", "add", "Ann Lee", "--title", "CTO")
    result = crm.fails(1, "import", "\udc85.csv")
    assert "cannot read" in result.stderr
    assert crm.json("history")[0]["summary"] == "contact add 'Ann Lee' --title CTO"
