"""crm contact dupes, crm contact merge, crm account merge."""

import json

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
    found = [(group["reason"], [c["id"] for c in group["contacts"]]) for group in groups]
    # jane+crm@ is jane@, the same last 10 digits, Jane Do and Jane Doe: one person, once
    assert found == [("same e-mail, same phone, similar name at the same account", [1, 2, 3])]
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


def test_dupes_catch_initials_and_middle_names_one_group_per_person(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("account", "new", "Globex")
    for name in ("Jane Doe", "Jane Q. Doe", "Jane D.", "John Doe", "J. Doe", "Bob Roe"):
        crm.ok("contact", "add", name, "--account", "Acme")  # 1-6
    crm.ok("contact", "add", "Jane D.", "--account", "Globex")  # 7: another company
    crm.ok("contact", "add", "Ann Lee", "-e", "ann@x.example", "-p", "555 010 0199")  # 8
    crm.ok("contact", "add", "Ann L.", "-e", "ann+news@x.example")  # 9: 8's e-mail
    crm.ok("contact", "add", "A. Lee", "-p", "+1 555-010-0199")  # 10: 8's phone
    groups = [(g["reason"], [c["id"] for c in g["contacts"]]) for g in crm.json("contact", "dupes")]
    # J. Doe could be Jane or John: it links neither; Ann Lee's three records are one group
    assert groups == [
        ("similar name at the same account", [1, 2, 3]),
        ("same e-mail, same phone", [8, 9, 10]),
    ]
    table = crm.ok("contact", "dupes").stdout
    assert table.count("Jane") == 3


def test_account_dupes(crm):
    crm.ok("account", "new", "Acme")  # 1
    crm.ok("account", "new", "ACME, Inc.")  # 2
    crm.ok("account", "new", "Acme GmbH", "--website", "acme.example")  # 3
    crm.ok("account", "new", "Globex Corp", "--website", "https://www.globex.example/about")  # 4
    crm.ok("account", "new", "Globex Europe", "--website", "http://globex.example:8080")  # 5
    crm.ok("account", "new", "Initech", "--website", "https://initech.example")  # 6
    crm.ok("account", "new", "S.A. Bank")  # 7: a legal form first is part of the name
    crm.ok("account", "new", "Inc")  # 8: nothing but a suffix is a name
    groups = [(g["reason"], [a["id"] for a in g["accounts"]]) for g in crm.json("account", "dupes")]
    assert groups == [("same name", [1, 2, 3]), ("same website", [4, 5])]
    table = crm.ok("account", "dupes").stdout
    assert "Globex Europe" in table and "same website" in table
    crm.ok("account", "delete", "Globex Europe", "--yes")
    crm.ok("account", "merge", "Acme", "ACME, Inc.", "Acme GmbH", "--yes")
    assert crm.json("account", "dupes") == []
    assert "no likely duplicates" in crm.ok("account", "dupes").stderr


def test_merge_keeps_a_phone_label_and_counts_in_words(crm):
    crm.ok("contact", "add", "Jane Doe", "-p", "+1 555 0100", "-e", "jane@acme.example")
    crm.ok("contact", "add", "Jane D.", "-p", "mobile:+1 555 0100", "-e", "jd@acme.example",
           "-e", "j@home.example")  # fmt: skip
    result = crm.ok("contact", "merge", "1", "2", "--yes", "--json")
    assert json.loads(result.stdout)["phones"] == [{"value": "+1 555 0100", "label": "mobile"}]
    assert "contact id 2 into id 1, moving 2 e-mails, 1 phone" in result.stderr
    crm.ok("log", "Called", "-c", "1")
    crm.ok("contact", "add", "Jane E.")
    moved = crm.ok("contact", "merge", "3", "1", "--yes").stderr
    assert "moving 2 e-mails... " not in moved and "1 activity" in moved
