"""crm history and crm undo."""

import json
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


def test_an_import_is_logged_as_runs_of_new_rows(crm, db_path):
    """Bulk imports log their new rows as runs of ids; undo takes back exactly
    those, and the undo can be undone."""
    crm.ok("contact", "add", "Kept Here", "--email", "kept@x.example")
    people = [{"id": i, "name": f"P {i}", "emails": [{"value": f"p{i}@x.example"}],
               "phones": [{"value": f"+1 555 {i}"}]} for i in (5, 6, 7, 20, 21)]  # fmt: skip
    crm.ok("import", "-", "-f", "json", "--kind", "contacts", input=json.dumps(people))
    runs = sqlite3.connect(db_path).execute(
        "SELECT tbl, row_id, last_id FROM changes WHERE operation_id = 2 ORDER BY id"
    ).fetchall()
    assert ("contacts", 5, 7) in runs and ("contacts", 20, 21) in runs
    assert ("contact_emails", 2, 6) in runs and ("contact_phones", 1, 5) in runs
    assert crm.json("history")[0]["changes"] == 15  # rows, however logged
    imported = crm.ok("export").stdout.split("\n", 1)[1]  # without the export's time
    crm.ok("undo")
    assert [c["name"] for c in crm.json("contact", "list")] == ["Kept Here"]
    assert "database ok" in crm.ok("db", "check").stderr
    crm.ok("undo")  # the undo
    assert crm.ok("export").stdout.split("\n", 1)[1] == imported
    assert crm.json("search", "p21") and crm.json("search", "15557")
    assert "database ok" in crm.ok("db", "check").stderr


def test_undo_sees_later_changes_inside_and_over_runs(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,email\nA One,a@x.example\nB Two,b@x.example\nC Three,c@x.example\n")
    crm.ok("import", str(path))  # 1: contacts 1-3, e-mails 1-3
    crm.ok("contact", "edit", "B Two", "--title", "CTO")  # 2: a row inside the import's run
    assert "operation 2 (contact edit" in crm.fails(1, "undo", "1").stderr
    crm.ok("undo")  # 3
    # Deleting the newest e-mails frees their ids; a later import's run takes them again.
    crm.ok("contact", "edit", "C Three", "--remove-email", "c@x.example")  # 4: e-mail 3
    crm.ok("contact", "edit", "B Two", "--remove-email", "b@x.example")  # 5: e-mail 2
    path.write_text("name,email\nD Four,d@x.example\nE Five,e@x.example\n")
    crm.ok("import", str(path))  # 6: e-mails 2-3, a run over e-mail 3
    assert "operation 6 (import" in crm.fails(1, "undo", "4").stderr
    crm.ok("undo")  # the second import
    crm.ok("undo", "4")
    assert crm.json("contact", "show", "C Three")["email"] == "c@x.example"


def test_undo_puts_back_the_oldest_image_when_a_row_changed_twice(conn):
    """Changes of a kind are undone many to a statement, newest first: where one
    row comes back twice, the older image (applied last) must win."""
    from crmcli.store import contacts, history

    contact_id = contacts.add_contact(conn, full_name="Now Name")["id"]
    cursor = conn.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,))
    row = dict(zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True))
    newer, older = {**row, "name": "Middle Name"}, {**row, "name": "First Name"}
    history._Reverter(conn).run([
        ("contacts", contact_id, None, json.dumps(newer)),
        ("contacts", contact_id, None, json.dumps(older)),
    ])  # fmt: skip
    assert conn.execute("SELECT name FROM contacts WHERE id = ?", (contact_id,)).fetchone() == (
        "First Name",
    )


def backup(crm) -> str:
    """The export without its first line (the time it was made)."""
    return crm.ok("export").stdout.split("\n", 1)[1]


def test_undo_puts_back_links_of_records_an_import_made(crm, tmp_path):
    """Issue 11: after a batched import (which drops and recreates the triggers),
    undoing `account delete --detach` left the contact unlinked, and the undo of
    that undo failed on a foreign key."""
    path = tmp_path / "one.csv"
    path.write_text("name,company\nNew Person,Acme\n")
    crm.ok("import", str(path))
    imported = backup(crm)
    crm.ok("account", "delete", "Acme", "--detach", "--yes")
    deleted = backup(crm)
    crm.ok("undo")
    assert crm.json("contact", "show", "New Person")["account"] == "Acme"
    assert backup(crm) == imported
    crm.ok("undo")  # the undo
    assert backup(crm) == deleted
    crm.ok("undo")
    assert backup(crm) == imported
    assert "database ok" in crm.ok("db", "check").stderr


