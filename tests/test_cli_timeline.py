"""crm log, crm note and crm activity ... through CliRunner."""

import datetime as dt
import stat

import pytest


@pytest.fixture
def book(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme", "--email", "jane@acme.example")
    crm.ok("deal", "new", "Skates", "--account", "Acme")
    return crm


def test_log_links_the_contacts_account(book):
    call = book.json(
        "log", "Asked for a quote", "--kind", "call", "--contact", "Jane Doe", "--subject", "Quote"
    )
    assert (call["kind"], call["subject"], call["body"]) == ("call", "Quote", "Asked for a quote")
    assert (call["contact"], call["account"], call["account_id"]) == ("Jane Doe", "Acme", 1)
    via_deal = book.json("note", "Signed", "--deal", "Skates")
    assert (via_deal["kind"], via_deal["account"], via_deal["deal"]) == ("note", "Acme", "Skates")


def test_log_reads_stdin_with_dash(book):
    activity = book.json("log", "-", "--kind", "email", input="line one\nline two\n")
    assert activity["body"] == "line one\nline two" and activity["summary"] == "line one"


def test_log_without_text_off_a_terminal_is_a_usage_error(book):
    assert "TEXT" in book.fails(2, "log").stderr


def test_log_opens_the_editor_on_a_terminal(book, monkeypatch, tmp_path):
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "Written in the editor\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr("crmcli.cli.options.on_terminal", lambda: True)
    activity = book.json("note", env={"EDITOR": str(editor), "VISUAL": ""})
    assert activity["body"] == "Written in the editor"
    empty = tmp_path / "empty-editor"
    empty.write_text("#!/bin/sh\ntrue\n")
    empty.chmod(editor.stat().st_mode)
    assert "empty" in book.fails(1, "note", env={"EDITOR": str(empty), "VISUAL": ""}).stderr


def test_at_takes_when_forms(book):
    activity = book.json("log", "Old call", "--kind", "call", "--at", "2026-01-15T09:30")
    assert activity["at"].startswith("2026-01-15T")
    assert "use YYYY-MM-DD" in book.fails(2, "log", "x", "--at", "last tuesday").stderr
    book.fails(2, "log", "x", "--kind", "fax")


def test_list_filters_and_order(book):
    book.ok("log", "first", "--kind", "call", "--contact", "Jane Doe", "--at", "-10d")
    book.ok("log", "second", "--kind", "email", "--at", "-2d")
    book.ok("log", "third", "--deal", "Skates")

    def bodies(*args):
        return [a["body"] for a in book.json("activity", "list", *args)]

    assert bodies() == ["third", "second", "first"]  # newest first
    assert bodies("--kind", "call") == ["first"]
    assert bodies("--contact", "jane@acme.example") == ["first"]
    assert bodies("--account", "Acme") == ["third", "first"]
    assert bodies("--deal", "Skates") == ["third"]
    assert bodies("--since", "-5d") == ["third", "second"]
    assert bodies("--since", "today") == ["third"]
    book.fails(2, "activity", "list", "--since", "whenever")


def test_show_edit_delete(book):
    book.ok("log", "Typo", "--contact", "Jane Doe")
    edited = book.json(
        "activity",
        "edit",
        "1",
        "--text",
        "Fixed",
        "--kind",
        "meeting",
        "--subject",
        "Lunch",
        "--add-tag",
        "q4",
    )
    assert (edited["body"], edited["kind"], edited["subject"]) == ("Fixed", "meeting", "Lunch")
    assert book.json("activity", "show", "1")["tags"] == ["q4"]
    book.fails(2, "activity", "edit", "1")
    book.fails(3, "activity", "show", "99")
    book.fails(3, "activity", "show", "Typo")
    result = book.ok("activity", "delete", "1", "--yes")
    assert "Deleted activity 'Lunch' (id 1)" in result.stderr
    assert book.json("activity", "list") == []


def test_last_contacted_counts_calls_meetings_emails_not_notes(book):
    assert book.json("contact", "show", "Jane Doe")["last_contacted"] is None
    book.ok("note", "Thought about Jane", "--contact", "Jane Doe")
    assert book.json("contact", "show", "Jane Doe")["last_contacted"] is None
    book.ok("log", "Called", "--kind", "call", "--contact", "Jane Doe", "--at", "2026-03-01")
    book.ok("log", "Mailed", "--kind", "email", "--contact", "Jane Doe", "--at", "2026-02-01")
    assert book.json("contact", "show", "Jane Doe")["last_contacted"].startswith("2026-03-01")


def test_show_views_carry_the_timeline(book):
    book.ok("contact", "add", "Bob Roe", "--account", "Acme")
    book.ok("account", "new", "Acme Europe", "--parent", "Acme")
    book.ok("log", "Jane called", "--kind", "call", "--contact", "Jane Doe")
    book.ok("log", "Bob called", "--kind", "call", "--contact", "Bob Roe")
    book.ok("task", "add", "Send quote", "--contact", "Jane Doe", "--due", "tomorrow")
    book.ok("deal", "edit", "Skates", "--amount", "100")
    account = book.json("account", "show", "Acme")
    assert [a["body"] for a in account["activities"]] == ["Bob called", "Jane called"]
    assert [c["name"] for c in account["contacts"]] == ["Bob Roe", "Jane Doe"]
    assert [c["name"] for c in account["children"]] == ["Acme Europe"]
    assert [d["name"] for d in account["deals"]] == ["Skates"]
    assert [t["title"] for t in account["tasks"]] == ["Send quote"]
    assert "Deals (1) · 100 USD open" in book.ok("account", "show", "Acme").stdout
    jane = book.json("contact", "show", "Jane Doe")
    assert [a["body"] for a in jane["activities"]] == ["Jane called"]
    assert [t["title"] for t in jane["tasks"]] == ["Send quote"]
    assert jane["last_contacted"][:10] == dt.datetime.now(dt.UTC).date().isoformat()
