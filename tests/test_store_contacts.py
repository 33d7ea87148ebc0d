"""The contact store: names, addresses, links, references."""

import pytest

from crmcli.errors import Ambiguous, InvalidValue, NotFound, Refused
from crmcli.store import accounts, contacts, refs


def test_add_splits_the_name(conn):
    jane = contacts.add_contact(conn, full_name="Jane Q. Doe")
    assert (jane["first_name"], jane["last_name"], jane["name"]) == (
        "Jane Q.",
        "Doe",
        "Jane Q. Doe",
    )
    cher = contacts.add_contact(conn, full_name="Cher")
    assert (cher["first_name"], cher["last_name"]) == ("Cher", None)


def test_first_and_last_override_the_split(conn):
    c = contacts.add_contact(
        conn, full_name="Ludwig van Beethoven", first="Ludwig", last="van Beethoven"
    )
    assert (c["first_name"], c["last_name"], c["name"]) == (
        "Ludwig",
        "van Beethoven",
        "Ludwig van Beethoven",
    )
    only_last = contacts.add_contact(conn, last="Prince")
    assert only_last["name"] == "Prince" and only_last["first_name"] is None


def test_a_name_is_required(conn):
    with pytest.raises(InvalidValue, match="needs a name"):
        contacts.add_contact(conn, full_name="   ")


def test_labelled_emails_and_phones(conn):
    c = contacts.add_contact(
        conn,
        full_name="Jane Doe",
        emails=["work:jane@acme.example", "jane@home.example", "JANE@acme.example"],
        phones=["mobile:+1 555 0100", "+1 555 0101"],
    )
    assert c["email"] == "jane@acme.example" and c["phone"] == "+1 555 0100"
    assert c["emails"] == [
        {"value": "jane@acme.example", "label": "work"},
        {"value": "jane@home.example", "label": None},
    ]
    assert c["phones"][0] == {"value": "+1 555 0100", "label": "mobile"}


def test_an_email_belongs_to_one_contact(conn):
    contacts.add_contact(conn, full_name="Jane Doe", emails=["jane@acme.example"])
    with pytest.raises(Refused, match="already belongs to contact 'Jane Doe'"):
        contacts.add_contact(conn, full_name="Other", emails=["Jane@ACME.example"])
    assert [c["name"] for c in contacts.list_contacts(conn)] == ["Jane Doe"]


def test_the_database_itself_enforces_unique_emails(conn):
    import sqlite3

    contacts.add_contact(conn, full_name="Jane Doe", emails=["jane@acme.example"])
    other = contacts.add_contact(conn, full_name="Other")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO contact_emails (contact_id, position, value, value_key)"
            " VALUES (?, 0, 'JANE@acme.example', 'jane@acme.example')",
            (other["id"],),
        )


def test_account_link_and_listing_by_account(conn):
    accounts.add_account(conn, {"name": "Acme"})
    contacts.add_contact(conn, full_name="Zed", account="acme")
    contacts.add_contact(conn, full_name="Amy")
    contacts.add_contact(conn, full_name="bob", account="1")
    assert [c["name"] for c in contacts.list_contacts(conn)] == ["Amy", "bob", "Zed"]
    listed = list(contacts.list_contacts(conn, account_id=1))
    assert [c["name"] for c in listed] == ["bob", "Zed"]
    assert {c["account"] for c in listed} == {"Acme"}
    with pytest.raises(NotFound):
        contacts.add_contact(conn, full_name="Lost", account="Nowhere")


def test_edit_names_addresses_and_links(conn):
    accounts.add_account(conn, {"name": "Acme"})
    contacts.add_contact(
        conn, full_name="Jane Doe", emails=["jane@acme.example"], phones=["+1 555"]
    )
    c = contacts.edit_contact(conn, "jane doe", last="Smith", account="Acme")
    assert c["name"] == "Jane Smith" and c["account"] == "Acme"
    c = contacts.edit_contact(
        conn,
        "jane@acme.example",
        emails=["home:jane@home.example", "work:jane@acme.example"],
        remove_phones=["+1 555"],
        phones=["mobile:+44 20 7946 0000"],
        values={"title": "CTO", "birthday": "1980-01-31"},
    )
    assert [(e["label"], e["value"]) for e in c["emails"]] == [
        ("work", "jane@acme.example"),
        ("home", "jane@home.example"),
    ]
    assert c["phones"] == [{"value": "+44 20 7946 0000", "label": "mobile"}]
    assert (c["title"], c["birthday"]) == ("CTO", "1980-01-31")
    c = contacts.edit_contact(
        conn, "Jane Smith", remove_emails=["JANE@acme.example"], no_account=True
    )
    assert c["email"] == "jane@home.example" and c["account_id"] is None
    with pytest.raises(InvalidValue, match="no e-mail"):
        contacts.edit_contact(conn, "Jane Smith", remove_emails=["nope@x.example"])
    c = contacts.edit_contact(conn, "Jane Smith", full_name="Janet van Dijk")
    assert (c["first_name"], c["last_name"]) == ("Janet van", "Dijk")


