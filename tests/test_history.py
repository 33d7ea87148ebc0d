"""crm history and crm undo."""

import sqlite3


def summaries(crm):
    return [op["summary"] for op in crm.json("history")]


def test_every_write_is_one_operation(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme", "--email", "jane@acme.example")
    crm.fails(1, "account", "new", "ACME")  # refused: nothing recorded
    crm.ok("contact", "list")  # reads are not operations
    history = crm.json("history")
    assert [op["summary"] for op in history] == [
        "contact add 'Jane Doe' --account Acme --email jane@acme.example",
        "account new Acme",
    ]
    assert set(history[0]) >= {"id", "at", "summary", "changes"} and history[0]["changes"] >= 2
    assert history[0]["at"].endswith("Z")
    assert "account new Acme" in crm.ok("history").stdout


def test_undo_a_delete_brings_everything_back(crm):
    crm.ok("demo")
    before = crm.json("contact", "show", "Jane Q. Doe")
    crm.ok("contact", "delete", "Jane Q. Doe", "--yes")
    result = crm.ok("undo")
    assert "undid operation 2: contact delete 'Jane Q. Doe' --yes" in result.stderr
    after = crm.json("contact", "show", "Jane Q. Doe")
    assert after == before  # id, e-mails, phones, account, tags, deals, tasks, activities
    assert "database ok" in crm.ok("db", "check").stderr


def test_undo_an_edit_and_an_import(crm, tmp_path):
    crm.ok("contact", "add", "Jane Doe", "--title", "CTO")
    crm.ok("contact", "edit", "Jane Doe", "--title", "CEO", "--add-tag", "vip")
    crm.ok("undo")
    jane = crm.json("contact", "show", "Jane Doe")
    assert (jane["title"], jane["tags"]) == ("CTO", [])
    path = tmp_path / "in.csv"
    path.write_text("name,email,company\nA One,a@x.example,Acme\nB Two,b@x.example,Acme\n")
    crm.ok("import", str(path))
    assert summaries(crm)[0] == f"import {path}: imported 1 account, 2 contacts"
    assert len(crm.json("contact", "list")) == 3
    crm.ok("undo")
    assert [c["name"] for c in crm.json("contact", "list")] == ["Jane Doe"]
    assert crm.json("account", "list") == [] and crm.json("search", "acme") == []


def test_undo_refuses_when_later_operations_touched_the_same_records(crm):
    crm.ok("contact", "add", "Jane Doe")
    crm.ok("contact", "edit", "Jane Doe", "--title", "CTO")
    result = crm.fails(1, "undo", "1")
    assert "operation 2 (contact edit 'Jane Doe' --title CTO)" in result.stderr
    crm.ok("undo")  # the edit
    crm.ok("undo", "1")  # now the add can go
    assert crm.json("contact", "list") == []


def test_undo_can_be_undone(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("undo")
    assert crm.json("account", "list") == []
    crm.ok("undo")  # undoes the undo
    assert [a["name"] for a in crm.json("account", "list")] == ["Acme"]
    assert summaries(crm)[0] == "undo 2: undo 1: account new Acme"


def test_nothing_to_undo_and_bad_ids(crm):
    assert "nothing to undo" in crm.fails(1, "undo").stderr
    crm.ok("account", "new", "Acme")
    crm.fails(3, "undo", "99")
    crm.fails(2, "undo", "latest")
    crm.ok("undo", "1")
    assert "already undone" in crm.fails(1, "undo", "1").stderr


def test_prune(crm):
    crm.ok("account", "new", "Acme")
    assert "forgot 1 operation" in crm.ok("history", "prune", "--before", "tomorrow").stderr
    assert crm.json("history") == []
    crm.fails(1, "undo")
    assert [a["name"] for a in crm.json("account", "list")] == ["Acme"]


def test_writes_by_other_programs_are_not_logged(crm, db_path):
    crm.ok("account", "new", "Acme")
    other = sqlite3.connect(db_path)
    other.execute("UPDATE accounts SET city = 'Elsewhere'")
    other.commit()
    assert len(crm.json("history")) == 1
