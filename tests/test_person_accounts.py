"""Person accounts (issue 13): one customer who is an account of kind person and a
contact, its person, bound one to one."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from crmcli import migrations
from crmcli.errors import InvalidValue, Refused
from crmcli.store import accounts, contacts, persons, search


def _jane(crm) -> dict:
    return crm.json(
        "account", "new", "Jane Solo", "--kind", "person", "--type", "customer",
        "--email", "home:jane@solo.example", "--email", "work:js@corp.example",
        "--phone", "mobile:+1 555 0101", "--birthday", "1980-01-02", "--every", "2w",
        "--address", "home:1 Main St; Springfield", "--prefix", "Ms.", "--tag", "vip",
    )  # fmt: skip


# -- the store ------------------------------------------------------------------------
def test_store_binds_account_and_person_one_to_one(conn):
    account = accounts.add_account(conn, {"name": "Ann Lee", "kind": "person",
                                          "email": "ann@lee.example", "city": "Oslo"})  # fmt: skip
    person = contacts.get_contact(conn, account["person_contact_id"])
    assert person["person_account_id"] == person["account_id"] == account["id"]
    assert (person["first_name"], person["last_name"], person["city"]) == ("Ann", "Lee", "Oslo")
    assert person["email"] == account["email"] == "ann@lee.example"
    assert persons.person_of(conn, account["id"]) == person["id"]
    contacts.edit_contact(conn, str(person["id"]), last="Berg")  # the name follows the person
    assert accounts.get_account(conn, account["id"])["name"] == "Ann Berg"
    hits = search.search(conn, "ann")
    assert [(hit["kind"], hit["id"]) for hit in hits] == [("contact", person["id"])]
    with pytest.raises(Refused, match="person account"):
        contacts.add_contact(conn, full_name="Other", account="Ann Berg")
    with pytest.raises(Refused, match="no child accounts"):
        accounts.add_account(conn, {"name": "Sub"}, parent="Ann Berg")
    accounts.add_account(conn, {"name": "Ann Berg Ltd"})
    with pytest.raises(Refused, match="named as its person"):
        contacts.edit_contact(conn, str(person["id"]), full_name="Ann Berg Ltd")
    with pytest.raises(InvalidValue, match="--detach does not apply"):
        accounts.delete_account(conn, "Ann Berg", "detach")


def test_store_converts_both_ways(conn):
    accounts.add_account(conn, {"name": "Bo Shop", "email": "bo@shop.example"})
    contacts.add_contact(conn, full_name="Bo Berg", account="Bo Shop")
    account = persons.convert(conn, "Bo Shop", "person")
    person = contacts.get_contact(conn, account["person_contact_id"])
    assert (account["name"], account["kind"]) == ("Bo Berg", "person")
    assert person["emails"] == [{"value": "bo@shop.example", "label": None}]  # not lost
    back = persons.convert(conn, "Bo Berg", "business")
    assert back["kind"] == "business" and back["person_contact_id"] is None
    assert contacts.get_contact(conn, person["id"])["account_id"] == back["id"]
    contacts.add_contact(conn, full_name="Second", account="Bo Berg")
    with pytest.raises(Refused, match="several contacts"):
        persons.convert(conn, "Bo Berg", "person")


# -- the command line -----------------------------------------------------------------
def test_a_person_account_is_one_customer_everywhere(crm):
    account = _jane(crm)
    assert account["kind"] == "person" and account["tags"] == ["vip"]
    person = account["person"]
    assert account["person_contact_id"] == person["id"]
    assert person["person_account_id"] == account["id"]
    assert (person["prefix"], person["first_name"], person["last_name"]) == ("Ms.", "Jane", "Solo")
    assert [e["label"] for e in person["emails"]] == ["home", "work"]
    assert (person["birthday"], person["every"], person["city"]) == ("1980-01-02", "2w",
                                                                     "Springfield")  # fmt: skip
    assert crm.json("contact", "show", "jane@solo.example")["id"] == person["id"]
    shown = crm.json("account", "show", "Jane Solo")["person"]
    contact = crm.json("contact", "show", "js@corp.example")  # the same person
    assert shown == {k: v for k, v in contact.items() if k not in ("deals", "tasks", "activities")}
    assert "(person account)" in crm.ok("list", "contacts").stdout
    assert [a["name"] for a in crm.json("list", "accounts")] == ["Jane Solo"]
    assert len(crm.json("search", "jane")) == 1
    crm.ok("deal", "new", "Solo deal", "--account", "Jane Solo", "--contact", "jane@solo.example")
    crm.ok("log", "Called", "--kind", "call", "--contact", "jane@solo.example")
    crm.ok("task", "add", "Send card", "--contact", "Jane Solo")
    shown = crm.json("account", "show", "Jane Solo")
    assert [d["name"] for d in shown["deals"]] == ["Solo deal"]
    assert [t["title"] for t in shown["tasks"]] == ["Send card"]
    assert [a["summary"] for a in shown["activities"]] == ["Called"]
    assert crm.json("due")["contacts"] == []  # just called: not due
    crm.ok("account", "edit", "Jane Solo", "--name", "Jane Berg", "--email", "jane@berg.example")
    renamed = crm.json("account", "show", str(account["id"]))
    assert renamed["name"] == renamed["person"]["name"] == "Jane Berg"
    assert renamed["person"]["last_name"] == "Berg" and len(renamed["person"]["emails"]) == 3


def test_the_rules_of_a_person_account(crm, tmp_path):
    _jane(crm)
    sheet = tmp_path / "c.csv"
    sheet.write_text("name,company,email\nBob,Jane Solo,bob@x.example\n")
    assert "is a person account" in crm.fails(1, "import", str(sheet)).stderr
    sheet.write_text("name,parent\nSub Co,Jane Solo\n")
    assert "no child accounts" in crm.fails(1, "import", str(sheet), "--kind", "accounts").stderr
    crm.ok("account", "new", "Acme")
    refused = crm.fails(1, "contact", "add", "Bob", "--account", "Jane Solo")
    assert "is a person account: it has no contacts but its person" in refused.stderr
    crm.ok("contact", "add", "Bob", "--account", "Acme")
    crm.fails(1, "contact", "edit", "Bob", "--account", "Jane Solo")
    crm.fails(1, "contact", "edit", "Jane Solo", "--account", "Acme")
    crm.fails(1, "contact", "edit", "Jane Solo", "--no-account")
    crm.fails(1, "account", "new", "Sub", "--parent", "Jane Solo")
    crm.fails(1, "account", "edit", "Acme", "--parent", "Jane Solo")
    crm.fails(1, "contact", "delete", "Jane Solo", "--yes")
    crm.fails(2, "account", "edit", "Acme", "--birthday", "2000-01-01")
    crm.fails(2, "account", "new", "Biz", "--email", "a@b.example", "--email", "c@d.example")
    crm.fails(2, "account", "edit", "Jane Solo", "--kind", "business")
    crm.fails(2, "account", "delete", "Jane Solo", "--detach", "--yes")
    crm.fails(1, "contact", "merge", "Bob", "Jane Solo", "--yes")
    crm.fails(1, "account", "merge", "Acme", "Jane Solo", "--yes")
    solo = crm.json("contact", "add", "--first", "Sam", "--last", "Solo", "--person-account")
    assert crm.json("account", "show", "Sam Solo")["person_contact_id"] == solo["id"]
    crm.fails(1, "contact", "add", "Acme", "--person-account")  # the name is taken
    crm.fails(2, "contact", "add", "Y", "--person-account", "--account", "Acme")


def test_convert_and_delete_are_undone(crm):
    crm.ok("account", "new", "Shop", "--email", "shop@shop.example")
    crm.ok("deal", "new", "Big", "--account", "Shop")
    converted = crm.json("account", "convert", "Shop", "--to", "person")
    assert converted["kind"] == "person" and converted["person"]["email"] == "shop@shop.example"
    assert [d["name"] for d in converted["deals"]] == ["Big"]
    crm.ok("undo")
    assert crm.json("account", "show", "Shop")["person_contact_id"] is None
    assert crm.json("list", "contacts") == []
    crm.ok("account", "convert", "Shop", "--to", "person")
    crm.fails(1, "account", "convert", "Shop", "--to", "person")
    crm.fails(1, "account", "delete", "Shop", "--yes")  # its deal: --cascade
    crm.ok("deal", "delete", "Big", "--yes")
    assert "its person" in crm.ok("account", "delete", "Shop", "--yes").stderr
    assert crm.json("list", "contacts") == [] and crm.json("list", "accounts") == []
    crm.ok("undo")
    assert crm.json("account", "show", "Shop")["person"]["email"] == "shop@shop.example"
    business = crm.json("account", "convert", "Shop", "--to", "business")
    assert business["kind"] == "business" and business["contacts"][0]["name"] == "Shop"


def test_imports_and_exports_keep_person_accounts(crm, tmp_path):
    _jane(crm)
    backup = tmp_path / "b.json"
    crm.ok("export", "-o", str(backup))
    copy = {"CRM_DB": str(tmp_path / "copy.db")}
    crm.ok("import", str(backup), env=copy)
    for kind in ("accounts", "contacts"):
        assert crm.json("list", kind, env=copy) == crm.json("list", kind)
    assert "database ok" in crm.ok("db", "check", env=copy).stderr  # found once
    lines = tmp_path / "b.jsonl"
    crm.ok("export", "--format", "jsonl", "-o", str(lines))
    again = {"CRM_DB": str(tmp_path / "again.db")}
    crm.ok("import", str(lines), env=again)
    assert crm.json("list", "contacts", env=again) == crm.json("list", "contacts")
    vcf = crm.ok("export", "--format", "vcf", "--kind", "accounts").stdout  # a normal card
    assert "FN:Jane Solo" in vcf and "KIND:org" not in vcf and "ORG:" not in vcf
    own = [line for line in vcf.splitlines() if line != "CATEGORIES:vip"]  # the account's tag
    assert crm.ok("export", "--format", "vcf").stdout.splitlines() == own
    cards = tmp_path / "p.vcf"
    cards.write_text("BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:individual\r\nFN:Kim Ode\r\nN:Ode;Kim;;;"
                     "\r\nEMAIL:kim@ode.example\r\nBDAY:19700203\r\nEND:VCARD\r\n")  # fmt: skip
    crm.ok("import", str(cards), "--kind", "accounts")
    kim = crm.json("account", "show", "Kim Ode")
    assert kim["kind"] == "person" and kim["person"]["birthday"] == "1970-02-03"
    sheet = tmp_path / "sf.csv"
    sheet.write_text(
        "Name,FirstName,LastName,Salutation,PersonEmail,PersonBirthdate,PersonMailingStreet,"
        "PersonMailingCity,PersonMailingState,PersonMailingPostalCode,PersonMailingCountry,"
        "PersonMobilePhone,PersonHomePhone,PersonTitle,IsPersonAccount\n"
        "Ann Lee,Ann,Lee,Ms.,ann@lee.example,1990-05-06,1 Fjord Rd,Oslo,,0150,NO,+47 1,+47 2,"
        "Chef,true\nBiz AS,,,,,,,,,,,,,,false\n"
    )
    crm.ok("import", str(sheet), "--kind", "accounts")
    ann = crm.json("account", "show", "Ann Lee")
    person = ann["person"]
    assert (ann["kind"], ann["city"], ann["fields"]) == ("person", "Oslo", {})
    assert (person["prefix"], person["title"], person["birthday"]) == ("Ms.", "Chef", "1990-05-06")
    assert [p["label"] for p in person["phones"]] == ["mobile", "home"]
    assert person["emails"] == [{"value": "ann@lee.example", "label": None}]
    assert crm.json("account", "show", "Biz AS")["kind"] == "business"


def test_a_person_account_imported_again_with_update_stays_one_customer(crm, tmp_path):
    # The second import (--on-conflict update) had moved the account to Lyon and left
    # its person in Oslo; a person-account row over a business account had made it
    # kind person without a person.  The person is updated (the account follows it),
    # and an update keeps each account's kind (crm account convert changes it).
    sheet = tmp_path / "sf.csv"
    rows = "Name,FirstName,LastName,PersonEmail,PersonMailingCity,IsPersonAccount\n{}\n"
    sheet.write_text(rows.format("Ann Lee,Ann,Lee,ann@lee.example,Oslo,true"))
    crm.ok("import", str(sheet), "--kind", "accounts")
    crm.ok("account", "new", "Biz AS")
    sheet.write_text(rows.format("Ann Lee,Ann,Lee,ann@new.example,Lyon,true\nBiz AS,Biz,AS,,,true"))
    crm.ok("import", str(sheet), "--kind", "accounts", "--on-conflict", "update")
    ann = crm.json("account", "show", "Ann Lee")
    assert (ann["city"], ann["person"]["city"]) == ("Lyon", "Lyon")
    assert [item["value"] for item in ann["person"]["emails"]] == [
        "ann@lee.example",
        "ann@new.example",
    ]
    biz = crm.json("account", "show", "Biz AS")
    assert (biz["kind"], biz["person_contact_id"]) == ("business", None)
    assert "database ok" in crm.ok("db", "check").stdout + crm.ok("db", "check").stderr


def test_a_person_accounts_vcard_keeps_the_accounts_tags_and_description(crm, tmp_path):
    crm.ok("account", "new", "Per Son", "--kind", "person", "--tag", "vip", "--description", "d")
    cards = tmp_path / "a.vcf"
    crm.ok("export", "-f", "vcf", "--kind", "accounts", "-o", str(cards))
    crm.ok("account", "delete", "Per Son", "--yes")
    crm.ok("import", str(cards), "--kind", "accounts")
    back = crm.json("account", "show", "Per Son")
    assert (back["kind"], back["tags"], back["description"]) == ("person", ["vip"], "d")


def test_an_older_databases_person_accounts_get_persons(crm, tmp_path):
    """Before, kind person was a flag: such an account with no contacts gets a person
    made from it; one whose one contact has its name, that contact; one with other
    contacts becomes a business account."""
    fixtures = sorted((Path(__file__).parent / "fixtures").glob("schema-*.db"),
                      key=lambda p: int(p.stem[7:]))  # fmt: skip
    path = tmp_path / "old.db"
    shutil.copy(fixtures[migrations.MIGRATIONS.index(migrations.m013_person_accounts) - 1], path)
    raw = sqlite3.connect(path)
    stamp = "2025-01-01T00:00:00Z"
    for name, key in (("Solo Sam", "solo sam"), ("Twin Tam", "twin tam"), ("Crowd", "crowd")):
        raw.execute("INSERT INTO accounts (name, name_key, kind, email, city, created_at,"
                    " updated_at) VALUES (?, ?, 'person', ?, 'Rome', ?, ?)",
                    (name, key, f"{key[:4]}@x.example", stamp, stamp))  # fmt: skip
    for name, key, account in (("Twin Tam", "twin tam", "Twin Tam"), ("Ann", "ann", "Crowd")):
        raw.execute("INSERT INTO contacts (first_name, name, name_key, account_id, created_at,"
                    " updated_at) VALUES (?, ?, ?, (SELECT id FROM accounts WHERE name = ?),"
                    " ?, ?)", (name, name, key, account, stamp, stamp))  # fmt: skip
    raw.commit()
    raw.close()
    env = {"CRM_DB": str(path)}
    sam = crm.json("account", "show", "Solo Sam", env=env)
    assert (sam["person"]["last_name"], sam["person"]["email"]) == ("Sam", "solo@x.example")
    assert sam["person"]["city"] == "Rome"
    tam = crm.json("account", "show", "Twin Tam", env=env)
    assert tam["person"]["name"] == "Twin Tam" and tam["email"] is None
    assert crm.json("account", "show", "Crowd", env=env)["kind"] == "business"
    assert [hit["kind"] for hit in crm.json("search", "sam", env=env)] == ["contact"]
    assert "database ok" in crm.ok("db", "check", env=env).stderr


# -- the installed crm ----------------------------------------------------------------
def test_person_accounts_through_the_installed_crm(run, tmp_path):
    def data(*args):
        return json.loads(run(*args, "--json").stdout)

    made = data("account", "new", "Jane Solo", "--kind", "person", "--email",
                "home:jane@solo.example", "--phone", "mobile:+1 555 0101", "--birthday",
                "1980-01-02")  # fmt: skip
    jane = data("contact", "show", "jane@solo.example")
    assert jane["person_account_id"] == made["id"] and made["person_contact_id"] == jane["id"]
    refused = run("contact", "add", "Bob", "--account", "Jane Solo", check=False)
    assert refused.returncode == 1 and "person account" in refused.stderr
    run("contact", "edit", "Jane Solo", "--last", "Berg")
    converted = data("account", "convert", "Jane Berg", "--to", "business")
    assert converted["kind"] == "business" and converted["contacts"][0]["id"] == jane["id"]
    run("undo")
    run("account", "delete", "Jane Berg", "--yes")
    assert data("list", "contacts") == []
    run("undo")
    assert data("search", "jane")[0]["kind"] == "contact" and len(data("search", "jane")) == 1


def test_a_person_accounts_person_is_no_dependant_and_counting_reads_an_index(conn):
    person = accounts.add_account(conn, {"name": "Cy Dahl", "kind": "person"})
    assert accounts.dependants(conn, person["id"]) == {"contacts": 0, "deals": 0}
    acme = accounts.add_account(conn, {"name": "Acme"})
    for name in ("Ann Lee", "Bo Berg"):
        contacts.add_contact(conn, full_name=name, account="Acme")
    assert accounts.dependants(conn, acme["id"])["contacts"] == 2
    # The account's contacts are counted in the index, no row of the table read
    # (`person_account_id IS NULL` looked up every one); its person by the unique one.
    plans = []
    conn.set_trace_callback(plans.append)
    accounts.dependants(conn, acme["id"])
    conn.set_trace_callback(None)
    counting = next(sql for sql in plans if "count(*) FROM contacts" in sql)
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + counting))
    assert "COVERING INDEX contacts_account_name" in plan, plan
    assert "INDEX contacts_person_account (person_account_id=?)" in plan, plan
    assert "SCAN contacts" not in plan, plan
