"""Opening, guarding and migrating the database file."""

import hashlib
import sqlite3
import stat
import threading

import pytest

from crmcli import db
from crmcli.errors import DatabaseRefused, InvalidValue, Locked
from crmcli.migrations import SCHEMA_VERSION
from crmcli.store import accounts


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_path_from_option_then_env_then_user_data(monkeypatch, tmp_path):
    assert db.resolve_path("~/x.db") == tmp_path / "home" / "x.db"
    assert db.resolve_path(None) == tmp_path / "crm.db"
    monkeypatch.delenv("CRM_DB")
    default = db.resolve_path(None)
    assert default.name == "crm.db" and default.parent.name == "crmcli"
    assert str(default).startswith(str(tmp_path / "home"))


def test_new_file_is_private_and_marked(tmp_path):
    path = tmp_path / "new" / "deeper" / "crm.db"
    with db.session(path, write=True) as conn:
        accounts.add_account(conn, {"name": "Acme"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == db.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_session_pragmas(conn):
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.in_transaction


def test_read_on_missing_database_creates_nothing(tmp_path):
    path = tmp_path / "missing" / "crm.db"
    with db.session(path, write=False) as conn:
        assert list(accounts.list_accounts(conn)) == []
    assert not (tmp_path / "missing").exists()


def test_read_on_empty_file_changes_nothing(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with db.session(path, write=False) as conn:
        assert list(accounts.list_accounts(conn)) == []
    assert path.read_bytes() == b""


def test_foreign_sqlite_file_is_refused_unchanged(tmp_path):
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    before = digest(path)
    for write in (False, True):
        with pytest.raises(DatabaseRefused, match="not a crm database"):
            with db.session(path, write=write):
                pass
    assert digest(path) == before


def test_non_database_file_is_refused_unchanged(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some text, certainly not SQLite\n" * 20)
    before = digest(path)
    with pytest.raises(DatabaseRefused, match="not a crm database"):
        with db.session(path, write=True):
            pass
    assert digest(path) == before


def test_newer_schema_is_refused_unchanged(newer_db):
    before = digest(newer_db)
    with pytest.raises(DatabaseRefused, match="newer crm"):
        with db.session(newer_db, write=True):
            pass
    assert digest(newer_db) == before


def test_failed_command_writes_nothing(db_path):
    with pytest.raises(InvalidValue):
        with db.session(db_path, write=True) as conn:
            accounts.add_account(conn, {"name": "Kept?"})
            accounts.add_account(conn, {"name": ""})
    with db.session(db_path, write=False) as conn:
        assert list(accounts.list_accounts(conn)) == []


def test_interrupt_rolls_back(db_path):
    with pytest.raises(KeyboardInterrupt):
        with db.session(db_path, write=True) as conn:
            accounts.add_account(conn, {"name": "Half"})
            raise KeyboardInterrupt
    with db.session(db_path, write=False) as conn:
        assert list(accounts.list_accounts(conn)) == []


def test_writer_waits_for_the_lock_then_gives_up(db_path, monkeypatch):
    with db.session(db_path, write=True):
        pass
    monkeypatch.setenv("CRM_LOCK_TIMEOUT", "0.2")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Locked, match="retry later"):
            with db.session(db_path, write=True) as conn:
                accounts.add_account(conn, {"name": "Blocked"})
    finally:
        holder.execute("ROLLBACK")
    assert Locked.exit_code == 75


def test_writer_gets_through_when_the_lock_is_released(db_path):
    with db.session(db_path, write=True):
        pass
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: holder.execute("ROLLBACK")).start()
    with db.session(db_path, write=True) as conn:
        accounts.add_account(conn, {"name": "Patient"})
    with db.session(db_path, write=False) as conn:
        assert [a["name"] for a in accounts.list_accounts(conn)] == ["Patient"]


def test_an_older_database_is_upgraded_with_nothing_lost(tmp_path):
    """A schema-1 file (built by the first step alone) gains what later steps add."""
    from crmcli import migrations
    from crmcli.store import contacts

    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("PRAGMA journal_mode = WAL")
    old.execute("BEGIN")
    migrations.m001_initial(old)
    old.execute(
        "INSERT INTO contacts (first_name, name, name_key, created_at, updated_at)"
        " VALUES ('Jane', 'Jane', 'jane', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
    )
    old.execute(f"PRAGMA application_id = {db.APPLICATION_ID}")
    old.execute("PRAGMA user_version = 1")
    old.execute("COMMIT")
    old.close()
    with db.session(path, write=False) as conn:
        (jane,) = contacts.list_contacts(conn)
        assert (jane["name"], jane["every"], jane["created_at"]) == (
            "Jane",
            None,
            "2025-01-01T00:00:00Z",
        )
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {row[1] for row in check.execute("PRAGMA index_list(activities)")}
    assert "activities_contact_at" in indexes
    from crmcli.store import search

    with db.session(path, write=False) as conn:  # existing records are in the new index
        assert [hit["name"] for hit in search.search(conn, "jane")] == ["Jane"]
