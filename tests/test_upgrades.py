"""Databases from every earlier schema version, and files crm must not touch."""

import hashlib
import shutil
from pathlib import Path

import pytest

from crmcli.migrations import SCHEMA_VERSION

FIXTURES = sorted(
    (Path(__file__).parent / "fixtures").glob("schema-*.db"), key=lambda p: int(p.stem[7:])
)


def test_there_is_a_fixture_for_every_earlier_version():
    assert [int(p.stem.split("-")[1]) for p in FIXTURES] == list(range(1, SCHEMA_VERSION))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_an_older_database_upgrades_with_nothing_lost(crm, tmp_path, fixture):
    path = tmp_path / "old.db"
    shutil.copy(fixture, path)
    env = {"CRM_DB": str(path)}
    jane = crm.json("contact", "show", "jane@acme.example", env=env)
    assert (jane["name"], jane["account"], jane["phone"]) == ("Jane Doe", "Acme", "+1 555 0100")
    assert jane["emails"] == [{"value": "jane@acme.example", "label": "work"}]
    assert jane["created_at"] == "2025-06-01T10:00:00Z"
    assert jane["last_contacted"] == "2025-06-01T09:00:00Z"
    account = crm.json("account", "show", "Acme", env=env)
    assert account["tags"] == ["key"] and account["fields"] == {"tier": "gold"}
    assert crm.json("deal", "show", "Skates", env=env)["amount"] == 12500.5
    assert [t["title"] for t in crm.json("task", "list", env=env)] == ["Send quote"]
    assert crm.json("db", "info", env=env)["schema_version"] == SCHEMA_VERSION
    assert [hit["name"] for hit in crm.json("search", "jane", env=env)] == ["Jane Doe"]
    assert "database ok" in crm.ok("db", "check", env=env).stderr
    crm.ok("contact", "edit", "Jane Doe", "--title", "CTO", env=env)
    crm.ok("undo", env=env)
    assert crm.json("contact", "show", "Jane Doe", env=env)["title"] is None


def test_truncated_files_are_refused_untouched(crm, tmp_path):
    path = tmp_path / "cut.db"
    shutil.copy(FIXTURES[-1], path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for args in (["list"], ["account", "new", "X"]):
        result = crm.fails(1, "--db", str(path), *args)
        assert "truncated" in result.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_older_crms_log_that_changed_a_record_twice_is_not_undone_inexactly(crm, tmp_path):
    """Issue 11: the old triggers (before m009) could log one row's images out of order
    (`account delete --detach` after a batched import left the contact unlinked on
    undo).  Such operations are refused untouched; single-image ones still undo."""
    import sqlite3

    path = tmp_path / "old.db"
    shutil.copy(FIXTURES[0].with_name("schema-8.db"), path)  # before m009, with its triggers
    conn = sqlite3.connect(path, isolation_level=None)
    for summary, statements in [
        ("account edit Acme --city Paris", ["UPDATE accounts SET city = 'Paris'"]),
        ("two edits", ["UPDATE contacts SET title = 'VP'", "UPDATE contacts SET city = 'Rome'"]),
    ]:
        op = conn.execute("INSERT INTO operations (at, summary) VALUES ('2025-06-02T00:00:00Z',"
                          " ?)", (summary,)).lastrowid  # fmt: skip
        conn.execute("UPDATE current_operation SET id = ?", (op,))
        for statement in statements:
            conn.execute(statement)
        conn.execute("UPDATE current_operation SET id = NULL")
    conn.close()
    env = {"CRM_DB": str(path)}
    before = crm.ok("export", env=env).stdout.split("\n", 1)[1]
    result = crm.fails(1, "undo", env=env)
    assert "logged by an older crm" in result.stderr and "nothing was changed" in result.stderr
    assert crm.ok("export", env=env).stdout.split("\n", 1)[1] == before
    crm.ok("undo", "1", env=env)  # one image of the row: exact whatever the order
    assert crm.json("account", "show", "Acme", env=env)["city"] == "Springfield"


def test_schema_9_contacts_gain_the_address_book_fields(crm, tmp_path):
    """m010: the primary address becomes addresses[0], an old import's fields.url
    moves to urls (fields.uid stays), the name CHECK goes, undo of an edit logged
    before the upgrade puts back the list with the column, the index finds the new
    fields and the file is sound."""
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES[8], path)
    env = {"CRM_DB": str(path)}
    ada = crm.json("contact", "show", "Ada Byron", env=env)
    primary = {"label": None, "po_box": None, "extended": None, "street": "12 St James's Sq",
               "region": None, "postal_code": "SW1Y 4JH", "country": "UK"}  # fmt: skip
    assert ada["addresses"] == [{**primary, "city": "Paris"}] and ada["city"] == "Paris"
    assert ada["urls"] == [{"value": "https://ada.example", "label": None}]
    assert ada["fields"] == {"uid": "u-2"}
    assert (ada["nickname"], ada["impps"], ada["vcard"]) == (None, [], [])
    crm.ok("undo", env=env)  # the city edit logged by the schema-9 crm
    ada = crm.json("contact", "show", "Ada Byron", env=env)
    assert ada["addresses"] == [{**primary, "city": "London"}] and ada["city"] == "London"
    assert [hit["name"] for hit in crm.json("search", "ada.example", env=env)] == ["Ada Byron"]
    bo = crm.json("contact", "add", "--nickname", "Bo", env=env)
    assert (bo["name"], bo["first_name"], bo["last_name"]) == ("Bo", None, None)
    assert "database ok" in crm.ok("db", "check", env=env).stderr


