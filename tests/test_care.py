"""crm db info, check and backup."""

import json
import sqlite3
import stat

import pytest

from crmcli.migrations import SCHEMA_VERSION


def test_info(crm, db_path):
    crm.ok("demo")
    facts = crm.json("db", "info")
    assert facts["path"] == str(db_path) and facts["size"] == db_path.stat().st_size
    assert facts["schema_version"] == SCHEMA_VERSION and facts["sqlite_version"]
    assert facts["counts"] == {"accounts": 5, "contacts": 6, "deals": 6, "activities": 4,
                               "tasks": 4}  # fmt: skip
    assert "contacts" in crm.ok("db", "info").stdout


def test_info_on_a_missing_database_creates_nothing(crm, db_path):
    assert crm.json("db", "info")["counts"]["contacts"] == 0
    assert not db_path.exists()


def test_check_passes_and_finds_broken_invariants(crm, db_path):
    crm.ok("demo")
    assert "database ok" in crm.ok("db", "check").stderr
    raw = sqlite3.connect(db_path)
    raw.execute("DELETE FROM search WHERE rowid = 1 * 4 + 1")  # Jane leaves the index
    raw.execute("UPDATE contacts SET email = 'wrong@x.example' WHERE id = 2")
    raw.execute("UPDATE contacts SET last_contacted = '1999-01-01T00:00:00Z' WHERE id = 3")
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("UPDATE deals SET account_id = 999 WHERE id = 1")
    raw.commit()
    result = crm.fails(1, "db", "check")
    assert "search index: 1 contacts missing" in result.stderr
    assert "2 with summary columns out of step" in result.stderr
    assert "foreign key: deals row 1 points to a missing accounts row" in result.stderr


def test_check_finds_odd_rows_counted_too_few(crm, db_path):
    """odd_rows below the contacts it counts would let CSV listings cut lines at a
    NUL; above them (a REPLACE leaves it so) is only slower, and no problem."""
    crm.ok("demo")
    raw = sqlite3.connect(db_path)
    raw.execute("INSERT OR REPLACE INTO contacts SELECT * FROM contacts WHERE id = 1")
    raw.execute("UPDATE contacts SET nickname = 'a' || char(0) WHERE id = 1")
    raw.execute("INSERT OR REPLACE INTO contacts SELECT * FROM contacts WHERE id = 1")
    raw.commit()  # counted twice, held once
    assert "database ok" in crm.ok("db", "check").stderr
    raw.execute("UPDATE odd_rows SET rows = 0")
    raw.execute("UPDATE contacts SET title = x'00' WHERE id = 2")  # counted: 1, held: 2
    raw.commit()
    assert "odd rows: 1 counted, 2 contacts hold" in crm.fails(1, "db", "check").stderr


def test_backup_is_a_private_consistent_copy(crm, db_path, tmp_path):
    missing = crm.fails(1, "db", "backup", str(tmp_path / "none.db"))  # no database yet
    assert "no database at" in missing.stderr and not (tmp_path / "none.db").exists()
    crm.ok("demo")
    target = tmp_path / "copy.db"
    crm.ok("db", "backup", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = {"CRM_DB": str(target)}
    assert crm.json("list", "deals", env=copy) == crm.json("list", "deals")
    assert "database ok" in crm.ok("db", "check", env=copy).stderr
    assert "already exists" in crm.fails(1, "db", "backup", str(target)).stderr


# -- damaged files: pages of a small database overwritten ------------------------------
def _page_size_and_roots(path):
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    roots = dict(raw.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
    raw.close()
    return page_size, roots


def _middle_child(data, page_size, page):
    """The page number of the middle child of interior b-tree page `page`."""
    start = (page - 1) * page_size
    assert data[start] in (2, 5), "not an interior page: make the book bigger"
    cells = int.from_bytes(data[start + 3 : start + 5], "big")
    pointer = start + 12 + 2 * (cells // 2)
    cell = start + int.from_bytes(data[pointer : pointer + 2], "big")
    return int.from_bytes(data[cell : cell + 4], "big")


@pytest.fixture
def book(crm, db_path, tmp_path):
    people = [{"name": f"Person {i}", "email": f"p{i}@x.example"} for i in range(400)]
    (tmp_path / "people.json").write_text(json.dumps(people))
    crm.ok("import", str(tmp_path / "people.json"), "--kind", "contacts")
    return db_path


def _overwrite(path, page_size, page, change):
    data = bytearray(path.read_bytes())
    start = (page - 1) * page_size
    data[start : start + page_size] = change(bytes(data[start : start + page_size]))
    path.write_bytes(bytes(data))


def test_check_and_backup_of_a_damaged_index_list_each_problem(crm, book, tmp_path):
    page_size, roots = _page_size_and_roots(book)
    data = book.read_bytes()
    leaf = _middle_child(data, page_size, roots["contacts_name_key"])
    # Keys changed in place: the page stays well-formed, its entries no longer match rows.
    _overwrite(book, page_size, leaf, lambda page: page.replace(b"person 1", b"xerson 1"))
    lines = crm.fails(1, "db", "check").stderr.splitlines()
    missing = [line for line in lines if "missing from index contacts_name_key" in line]
    assert len(missing) >= 10 and len(set(missing)) == len(missing)
    assert lines[0] == f"Error: {len(lines) - 1} problems:"
    result = crm.fails(1, "db", "backup", str(tmp_path / "copy.db"))
    assert "damaged" in result.stderr and "missing from index" in result.stderr
    assert "backed up" not in result.stderr
    copy = (tmp_path / "copy.db").read_bytes()  # the copy is kept, as damaged
    assert copy[leaf * page_size - page_size :][:page_size].count(b"xerson 1") > 10
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600


def test_check_of_zeroed_pages_names_each_damaged_table(crm, book, tmp_path):
    page_size, roots = _page_size_and_roots(book)
    data = book.read_bytes()
    leaf = _middle_child(data, page_size, roots["contacts"])
    _overwrite(book, page_size, leaf, lambda page: bytes(len(page)))  # a table's leaf
    _overwrite(book, page_size, roots["contact_emails_contact"], lambda page: bytes(len(page)))
    result = crm.fails(1, "db", "check")
    assert "table contacts (or one of its indexes) cannot be read" in result.stderr
    assert "table contact_emails (or one of its indexes) cannot be read" in result.stderr
    assert "foreign key: could not be checked" in result.stderr  # the later checks still ran
    assert "table accounts" not in result.stderr
    result = crm.fails(1, "db", "backup", str(tmp_path / "copy.db"))
    assert "damaged" in result.stderr and "backed up" not in result.stderr
