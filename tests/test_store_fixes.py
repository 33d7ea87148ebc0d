"""Fixes after issue 12's review: limits kept by merges, m010's URLs, a derived
name that follows its sources, show's CSV cells, year-less dates in --where,
dates kept as events, checked --date values, empty addresses, --no-photo."""

import json


def _urls(start: int, count: int) -> list[str]:
    return [f"--url=https://x.example/{n}" for n in range(start, start + count)]


def test_contact_merge_refuses_more_than_a_list_may_hold(crm):
    crm.ok("contact", "add", "A", "--email", "a@x.example", *_urls(0, 60))
    crm.ok("contact", "add", "B", "--email", "b@x.example", *_urls(100, 60))
    result = crm.fails(1, "contact", "merge", "A", "B", "--yes")
    assert "urls would hold 120 items (at most 100)" in result.stderr
    assert len(crm.json("contact", "show", "A")["urls"]) == 60  # nothing merged
    crm.ok("contact", "show", "B")


def test_csv_repeats_merged_refuse_a_list_past_the_limit(crm, tmp_path):
    path = tmp_path / "two.csv"
    first = json.dumps([f"https://x.example/{n}" for n in range(60)])
    later = json.dumps([f"https://x.example/{n}" for n in range(100, 160)])
    lines = ["first_name,email,urls", f'A,a@x.example,"{first.replace(chr(34), 2 * chr(34))}"',
             f'A,a@x.example,"{later.replace(chr(34), 2 * chr(34))}"']  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    result = crm("import", str(path))
    assert result.exit_code == 1, result.stderr
    assert "urls would hold 120 items" in result.stderr
    assert crm.json("contact", "list") == []


def test_import_update_refuses_a_list_past_the_limit(crm, tmp_path):
    crm.ok("contact", "add", "A", "--email", "a@x.example", *_urls(0, 60))
    record = {"first_name": "A", "emails": ["a@x.example"],
              "urls": [f"https://x.example/{n}" for n in range(100, 160)]}  # fmt: skip
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"kind": "contact", **record}) + "\n")
    result = crm("import", str(path), "--on-conflict", "update")
    assert result.exit_code == 1, result.stderr
    assert "urls would hold 120 items" in result.stderr
    assert len(crm.json("contact", "show", "A")["urls"]) == 60


def test_m010_moves_only_urls_the_urls_check_accepts(crm, tmp_path):
    """An old `--set url=...` of several lines, or blank, gave a backup that did
    not restore: m010 moves a usable URL, drops a blank one, and leaves one the
    urls check refuses in the custom fields."""
    import shutil
    import sqlite3

    from test_upgrades import FIXTURES

    path = tmp_path / "old.db"
    shutil.copy(FIXTURES[8], path)
    old = sqlite3.connect(path)
    old.execute("UPDATE contacts SET fields = json_object('url', 'line1' || char(10) || 'line2')"
                " WHERE id = 1")  # fmt: skip
    at = "2020-01-01T00:00:00Z"
    old.execute("INSERT INTO contacts (first_name, name, name_key, fields, created_at, updated_at)"
                " VALUES ('Blank', 'Blank', 'blank', json_object('url', '   '), ?, ?)",
                (at, at))  # fmt: skip
    old.commit()
    old.close()
    env = {"CRM_DB": str(path)}
    jane = crm.json("contact", "show", "Jane Doe", env=env)
    assert (jane["urls"], jane["fields"]) == ([], {"url": "line1\nline2"})
    blank = crm.json("contact", "show", "Blank", env=env)
    assert (blank["urls"], blank["fields"]) == ([], {})
    ada = crm.json("contact", "show", "Ada Byron", env=env)
    assert ada["urls"] == [{"value": "https://ada.example", "label": None}]
    backup = tmp_path / "backup.json"
    crm.ok("export", "-o", str(backup), env=env)
    crm.ok("import", str(backup), env={"CRM_DB": str(tmp_path / "new.db")})
    # m010 also says which names were made: Jane Doe's is her parts joined
    assert crm.json("contact", "edit", "Jane Doe", "--last", "Roe", env=env)["name"] == "Jane Roe"
    crm.ok("contact", "edit", "Blank", "--name", "The Blank One", "--first", "Blank", env=env)
    assert crm.json("contact", "edit", "The Blank One", "--first", "B",
                    env=env)["name"] == "The Blank One"  # fmt: skip
    crm.ok("undo", env=env)
    blank = crm.json("contact", "show", "The Blank One", env=env)
    assert blank["first_name"] == "Blank"
    assert crm.json("contact", "edit", "3", "--first", "C", env=env)["name"] == "The Blank One"
    assert "database ok" in crm.ok("db", "check", env=env).stderr