def test_m010_rolled_back_leaves_the_schema_as_it_was(tmp_path):
    """The name CHECK is dropped by editing the schema inside the upgrade's
    transaction: rolled back (a failing later step), the table is as it was."""
    import sqlite3

    from crmcli import migrations

    path = tmp_path / "old.db"
    shutil.copy(FIXTURES[8], path)
    conn = sqlite3.connect(path, isolation_level=None)
    before = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'contacts'").fetchone()
    conn.execute("BEGIN")
    migrations.m010_address_book_fields(conn)
    (during,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'contacts'").fetchone()
    assert "CHECK (first_name" not in during and "addresses" in during
    conn.execute("INSERT INTO contacts (name, name_key, created_at, updated_at) VALUES"
                 " ('Bo', 'bo', 'x', 'x')")  # fmt: skip
    conn.execute("ROLLBACK")
    conn.close()
    conn = sqlite3.connect(path)
    after = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'contacts'").fetchone()
    assert after == before
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO contacts (name, name_key, created_at, updated_at) VALUES"
                     " ('Bo', 'bo', 'x', 'x')")  # fmt: skip


def test_a_schema_no_release_wrote_is_refused_by_step_and_left_as_it_was(crm, tmp_path):
    """A file whose schema already holds what a later step creates (a development
    build's migrations) fails that step: the error names the file, the step and
    SQLite's reason in one line, exit 1, and the schema and data are as they were
    (not the bytes: the file is switched to WAL first, which SQLite counts as a change)."""
    import sqlite3

    path = tmp_path / "odd.db"
    shutil.copy(FIXTURES[13], path)  # schema 14: m015_mail comes next
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE INDEX activities_message_id ON activities(json_extract(fields, '$.x'))"
        )
    conn.close()
    def dump() -> list[str]:
        with sqlite3.connect(path) as conn:
            lines = [*conn.iterdump(), str(conn.execute("PRAGMA user_version").fetchone())]
        conn.close()
        return lines

    before = dump()
    result = crm.fails(1, "--db", str(path), "list")
    assert result.stderr == (
        f"Error: {path} could not be upgraded from schema 14 (step 15, m015_mail: index"
        " activities_message_id already exists); its schema and data were left as they were\n"
    )
    assert dump() == before


def test_a_full_disk_while_upgrading_is_reported_as_one(crm, tmp_path, monkeypatch):
    """A step that fails for want of room (or of a working disk) fails on a schema a
    release wrote: it is said as any command says it, not blamed on the schema."""
    import sqlite3

    from crmcli import migrations

    path = tmp_path / "old.db"
    shutil.copy(FIXTURES[13], path)  # schema 14: m015_mail comes next
    step = migrations.MIGRATIONS[14]

    def cramped(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")  # no page more: SQLITE_FULL
        step(conn)

    cramped.__name__ = step.__name__
    steps = migrations.MIGRATIONS
    monkeypatch.setattr(migrations, "MIGRATIONS", [*steps[:14], cramped, *steps[15:]])
    result = crm.fails(1, "--db", str(path), "list")
    assert result.stderr == f"Error: the disk holding {path} is full; nothing was written\n"
