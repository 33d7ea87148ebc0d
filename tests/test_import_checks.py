"""What crm import refuses, and what it says: timestamps and dates, rows of one file
that clash with each other, labels, huge numbers, broken CSV."""

import json

import pytest


def _import(crm, tmp_path, name: str, text: str, *args: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return crm.fails(1, "import", str(path), *args).stderr


@pytest.mark.parametrize(
    ("kind", "record", "message"),
    [
        ("contacts", {"name": "y", "created_at": "2020-13-45T99:99:99Z"}, "invalid created_at"),
        ("contacts", {"name": "y", "updated_at": "2020-01-01 10:61"}, "invalid updated_at"),
        ("accounts", {"name": "y", "created_at": "yesterday"}, "invalid created_at"),
        (
            "tasks",
            {"title": "t", "done": True, "done_at": "2020-02-30T10:00:00Z"},
            "invalid done_at",
        ),
        ("tasks", {"title": "t", "due": "2020-02-30"}, "invalid due"),
        ("tasks", {"title": "t", "due": "tomorrow"}, "invalid due"),
        ("deals", {"name": "d", "close_date": "2020-1-5"}, "invalid close_date"),
        ("activities", {"subject": "s", "at": "2020-12-01T25:00:00Z"}, "invalid at"),
    ],
)
def test_invalid_timestamps_and_dates_reject_the_file(crm, tmp_path, kind, record, message):
    good = {"accounts": {"name": "ok"}, "contacts": {"name": "ok"}, "tasks": {"title": "ok"},
            "deals": {"name": "ok"}, "activities": {"subject": "ok"}}[kind]  # fmt: skip
    text = json.dumps([good, record])
    error = _import(crm, tmp_path, "in.json", text, "--kind", kind)
    assert f"{kind} #2: {message}" in error, error
    assert crm.json("list", kind) == []


def test_valid_timestamps_are_kept_as_given(crm, tmp_path):
    path = tmp_path / "in.json"
    stamp = "2020-02-29T23:59:59Z"
    path.write_text(json.dumps([{"subject": "s", "at": "2021-03-04 05:06", "created_at": stamp}]))
    crm.ok("import", str(path), "--kind", "activities")
    (activity,) = crm.json("list", "activities")
    assert activity["created_at"] == stamp and activity["at"].startswith("2021-03-0")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-01-01T10:00:00.123Z", "2024-01-01T10:00:00Z"),
        ("2024-01-01T10:00:00+00:00", "2024-01-01T10:00:00Z"),
        ("2024-01-01T12:00:00+02:00", "2024-01-01T10:00:00Z"),
        ("2024-01-01 10:00:00", "2024-01-01T10:00:00Z"),
        ("2024-01-01T00:30:00-01:00", "2024-01-01T01:30:00Z"),
    ],
)
def test_iso_timestamps_from_other_programs_are_stored_in_utc(crm, tmp_path, given, stored):
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"name": "a", "created_at": given, "updated_at": given}]))
    crm.ok("import", str(path), "--kind", "contacts")
    (contact,) = crm.json("list", "contacts")
    assert (contact["created_at"], contact["updated_at"]) == (stored, stored)
    tasks = tmp_path / "t.json"
    tasks.write_text(json.dumps([{"title": "t", "done": True, "done_at": given}]))
    crm.ok("import", str(tasks), "--kind", "tasks")
    assert crm.json("task", "list", "--all")[0]["done_at"] == stored


def test_rows_of_one_file_that_clash_name_each_other(crm, tmp_path):
    same = [{"name": "A", "email": "jane@bücher.example"},
            {"name": "B", "email": "JANE@xn--bcher-kva.example"}]  # fmt: skip
    error = _import(crm, tmp_path, "a.json", json.dumps(same))
    assert "contacts #2: the same e-mail as contacts #1\n" in error  # a CSV's are merged
    twice = "name\nAcme\nB\nACME\n"
    error = _import(crm, tmp_path, "b.csv", twice, "--kind", "accounts")
    assert "line 4: the same name as line 2\n" in error
    ids = json.dumps([{"id": 9, "name": "a"}, {"id": 4, "name": "b"}, {"id": 9, "name": "c"}])
    assert "contacts #3: id 9 is taken by contacts #1\n" in _import(crm, tmp_path, "c.json", ids)
    crm.ok("contact", "add", "Stored", "--email", "s@x.example")
    stored = "name,email\nS,s@x.example\n"
    assert "line 2: conflicts with contact 1 already stored" in _import(
        crm, tmp_path, "d.csv", stored
    )


def test_a_long_or_odd_label_is_reported_as_a_label(crm, tmp_path):
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nitem1.EMAIL:a@b.example\r\n"
    card += "item1.X-ABLabel:" + "L" * 1000 + "\r\nEND:VCARD\r\n"
    error = _import(crm, tmp_path, "a.vcf", card)
    assert "card 1 (line 1): label is too long: 1,000 characters (at most 40)" in error
    odd = json.dumps([{"name": "x", "phones": [{"label": "a;b", "value": "+1 555"}]}])
    assert "contacts #1: invalid label 'a;b'" in _import(crm, tmp_path, "b.json", odd)
    assert "invalid label 'w;e'" in crm.fails(2, "contact", "add", "y", "--phone", "w;e:5").stderr


