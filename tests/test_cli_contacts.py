"""crm contact ... through CliRunner."""


def test_add_with_everything(crm):
    crm.ok("account", "new", "Acme")
    contact = crm.json(
        "contact",
        "add",
        "Jane Q. Doe",
        "--account",
        "acme",
        "--email",
        "work:jane@acme.example",
        "-e",
        "jane@home.example",
        "--phone",
        "mobile:+1 555 0100",
        "--title",
        "CTO",
        "--department",
        "R&D",
        "--birthday",
        "1990-04-23",
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
        "Met at the fair",
        "--tag",
        "vip",
        "--set",
        "source=fair",
    )
    assert (contact["first_name"], contact["last_name"]) == ("Jane Q.", "Doe")
    assert contact["account"] == "Acme" and contact["account_id"] == 1
    assert contact["email"] == "jane@acme.example"
    assert contact["emails"][0] == {"value": "jane@acme.example", "label": "work"}
    assert contact["phones"] == [{"value": "+1 555 0100", "label": "mobile"}]
    assert contact["birthday"] == "1990-04-23" and contact["fields"] == {"source": "fair"}


def test_new_is_add_and_first_last_work_alone(crm):
    assert crm.new_id("contact", "new", "--first", "Jane", "--last", "Doe") == 1
    assert crm.json("contact", "show", "1")["name"] == "Jane Doe"
    result = crm.fails(2, "contact", "add")
    assert "needs a name" in result.stderr


def test_one_email_one_contact(crm):
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example")
    result = crm.fails(1, "contact", "add", "Impostor", "--email", "JANE@acme.example")
    assert "already belongs to contact 'Jane Doe' (id 1)" in result.stderr
    assert len(crm.json("contact", "list")) == 1


def test_bad_values(crm):
    assert "YYYY-MM-DD" in crm.fails(2, "contact", "add", "J", "--birthday", "23/04/1990").stderr
    assert "invalid email" in crm.fails(2, "contact", "add", "J", "--email", "j@").stderr
    assert "invalid phone" in crm.fails(2, "contact", "add", "J", "--phone", "call me").stderr
    assert crm.json("contact", "list") == []


def test_list_by_account(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme")
    crm.ok("contact", "add", "Bob Roe")
    assert [c["name"] for c in crm.json("contact", "list", "--account", "Acme")] == ["Jane Doe"]
    assert [c["name"] for c in crm.json("contact", "list")] == ["Jane Doe", "Bob Roe"]  # by id
    assert [c["name"] for c in crm.json("contact", "list", "--sort", "name")] == [
        "Bob Roe",
        "Jane Doe",
    ]
    crm.fails(3, "contact", "list", "--account", "Nope")


def test_edit(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example", "--phone", "+1 555")
    edited = crm.json(
        "contact",
        "edit",
        "jane@acme.example",
        "--last",
        "Smith",
        "--account",
        "Acme",
        "--email",
        "home:jane@home.example",
        "--remove-phone",
        "+1 555",
        "--title",
        "CEO",
        "--add-tag",
        "vip",
        "--set",
        "k=v",
    )
    assert edited["name"] == "Jane Smith" and edited["account"] == "Acme"
    assert [e["value"] for e in edited["emails"]] == ["jane@acme.example", "jane@home.example"]
    assert edited["phones"] == [] and edited["phone"] is None and edited["title"] == "CEO"
    edited = crm.json("contact", "edit", "Jane Smith", "--no-account", "--title", "")
    assert edited["account_id"] is None and edited["title"] is None
    crm.fails(2, "contact", "edit", "Jane Smith", "--account", "Acme", "--no-account")
    crm.fails(2, "contact", "edit", "Jane Smith")


def test_show_by_name_email_and_ambiguity(crm):
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example")
    crm.ok("contact", "add", "Jane Doe")
    assert crm.json("contact", "show", "JANE@ACME.EXAMPLE")["id"] == 1
    result = crm.fails(3, "contact", "show", "jane doe")
    assert "several" in result.stderr
    assert "  1  Jane Doe" in result.stderr and "  2  Jane Doe" in result.stderr
    result = crm.fails(3, "contact", "show", "Jnae Doe")
    assert "did you mean" in result.stderr


def test_delete(crm):
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example")
    crm.fails(2, "contact", "delete", "Jane Doe")
    deleted = crm.json("contact", "delete", "jane@acme.example", "--yes")
    assert deleted["name"] == "Jane Doe"
    assert crm.json("contact", "list") == []
    crm.fails(3, "contact", "delete", "jane@acme.example", "--yes")
