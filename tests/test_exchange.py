"""crm export and crm import: round trips, real-world files, all-or-nothing."""

import io
import json
import os
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def export(crm, *args) -> str:
    return crm.ok("export", *args).stdout


def without_stamp(text: str) -> str:
    header, _, rest = text.partition("\n")
    return header.split('"exported_at"')[0] + rest


@pytest.fixture
def other_db(tmp_path):
    return {"CRM_DB": str(tmp_path / "other.db")}


@pytest.fixture(params=["here", "in a child"])
def checked_where(request, monkeypatch):
    """Run the test with records checked in this process, then in a second one
    (as a big file is)."""
    from crmcli import workers

    if request.param == "in a child":
        monkeypatch.setattr(workers, "ELSEWHERE_FROM", 0)


@pytest.mark.usefixtures("checked_where")
def test_json_backup_round_trip_is_identical(crm, other_db):
    crm.ok("demo")
    crm.ok("contact", "edit", "Jane Q. Doe", "--set", "source=fair", "--tag", "vip")
    crm.ok("task", "done", "1")
    backup = export(crm)
    document = json.loads(backup)
    assert document["crmcli"] == 1 and len(document["contacts"]) == 6
    result = crm.ok("import", "-", "--format", "json", input=backup, env=other_db)
    assert "imported 5 accounts, 6 contacts, 6 deals, 4 activities, 4 tasks" in result.stderr
    again = crm.ok("export", env=other_db).stdout
    assert without_stamp(again) == without_stamp(backup)


def test_small_batches_between_other_writes_keep_everything_in_step(crm, other_db, monkeypatch):
    """Batches of two: full batches are written with the triggers lifted, between
    deals, tasks and updates written with them on."""
    from crmcli.store import bulk

    monkeypatch.setattr(bulk, "DEFAULT_SIZE", 2)
    crm.ok("demo")
    backup = export(crm)
    crm.ok("import", "-", "--format", "json", input=backup, env=other_db)
    assert without_stamp(crm.ok("export", env=other_db).stdout) == without_stamp(backup)
    assert crm.ok("db", "check", env=other_db).stderr == "database ok\n"
    again = crm.ok("import", "-", "-f", "json", "--on-conflict", "update", input=backup,
                   env=other_db)  # fmt: skip
    assert "updated" in again.stderr
    assert crm.ok("db", "check", env=other_db).stderr == "database ok\n"
    # The update is an operation only if it changed something (updated_at: the clock).
    for operation in crm.json("history", env=other_db):
        crm.ok("undo", str(operation["id"]), env=other_db)
    assert crm.json("list", env=other_db) == []
    assert crm.ok("db", "check", env=other_db).stderr == "database ok\n"


def test_jsonl_lines_end_at_newlines_only(crm):
    """Raw U+2028, NEL and \x1c are text inside a JSON string, not line ends."""
    rows = [{"name": "Ann Lee", "description": "a\u2028b\x85c\x1cd"}, {"name": "Bo Ng"}]
    text = "\r\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\r\n\n{oops\n"
    assert "line 4: not valid JSON" in crm.fails(1, "import", "-", "-f", "jsonl", input=text).stderr
    crm.ok("import", "-", "-f", "jsonl", input=text.removesuffix("{oops\n"))
    assert crm.json("contact", "show", "Ann Lee")["description"] == "a\u2028b\x85c\x1cd"


def test_jsonl_round_trip(crm, other_db):
    crm.ok("demo")
    lines = export(crm, "--format", "jsonl")
    assert json.loads(lines.splitlines()[0])["record"] == "account"
    crm.ok("import", "-", "-f", "jsonl", input=lines, env=other_db)
    assert crm.ok("export", "-f", "jsonl", env=other_db).stdout == lines


