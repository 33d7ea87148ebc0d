"""A person at a terminal: questions, the editor, quiet edits, what declining says."""

import json
import os
import subprocess

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


def test_declining_a_delete_is_a_refusal_that_says_so(crm, terminal):
    crm.ok("contact", "add", "Jane Doe")
    result = crm("contact", "delete", "Jane Doe", input="n\n")
    assert result.exit_code == 1  # so that `crm contact delete X && ...` stops
    assert result.stderr.rstrip().endswith("Error: declined; nothing was deleted")
    merged = crm("contact", "merge", "Jane Doe", "1", input="n\n")
    assert "itself" in merged.stderr  # refused before asking
    crm.ok("contact", "add", "Jane D.")
    declined = crm("contact", "merge", "Jane Doe", "Jane D.", input="n\n")
    assert declined.exit_code == 1
    assert declined.stderr.rstrip().endswith("Error: declined; nothing was merged")
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


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """An $EDITOR script: runs each time the next of `steps` (sed scripts, or '' to save
    as it is, or 'EMPTY'), keeping a copy of every file it was given in seen/N."""
    folder = tmp_path / "editor"
    folder.mkdir()

    def make(*steps: str, arguments: str = "") -> list:
        for old in folder.iterdir():
            old.unlink()
        for number, step in enumerate(steps, start=1):
            (folder / f"step{number}").write_text(step)
        script = folder / "edit.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'cd "{folder}"; n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count\n'
            f'[ "$1" = "--wait" ] && shift\n'
            'cp "$1" "seen$n"\n'
            'step=$(cat "step$n" 2>/dev/null)\n'
            'if [ "$step" = EMPTY ]; then : > "$1"; elif [ -n "$step" ]; then'
            ' sed -i -f "step$n" "$1"; fi\n'
        )
        script.chmod(0o755)
        monkeypatch.setenv("VISUAL", f"{script} {arguments}".strip())
        return [folder / f"seen{n}" for n in range(1, len(steps) + 1)]

    return make


def test_edit_in_the_editor_is_one_operation(crm, editor):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "-e", "jane@acme.example", "-p", "+1 555 0100",
           "--tag", "vip", "--set", "source=fair", "-d", "line one\nline two")  # fmt: skip
    seen = editor(
        "s/^title:.*/title: CTO/\n"
        "s/^email: jane@acme.example/email: work:jane@acme.example\\nemail: j@home.example/\n"
        "s/^phone: .*/phone: mobile:+1 555 0199/\n"
        "s/^account:.*/account: Acme/\n"
        "s/^tags: vip/tags: vip, board/\n"
        "s/^field: source=fair/field: source=web\\nfield: size=L/\n"
        "s/^  line two/  line 2/\n",
        arguments="--wait",  # VISUAL="editor --wait": a command with arguments
    )
    before = len(crm.json("history"))
    contact = crm.json("contact", "edit", "Jane Doe", "--editor")
    template = seen[0].read_text()
    assert "# E-mail addresses, one per line: [LABEL:]ADDR" in template
    assert "\nemail: jane@acme.example\n" in template and "\nphone: +1 555 0100\n" in template
    assert "description: line one\n  line two\n" in template
    assert contact["title"] == "CTO" and contact["account"] == "Acme"
    assert contact["emails"] == [{"value": "jane@acme.example", "label": "work"},
                                 {"value": "j@home.example", "label": None}]  # fmt: skip
    assert contact["phones"] == [{"value": "+1 555 0199", "label": "mobile"}]
    assert contact["tags"] == ["vip", "board"]
    assert contact["fields"] == {"source": "web", "size": "L"}
    assert contact["description"] == "line one\nline 2"
    assert len(crm.json("history")) == before + 1
    crm.ok("undo")
    back = crm.json("contact", "show", "1")
    assert (back["title"], back["phone"], back["tags"]) == (None, "+1 555 0100", ["vip"])


def test_invalid_input_reopens_the_editor_with_the_errors_at_the_top(crm, editor):
    crm.ok("contact", "add", "Jane Doe")
    seen = editor("s/^birthday:.*/birthday: 2026-13-45/\ns/^first:.*/frist: Jane/",
                  "/^frist/d\ns/^birthday:.*/birthday: 1990-04-23/")  # fmt: skip
    result = crm.ok("contact", "edit", "1", "--editor", "-q")
    assert result.stdout == "1\n"
    second = seen[1].read_text()
    assert second.startswith("# Editing contact 'Jane Doe' (id 1).\n# ERROR: line ")
    assert "'frist: Jane' is not KEY: VALUE" in second
    assert "frist: Jane" in second  # what was typed is kept
    assert crm.json("contact", "show", "1")["birthday"] == "1990-04-23"
    # a value the store refuses reopens it too
    seen = editor("s/^birthday:.*/birthday: 2026-13-45/", "EMPTY")
    crm.ok("contact", "edit", "1", "--editor")
    assert "# ERROR: " in seen[1].read_text() and "birthday" in seen[1].read_text()
    assert crm.json("contact", "show", "1")["birthday"] == "1990-04-23"


