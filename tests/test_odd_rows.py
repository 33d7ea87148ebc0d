"""odd_rows (m019) counts the contacts a fast CSV listing cannot show as crm reads
them: a BLOB or REAL anywhere, a NUL in a text or a \\u0000 in the tags.  The
count must never fall below the rows there are (store.lines would then write a
NUL-cut line), whoever wrote them: raw SQL, crm's commands, bulk imports, undo."""

import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from crmcli import db, migrations


def _counted(conn) -> tuple[int, int]:
    """(what odd_rows says, what the contacts hold)."""
    (stored,) = conn.execute("SELECT rows FROM odd_rows WHERE tbl = 'contacts'").fetchone()
    odd = migrations.odd_row(conn, "contacts")
    (found,) = conn.execute(f"SELECT count(*) FROM contacts WHERE {odd}").fetchone()
    return stored, found


_VALUES = ["plain", "", None, "a\x00b", "\x00", b"blob", b"", "=1+2", "中文", 7]
_COLUMNS = ["city", "title", "description", "nickname", "account_id", "suffix"]


def test_raw_sql_writes_keep_the_count(tmp_path):
    path = tmp_path / "crm.db"
    db.create(path)
    conn = sqlite3.connect(path, isolation_level=None)
    pick, most = random.Random(19), 0
    stamp = "2026-01-01T00:00:00Z"
    for step in range(400):
        ids = [row_id for (row_id,) in conn.execute("SELECT id FROM contacts")]
        action = pick.choice(["insert", "update", "delete"] if ids else ["insert"])
        column, value = pick.choice(_COLUMNS), pick.choice([*_VALUES, 1.5])
        if action == "insert":
            tags = pick.choice(['[]', '["x"]', '["a\\u0000"]', '[{"value": "\\u0000"}]'])
            conn.execute(
                f"INSERT INTO contacts (name, name_key, name_order, created_at, updated_at, tags,"
                f" {column}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (f"P{step}", f"p{step}", f"p{step}", stamp, stamp, tags, value),
            )
        elif action == "update":
            row_id = pick.choice(ids)
            conn.execute(f"UPDATE contacts SET {column} = ? WHERE id = ?", (value, row_id))
        else:
            conn.execute("DELETE FROM contacts WHERE id = ?", (pick.choice(ids),))
        stored, found = _counted(conn)
        assert stored == found, (step, action, column, value)
        most = max(most, found)
    assert most > 5  # the sequence did hold odd rows


def test_commands_imports_and_undo_keep_the_count(crm, tmp_path):
    env = {"CRM_DB": str(tmp_path / "crm.db")}
    book = tmp_path / "book.csv"
    titles = ["C\x00O" if n % 3 == 0 else "CEO" for n in range(30)]
    rows = [f"Person {n},p{n}@example.com,{title}" for n, title in enumerate(titles)]
    book.write_text("name,email,title\n" + "\n".join(rows) + "\n")
    backup = tmp_path / "backup.jsonl"
    record = {"record": "contact", "name": "Nul\x00Name", "tags": ["a\x00b"], "fields": {}}
    backup.write_text(json.dumps(record) + "\n")

    def check(expected: int) -> None:
        with sqlite3.connect(env["CRM_DB"]) as conn:
            assert _counted(conn) == (expected, expected)

    crm.ok("contact", "add", "First", "-e", "first@example.com", env=env)
    check(0)
    crm.ok("import", str(book), env=env)  # written by store.bulk, its triggers lifted
    check(10)
    crm.ok("import", str(backup), env=env)
    check(11)
    crm.ok("contact", "edit", "p0@example.com", "--title", "CTO", env=env)
    check(10)
    crm.ok("contact", "edit", "p1@example.com", "--title", "a\x00b", env=env)
    check(11)
    crm.ok("contact", "delete", "p3@example.com", "--yes", env=env)
    check(10)
    crm.ok("undo", env=env)
    check(11)
    # Operations 5 and 4 (the edits), 3 (the backup's import), 2 (the CSV's).
    for operation, expected in ((5, 10), (4, 11), (3, 10), (2, 0)):
        crm.ok("undo", str(operation), env=env)
        check(expected)