def test_references_by_id_email_and_name(conn):
    jane = contacts.add_contact(conn, full_name="Jane Doe", emails=["jane@acme.example"])
    assert refs.contact_id(conn, str(jane["id"])) == jane["id"]
    assert refs.contact_id(conn, "JANE@ACME.EXAMPLE") == jane["id"]
    assert refs.contact_id(conn, "jane doe") == jane["id"]
    contacts.add_contact(conn, full_name="Jane Doe")
    with pytest.raises(Ambiguous) as info:
        refs.contact_id(conn, "Jane Doe")
    assert "1  Jane Doe" in info.value.message and "2  Jane Doe" in info.value.message
    assert refs.contact_id(conn, "jane@acme.example") == jane["id"]


def test_delete_removes_addresses(conn):
    contacts.add_contact(conn, full_name="Jane Doe", emails=["jane@acme.example"])
    contacts.delete_contact(conn, "jane@acme.example")
    assert conn.execute("SELECT count(*) FROM contact_emails").fetchone()[0] == 0
    with pytest.raises(NotFound):
        refs.contact_id(conn, "jane@acme.example")


def test_hostile_text_is_stored_exactly(conn):
    nasty = "[bold]x[/] :smile: \x1b[31m\u202e\x00 C:\\temp\\ 😀"
    c = contacts.add_contact(conn, first=nasty, values={"description": nasty + "\n" * 3 + nasty})
    assert c["first_name"] == nasty
    assert contacts.get_contact(conn, c["id"])["description"] == nasty + "\n\n\n" + nasty


def test_addresses_with_colons_keep_their_labels(conn):
    c = contacts.add_contact(
        conn, full_name="Net Admin", emails=["ops@[IPv6:2001:db8::1]", "work:root@[192.0.2.1]"]
    )
    assert c["emails"] == [
        {"value": "ops@[IPv6:2001:db8::1]", "label": None},
        {"value": "root@[192.0.2.1]", "label": "work"},
    ]


def test_a_contact_without_phones_has_an_empty_list(conn):
    c = contacts.add_contact(conn, full_name="No Phone", emails=["np@x.example"])
    assert c["phones"] == [] and c["phone"] is None
    c = contacts.add_contact(conn, full_name="Nothing At All")
    assert c["emails"] == [] and c["phones"] == [] and c["email"] is None


def test_the_account_name_on_a_contact_follows_renames_moves_and_deletes(conn):
    accounts.add_account(conn, {"name": "Acme"})
    accounts.add_account(conn, {"name": "Globex"})
    jane = contacts.add_contact(conn, full_name="Jane Doe", account="Acme")
    assert jane["account"] == "Acme"
    accounts.edit_account(conn, "Acme", {"name": "Acme Inc"})
    assert contacts.get_contact(conn, jane["id"])["account"] == "Acme Inc"
    contacts.edit_contact(conn, "Jane Doe", account="Globex")
    assert contacts.get_contact(conn, jane["id"])["account"] == "Globex"
    accounts.delete_account(conn, "Globex", "detach")
    assert contacts.get_contact(conn, jane["id"])["account"] is None


def test_custom_fields_from_python_are_checked_and_normalised(conn):
    c = contacts.add_contact(conn, full_name="Jane", fields={"note": "\uf900"})  # CJK compat
    assert c["fields"] == {"note": "\u8c48"}  # NFC, as every stored text
    with pytest.raises(InvalidValue, match="custom field key"):
        contacts.add_contact(conn, full_name="Bob", fields={"bad key": "x"})


def test_rows_only_reads_just_the_fields_given(conn):
    """What a table draws (listing.table_fields): fewer columns read, lists not
    shown never decoded, each kind's conversions still applied to what is read."""
    from crmcli.config import Config
    from crmcli.store import deals, tasks

    contacts.add_contact(conn, full_name="Jane Doe", emails=["work:jane@x.org"], tags=["vip"])
    shown = contacts.list_contacts(conn).only(["tags", "name", "emails"])
    assert list(shown) == [
        {"name": "Jane Doe", "emails": [{"value": "jane@x.org", "label": "work"}], "tags": ["vip"]}
    ]
    assert [row.keys() for row in contacts.list_contacts(conn).only(["id"])] == [{"id"}]
    accounts.add_account(conn, {"name": "Acme"})
    deals.add_deal(conn, Config(), "Big", account="Acme", amount_text="12.50")
    assert list(deals.list_deals(conn).only(["name"])) == [{"name": "Big"}]
    tasks.add_task(conn, title="Call")
    assert list(tasks.list_tasks(conn).only(["title"])) == [{"title": "Call"}]
    assert list(tasks.list_tasks(conn).only(["done"])) == [{"done": False}]