def test_an_unchanged_or_emptied_file_changes_nothing(crm, editor):
    crm.ok("contact", "add", "Jane Doe")
    before = crm.json("history")
    editor("")
    assert "Nothing was changed." in crm.ok("contact", "edit", "1", "--editor").stderr
    editor("EMPTY")
    assert "empty: nothing changed" in crm.ok("contact", "edit", "1", "--editor").stderr
    editor("s/^# .*//")  # comments gone, nothing else
    assert "Nothing was changed." in crm.ok("contact", "edit", "1", "--editor").stderr
    assert crm.json("history") == before


def test_edit_without_options_opens_the_editor_only_on_a_terminal(crm, editor, monkeypatch):
    crm.ok("account", "new", "Acme")
    crm.ok("deal", "new", "Skates", "-a", "Acme", "--amount", "10")
    assert "nothing to change" in crm.fails(2, "deal", "edit", "Skates").stderr
    assert "no other change" in crm.fails(2, "deal", "edit", "1", "--editor", "--amount=5").stderr
    monkeypatch.setattr(options, "on_terminal", lambda: True)
    editor("s/^amount:.*/amount: 1,200.50/\ns/^stage:.*/stage: proposal/\ns/^contact:.*/contact:/")
    deal = crm.json("deal", "edit", "Skates")
    assert (deal["amount"], deal["stage"]) == (1200.5, "proposal")
    editor("s/^type:.*/type: friend/",
           "s/^type:.*/type: vendor/\ns/^website:.*/website: acme.example/")  # fmt: skip
    account = crm.json("account", "edit", "Acme")
    assert (account["type"], account["website"]) == ("vendor", "acme.example")


def test_log_in_the_editor_has_hints_that_are_left_out(crm, editor, monkeypatch):
    monkeypatch.setattr(options, "on_terminal", lambda: True)
    seen = editor("1i Called about skates\\\n\\\nThey want 40 pairs.")
    activity = crm.json("log", "--kind", "call")
    assert "# Write the call above this line" in seen[0].read_text()
    assert activity["body"] == "Called about skates\n\nThey want 40 pairs."


def test_contact_add_and_account_new_ask_on_a_terminal(crm, terminal):
    crm.ok("account", "new", "Acme")
    answers = "\nJane Doe\njane@acme.example\n\nAcme\nCTO\n"  # an empty name is asked again
    result = crm.ok("contact", "add", "--json", input=answers)
    contact = json.loads(result.stdout[result.stdout.index("{") :])  # CliRunner echoes input
    assert (contact["name"], contact["email"]) == ("Jane Doe", "jane@acme.example")
    assert contact["phone"] is None
    assert (contact["account"], contact["title"]) == ("Acme", "CTO")
    assert "Name:" in result.stderr and "E-mail" in result.stderr  # questions on stderr
    output = crm.ok("account", "new", "--json", input="Globex\nglobex.example\n\nOslo\n").stdout
    account = json.loads(output[output.index("{") :])
    assert (account["name"], account["website"], account["city"]) == ("Globex", "globex.example",
                                                                      "Oslo")  # fmt: skip
    assert crm.json("contact", "add", "--first", "Bo")["name"] == "Bo"  # given: nothing asked


def test_account_delete_asks_detach_cascade_or_cancel(crm, terminal):
    for name in ("Acme", "Globex"):
        crm.ok("account", "new", name)
        crm.ok("contact", "add", f"Jane {name}", "--account", name)
    cancelled = crm("account", "delete", "Acme", input="maybe\nc\n")
    assert cancelled.exit_code == 0 and "Please answer detach, cascade, cancel." in cancelled.stderr
    assert "has 1 contact and 0 deals." in cancelled.stderr
    assert [c["name"] for c in crm.json("contact", "list")] == ["Jane Globex"]  # cascaded
    assert crm("account", "delete", "Globex", input="cancel\n").exit_code == 1
    crm.ok("account", "delete", "Globex", input="d\n")
    assert crm.json("contact", "show", "Jane Globex")["account"] is None


def test_without_a_terminal_nothing_waits_for_input(installed_crm, tmp_path):
    """stdin a pipe left open: every command that could ask fails at once instead."""
    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db")}
    subprocess.run([installed_crm, "account", "new", "Acme"], env=env, check=True)
    subprocess.run([installed_crm, "contact", "add", "Jane", "-a", "Acme"], env=env, check=True)
    for args, code in ((["contact", "add"], 2), (["account", "delete", "Acme"], 1),
                       (["contact", "edit", "Jane"], 2), (["log"], 2)):  # fmt: skip
        read, write = os.pipe()
        try:
            result = subprocess.run([installed_crm, *args], stdin=read, env=env,
                                    capture_output=True, text=True, timeout=30)  # fmt: skip
        finally:
            os.close(read)
            os.close(write)
        assert result.returncode == code, (args, result)
        assert result.stderr.startswith("Error: ") and "?" not in result.stderr, (args, result)


