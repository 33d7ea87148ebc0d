"""The account store, used directly from Python against a temp database."""

import unicodedata

import pytest

from crmcli.config import Config
from crmcli.errors import Ambiguous, InvalidValue, NotFound, Refused
from crmcli.store import accounts, common, contacts, deals, refs

CONFIG = Config()


def add(conn, name, **values):
    return accounts.add_account(conn, {"name": name, **values})


def test_add_fills_every_field(conn):
    account = accounts.add_account(
        conn,
        {
            "name": "Acme",
            "kind": "business",
            "type": "customer",
            "industry": "Rockets",
            "website": "https://acme.example",
            "email": "info@acme.example",
            "phone": "+1 555 0100",
            "street": "1 Road",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
            "description": "line one\nline two",
        },
        tags=["key", "KEY", "vip"],
        fields={"tier": "gold"},
    )
    assert account["id"] == 1
    assert account["type"] == "customer" and account["city"] == "Springfield"
    assert account["tags"] == ["key", "vip"]
    assert account["fields"] == {"tier": "gold"}
    assert account["parent"] is None
    assert account["created_at"].endswith("Z") and account["created_at"] == account["updated_at"]


def test_kind_defaults_to_business_and_choices_are_checked(conn):
    assert add(conn, "A")["kind"] == "business"
    with pytest.raises(InvalidValue, match="type must be one of"):
        add(conn, "B", type="friend")


def test_names_are_unique_the_way_a_person_means_it(conn):
    add(conn, "Émile")
    for same in ("émile", "ÉMILE", unicodedata.normalize("NFD", "Émile"), "  Émile "):
        with pytest.raises(Refused, match="already exists"):
            add(conn, same)


def test_ids_are_never_reused(conn):
    first = add(conn, "First")["id"]
    accounts.delete_account(conn, "First")
    assert add(conn, "Second")["id"] == first + 1


def test_parent_and_loops(conn):
    parent = add(conn, "Group")
    child = accounts.add_account(conn, {"name": "Subsidiary"}, parent="group")
    assert child["parent_id"] == parent["id"] and child["parent"] == "Group"
    with pytest.raises(Refused, match="own parent"):
        accounts.edit_account(conn, "Group", {}, parent="Subsidiary")
    with pytest.raises(Refused, match="own parent"):
        accounts.edit_account(conn, "Group", {}, parent="Group")
    assert accounts.edit_account(conn, "Subsidiary", {}, no_parent=True)["parent_id"] is None


def test_deleting_a_parent_unlinks_its_children(conn):
    add(conn, "Group")
    accounts.add_account(conn, {"name": "Subsidiary"}, parent="Group")
    accounts.delete_account(conn, "Group")
    assert accounts.get_account(conn, refs.account_id(conn, "Subsidiary"))["parent_id"] is None


def test_edit_changes_clears_and_renames(conn):
    add(conn, "Acme", city="Springfield", industry="Rockets")
    edited = accounts.edit_account(conn, "acme", {"name": "Acme Inc", "city": "", "type": "vendor"})
    assert (edited["name"], edited["city"], edited["type"]) == ("Acme Inc", None, "vendor")
    assert edited["industry"] == "Rockets"
    add(conn, "Globex")
    with pytest.raises(Refused):
        accounts.edit_account(conn, "Globex", {"name": "ACME INC"})
    # Renaming to a different spelling of its own name is fine.
    assert accounts.edit_account(conn, "acme inc", {"name": "ACME Inc"})["name"] == "ACME Inc"


def test_edit_tags_and_fields(conn):
    accounts.add_account(conn, {"name": "Acme"}, tags=["a", "b"], fields={"x": "1", "y": "2"})
    edit = common.TagEdit(
        add_tags=["c", "A"],
        remove_tags=["B"],
        set_fields={"z": "3", "x": "one"},
        unset_fields=["y", "missing"],
    )
    edited = accounts.edit_account(conn, "Acme", {}, tag_edit=edit)
    assert edited["tags"] == ["a", "c"]
    assert edited["fields"] == {"x": "one", "z": "3"}