@pytest.mark.usefixtures("checked_where")
def test_csv_round_trip_and_formula_defusing(crm, other_db):
    crm.ok("account", "new", "=HYPERLINK(evil)")
    crm.ok("contact", "add", "Jane Doe", "--account", "=HYPERLINK(evil)",
           "--email", "work:jane@acme.example", "--phone", "mobile:+1 555 0100",
           "--tag", "vip", "--tag", "@home", "--set", "tier=gold")  # fmt: skip
    text = export(crm, "--format", "csv")
    assert ",'+1 555 0100," in text and ",'=HYPERLINK(evil)," in text
    crm.ok("import", "-", "-f", "csv", input=text, env=other_db)
    jane = crm.json("contact", "show", "Jane Doe", env=other_db)
    assert jane["account"] == "=HYPERLINK(evil)" and jane["phone"] == "+1 555 0100"
    assert jane["emails"] == [{"value": "jane@acme.example", "label": "work"}]
    assert jane["phones"] == [{"value": "+1 555 0100", "label": "mobile"}]
    assert jane["tags"] == ["vip", "@home"] and jane["fields"] == {"tier": "gold"}


GOOGLE = (
    "Name,Given Name,Family Name,Nickname,Birthday,Notes,Group Membership,"
    "E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,"
    "Phone 1 - Type,Phone 1 - Value,Organization 1 - Name,Organization 1 - Title,"
    "Address 1 - Street,Address 1 - City,Address 1 - Postal Code\n"
    'Jane Doe,Jane,Doe,JD,1990-04-23,"Met at the fair, twice",* myContacts ::: VIP,'
    "* Work,jane@acme.example,Home,jane@home.example ::: jd@home.example,"
    "Mobile,+1 555 0100,Acme Corp,CTO,1 Road,Springfield,62701\n"
)
OUTLOOK = (
    "First Name,Middle Name,Last Name,Title,Company,Department,Job Title,Business Street,"
    "Business City,Business Phone,Mobile Phone,E-mail Address,E-mail 2 Address,Categories\n"
    "Anna,,Smith,Dr.,Initech,R&D,Engineer,2 Lane,Austin,+1 555 0200,+1 555 0201,"
    "anna@initech.example,anna.s@mail.example,Customers;Key\n"
)


@pytest.mark.usefixtures("checked_where")
def test_google_contacts_csv(crm, tmp_path):
    path = tmp_path / "google.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOGLE.encode())  # with a BOM, as Google writes it
    assert "imported 1 account, 1 contact" in crm.ok("import", str(path)).stderr
    jane = crm.json("contact", "show", "Jane Doe")
    assert (jane["first_name"], jane["title"], jane["account"]) == ("Jane", "CTO", "Acme Corp")
    assert [(e["label"], e["value"]) for e in jane["emails"]] == [
        ("work", "jane@acme.example"),
        ("home", "jane@home.example"),
        ("home", "jd@home.example"),
    ]
    assert jane["phones"] == [{"value": "+1 555 0100", "label": "mobile"}]
    assert jane["tags"] == ["VIP"] and jane["birthday"] == "1990-04-23"
    assert jane["nickname"] == "JD" and jane["fields"] == {} and jane["postal_code"] == "62701"
    assert jane["addresses"][0]["label"] is None  # Google's had none


@pytest.mark.usefixtures("checked_where")
def test_a_company_column_reuses_stored_accounts_and_makes_the_rest(crm, tmp_path):
    crm.ok("account", "new", "Acme Corp")
    path = tmp_path / "in.csv"
    path.write_text("name,company\nA One,ACME CORP\nB Two,New Co\nC Three,new co\nD Four,\n")
    assert "imported 1 account, 4 contacts" in crm.ok("import", str(path)).stderr
    linked = {c["name"]: c["account"] for c in crm.json("contact", "list")}
    assert linked == {"A One": "Acme Corp", "B Two": "New Co", "C Three": "New Co", "D Four": None}
    assert crm.ok("db", "check").stderr == "database ok\n"


def test_outlook_csv(crm, tmp_path):
    path = tmp_path / "outlook.csv"
    path.write_text(OUTLOOK)
    crm.ok("import", str(path))
    anna = crm.json("contact", "show", "anna@initech.example")
    assert (anna["title"], anna["department"], anna["account"]) == ("Engineer", "R&D", "Initech")
    assert anna["fields"] == {} and anna["prefix"] == "Dr."
    assert anna["addresses"][0]["label"] == "work" and anna["city"] == "Austin"
    assert [p["label"] for p in anna["phones"]] == ["work", "mobile"]
    assert anna["tags"] == ["Customers", "Key"] and len(anna["emails"]) == 2