def test_a_real_terminal_is_asked(installed_crm, tmp_path):
    """Through a pseudo-terminal, as a person types."""
    import pty

    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db"), "TERM": "dumb"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: crm on the terminal
        os.execve(installed_crm, [installed_crm, "contact", "add", "-q"], env)
    seen = b""
    for answer in (b"Jane Doe\n", b"\n", b"\n", b"\n", b"\n"):
        while not seen.rstrip().endswith(b":"):
            seen += os.read(fd, 1024)
        seen = b""
        os.write(fd, answer)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and output.strip().endswith(b"1")
    result = subprocess.run([installed_crm, "contact", "show", "1", "--json"], env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert json.loads(result.stdout)["name"] == "Jane Doe"


def test_tables_sort_names_naturally(crm):
    for number in (1, 10, 100, 2, 20):
        crm.ok("contact", "add", f"Person {number}")
        crm.ok("account", "new", f"Shop {number}")

    def names(*args):
        table = crm.ok(*args, "--columns", "name").stdout
        return [line.strip("│ ") for line in table.splitlines() if " 1" in line or " 2" in line]

    assert names("contact", "list") == [
        "Person 1", "Person 2", "Person 10", "Person 20", "Person 100"
    ]  # fmt: skip
    assert names("list", "accounts", "--sort", "-name") == [
        "Shop 100", "Shop 20", "Shop 10", "Shop 2", "Shop 1"
    ]  # fmt: skip
    # the database sorts so (name_order), data formats and pages too
    assert [c["name"] for c in crm.json("contact", "list", "--sort", "name")][:3] == [
        "Person 1", "Person 2", "Person 10"
    ]  # fmt: skip


def test_the_editor_keeps_what_it_does_not_change(crm, editor):
    text = "# not a comment\n  indented\ntrailing  "
    crm.ok("contact", "add", "Jane Doe", "-e", "a@x.example", "-e", "b@x.example", "-d", text)
    editor("/^email:/d\ns/^title:.*/title: CTO/")  # every e-mail line deleted: none left
    contact = crm.json("contact", "edit", "1", "--editor")
    assert (contact["title"], contact["emails"]) == ("CTO", [])
    assert contact["description"] == text
    editor("s/^description: # not a comment/description: # still not a comment/")
    assert crm.json("contact", "edit", "1", "--editor")["description"] == text.replace(
        "# not", "# still not"
    )


def test_off_a_terminal_a_missing_name_is_a_usage_error(crm):
    assert "NAME" in crm.fails(2, "account", "new").stderr
    assert "needs a name" in crm.fails(2, "contact", "add").stderr


def test_an_accounts_email_and_phone_change_in_the_editor(crm, editor):
    # --email/--phone of account edit take several (a person's): the editor gave a
    # string, read letter by letter ("invalid email 'n'")
    crm.ok("account", "new", "Acme", "--email", "info@acme.example")
    editor("s/^email:.*/email: sales@acme.example/\ns/^phone:.*/phone: +1 555 0100/")
    account = crm.json("account", "edit", "Acme", "--editor")
    assert (account["email"], account["phone"]) == ("sales@acme.example", "+1 555 0100")
    editor("s/^email:.*/email:/")
    assert crm.json("account", "edit", "Acme", "--editor")["email"] is None


def test_a_bad_answer_is_asked_again_not_the_whole_form_lost(crm, terminal):
    # a mistyped e-mail or phone failed the command after every question was answered
    answers = "Jane Doe\njane-at-acme\nwork:jane@acme.example\n555 abc\n+1 555 0100\n\n\n"
    result = crm.ok("contact", "add", "--json", input=answers)
    contact = json.loads(result.stdout[result.stdout.index("{") :])
    assert contact["emails"] == [{"value": "jane@acme.example", "label": "work"}]
    assert contact["phone"] == "+1 555 0100"
    assert "invalid email 'jane-at-acme'" in result.stderr
    output = crm.ok("account", "new", "--json", input="Globex\n\n12 x\n+47 2200\n\n").stdout
    assert json.loads(output[output.index("{") :])["phone"] == "+47 2200"


def test_an_account_that_is_not_there_is_asked_again(crm, terminal):
    crm.ok("account", "new", "Acme")
    result = crm.ok("contact", "add", "--json", input="Jane Doe\n\n\nAcne\nacme\n\n")
    assert json.loads(result.stdout[result.stdout.index("{") :])["account"] == "Acme"
    assert "Acne" in result.stderr


def test_a_person_accounts_editor_leaves_the_persons_e_mails_to_contact_edit(crm, editor):
    # account edit --email adds to a person's e-mails: an e-mail changed in the
    # template was added beside the old one, not put in its place
    crm.ok("account", "new", "Jane Solo", "--kind", "person", "--email", "jane@solo.example")
    seen = editor("s/^type:.*/type: customer/\ns/^email:.*/email: new@solo.example/")
    account = crm.json("account", "edit", "Jane Solo", "--editor")
    template = seen[0].read_text()
    assert "\nemail:" not in template and "\nphone:" not in template
    assert "crm contact edit 1 --editor" in template
    assert account["type"] == "customer"
    assert [e["value"] for e in account["person"]["emails"]] == ["jane@solo.example"]