def test_an_upgrade_counts_the_odd_rows_there_are(crm, tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "schema-18.db", path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE contacts SET city = 'a' || char(0) || 'b' WHERE id = 1")
    crm.ok("--db", str(path), "db", "info")
    with sqlite3.connect(path) as conn:
        assert _counted(conn) == (1, 1)


@pytest.mark.parametrize("event", ["insert", "update_old", "update_new", "delete"])
def test_the_triggers_look_at_every_column(tmp_path, event):
    """A later step that adds a column must call migrations.odd_triggers again."""
    path = tmp_path / "crm.db"
    db.create(path)
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (f"odd_contacts_{event}",)
        ).fetchone()
        row = "old" if event.endswith(("delete", "old")) else "new"
        for _, name, *_ in conn.execute("PRAGMA table_info(contacts)"):
            assert name == "id" or f"{row}.{name} " in sql, name


def test_an_account_name_with_a_nul_counts_its_contacts(crm, tmp_path):
    """A new contact's `account` column is its account's name (store.bulk copies
    it): a NUL there makes the contact odd too."""
    env = {"CRM_DB": str(tmp_path / "crm.db")}
    book = tmp_path / "book.csv"
    book.write_text("name,email,company\nA,a@example.com,Ac\x00me\nB,b@example.com,Acme\n")
    crm.ok("import", str(book), env=env)
    with sqlite3.connect(env["CRM_DB"]) as conn:
        assert _counted(conn) == (1, 1)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "N", "title": 1.5, "city": 7, "description": True, "nickname": 10**30},
        {"name": "N", "emails": [{"value": "n@example.com", "label": "w"}], "tags": ["x"]},
        {"first_name": "N", "fields": {"x": 1.5}, "every": "30d", "birthday": "2000-01-02"},
    ],
)
def test_a_checked_contact_holds_only_text_integers_and_none(data):
    """checks.odd tests NULs only: a REAL or a BLOB, which odd_rows counts too, must
    never reach a new contact's columns."""
    from crmcli import config
    from crmcli.store import checks

    item = checks.check("contacts", data, config.Config())
    assert {type(value) for value in (*item.row.values(), *item.summary)} <= {str, int, type(None)}


def test_a_nul_escaped_as_json5_in_the_tags_is_counted(crm, tmp_path):
    """SQLite 3.42+ reads tags as JSON5: `["a\\x00b"]` or `["a\\0b"]` (raw SQL)
    flatten to a NUL that printf would cut the line at.  A tag that only holds
    such text (crm writes its backslash escaped) is counted too, by the triggers
    and by store.bulk alike: deleting it later takes back what was added."""
    env = {"CRM_DB": str(tmp_path / "crm.db")}
    crm.ok("contact", "add", "First", env=env)
    stamp = "2026-01-01T00:00:00Z"
    with sqlite3.connect(env["CRM_DB"]) as conn:
        for number, tags in enumerate(['["a\\x00b"]', '["a\\0b"]']):
            conn.execute(
                "INSERT INTO contacts (name, name_key, name_order, created_at, updated_at, tags)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (f"R{number}", f"r{number}", f"r{number}", stamp, stamp, tags),
            )
        assert _counted(conn) == (2, 2)
    book = tmp_path / "book.csv"
    book.write_text("name,email,tags\nA,a@example.com,\\x00\nB,b@example.com,x\\0\n")
    crm.ok("import", str(book), env=env)  # store.bulk, its triggers lifted
    with sqlite3.connect(env["CRM_DB"]) as conn:
        assert _counted(conn) == (4, 4)
    crm.ok("contact", "delete", "a@example.com", "--yes", env=env)
    with sqlite3.connect(env["CRM_DB"]) as conn:
        assert _counted(conn) == (3, 3)