def test_real_world_labels_are_kept(crm, tmp_path):
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nitem1.EMAIL:a@b.example\r\n"
    card += "item1.X-ABLabel:Home/Office\r\nitem2.EMAIL:b@b.example\r\n"
    card += "item2.X-ABLabel:Büro (alt)\r\nitem3.TEL:555 0100\r\n"
    card += "item3.X-ABLabel:a:b\\;c\r\nEND:VCARD\r\n"
    (tmp_path / "a.vcf").write_text(card, encoding="utf-8")
    crm.ok("import", str(tmp_path / "a.vcf"))
    google = "Name,E-mail 1 - Type,E-mail 1 - Value\nG,Work (old),g@b.example\n"
    (tmp_path / "g.csv").write_text(google, encoding="utf-8")
    crm.ok("import", str(tmp_path / "g.csv"))
    crm.ok("contact", "add", "C", "--email", "Home/Office:c@b.example")
    labels = {c["name"]: [(e["label"], e["value"]) for e in c["emails"] + c["phones"]]
              for c in crm.json("list", "contacts")}  # fmt: skip
    # A label from a file: ':' and ';' (which a label:value cell cannot hold) become spaces.
    assert labels == {
        "A": [("home/office", "a@b.example"), ("büro (alt)", "b@b.example"),
              ("a b c", "555 0100")],
        "G": [("work (old)", "g@b.example")],
        "C": [("home/office", "c@b.example")],
    }  # fmt: skip
    assert "invalid label 'w\\x1be'" in crm.fails(
        2, "contact", "add", "y", "--phone", "w\x1be:5"
    ).stderr


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,Name", "the columns 'name' and 'Name' fill one field"),
        ("First Name,first_name", "the columns 'First Name' and 'first_name' fill one field"),
        ("name,Full Name", "the columns 'name' and 'Full Name' fill one field"),
        ("E-mail 1 - Value,e_mail_1_value", "the columns 'E-mail 1 - Value' and"),
        ("name,Notes,description", "the columns 'Notes' and 'description' fill one field"),
        ("name,x,X", "the columns 'x' and 'X' fill one field"),
        ("name,name", "the column 'name' comes twice"),
    ],
)
def test_two_columns_for_one_field_are_refused(crm, tmp_path, header, message):
    cells = ",".join(f"v{n}@b.example" for n in range(header.count(",") + 1))
    error = _import(crm, tmp_path, "a.csv", f"{header}\n{cells}\n")
    assert f"line 1: {message}" in error, error
    assert crm.json("list", "contacts") == []


def test_columns_that_add_to_one_list_may_both_be_there(crm, tmp_path):
    text = "name,Work Email,Email,E-mail 1 - Value\nA,a@b.example,b@b.example,c@b.example\n"
    (tmp_path / "a.csv").write_text(text, encoding="utf-8")
    crm.ok("import", str(tmp_path / "a.csv"))
    (contact,) = crm.json("list", "contacts")
    assert [e["value"] for e in contact["emails"]] == ["a@b.example", "b@b.example", "c@b.example"]


def test_a_number_too_long_for_python_is_said_plainly(crm, tmp_path):
    number = "9" * 5000
    for name, text in (("a.json", f'[{{"id": {number}}}]'), ("a.jsonl", f'{{"id": {number}}}')):
        error = _import(crm, tmp_path, name, text)
        assert "a number of more than 4,300 digits" in error and "sys." not in error
    error = _import(crm, tmp_path, "a.csv", f"name,id\nA,{number}\n")
    assert "line 2: an id is a whole number (got '99" in error and "(5,000 characters)" in error
    assert len(error) < 200


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", 'name\nA\n"unterminated\nB\nC\n', "line 3: a quoted cell begins here and is"),
        ("b.csv", 'name,title\nA,"x"y\n', "line 2: text after a quoted cell's closing quote"),
        ("c.tsv", 'name\ttitle\nA\t"x\n', "line 2: a quoted cell begins here"),
        ("d.csv", "name,name\na,b\n", "line 1: the column 'name' comes twice"),
        ("e.csv", "Name,email, Name\na,,b\n", "line 1: the column 'Name' comes twice"),
    ],
)
def test_broken_csv_is_refused_saying_where(crm, tmp_path, name, text, message):
    assert message in _import(crm, tmp_path, name, text)
    assert crm.json("list") == []


def test_empty_header_cells_may_repeat(crm, tmp_path):
    (tmp_path / "a.csv").write_text("name,,\nA,,\n")
    crm.ok("import", str(tmp_path / "a.csv"))
    assert [contact["name"] for contact in crm.json("list")] == ["A"]