def test_map_option(crm, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Person,Mail,Firm\nJane Doe,jane@acme.example,Acme\n")
    crm.fails(1, "import", str(path))  # no name column recognised
    crm.ok("import", str(path), "--map", "Person=name", "--map", "Mail=email",
           "--map", "Firm=account")  # fmt: skip
    assert crm.json("contact", "show", "jane@acme.example")["account"] == "Acme"


@pytest.mark.usefixtures("checked_where")
def test_a_bad_row_rejects_the_whole_file(crm, tmp_path):
    rows = ["name,email,birthday"] + [f"P{i},p{i}@x.example," for i in range(30)]
    rows[3] = "Bad One,not-an-email,"
    rows[7] = "Bad Two,b2@x.example,31/02/2020"
    path = tmp_path / "contacts.csv"
    path.write_text("\n".join(rows) + "\n")
    result = crm.fails(1, "import", str(path))
    assert "2 problems" in result.stderr
    assert "line 4: invalid email 'not-an-email'" in result.stderr
    assert "line 8: invalid birthday" in result.stderr
    assert crm.json("contact", "list") == []


@pytest.mark.usefixtures("checked_where")
def test_many_problems_list_the_first_20_then_count(crm, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,email\n" + "".join(f"P{i},bad{i}\n" for i in range(25)))
    result = crm.fails(1, "import", str(path))
    assert result.stderr.count("invalid email") == 20 and "... and 5 more" in result.stderr


@pytest.mark.usefixtures("checked_where")
def test_conflicts_error_skip_update(crm, tmp_path):
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example", "--tag", "old")
    path = tmp_path / "in.csv"
    path.write_text(
        "name,emails,title,tags\nJane D.,jane@acme.example;home:j@home.example,CTO,new\n"
        "Bob Roe,bob@roe.example,,\n"
    )
    result = crm.fails(1, "import", str(path))
    assert "line 2: conflicts with contact 1" in result.stderr
    assert len(crm.json("contact", "list")) == 1
    assert "imported 1 contact, skipped 1" in crm.ok("import", str(path), "--on-conflict",
                                                     "skip").stderr  # fmt: skip
    assert crm.json("contact", "show", "1")["title"] is None
    crm.ok("import", str(path), "--on-conflict", "update")
    jane = crm.json("contact", "show", "1")
    assert (jane["name"], jane["title"]) == ("Jane D.", "CTO")
    assert [e["value"] for e in jane["emails"]] == ["jane@acme.example", "j@home.example"]
    assert jane["tags"] == ["old", "new"]


@pytest.mark.usefixtures("checked_where")
def test_dry_run_writes_nothing(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,email,company\nJane Doe,jane@acme.example,Acme\n")
    result = crm.ok("import", str(path), "--dry-run")
    assert "dry run" in result.stderr and "1 contact" in result.stderr
    assert crm.json("contact", "list") == [] and crm.json("account", "list") == []


def test_encodings(crm, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,city\nJosé Müller,Zürich\n".encode("latin-1"))
    result = crm.fails(1, "import", str(path))
    assert "not valid utf-8" in result.stderr and "--encoding" in result.stderr
    crm.ok("import", str(path), "--encoding", "latin-1")
    assert crm.json("contact", "list")[0]["city"] == "Zürich"
    crm.fails(2, "import", str(path), "--encoding", "klingon")


def test_unknown_format_and_missing_file(crm, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    assert "--format" in crm.fails(2, "import", str(tmp_path / "notes.txt")).stderr
    crm.fails(1, "import", str(tmp_path / "missing.csv"))
    assert "not valid JSON" in crm.fails(1, "import", "-", "-f", "json", input="{oops").stderr


@pytest.mark.usefixtures("checked_where")
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"contacts": [{"name": "A B"}], "accounts": [{"name": "X"}]}',
         "the backup lists accounts after contacts"),
        ('{"contacts": [{"name": "A B"}], "contacts": []}', "lists contacts after contacts"),
        ('{"contacts": {"name": "A B"}}', "contacts must be a list of records"),
        ('{"contacts": [{"name": "A B"}, 7]}', "contacts #2 is not a record"),
        ('{"contacts": [{"name": "A B"}, {"name": "C D"' + " " * 2_000_000 + "]}",
         "not valid JSON: Expecting"),
        ('[{"name": "A B"}] [', "expected the end of the file: line 1 column 19"),
        ('{"crmcli": 1}', "holds no accounts, contacts"),
        ('[{"name": "A B"}', "not valid JSON: expected ']'"),
    ],
)  # fmt: skip
def test_json_read_a_record_at_a_time_still_refuses_bad_files_whole(crm, text, error):
    """JSON backups are decoded a record at a time; a fault anywhere, even after
    records were written, still rejects the whole file."""
    assert error in crm.fails(1, "import", "-", "-f", "json", input=text).stderr
    assert crm.json("list") == []


def test_json_header_keys_and_a_plain_list(crm):
    backup = '{"crmcli": 1, "note": {"x": [1, 2]}, "accounts": [{"name": "X"}], "tasks": []}\n'
    assert "imported 1 account" in crm.ok("import", "-", "-f", "json", input=backup).stderr
    people = ' [ {"name": "A B", "account": "X"} ,\n{"name": "C D"} ] \n'
    result = crm.ok("import", "-", "-f", "json", "--kind", "contacts", input=people)
    assert "imported 2 contacts" in result.stderr
    assert crm.json("contact", "show", "A B")["account"] == "X"


VCARDS = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller\r\n"
    "TEL;CELL:+49 171 1234567\r\nEMAIL;INTERNET;WORK:juergen@firma.example\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;Q.;;\r\nFN:Jane Q. Doe\r\n"
    "ORG:Acme Corp;Sales\r\nTITLE:CTO\r\nROLE:Decision maker\r\n"
    "item1.EMAIL;TYPE=INTERNET,pref:jane@acme.example\r\nitem1.X-ABLabel:Work\r\n"
    "EMAIL;TYPE=HOME:jane@home.example\r\nADR;TYPE=WORK:;;1 Road\\, Suite 2;Springfield;IL;"
    "62701;USA\r\nBDAY:1990-04-23\r\nCATEGORIES:VIP,Customers\r\nUID:abc-123\r\n"
    "X-SKYPE:jane.doe\r\nNOTE:A note that goes on and on and on and on and on and on and\r\n"
    "  continues on a folded line.\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zoë Ångström\r\nN:Ångström;Zoë;;;\r\n"
    "EMAIL;TYPE=work;PREF=1:zoe@cyberdyne.example\r\nTEL;VALUE=uri;TYPE=cell:tel:+1-555-0100"
    "\r\nBDAY:--0415\r\nEND:VCARD\r\n"
)


