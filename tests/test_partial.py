"""crm import --skip-invalid / --rejects FILE, and what --dry-run shows."""

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest


@pytest.fixture(params=["here", "in a child"])
def checked_where(request, monkeypatch):
    """Records checked in this process, then in a second one (as a big file is)."""
    from crmcli import workers

    if request.param == "in a child":
        monkeypatch.setattr(workers, "ELSEWHERE_FROM", 0)


CSV = (
    "Name,E-mail Address,Company,Shoe size\r\n"
    "Jane Doe,jane@acme.example,Acme,42\r\n"
    'Bad One,not-an-email,Acme,"two\r\nlines"\r\n'  # a row of two physical lines
    "Short,short\r\n"  # fewer cells than the header
    "Dup Jane,jane@stored.example,Newco,\r\n"  # conflicts with a stored contact
    "Bob Roe,bob@roe.example,,\r\n"
)


@pytest.mark.usefixtures("checked_where")
def test_skip_invalid_csv_imports_the_rest_and_the_rejects_import_once_fixed(crm, tmp_path):
    crm.ok("contact", "add", "Jane Stored", "--email", "jane@stored.example")
    source, rejects = tmp_path / "in.csv", tmp_path / "rejects.csv"
    source.write_bytes(CSV.encode())
    result = crm.ok("import", str(source), "--skip-invalid", "--rejects", str(rejects))
    assert f"imported 1 account, 2 contacts, rejected 3 (see {rejects})" in result.stderr
    assert sorted(c["name"] for c in crm.json("contact", "list")) == [
        "Bob Roe", "Jane Doe", "Jane Stored"]  # fmt: skip
    # The conflicting row's company was not made for it.
    assert [a["name"] for a in crm.json("account", "list")] == ["Acme"]
    written = rejects.read_bytes().decode()
    assert written == (
        "Name,E-mail Address,Company,Shoe size,crm_rejected\r\n"
        'Bad One,not-an-email,Acme,"two\r\nlines","invalid email \'not-an-email\': it needs a'
        ' name, an @-sign and a domain (name@example.com)"\r\n'
        "Short,short,,,\"invalid email 'short': it needs a name, an @-sign and a domain"
        ' (name@example.com)"\r\n'
        "Dup Jane,jane@stored.example,Newco,,conflicts with contact 1 already stored\r\n"
    )
    assert oct(rejects.stat().st_mode & 0o777) == "0o600"
    fixed = written.replace("not-an-email", "bad@one.example").replace("short,", "short@x.ex,")
    rejects.write_text(fixed.replace("jane@stored", "dup@stored"), newline="")
    none_left = tmp_path / "r2.csv"
    again = crm.ok("import", str(rejects), "--skip-invalid", "--rejects", str(none_left))
    assert "imported 1 account, 3 contacts" in again.stderr and "rejected" not in again.stderr
    assert none_left.read_bytes() == b"Name,E-mail Address,Company,Shoe size,crm_rejected\r\n"
    bad = crm.json("contact", "show", "bad@one.example")
    assert bad["fields"] == {"shoe_size": "two\r\nlines"}  # the reason is not kept
    assert crm.json("contact", "show", "dup@stored.example")["account"] == "Newco"


@pytest.mark.usefixtures("checked_where")
def test_a_partial_import_is_one_operation_that_undo_takes_back(crm, tmp_path):
    crm.ok("contact", "add", "Before", "--email", "before@x.example")
    source = tmp_path / "in.csv"
    source.write_text("name,email\nA,a@x.example\nB,bad\nC,c@x.example\n")
    crm.fails(1, "import", str(source))  # without --skip-invalid: all or nothing
    assert len(crm.json("contact", "list")) == 1
    result = crm.ok("import", str(source), "--skip-invalid")
    assert "imported 2 contacts, rejected 1" in result.stderr
    assert "  line 3: invalid email 'bad'" in result.stderr  # no rejects file: listed
    history = crm.json("history")
    assert "imported 2 contacts, rejected 1" in history[0]["summary"]
    crm.ok("undo")
    assert [c["name"] for c in crm.json("contact", "list")] == ["Before"]