def test_show_csv_cells_are_the_listings_and_import_again(crm, tmp_path):
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@x.example",
           "--url", "work:https://jane.example", "--address", "home:1 Main St; Springfield",
           "--address", "work:2 Office Rd; Chicago", "--date", "met:2020-05-01")  # fmt: skip
    import csv
    import io

    for fmt in ("csv", "tsv"):
        shown = crm.ok("contact", "show", "Jane Doe", "-f", fmt).stdout
        listed = crm.ok("contact", "list", "-f", fmt, "--columns", "urls,addresses,dates").stdout
        dialect = "excel-tab" if fmt == "tsv" else "excel"
        (row,) = csv.DictReader(io.StringIO(shown), dialect=dialect)
        (same,) = csv.DictReader(io.StringIO(listed), dialect=dialect)
        assert {key: row[key] for key in same} == same
    path = tmp_path / "jane.csv"
    path.write_text(crm.ok("contact", "show", "Jane Doe", "-f", "csv").stdout)
    env = {"CRM_DB": str(tmp_path / "new.db")}
    crm.ok("import", str(path), env=env)
    before, after = crm.json("contact", "show", "1"), crm.json("contact", "show", "1", env=env)
    for key in ("urls", "addresses", "dates", "emails"):
        assert after[key] == before[key]


def test_where_knows_year_less_dates(crm):
    crm.ok("contact", "add", "Ann", "--birthday", "--04-23", "--anniversary", "--06-01")
    crm.ok("contact", "add", "Ben", "--birthday", "1990-04-23")
    crm.ok("contact", "add", "Cy", "--birthday", "1890-05-01")

    def names(*where: str) -> list[str]:
        args = [arg for text in where for arg in ("--where", text)]
        return [row["name"] for row in crm.json("contact", "list", *args)]

    assert names("birthday=--04-23") == ["Ann", "Ben"]  # every April 23rd
    assert names("anniversary=--06-01") == ["Ann"]
    assert names("birthday!=--04-23") == ["Cy"]
    assert names("birthday>=--04-01", "birthday<--05-01") == ["Ann", "Ben"]
    assert names("birthday<=1900-01-01") == ["Cy"]  # a year-less date is in no range
    assert names("birthday>1900-01-01") == ["Ben"]
    assert names("birthday=1990-04-23") == ["Ben"]
    assert "invalid date '--02-30'" in crm.fails(2, "contact", "list", "--where",
                                                 "birthday=--02-30").stderr  # fmt: skip


def test_dates_on_one_day_with_two_labels_are_two_events(crm):
    crm.ok("contact", "add", "Ann", "--date", "birthday:2020-01-01", "--date", "met:2020-01-01")
    both = [{"value": "2020-01-01", "label": "birthday"}, {"value": "2020-01-01", "label": "met"}]
    assert crm.json("contact", "show", "Ann")["dates"] == both
    crm.ok("contact", "edit", "Ann", "--date", "2020-01-01", "--date", "met:2020-01-01")
    assert crm.json("contact", "show", "Ann")["dates"] == both  # nothing new
    crm.ok("contact", "add", "Bo", "--date", "wed:2020-01-01", "--date", "met:2021-01-01")
    merged = crm.json("contact", "merge", "Ann", "Bo", "--yes")
    assert merged["dates"] == [*both, {"value": "2020-01-01", "label": "wed"},
                               {"value": "2021-01-01", "label": "met"}]  # fmt: skip


def test_a_date_given_on_the_command_line_must_be_one(crm, tmp_path):
    for value in ("x:notadate", "2020-02-30", "met:--02-30"):
        assert "invalid date" in crm.fails(2, "contact", "add", "Ann", "--date", value).stderr
    crm.ok("contact", "add", "Ann")
    assert "invalid date" in crm.fails(2, "contact", "edit", "Ann", "--date", "June").stderr
    # another program's text date read from a file stays text
    path = tmp_path / "bo.jsonl"
    met = [{"value": "June 2001", "label": "met"}]
    path.write_text(json.dumps({"kind": "contact", "first_name": "Bo", "dates": met}) + "\n")
    crm.ok("import", str(path))
    assert crm.json("contact", "show", "Bo")["dates"] == met