@pytest.mark.usefixtures("checked_where")
def test_vcard_import(crm):
    assert "3 contacts" in crm.ok("import", "-", "-f", "vcf", input=VCARDS).stderr
    jurgen = crm.json("contact", "show", "Jürgen Müller")
    assert jurgen["emails"] == [{"value": "juergen@firma.example", "label": "work"}]
    assert jurgen["phones"] == [{"value": "+49 171 1234567", "label": "mobile"}]
    jane = crm.json("contact", "show", "jane@acme.example")
    assert (jane["first_name"], jane["last_name"], jane["account"]) == ("Jane", "Doe", "Acme Corp")
    assert jane["emails"][0] == {"value": "jane@acme.example", "label": "work"}
    assert jane["street"] == "1 Road, Suite 2" and jane["birthday"] == "1990-04-23"
    assert jane["description"].endswith("continues on a folded line.")
    assert jane["tags"] == ["VIP", "Customers"]
    assert jane["fields"] == {"role": "Decision maker", "uid": "abc-123"}  # X-SKYPE: impps
    zoe = crm.json("contact", "show", "Zoë Ångström")
    assert zoe["birthday"] == "--04-15" and zoe["fields"] == {} and zoe["phone"] == "+1-555-0100"


@pytest.mark.usefixtures("checked_where")
def test_a_broken_vcard_rejects_the_file(crm):
    broken = VCARDS.replace("END:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0", "BEGIN:VCARD\r\nVERSION:4.0")
    crm.fails(1, "import", "-", "-f", "vcf", input=broken)
    crm.fails(1, "import", "-", "-f", "vcf", input="BEGIN:VCARD\r\nFN:x\r\n")
    assert crm.json("contact", "list") == []


