"""Names in natural order (issue 15: `Person 2` before `Person 10`), sorted by SQL
through the stored, indexed name_order, so across --limit pages and in every
format; and `crm due` reading its index (issue 17)."""

import csv
import io
import json
import shutil
from pathlib import Path

from crmcli import db, models
from crmcli.store import accounts, contacts, deals

FIXTURES = Path(__file__).parent / "fixtures"


def test_natural_keys_order_numbers_by_value_in_plain_byte_order():
    names = ["Person 100", "Person 10", "person 2", "Person", "Person 1a", "Person 1",
             "Person ٣", "Person 007", "Person " + "9" * 20, "Person 1" + "0" * 20,
             "Person 1" + "0" * 5000, "Person 2" + "0" * 5000, "Zed", "Person 1 b"]  # fmt: skip
    ordered = sorted(names, key=lambda name: models.natural_key(models.fold(name)))
    assert ordered == [
        "Person", "Person 1", "Person 1 b", "Person 1a", "person 2", "Person ٣", "Person 007",
        "Person 10", "Person 100", "Person " + "9" * 20, "Person 1" + "0" * 20,
        "Person 1" + "0" * 5000, "Person 2" + "0" * 5000, "Zed",
    ]  # fmt: skip
    assert models.natural_key("x 0") == "x " + "0" * models.NATURAL_WIDTH


def _names(records) -> list[str]:
    return [record["name"] for record in records]


def test_the_store_keeps_name_order_on_every_write(conn):
    from crmcli.config import Config
    from crmcli.store.query import Query

    config = Config()
    for number in (10, 2, 1):
        contacts.add_contact(conn, full_name=f"Person {number}")
        accounts.add_account(conn, {"name": f"Shop {number}"})
        deals.add_deal(conn, config, f"Deal {number}")
    contacts.edit_contact(conn, "Person 1", full_name="Person 30")
    accounts.edit_account(conn, "Shop 1", {"name": "Shop 30"})
    deals.edit_deal(conn, config, "Deal 1", name="Deal 30")
    assert _names(contacts.list_contacts(conn)) == ["Person 2", "Person 10", "Person 30"]
    assert _names(accounts.list_accounts(conn)) == ["Shop 2", "Shop 10", "Shop 30"]
    backwards = Query(sort=["-name"])
    assert _names(deals.list_deals(conn, filters=backwards)) == ["Deal 30", "Deal 10", "Deal 2"]
    keys = conn.execute(
        "SELECT name_key, name_order FROM contacts UNION ALL SELECT name_key, name_order"
        " FROM accounts UNION ALL SELECT name_key, name_order FROM deals"
    ).fetchall()
    assert len(keys) == 9 and all(order == models.natural_key(key) for key, order in keys)


def test_pages_json_and_csv_sort_names_naturally(crm, tmp_path):
    people = [{"name": f"Person {number}"} for number in (100, 1, 10, 2, 20, 3)]
    (tmp_path / "people.json").write_text(json.dumps(people))
    crm.ok("import", str(tmp_path / "people.json"), "--kind", "contacts")  # the bulk path
    natural = ["Person 1", "Person 2", "Person 3", "Person 10", "Person 20", "Person 100"]
    pages = []
    for offset in (0, 2, 4):
        page = crm.json("list", "contacts", "--sort", "name", "--limit", "2",
                        "--offset", str(offset))  # fmt: skip
        pages += _names(page)
    assert pages == natural
    table = crm.ok("contact", "list", "--limit", "2", "--offset", "2", "--columns", "name")
    assert [line.strip("│ ") for line in table.stdout.splitlines() if "Person" in line] == [
        "Person 3", "Person 10"
    ]  # fmt: skip
    text = crm.ok("list", "contacts", "--format", "csv", "--sort", "-name").stdout
    assert [row["name"] for row in csv.DictReader(io.StringIO(text))] == natural[::-1]


def test_a_person_accounts_name_order_follows_its_person(crm):
    for name in ("Ann 10", "Ann 2", "Ann 9"):
        crm.ok("account", "new", name, "--kind", "person")
    crm.ok("contact", "edit", "Ann 2", "--name", "Ann 30")  # the trigger renames its account
    names = ["Ann 9", "Ann 10", "Ann 30"]
    assert _names(crm.json("list", "accounts", "--sort", "name")) == names


def test_an_older_database_gains_name_order_and_its_undo_images_too(crm, tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-15.db", path)
    env = {"CRM_DB": str(path)}
    names = ["Jane Doe", "Person 9", "Person 100"]
    assert _names(crm.json("list", "contacts", "--sort", "name", env=env)) == names
    crm.ok("undo", env=env)  # the rename logged before m016: Person 100 is Person 2 again
    names = ["Jane Doe", "Person 2", "Person 9"]
    assert _names(crm.json("list", "contacts", "--sort", "name", env=env)) == names
    assert "database ok" in crm.ok("db", "check", env=env).stderr


def test_name_order_and_due_read_their_indexes(conn):
    from crmcli.store.query import Query

    def plan(sql: str) -> str:
        return " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))

    for kind, listing in (("contacts", contacts.list_contacts),
                          ("accounts", accounts.list_accounts), ("deals", deals.list_deals)):
        for sort in (["name"], ["-name"]):
            rows = listing(conn, filters=Query(sort=sort, limit=50))
            sql = rows._schema.select() + rows._where + rows._tail
            assert f"INDEX {kind}_name_order" in plan(sql) and "TEMP B-TREE" not in plan(sql)
    assert "USING INDEX contacts_every" in plan(contacts.DUE_SQL)


def test_every_migration_step_is_in_a_fresh_database(tmp_path):
    db.create(tmp_path / "new.db")
    with db.session(tmp_path / "new.db", write=False) as fresh:
        indexes = {row[0] for row in fresh.execute("SELECT name FROM sqlite_master")}
    assert {"contacts_every", "contacts_name_order", "deals_name_order"} <= indexes


def test_db_check_names_a_name_order_another_program_left_out(crm, db_path):
    import sqlite3

    crm.ok("contact", "add", "Person 2")
    other = sqlite3.connect(db_path)
    other.execute(
        "INSERT INTO contacts (name, name_key, created_at, updated_at)"
        " VALUES ('Person 10', 'person 10', 'x', 'x')"
    )  # no name_order: its default, ''
    other.commit()
    other.close()
    result = crm.fails(1, "db", "check")
    assert "the name_order of 'person 10' (contact 2) is out of step" in result.stderr
