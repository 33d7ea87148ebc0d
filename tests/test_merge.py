"""crm contact dupes, crm contact merge, crm account merge."""

import pytest


@pytest.fixture
def book(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("account", "new", "Acme Inc", "--city", "Berlin", "--tag", "old", "--set", "tier=gold")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme", "--email", "jane@acme.example",
           "--phone", "+1 (555) 010-0100", "--tag", "vip", "--set", "source=fair")  # fmt: skip
    crm.ok("contact", "add", "Jane Do", "--account", "Acme", "--email", "jane+crm@acme.example",
           "--title", "CTO", "--tag", "board", "--set", "source=web",
           "--set", "size=L")  # fmt: skip
    crm.ok("contact", "add", "J. Doe", "--phone", "555 010 0100", "--email", "jd@home.example")
    crm.ok("contact", "add", "Bob Roe", "--account", "Acme Inc")
    return crm


def test_dupes_groups_with_reasons(book):
    groups = book.json("contact", "dupes")
    found = {(group["reason"], tuple(c["id"] for c in group["contacts"])) for group in groups}
    assert found == {
        ("same e-mail", (1, 2)),  # jane+crm@ is jane@
        ("same phone", (1, 3)),  # the same last 10 digits
        ("similar name at the same account", (1, 2)),
    }
    assert "group" in book.ok("contact", "dupes").stdout


def test_the_same_name_is_a_duplicate_only_at_the_same_account_or_at_none(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("account", "new", "Globex")
    for account in ("Acme", "Acme", "Globex"):  # 1, 2, 3
        crm.ok("contact", "add", "Sam Lee", "--account", account)
    crm.ok("contact", "add", "Ana Ruiz")  # 4
    crm.ok("contact", "add", "ana ruiz")  # 5: no account either
    crm.ok("contact", "add", "Ana Ruiz", "--account", "Globex")  # 6
    crm.ok("contact", "add", "Bo Ng")  # 7: no account, another name
    groups = [(g["reason"], [c["id"] for c in g["contacts"]]) for g in crm.json("contact", "dupes")]
    assert groups == [("same name", [1, 2]), ("same name", [4, 5])]


def test_no_dupes(crm):
    crm.ok("contact", "add", "Only One")
    assert crm.json("contact", "dupes") == []
    assert "no likely duplicates" in crm.ok("contact", "dupes").stderr


def test_contact_merge_moves_everything_and_keep_wins(book):
    book.ok("log", "Called", "--kind", "call", "--contact", "Jane Do")
    book.ok("task", "add", "Follow up", "--contact", "J. Doe")
    book.ok("deal", "new", "Skates", "--account", "Acme", "--contact", "Jane Do")
    book.fails(2, "contact", "merge", "1", "2")  # no terminal: --yes needed
    merged = book.json("contact", "merge", "jane@acme.example", "Jane Do", "3", "--yes")
    assert merged["id"] == 1 and merged["title"] == "CTO"  # an empty field filled
    assert [e["value"] for e in merged["emails"]] == [
        "jane@acme.example", "jane+crm@acme.example", "jd@home.example",
    ]  # fmt: skip
    assert [p["value"] for p in merged["phones"]] == ["+1 (555) 010-0100", "555 010 0100"]
    assert merged["tags"] == ["vip", "board"]
    assert merged["fields"] == {"source": "fair", "size": "L"}
    assert merged["last_contacted"] is not None
    shown = book.json("contact", "show", "1")
    assert [d["name"] for d in shown["deals"]] == ["Skates"]
    assert [t["title"] for t in shown["tasks"]] == ["Follow up"]
    assert [c["id"] for c in book.json("contact", "list")] == [1, 4]
    assert book.json("search", "crm") and book.json("search", "crm")[0]["id"] == 1
    book.fails(3, "contact", "show", "Jane Do")
    assert book.json("contact", "dupes") == []


def test_merging_into_itself_is_refused(book):
    assert "itself" in book.fails(2, "contact", "merge", "1", "jane@acme.example", "--yes").stderr
    book.fails(3, "contact", "merge", "1", "Nobody", "--yes")
    assert len(book.json("contact", "list")) == 4


def test_account_merge(book):
    book.ok("account", "new", "Acme Europe", "--parent", "Acme Inc")
    book.ok("deal", "new", "Anvils", "--account", "Acme Inc")
    merged = book.json("account", "merge", "Acme", "Acme Inc", "--yes")
    assert (merged["id"], merged["city"], merged["tags"]) == (1, "Berlin", ["old"])
    assert merged["fields"] == {"tier": "gold"}
    shown = book.json("account", "show", "Acme")
    assert sorted(c["name"] for c in shown["contacts"]) == ["Bob Roe", "Jane Do", "Jane Doe"]
    assert [a["name"] for a in shown["children"]] == ["Acme Europe"]
    assert [d["name"] for d in shown["deals"]] == ["Anvils"]
    assert [a["name"] for a in book.json("account", "list")] == ["Acme", "Acme Europe"]
    assert [hit["id"] for hit in book.json("search", "berlin")] == [1]