@pytest.mark.usefixtures("checked_where")
def test_a_broken_card_after_hundreds_of_good_ones_rejects_the_file(crm, monkeypatch):
    """Cards are parsed one at a time, so the broken one is met after others were
    written (batches of 100 here): the file is still refused whole."""
    from crmcli.store import bulk

    monkeypatch.setattr(bulk, "DEFAULT_SIZE", 100)
    good = "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:P {i}\r\nN:{i};P;;;\r\n"
        f"EMAIL:p{i}@x.example\r\nEND:VCARD\r\n"
        for i in range(300)
    )
    broken = good + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half\r\n"
    assert "not a valid vCard file" in crm.fails(1, "import", "-", "-f", "vcf", input=broken).stderr
    assert crm.json("list") == []
    assert "imported 300 contacts" in crm.ok("import", "-", "-f", "vcf", input=good).stderr


def test_our_vcards_read_back_by_vobject_cannot_be_forged(crm):
    import vobject

    crm.ok("account", "new", 'Acme; Inc, "Ltd"')
    nasty = "Jane\nEND:VCARD\nBEGIN:VCARD\nFN:Mallory"
    crm.ok("contact", "add", "--first", nasty, "--last", "O;Brien, Jr.", "--account",
           "Acme; Inc, \"Ltd\"", "--email", "work:jane@acme.example", "--phone", "+1 555 0100",
           "--description", "line one\nline two; with, commas\\", "--tag", "a,b",
           "--birthday", "1990-04-23", "--title", "x" * 200)  # fmt: skip
    for version in ("4.0", "3.0"):
        # CliRunner's .stdout turns CRLF into LF; vCards need the bytes as written.
        text = crm.ok("export", "-f", "vcf", "--vcard-version", version).stdout_bytes.decode()
        assert text.endswith("END:VCARD\r\n") and "\n" not in text.replace("\r\n", "")
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        (card,) = list(vobject.readComponents(text))
        assert card.fn.value == f"{nasty} O;Brien, Jr."
        assert card.n.value.family == "O;Brien, Jr." and card.n.value.given == nasty
        assert card.org.value == ['Acme; Inc, "Ltd"']
        assert card.note.value == "line one\nline two; with, commas\\"
        assert card.email.value == "jane@acme.example" and card.categories.value == ["a,b"]
        assert card.title.value == "x" * 200 and card.bday.value == "1990-04-23"
    crm.ok("import", "-", "-f", "vcf", "--on-conflict", "update", input=text)
    assert len(crm.json("contact", "list")) == 1