def test_rejects_needs_skip_invalid_and_another_file(crm, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("name,email\nB,bad\n")
    result = crm.fails(2, "import", str(source), "--rejects", str(tmp_path / "r.csv"))
    assert "--skip-invalid" in result.stderr
    result = crm.fails(2, "import", str(source), "--skip-invalid", "--rejects", str(source))
    assert "is the file being imported" in result.stderr
    assert source.read_text() == "name,email\nB,bad\n"
    crm.fails(2, "import", str(source), "--json")  # --json is the dry run's preview
    assert not (tmp_path / "r.csv").exists()


def test_a_rejects_file_that_cannot_be_written_imports_nothing(crm, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("name,email\nA,a@x.example\nB,bad\n")
    missing = tmp_path / "no such folder" / "r.csv"
    result = crm.fails(1, "import", str(source), "--skip-invalid", "--rejects", str(missing))
    assert "cannot create" in result.stderr
    assert crm.json("contact", "list") == [] and crm.json("history") == []


def test_an_update_that_fails_half_way_is_left_out_whole(crm, tmp_path):
    crm.ok("contact", "add", "Ann", "--email", "ann@x.example")
    crm.ok("contact", "add", "Ben", "--email", "ben@x.example")
    source = tmp_path / "in.csv"
    # Ann's row would take Ben's address: refused after Ann's row was updated.
    source.write_text("name,emails,title\nAnn Two,ann@x.example;ben@x.example,CEO\n"
                      "Cy,cy@x.example,CTO\n")  # fmt: skip
    result = crm.ok("import", str(source), "--skip-invalid", "--on-conflict", "update")
    assert "imported 1 contact, rejected 1" in result.stderr and "updated" not in result.stderr
    ann = crm.json("contact", "show", "ann@x.example")
    assert (ann["name"], ann["title"], len(ann["emails"])) == ("Ann", None, 1)


def test_skip_invalid_vcards(crm, tmp_path):
    source, rejects = tmp_path / "in.vcf", tmp_path / "rejects.vcf"
    cards = [
        "BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nEMAIL:jane@vc.example\nEND:VCARD\n",
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bad Card\nEMAIL;TYPE=WORK:bad@vc.example\nX-FOO:bar\n"
        f"TITLE:{'x' * 501}\nEND:VCARD\n",
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEMAIL:bob@vc.example\nEND:VCARD\n",
    ]
    source.write_text("".join(cards))
    result = crm.ok("import", str(source), "--skip-invalid", "--rejects", str(rejects))
    assert "imported 2 contacts, rejected 1" in result.stderr
    written = rejects.read_text()
    assert written.startswith(cards[1].removesuffix("END:VCARD\n"))
    assert written.endswith("\nEND:VCARD\n") and written.count("BEGIN:VCARD") == 1
    assert "X-CRM-REJECTED:title is too long: 501 characters (at most 500)" in (
        written.replace("\n ", "")  # unfolded
    )
    rejects.write_text(written.replace("x" * 501, "Buyer"))
    crm.ok("import", str(rejects))
    bad = crm.json("contact", "show", "bad@vc.example")
    assert bad["name"] == "Bad Card" and "X-CRM-REJECTED" not in json.dumps(bad)


@pytest.mark.usefixtures("checked_where")
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_skip_invalid_json_writes_jsonl_rejects(crm, tmp_path, fmt):
    records = [
        {"record": "contact", "name": "J1", "emails": ["j1@x.example"]},
        {"record": "contact", "name": "J2", "emails": ["bad"], "fields": {"a": "b"}},
        {"record": "deal", "name": "D", "contact_id": 999},
    ]
    source = tmp_path / f"in.{fmt}"
    if fmt == "json":
        plain = [{k: v for k, v in r.items() if k != "record"} for r in records]
        source.write_text(json.dumps({"contacts": plain[:2], "deals": plain[2:]}))
    else:
        source.write_text("".join(json.dumps(r) + "\n" for r in records))
    rejects = tmp_path / "rejects.jsonl"
    result = crm.ok("import", str(source), "--skip-invalid", "--rejects", str(rejects))
    assert "imported 1 contact, rejected 2" in result.stderr
    lines = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [{k: v for k, v in line.items() if k != "crm_rejected"} for line in lines] == records[1:]
    assert lines[0]["crm_rejected"].startswith("invalid email 'bad'")
    assert lines[1]["crm_rejected"] == "contact_id 999 matches no contact"
    lines[0]["emails"] = ["j2@x.example"]
    del lines[1]["contact_id"]
    rejects.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert "imported 1 contact, 1 deal" in crm.ok("import", str(rejects)).stderr
    assert crm.json("contact", "show", "j2@x.example")["fields"] == {"a": "b"}


@pytest.mark.usefixtures("checked_where")
def test_dry_run_shows_the_columns_and_the_first_records(crm, tmp_path):
    source = tmp_path / "in.csv"
    rows = "".join(f"P{i},p{i}@x.example,Acme,{i}\n" for i in range(8))
    source.write_text("Name,E-mail Address,Company,Shoe size\n" + rows + "Bad,bad,,\n")
    crm.fails(1, "import", str(source), "--dry-run")  # all or nothing: the problem
    table = crm.ok("import", str(source), "--dry-run", "--skip-invalid")
    assert "would have imported 1 account, 8 contacts, rejected 1" in table.stderr
    lines = table.stdout.splitlines()
    assert any("E-mail Address" in line and "e-mail" in line for line in lines)
    assert any("Shoe size" in line and "shoe_size" in line for line in lines)
    assert "The first 5 contacts, as they would be stored:" in table.stdout
    assert "P4" in table.stdout and "P5" not in table.stdout
    preview = json.loads(crm.ok("import", str(source), "--dry-run", "--skip-invalid",
                                "--json").stdout)  # fmt: skip
    assert [c["column"] for c in preview["columns"]] == [
        "Name", "E-mail Address", "Company", "Shoe size"]  # fmt: skip
    assert "shoe_size" in preview["columns"][3]["read_as"]
    first = preview["records"][0]
    assert (first["record"], first["name"], first["account"], first["fields"]) == (
        "contact", "P0", "Acme", {"shoe_size": "0"})  # fmt: skip
    assert len(preview["records"]) == 5 and preview["created"] == {"accounts": 1, "contacts": 8}
    assert preview["rejected"] == [{"where": "line 10", "reason": preview["rejected"][0]["reason"]}]
    assert crm.json("contact", "list") == [] and crm.json("account", "list") == []


def test_dry_run_of_vcards_shows_what_was_read_and_what_was_kept(crm, tmp_path):
    source = tmp_path / "in.vcf"
    source.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nEMAIL:jane@vc.example\nX-FOO:bar\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEMAIL:bob@vc.example\nEND:VCARD\n"
    )
    preview = json.loads(crm.ok("import", str(source), "--dry-run", "--json").stdout)
    by_name = {row["property"]: row for row in preview["properties"]}
    assert set(by_name) == {"FN", "EMAIL", "X-FOO"}
    assert (by_name["EMAIL"]["cards"], by_name["EMAIL"]["read_as"]) == (2, "read into fields")
    assert (by_name["X-FOO"]["cards"], by_name["X-FOO"]["read_as"]) == (1, "kept as is")
    assert [r["name"] for r in preview["records"]] == ["Jane", "Bob"]
    table = crm.ok("import", str(source), "--dry-run").stdout
    assert "X-FOO" in table and "kept as is" in table and "Jane" in table
    assert crm.json("contact", "list") == []


def test_ctrl_c_while_the_rejects_are_written_leaves_nothing(run, tmp_path, installed_crm):
    """The rejects are written inside the import's transaction: stopped there (a
    FIFO nobody reads on blocks it mid-way), nothing of the import stays."""
    run("account", "new", "Before")
    big = tmp_path / "big.jsonl"
    with big.open("w") as file:
        for i in range(20_000):
            email = f"p{i}@x.example" if i % 10 else "bad"
            file.write(json.dumps({"record": "contact", "name": f"P {i}",
                                   "emails": [email]}) + "\n")  # fmt: skip
    fifo = tmp_path / "rejects.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [installed_crm, "import", str(big), "--skip-invalid", "--rejects", str(fifo)],
        env=run.env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # never waits for a writer
    try:
        first = _first_line(reader, proc)
        assert json.loads(first)["crm_rejected"].startswith("invalid email")
        # 2,000 rejects are more than the pipe holds: crm waits to write the rest.
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(reader)
    assert proc.returncode == 130, err
    db = sqlite3.connect(run.env["CRM_DB"])
    assert db.execute("SELECT count(*) FROM contacts").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM operations").fetchone() == (1,)
    rejects = tmp_path / "rejects.jsonl"
    done = run("import", str(big), "--skip-invalid", "--rejects", str(rejects))
    assert "imported 18,000 contacts, rejected 2,000" in done.stderr
    assert len(rejects.read_text().splitlines()) == 2000
    names = [name for name in os.listdir(tmp_path) if not name.startswith("crm.db")]
    assert sorted(names) == ["big.jsonl", "rejects.fifo", "rejects.jsonl"]


def _first_line(fd: int, proc: subprocess.Popen) -> str:
    """The first line written into a FIFO, while the process writing it runs."""
    import select

    data, deadline = b"", time.monotonic() + 60
    while b"\n" not in data:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        if select.select([fd], [], [], 0.1)[0]:
            data += os.read(fd, 4096)
    return data.split(b"\n")[0].decode()


def test_rejects_of_a_semicolon_csv_after_a_preamble_keep_its_header_and_delimiter(crm, tmp_path):
    source, rejects = tmp_path / "in.csv", tmp_path / "rejects.csv"
    source.write_text(
        'Notes:\n"Exported; by someone"\n\nFirst Name;Last Name;Email Address\n'
        "Ann;Lee;ann@x.example\nBen;Roe;ben-at-x\n"
    )
    crm.ok("import", str(source), "--skip-invalid", "--rejects", str(rejects))
    lines = rejects.read_text().splitlines()
    assert lines[0] == "First Name;Last Name;Email Address;crm_rejected"
    assert lines[1].startswith("Ben;Roe;ben-at-x;invalid email 'ben-at-x'") and len(lines) == 2
