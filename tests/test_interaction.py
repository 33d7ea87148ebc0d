"""A person at a terminal: questions, the editor, quiet edits, what declining says."""

import pytest

from crmcli.cli import options


@pytest.fixture
def terminal(monkeypatch):
    """Commands believe they run on a terminal; CliRunner's input answers them."""
    monkeypatch.setattr(options, "on_terminal", lambda: True)


def test_edit_quiet_prints_only_the_id(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe")
    crm.ok("deal", "new", "Skates", "-a", "Acme")
    crm.ok("log", "Called")
    crm.ok("task", "add", "Call back")
    for noun, option in (("account", "--city=Oslo"), ("contact", "--title=CTO"),
                         ("deal", "--amount=5"), ("activity", "--subject=Hi"),
                         ("task", "--title=Call")):  # fmt: skip
        assert crm.ok(noun, "edit", "1", option, "-q").stdout == "1\n"


def test_declining_a_delete_is_a_plain_line(crm, terminal):
    crm.ok("contact", "add", "Jane Doe")
    result = crm("contact", "delete", "Jane Doe", input="n\n")
    assert result.exit_code == 1
    assert "Error" not in result.stderr
    assert result.stderr.rstrip().endswith("Nothing was deleted.")
    merged = crm("contact", "merge", "Jane Doe", "1", input="n\n")
    assert "itself" in merged.stderr  # refused before asking
    crm.ok("contact", "add", "Jane D.")
    declined = crm("contact", "merge", "Jane Doe", "Jane D.", input="n\n")
    assert declined.exit_code == 1 and declined.stderr.rstrip().endswith("Nothing was merged.")
    assert len(crm.json("contact", "list")) == 2


def test_history_says_when_it_shows_only_the_latest(crm):
    for number in range(3):
        crm.ok("contact", "add", f"Person {number}")
    assert "latest" not in crm.ok("history").stderr
    result = crm.ok("history", "-n", "2")
    assert len(crm.json("history", "-n", "2")) == 2
    assert "showing the latest 2 operations of 3: use --limit N for more" in result.stderr
    assert "latest" not in crm.ok("history", "-n", "3").stderr


def test_log_from_stdin_drops_the_final_line_end(crm):
    crm.ok("log", "-", input="Called about skates\n")
    crm.ok("log", "-", input="two\nlines\r\n\n")
    crm.ok("activity", "edit", "1", "--text", "-", input="Called again\n")
    bodies = [a["body"] for a in crm.json("activity", "list", "--sort", "id")]
    assert bodies == ["Called again", "two\nlines"]
