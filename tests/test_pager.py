"""The pager (issue 15): on a terminal, output taller than the screen goes
through $CRM_PAGER, else $PAGER; never when piped or with --no-pager; a pager
that quits early ends crm quietly with exit 0."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import on_a_terminal


def _on_a_terminal(argv: list[str], env: dict) -> tuple[int, str]:
    """Run on a terminal of 10 lines: (exit code, what it showed)."""
    code, shown = on_a_terminal(argv, env, rows=10)
    return code, shown.decode("utf-8", "replace")


@pytest.fixture
def book(installed_crm, tmp_path, crm):
    """A contact whose card runs to a thousand lines (more than a pipe holds)."""
    crm.ok("contact", "add", "Jane Doe", "--description", "word " * 20_000)
    env = {**os.environ, "CRM_DB": os.environ["CRM_DB"], "TERM": "xterm", "COLUMNS": "100"}
    for name in ("CRM_PAGER", "PAGER", "LINES", "NO_COLOR"):
        env.pop(name, None)
    return installed_crm, env, tmp_path / "paged.txt"


def test_a_tall_output_goes_through_the_pager(book):
    crm, env, paged = book
    code, shown = _on_a_terminal([crm, "contact", "show", "1"],
                                 {**env, "CRM_PAGER": f"cat > {paged}"})  # fmt: skip
    assert code == 0 and "Jane Doe" not in shown
    text = paged.read_text()
    assert text.startswith("\x1b[1mJane Doe\x1b[0m") and text.count("word") == 20_000
    paged.unlink()
    code, _ = _on_a_terminal([crm, "contact", "show", "1"], {**env, "PAGER": f"cat > {paged}"})
    assert code == 0 and paged.exists()  # $PAGER when $CRM_PAGER is not set


def test_a_pager_that_quits_early_ends_crm_quietly(book):
    crm, env, _ = book
    code, shown = _on_a_terminal([crm, "contact", "show", "1"], {**env, "CRM_PAGER": "true"})
    assert code == 0
    assert "Traceback" not in shown and "Error" not in shown and "Jane Doe" not in shown


def test_no_pager_when_it_fits_when_piped_or_told(book):
    crm, env, paged = book
    env = {**env, "CRM_PAGER": f"cat > {paged}"}
    code, shown = _on_a_terminal([crm, "list"], env)
    assert code == 0 and "Jane Doe" in shown and not paged.exists()  # fits the screen
    code, shown = _on_a_terminal([crm, "--no-pager", "contact", "show", "1"], env)
    assert code == 0 and shown.count("word") == 20_000 and not paged.exists()
    piped = subprocess.run([crm, "contact", "show", "1"], env=env, capture_output=True, text=True)
    assert piped.returncode == 0 and piped.stdout.count("word") == 20_000
    assert not paged.exists()
    code, shown = _on_a_terminal([crm, "contact", "show", "1"], {**env, "CRM_PAGER": "cat"})
    assert code == 0 and shown.count("word") == 20_000  # cat: no pager at all


def test_what_was_held_is_shown_before_a_question(monkeypatch, capsys, tmp_path):
    from crmcli import render

    monkeypatch.setattr(render, "on_terminal", lambda file=None: True)
    monkeypatch.setenv("CRM_PAGER", f"cat > {tmp_path / 'paged'}")
    render.begin()
    try:
        render.line("the account card")
        assert capsys.readouterr().out == ""  # held: it may yet be paged
        render.before_prompt()
        assert capsys.readouterr().out == "the account card\n"
        render.line("after the answer")
        assert capsys.readouterr().out == "after the answer\n"
    finally:
        render.end()
    assert not (tmp_path / "paged").exists()


def test_a_pager_that_does_not_exist_shows_the_output_itself(book):
    # sh would start, say "not found" and exit: everything written to it was lost
    crm, env, _ = book
    env = {**env, "CRM_PAGER": "no-such-pager-r15 -R"}
    code, shown = _on_a_terminal([crm, "contact", "show", "1"], env)
    assert code == 0 and shown.count("word") == 20_000
    assert "pager 'no-such-pager-r15' was not found" in shown


def test_lines_wider_than_the_screen_count_as_the_rows_they_take(book):
    # one JSON line of 100,000 characters fills the screen many times over
    crm, env, paged = book
    env = {**env, "CRM_PAGER": f"cat > {paged}"}
    code, shown = _on_a_terminal([crm, "contact", "list", "--format", "jsonl"], env)
    assert code == 0 and paged.read_text().count("word") == 20_000
    assert "word" not in shown


def test_rows_of_wide_characters_and_colour():
    from crmcli.render import _Screen

    screen = _Screen("less", rows=30, columns=10)
    assert screen._rows_of("山" * 10 + "\n") == 2  # 20 cells: two rows
    assert screen._rows_of("\x1b[1m" * 20 + "\n" + "x" * 10 + "\n") == 2
    assert screen._rows_of("x" * 11) == 1  # a line not ended yet: its extra row