def test_empty_addresses_and_labelled_empty_values_are_refused(crm):
    for value in ("", "home:;;;;", "  ; ; "):
        assert "empty address" in crm.fails(2, "contact", "add", "Ann", "--address", value).stderr
    crm.ok("contact", "add", "Ann")
    assert "empty address" in crm.fails(2, "contact", "edit", "Ann", "--address", ";").stderr
    assert crm.fails(2, "contact", "edit", "Ann", "--url", "work:").stderr == "Error: empty URL\n"
    assert "empty e-mail" in crm.fails(2, "contact", "edit", "Ann", "--email", "work:").stderr


def test_no_photo_without_a_photo_changes_nothing(crm):
    crm.ok("contact", "add", "Ann")
    crm.ok("account", "new", "Acme")
    before = crm.json("contact", "show", "Ann")
    result = crm.ok("contact", "edit", "Ann", "--no-photo", "--json")
    assert json.loads(result.stdout)["updated_at"] == before["updated_at"]
    assert "'Ann' has no photo to remove: nothing changed" in result.stderr
    assert "has no logo to remove" in crm.ok("account", "edit", "Acme", "--no-logo").stderr
    assert len(crm.json("history")) == 2  # the two adds: nothing to undo
    assert crm.json("contact", "show", "Ann") == before


def test_an_imported_photo_must_be_an_image_crm_knows(crm, tmp_path):
    import base64

    for media_type, data in (("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
                             ("image/png", b"arbitrary bytes, not a picture"),
                             ("image/gif", b"GIF89a")):  # fmt: skip
        photo = {"media_type": media_type, "data": base64.b64encode(data).decode()}
        path = tmp_path / "ann.jsonl"
        path.write_text(json.dumps({"kind": "contact", "first_name": "Ann", "photo": photo}))
        result = crm("import", str(path))
        assert result.exit_code == 1 and "not an image crm recognises" in result.stderr


def test_a_made_name_follows_its_sources_and_a_given_one_stays(crm):
    """Whether a name was given is stored (name_given), not guessed from the
    current state: a name made from an e-mail follows the e-mails."""
    crm.ok("contact", "add", "--email", "a@x.example", "--email", "b@x.example")
    made = crm.json("contact", "edit", "a@x.example", "--remove-email", "a@x.example")
    assert made["name"] == "b@x.example"
    crm.ok("contact", "add", "Other", "--email", "a@x.example")
    assert crm.json("contact", "show", "a@x.example")["name"] == "Other"  # not ambiguous
    assert crm.json("contact", "edit", "b@x.example", "--nickname", "Bo")["name"] == "Bo"
    assert crm.json("contact", "edit", "Bo", "--first", "Bob", "--last", "Doe")["name"] == "Bob Doe"
    assert crm.json("contact", "edit", "Bob Doe", "--last", "Roe")["name"] == "Bob Roe"
    assert "a contact needs a name" in crm.fails(
        2, "contact", "edit", "Bob Roe", "--first", "", "--last", "", "--nickname", "",
        "--remove-email", "b@x.example").stderr  # fmt: skip
    given = crm.json("contact", "add", "The Boss", "--first", "Ann", "--email", "c@x.example")
    assert given["name"] == "The Boss"
    for change in (["--first", "Anna"], ["--remove-email", "c@x.example"], ["--nickname", "A"]):
        assert crm.json("contact", "edit", "The Boss", *change)["name"] == "The Boss"
    crm.ok("undo")
    crm.ok("contact", "edit", "The Boss", "--name", "")  # '' makes it from the parts again
    assert crm.json("contact", "show", "Anna")["name"] == "Anna"
    assert crm.json("contact", "edit", "Anna", "--first", "Annie")["name"] == "Annie"


def test_a_backup_keeps_which_names_were_made(crm, tmp_path):
    crm.ok("contact", "add", "--email", "a@x.example", "--email", "b@x.example")
    crm.ok("contact", "add", "The Boss", "--first", "Ann", "--email", "c@x.example")
    backup = tmp_path / "backup.json"
    crm.ok("export", "-o", str(backup))
    env = {"CRM_DB": str(tmp_path / "new.db")}
    crm.ok("import", str(backup), env=env)
    edit = ("contact", "edit", "a@x.example", "--remove-email", "a@x.example", "--json")
    assert json.loads(crm.ok(*edit, env=env).stdout)["name"] == "b@x.example"
    boss = ("contact", "edit", "The Boss", "--first", "Anna", "--json")
    assert json.loads(crm.ok(*boss, env=env).stdout)["name"] == "The Boss"
