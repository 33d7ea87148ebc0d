"""crm db info, check and backup."""

import sqlite3
import stat

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


def test_backup_is_a_private_consistent_copy(crm, db_path, tmp_path):
    crm.ok("demo")
    target = tmp_path / "copy.db"
    crm.ok("db", "backup", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = {"CRM_DB": str(target)}
    assert crm.json("list", "deals", env=copy) == crm.json("list", "deals")
    assert "database ok" in crm.ok("db", "check", env=copy).stderr
    assert "already exists" in crm.fails(1, "db", "backup", str(target)).stderr