def test_undo_of_a_contact_merge_is_exact(crm, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,company,email\nNew Person,,a@x.example\nOther P,Beta,b@x.example\n")
    crm.ok("import", str(path))
    before = backup(crm)
    crm.ok("contact", "merge", "New Person", "Other P", "--yes")  # fills in the account
    crm.ok("undo")
    assert backup(crm) == before


def test_undo_of_an_account_merge_is_exact(crm, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,company\nNew Person,Acme\nOther P,Beta\n")
    crm.ok("import", str(path))
    before = backup(crm)
    crm.ok("account", "merge", "Acme", "Beta", "--yes")  # moves Other P to Acme
    crm.ok("undo")
    assert backup(crm) == before
    assert crm.json("contact", "show", "Other P")["account"] == "Beta"


def test_undo_of_an_import_that_updates_is_exact(crm, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,company,email\nNew Person,Acme,a@x.example\n")
    crm.ok("import", str(path))
    before = backup(crm)
    path.write_text("name,company,email,title\nNew Person,Beta,a@x.example,Boss\n")
    crm.ok("import", str(path), "--on-conflict", "update")
    crm.ok("undo")
    assert backup(crm) == before
    assert crm.json("contact", "show", "New Person")["title"] is None


def test_undo_refuses_to_take_away_what_later_operations_link_to(crm):
    """The records an operation made may have gained links since (a deal, a note)
    without being changed themselves: undoing it would break or silently drop
    those links, so it is refused, naming the operation to undo first."""
    crm.ok("account", "new", "Acme")  # 1
    crm.ok("deal", "new", "Skates", "--account", "Acme")  # 2: deals.account_id, no action
    assert "operation 2 (deal new Skates" in crm.fails(1, "undo", "1").stderr
    crm.ok("contact", "add", "Jane Doe")  # 3
    crm.ok("note", "met Jane", "--contact", "Jane Doe")  # 4: set null when Jane goes
    assert "operation 4 (note 'met Jane'" in crm.fails(1, "undo", "3").stderr
    assert crm.json("activity", "list")[0]["contact"] == "Jane Doe"
    # A record put back must not link to one deleted since.
    crm.ok("contact", "edit", "Jane Doe", "--account", "Acme")  # 5
    crm.ok("contact", "delete", "Jane Doe", "--yes")  # 6
    crm.ok("deal", "delete", "Skates", "--yes")  # 7
    crm.ok("account", "delete", "Acme", "--yes")  # 8
    assert "operation 8 (account delete Acme" in crm.fails(1, "undo", "6").stderr
    crm.ok("undo")  # 8
    crm.ok("undo", "6")
    assert crm.json("contact", "show", "Jane Doe")["account"] == "Acme"
    assert "database ok" in crm.ok("db", "check").stderr


def test_a_redo_blocks_undoing_what_came_before_it(crm):
    """An undo and its undo (a redo) are not a pair that cancels out: the edit is in
    effect again, and undoing the older edit under it would silently lose it."""
    crm.ok("contact", "add", "Jane Doe")  # 1
    crm.ok("contact", "edit", "Jane Doe", "--title", "A")  # 2
    crm.ok("contact", "edit", "Jane Doe", "--title", "B")  # 3
    crm.ok("undo")  # 4: undoes 3
    crm.ok("undo")  # 5: undoes 4, so B is back
    assert "operation 5 (undo 4: undo 3" in crm.fails(1, "undo", "2").stderr
    assert crm.json("contact", "show", "Jane Doe")["title"] == "B"
    crm.ok("undo")  # 6: undoes 5
    crm.ok("undo", "2")  # 3 and its redo are both undone: 2 can go
    assert crm.json("contact", "show", "Jane Doe")["title"] is None


def test_undoing_an_edit_keeps_what_later_notes_made_of_the_contact(crm):
    """A later call on Jane moved only her derived last_contacted (not logged as a
    change of hers): undoing the older edit puts her title back, and her
    last_contacted is worked out again rather than taken from the old image."""
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example")  # 1
    crm.ok("contact", "edit", "Jane Doe", "--title", "CTO")  # 2
    crm.ok("log", "called", "--kind", "call", "--contact", "Jane Doe", "--at", "2026-03-01")
    crm.ok("undo", "2")
    jane = crm.json("contact", "show", "Jane Doe")
    assert (jane["title"], jane["last_contacted"]) == (None, crm.json("activity", "list")[0]["at"])
    assert "database ok" in crm.ok("db", "check").stderr
