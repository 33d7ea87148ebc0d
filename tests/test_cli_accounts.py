"""crm account ... through CliRunner: exit codes, stdout, stderr."""

import re

import pytest


def test_new_prints_the_record_and_quiet_prints_the_id(crm):
    account = crm.json(
        "account",
        "new",
        "Acme",
        "--type",
        "customer",
        "--kind",
        "business",
        "--industry",
        "Rockets",
        "--website",
        "https://acme.example",
        "--email",
        "info@acme.example",
        "--phone",
        "+1 555 0100",
        "--street",
        "1 Road",
        "--city",
        "Springfield",
        "--region",
        "IL",
        "--postal-code",
        "62701",
        "--country",
        "US",
        "--description",
        "Makers of everything",
        "--tag",
        "key",
        "--set",
        "tier=gold",
    )
    assert account["id"] == 1 and account["postal_code"] == "62701"
    assert account["tags"] == ["key"] and account["fields"] == {"tier": "gold"}
    result = crm.ok("account", "add", "Globex", "-q")
    assert result.stdout == "2\n" and result.stderr == ""


def test_new_with_parent(crm):
    crm.ok("account", "new", "Group")
    child = crm.json("account", "new", "Subsidiary", "--parent", "group")
    assert (child["parent_id"], child["parent"]) == (1, "Group")
    crm.fails(3, "account", "new", "Orphan", "--parent", "Nowhere")
    assert [a["name"] for a in crm.json("account", "list")] == ["Group", "Subsidiary"]


def test_duplicate_name_is_refused(crm):
    crm.ok("account", "new", "Émile")
    result = crm.fails(1, "account", "new", "ÉMILE")
    assert "already exists (id 1)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["account", "new", ""], "must not be empty"),
        (["account", "new", "X", "--email", "not-an-address"], "invalid email"),
        (["account", "new", "X", "--type", "friend"], "--type"),
        (["account", "new", "X", "--set", "novalue"], "KEY=VALUE"),
        (["account", "new", "x" * 501], "at most 500"),
        (["account", "new", "X", "--description", "x" * 1_000_001], "at most 1,000,000 bytes"),
    ],
)
def test_bad_values_are_usage_errors_and_write_nothing(crm, args, message):
    result = crm.fails(2, *args)
    assert message in result.stderr
    assert crm.json("account", "list") == []


def test_show_lists_the_contacts(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme", "--email", "jane@acme.example")
    shown = crm.json("account", "show", "acme")
    assert shown["name"] == "Acme"
    assert [(c["name"], c["email"]) for c in shown["contacts"]] == [
        ("Jane Doe", "jane@acme.example")
    ]
    table = crm.ok("account", "show", "Acme").stdout
    assert "Contacts (1)" in table and "jane@acme.example" in table


def test_the_card_shows_the_first_contacts_by_name_and_json_has_them_all(crm, monkeypatch):
    from crmcli.cli import accounts

    monkeypatch.setattr(accounts, "SHOWN", 3)
    crm.ok("account", "new", "Acme")
    people = "".join(f"Person {n},Acme\n" for n in (10, 2, 9, 1, 3))
    crm.ok("import", "-", "--format", "csv", input="name,account\n" + people)
    table = crm.ok("account", "show", "Acme").stdout
    assert "Contacts (5)" in table
    assert re.findall(r"Person \d+", table) == ["Person 1", "Person 2", "Person 3"]
    assert "  … and 2 more: crm contact list --account 1\n" in table
    assert len(crm.json("contact", "list", "--account", "1")) == 5  # what the hint lists
    shown = crm.json("account", "show", "Acme")
    assert [c["name"] for c in shown["contacts"]] == [f"Person {n}" for n in (1, 2, 3, 9, 10)]
    crm.ok("contact", "delete", "Person 10", "--yes")
    crm.ok("contact", "delete", "Person 9", "--yes")
    table = crm.ok("account", "show", "Acme").stdout
    assert "Contacts (3)" in table and "more" not in table


def test_edit(crm):
    crm.ok("account", "new", "Acme", "--city", "Springfield", "--tag", "a", "--set", "x=1")
    edited = crm.json(
        "account",
        "edit",
        "Acme",
        "--name",
        "Acme Inc",
        "--city",
        "",
        "--add-tag",
        "b",
        "--tag",
        "c",
        "--remove-tag",
        "A",
        "--set",
        "y=2",
        "--unset",
        "x",
    )
    assert edited["name"] == "Acme Inc" and edited["city"] is None
    assert sorted(edited["tags"]) == ["b", "c"] and edited["fields"] == {"y": "2"}
    crm.ok("account", "new", "Group")
    assert crm.json("account", "edit", "Acme Inc", "--parent", "Group")["parent"] == "Group"
    assert crm.json("account", "edit", "Acme Inc", "--no-parent")["parent"] is None
    assert "nothing to change" in crm.fails(2, "account", "edit", "Acme Inc").stderr
    crm.fails(3, "account", "edit", "Nope", "--city", "X")


def test_delete_needs_yes_without_a_terminal(crm):
    crm.ok("account", "new", "Acme")
    result = crm.fails(2, "account", "delete", "Acme")
    assert "--yes" in result.stderr
    assert len(crm.json("account", "list")) == 1
    result = crm.ok("account", "delete", "Acme", "--yes")
    assert result.stdout == "" and "Deleted account 'Acme' (id 1)" in result.stderr
    assert crm.json("account", "list") == []


def test_delete_refused_with_contacts_unless_detach_or_cascade(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("account", "new", "Globex")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme")
    crm.ok("contact", "add", "Hank", "--account", "Globex")
    result = crm.fails(1, "account", "delete", "Acme", "--yes")
    assert "--detach" in result.stderr and "--cascade" in result.stderr
    crm.fails(2, "account", "delete", "Acme", "--detach", "--cascade", "--yes")
    result = crm.ok("account", "delete", "Acme", "--detach", "--yes")
    assert "unlinked 1 contact and" in result.stderr
    assert crm.json("contact", "show", "Jane Doe")["account_id"] is None
    result = crm.ok("account", "delete", "Globex", "--cascade", "--yes", "--json")
    assert "deleted 1 contact and" in result.stderr
    assert [c["name"] for c in crm.json("contact", "list")] == ["Jane Doe"]


def test_delete_asks_on_a_terminal(crm, monkeypatch):
    crm.ok("account", "new", "Acme")
    monkeypatch.setattr("crmcli.cli.options.on_terminal", lambda: True)
    result = crm("account", "delete", "Acme", input="n\n")
    assert result.exit_code == 1 and "Error: declined; nothing was deleted" in result.stderr
    result = crm("account", "delete", "Acme", input="y\n")
    assert result.exit_code == 0
    assert crm.json("account", "list") == []


def test_not_found_and_ambiguous_are_exit_3(crm):
    crm.ok("account", "new", "Acme")
    result = crm.fails(3, "account", "show", "Acmee")
    assert "did you mean" in result.stderr and "Acme" in result.stderr
    crm.fails(3, "account", "show", "99")
