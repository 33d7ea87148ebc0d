"""The schema, inspected with sqlite-utils: links are real foreign keys and indexed."""

import sqlite3
import stat

import pytest
import sqlite_utils

from crmcli import db
from crmcli.store import accounts


def test_every_link_is_an_indexed_foreign_key(conn):
    database = sqlite_utils.Database(conn)
    for table in database.tables:
        if table.name == "changes":  # row_id points into whichever table `tbl` names
            continue
        links = [column for column in table.columns_dict if column.endswith("_id")]
        keys = {fk.column for fk in table.foreign_keys}
        assert set(links) <= keys, f"{table.name}: {set(links) - keys} not foreign keys"
        indexed = {index.columns[0] for index in table.indexes} | set(table.pks)  # a photo's id
        assert keys <= indexed, f"{table.name}: {keys - indexed} not indexed"


def test_every_record_table_has_the_common_columns(conn):
    database = sqlite_utils.Database(conn)
    for name in ("accounts", "contacts", "deals", "activities", "tasks"):
        columns = database[name].columns_dict
        assert {"id", "tags", "fields", "created_at", "updated_at"} <= set(columns)


def test_ids_use_autoincrement(conn):
    sql = conn.execute("SELECT group_concat(sql) FROM sqlite_master WHERE type = 'table'")
    assert sql.fetchone()[0].count("AUTOINCREMENT") == 6  # five kinds and operations


def test_sqlite_utils_helpers_stay_inside_the_command_transaction(db_path):
    """sqlite-utils nests its writes as savepoints: our rollback undoes them too."""
    with db.session(db_path, write=True) as conn:
        accounts.add_account(conn, {"name": "Globex"})
    with pytest.raises(RuntimeError), db.session(db_path, write=True) as conn:
        accounts.add_account(conn, {"name": "Acme"})
        sqlite_utils.Database(conn)["scratch"].insert({"x": 1})
        raise RuntimeError("the command fails after the helper wrote")
    check = sqlite3.connect(db_path)
    assert check.execute("SELECT name FROM accounts").fetchall() == [("Globex",)]
    assert "scratch" not in sqlite_utils.Database(check).table_names()


def test_wal_side_files_are_private_too(db_path):
    with db.session(db_path, write=True) as conn:
        accounts.add_account(conn, {"name": "Acme"})
    with db.session(db_path, write=True) as conn:
        accounts.add_account(conn, {"name": "Globex"})
        for suffix in ("-wal", "-shm"):
            side = db_path.with_name(db_path.name + suffix)
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, suffix