def test_export_to_a_file_is_private_and_atomic(crm, tmp_path):
    crm.ok("demo")
    target = tmp_path / "backup.json"
    target.write_text("old content")
    crm.ok("export", "-o", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["crmcli"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")] == []
    crm.fails(1, "export", "-o", str(tmp_path / "missing" / "x.json"))
    assert "contacts or accounts" in crm.fails(2, "export", "-f", "vcf", "--kind", "deals").stderr


def test_export_kinds_and_csv_of_other_kinds(crm):
    crm.ok("demo")
    only = json.loads(export(crm, "--kind", "deals"))
    assert set(only) == {"crmcli", "version", "schema_version", "exported_at", "deals"}
    deals = export(crm, "-f", "tsv", "--kind", "deals").splitlines()
    assert deals[0].split("\t")[:3] == ["id", "name", "account_id"] and len(deals) == 7


def test_killing_an_import_leaves_the_database_as_it_was(run, tmp_path, installed_crm):
    run("account", "new", "Before")
    big = tmp_path / "big.jsonl"
    with big.open("w") as file:
        for i in range(100_000):
            file.write(json.dumps({"record": "contact", "name": f"P {i}",
                                   "emails": [f"p{i}@x.example"]}) + "\n")  # fmt: skip
    proc = subprocess.Popen([installed_crm, "import", str(big)], env=run.env,
                            stderr=subprocess.PIPE)  # fmt: skip
    # Killed once it has written into the database's log, well before it ends.
    wal, deadline = Path(run.env["CRM_DB"] + "-wal"), time.monotonic() + 20
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 2**20):
        time.sleep(0.02)
    checking = _children(proc.pid)  # the process that checks the records (crmcli.workers)
    assert len(checking) == 1
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _ended(checking[0]):
        time.sleep(0.05)
    assert _ended(checking[0]), "the checking process outlived the killed import"
    db = sqlite3.connect(run.env["CRM_DB"])
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM contacts").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM accounts").fetchone() == (1,)
    assert os.path.getsize(run.env["CRM_DB"]) > 0


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _ended(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (it runs no more)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


@pytest.mark.usefixtures("checked_where")
def test_every_kind_round_trips_through_csv(crm, other_db):
    crm.ok("demo")
    kinds = ("accounts", "contacts", "deals", "activities", "tasks")
    texts = {kind: export(crm, "-f", "csv", "--kind", kind) for kind in kinds}
    for kind in kinds:  # in this order, so every link finds its record
        crm.ok("import", "-", "-f", "csv", "--kind", kind, input=texts[kind], env=other_db)
    for kind in kinds:
        assert crm.ok("export", "-f", "csv", "--kind", kind, env=other_db).stdout == texts[kind]
    # Rows written in batches carry the same search entries and summaries as the triggers'.
    assert crm.ok("db", "check", env=other_db).stderr == "database ok\n"
    assert crm.json("search", "555", env=other_db) == crm.json("search", "555")


@pytest.mark.usefixtures("checked_where")
def test_an_update_that_would_clash_is_a_listed_problem(crm, tmp_path):
    crm.ok("account", "new", "Acme")
    crm.ok("account", "new", "Globex")
    path = tmp_path / "accounts.csv"
    path.write_text("id,name\n1,GLOBEX\n")
    result = crm.fails(1, "import", str(path), "--kind", "accounts", "--on-conflict", "update")
    assert "line 2: clashes with a stored record" in result.stderr
    assert [a["name"] for a in crm.json("account", "list")] == ["Acme", "Globex"]


def test_deal_rows_with_bad_numbers_are_listed_problems(crm, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text("name,account,probability,amount\nA,Acme,abc,10\nB,Acme,50,-3\n")
    result = crm.fails(1, "import", str(path), "--kind", "deals")
    assert "line 2: probability is a whole number" in result.stderr
    assert "line 3: invalid amount" in result.stderr


@pytest.mark.usefixtures("checked_where")
def test_a_file_that_cannot_be_read_on_is_refused_whole(crm, tmp_path):
    rows = [f"P{i},p{i}@x.example" for i in range(3000)]
    rows.insert(2000, "Huge," + "x" * 2_100_000)  # past the field limit (2 MB: a TSV description)
    path = tmp_path / "broken.csv"
    path.write_text("Name,Email\n" + "\n".join(rows) + "\n")
    result = crm.fails(1, "import", str(path))
    assert "line 2002" in result.stderr and "field larger than field limit" in result.stderr
    assert crm.json("list") == []


@pytest.mark.usefixtures("checked_where")
def test_repeated_addresses_across_batches_are_conflicts(crm, tmp_path):
    """Rows are written in batches and their addresses looked up a chunk at a time:
    a repeat just before or after a batch is written is caught all the same: a
    conflict in crm's own JSONL, merged into the first in another program's CSV."""
    rows, records, repeats = [], [], 0
    for i in range(12_000):
        email = f"p{i - 3}@x.example" if i % 997 == 0 and i else f"p{i}@x.example"
        repeats += email != f"p{i}@x.example"
        # the CSV's repeat has the first's name too: another's name is another person
        rows.append(f"P {i - 3 if email != f'p{i}@x.example' else i},{email},Company {i % 700}")
        record = {"name": f"P {i}", "email": email, "account": f"Company {i % 700}"}
        records.append(json.dumps(record))
    path = tmp_path / "repeats.jsonl"
    path.write_text("\n".join(records) + "\n")
    refused = crm.fails(1, "import", str(path), "--kind", "contacts")
    assert f"{repeats:,} problems" in refused.stderr
    assert "line 998: the same e-mail as line 995\n" in refused.stderr  # not one stored
    skipped = crm.ok("import", str(path), "--kind", "contacts", "--on-conflict", "skip")
    assert f"imported 700 accounts, {12_000 - repeats:,} contacts, skipped {repeats}" in (
        skipped.stderr
    )
    assert crm.ok("db", "check").stderr == "database ok\n"
    path = tmp_path / "repeats.csv"
    path.write_text("Name,Email,Company\n" + "\n".join(rows) + "\n")
    merged = crm.ok("import", str(path), env={"CRM_DB": str(tmp_path / "other.db")})
    assert f"imported 700 accounts, {12_000 - repeats:,} contacts ({repeats} rows merged" in (
        merged.stderr
    )
    assert crm.ok("db", "check", env={"CRM_DB": str(tmp_path / "other.db")}).stderr == (
        "database ok\n"
    )


@pytest.mark.usefixtures("checked_where")
@pytest.mark.parametrize("batch", [2, 5000])
def test_ids_taken_before_or_during_the_import_are_conflicts(crm, monkeypatch, batch):
    """A record's id is taken when it was stored, made earlier in the same file
    (given or handed out), written since or still waiting in the batch."""
    from crmcli.store import bulk

    monkeypatch.setattr(bulk, "DEFAULT_SIZE", batch)
    crm.ok("contact", "add", "Kept Here")  # id 1
    people = [{"name": f"P {i}", "id": 10 + i} for i in range(1200)]
    people[5] = {"name": "No Id"}  # handed out 15, after the largest id given before it
    people += [{"name": "Again 1", "id": 1}, {"name": "Again 10", "id": 10},
               {"name": "Again 1100", "id": 1100}, {"name": "Again 15", "id": 15}]  # fmt: skip
    text = json.dumps(people)
    refused = crm.fails(1, "import", "-", "-f", "json", "--kind", "contacts", input=text)
    assert "4 problems" in refused.stderr
    assert "contacts #1201: conflicts with contact 1 already stored" in refused.stderr
    for line, taken, first in ((1202, 10, 1), (1203, 1100, 1091), (1204, 15, 6)):  # this file's
        assert f"contacts #{line}: id {taken} is taken by contacts #{first}\n" in refused.stderr
    skipped = crm.ok("import", "-", "-f", "json", "--kind", "contacts", "--on-conflict", "skip",
                     input=text)  # fmt: skip
    assert "imported 1,200 contacts, skipped 4" in skipped.stderr
    assert crm.json("contact", "show", "15")["name"] == "No Id"
    assert crm.ok("db", "check").stderr == "database ok\n"


@pytest.mark.usefixtures("checked_where")
def test_imported_timeline_keeps_last_contacted_and_undo_puts_it_back(crm, monkeypatch):
    """Deals, activities and tasks are written many to a statement; a contact's
    last_contacted is brought up to date once a batch, and logged for undo."""
    from crmcli.store import bulk

    monkeypatch.setattr(bulk, "DEFAULT_SIZE", 3)
    crm.ok("contact", "add", "Ann Old")  # 1
    crm.ok("contact", "add", "Bob Old")  # 2
    call = {"kind": "call", "subject": "Rang", "contact_id": 1, "at": "2026-03-01T10:00:00Z"}
    crm.ok("import", "-", "-f", "json", "--kind", "activities", input=json.dumps([call]))
    timeline = [
        {"record": "contact", "id": 7, "name": "Cy New"},
        {"record": "deal", "id": 4, "name": "Big one", "contact_id": 7, "amount": "10"},
        {"record": "activity", "kind": "note", "body": "later, but a note", "contact_id": 1,
         "at": "2026-05-01T10:00:00Z"},
        {"record": "activity", "kind": "meeting", "subject": "earlier", "contact_id": 1,
         "at": "2026-02-01T10:00:00Z"},
        {"record": "activity", "kind": "email", "subject": "Hello", "contact_id": 2,
         "at": "2026-04-01T10:00:00Z"},
        {"record": "activity", "kind": "call", "subject": "About the deal", "contact_id": 7,
         "deal_id": 4, "at": "2026-04-02T10:00:00Z"},
        {"record": "task", "title": "Send terms", "contact_id": 7, "deal_id": 4},
    ]  # fmt: skip
    text = "\n".join(json.dumps(record) for record in timeline)
    result = crm.ok("import", "-", "-f", "jsonl", input=text)
    assert "imported 1 contact, 1 deal, 4 activities, 1 task" in result.stderr
    seen = {c["name"]: c["last_contacted"] for c in crm.json("contact", "list")}
    assert seen == {"Ann Old": "2026-03-01T10:00:00Z", "Bob Old": "2026-04-01T10:00:00Z",
                    "Cy New": "2026-04-02T10:00:00Z"}  # fmt: skip
    assert [hit["name"] for hit in crm.json("search", "about deal")] == ["About the deal"]
    assert crm.json("task", "list")[0]["deal_id"] == 4
    assert crm.ok("db", "check").stderr == "database ok\n"
    crm.ok("undo")
    seen = {c["name"]: c["last_contacted"] for c in crm.json("contact", "list")}
    assert seen == {"Ann Old": "2026-03-01T10:00:00Z", "Bob Old": None}
    assert crm.json("search", "about") == [] and crm.json("deal", "list") == []
    assert crm.ok("db", "check").stderr == "database ok\n"


@settings(derandomize=True, max_examples=200)
@given(st.text(alphabet='a,"\r\n\u2028é', max_size=40))
def test_csv_lines_split_where_stringio_splits_them(text):
    from crmcli.formats.table import _lines

    assert list(_lines(text)) == list(io.StringIO(text, newline=""))


@pytest.mark.usefixtures("checked_where")
def test_an_account_updated_by_its_own_import_is_searchable_once(crm):
    accounts = [{"name": "Acme", "city": "Austin"}, {"name": "ACME", "city": "Lyon"}]
    crm.ok("import", "-", "-f", "json", "--kind", "accounts", "--on-conflict", "update",
           input=json.dumps(accounts))  # fmt: skip
    assert [hit["name"] for hit in crm.json("search", "lyon")] == ["ACME"]
    assert crm.json("search", "austin") == []
    assert crm.ok("db", "check").stderr == "database ok\n"


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_backup_restores_tags_stored_before_the_tag_rule(crm, tmp_path, db_path, other_db, fmt):
    """A database upgraded from an older crm may hold tags a new tag cannot (`;`, control
    characters): its JSON backup still restores them exactly."""
    crm.ok("account", "add", "Acme")
    crm.ok("contact", "add", "Jane", "--tag", "t")
    with sqlite3.connect(db_path) as conn:
        old = json.dumps(["k;v", "x\x1by"])
        conn.execute("UPDATE accounts SET tags = ?", (old,))
        conn.execute("UPDATE contacts SET tags = ?", (old,))
    backup = tmp_path / f"e.{fmt}"
    crm.ok("export", "-f", fmt, "-o", str(backup))
    crm.ok("import", str(backup), env=other_db)
    restored = crm.ok("export", env=other_db).stdout
    assert without_stamp(restored) == without_stamp(export(crm))
    assert crm.json("account", "show", "Acme", env=other_db)["tags"] == ["k;v", "x\x1by"]