def test_references(conn):
    add(conn, "Acme")
    add(conn, "42")
    assert refs.account_id(conn, "1") == 1
    assert refs.account_id(conn, "ACME") == 1
    assert refs.account_id(conn, "42") == 2  # no id 42: then the name
    with pytest.raises(NotFound, match="did you mean") as info:
        refs.account_id(conn, "acmee")
    assert "1  Acme" in info.value.message
    with pytest.raises(NotFound):
        refs.account_id(conn, "Zzyzx")


def test_delete_refused_while_contacts_or_deals_remain(conn):
    add(conn, "Acme")
    contacts.add_contact(conn, full_name="Jane Doe", account="Acme")
    with pytest.raises(Refused, match="1 contact"):
        accounts.delete_account(conn, "Acme")
    assert refs.account_id(conn, "Acme") == 1


def test_delete_detach_keeps_contacts_and_deals_unlinked(conn):
    add(conn, "Acme")
    jane = contacts.add_contact(conn, full_name="Jane Doe", account="Acme")
    deal = deals.add_deal(conn, CONFIG, "Skates", account="Acme")
    _, counts = accounts.delete_account(conn, "Acme", "detach")
    assert counts == {"contacts": 1, "deals": 1}
    assert contacts.get_contact(conn, jane["id"])["account_id"] is None
    assert deals.get_deal(conn, deal["id"])["account_id"] is None


def test_delete_cascade_removes_contacts_and_deals(conn):
    add(conn, "Acme")
    add(conn, "Other")
    contacts.add_contact(conn, full_name="Jane Doe", account="Acme", emails=["j@acme.example"])
    contacts.add_contact(conn, full_name="Bob Roe", account="Other")
    deals.add_deal(conn, CONFIG, "Skates", account="Acme")
    accounts.delete_account(conn, "Acme", "cascade")
    assert [c["name"] for c in contacts.list_contacts(conn)] == ["Bob Roe"]
    assert list(deals.list_deals(conn)) == []
    # The address is free again.
    contacts.add_contact(conn, full_name="New Jane", emails=["J@ACME.EXAMPLE"])


def test_ambiguous_deal_names_list_candidates(conn):
    deals.add_deal(conn, CONFIG, "Renewal")
    deals.add_deal(conn, CONFIG, "renewal")
    with pytest.raises(Ambiguous, match="several") as info:
        refs.deal_id(conn, "RENEWAL")
    assert "1  Renewal" in info.value.message and "2  renewal" in info.value.message


def test_a_timelines_first_page_found_among_the_newest_is_the_sorted_one(conn, monkeypatch):
    """An account's newest activities are looked for among the newest of all first
    (NEWEST of them): the page is the same as sorting all of the account's."""
    import random

    from crmcli.store import activities
    from crmcli.store.query import Query

    monkeypatch.setattr(activities, "NEWEST", 20)
    monkeypatch.setattr(activities, "MANY", 5)
    rnd = random.Random(7)
    big, small = add(conn, "Big")["id"], add(conn, "Small")["id"]
    people = [
        contacts.add_contact(conn, full_name=f"P{n}", account="Big" if n % 5 else "Small")["id"]
        for n in range(10)
    ]
    for n in range(80):
        contact = rnd.choice([*people, None])
        activities.add_activity(conn, f"a{n}", contact=contact and str(contact),
                                account=None if contact else rnd.choice(["Big", "Small", None]),
                                moment=f"2026-01-{rnd.randint(1, 9):02}T00:00:00Z")  # fmt: skip
    conn.execute("UPDATE contacts SET account_id = ? WHERE id = ?", (small, people[1]))  # moved
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    for account in (big, small):
        everything = [a["id"] for a in activities.list_activities(conn, timeline_of=account)]
        for count in (1, 3, 10, 50):
            page = activities.list_activities(conn, timeline_of=account, filters=Query(limit=count))
            assert [a["id"] for a in page] == everything[:count], (account, count)
    conn.set_trace_callback(None)
    shortcut = [s for s in statements if "json_each" in s and "FROM activities t" in s]
    assert len(shortcut) >= 2  # Big's first pages were found among the newest 20
