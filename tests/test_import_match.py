"""How an import finds the stored record a file's record is: another program's id
only within its own source and with something else in common, a repeat in another
program's CSV only when the names agree, a vCard's UID first."""

from __future__ import annotations


def _csv(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _people(crm) -> list[tuple]:
    return [(c["name"], [e["value"] for e in c["emails"]], c["fields"].get("source_id"))
            for c in crm.json("contact", "list")]  # fmt: skip


def test_another_sources_id_is_another_record(crm, tmp_path):
    club = _csv(tmp_path, "club.csv", "ID,Name,Email\n1,Alice Able,alice@a.example\n")
    work = _csv(tmp_path, "work.csv", "ID,Name,Email\n1,Carl Cee,carl@b.example\n")
    crm.ok("import", club)
    assert "imported 1 contact" in crm.ok("import", work).stderr  # was: conflicts with 1
    crm.ok("import", work, "--on-conflict", "update")  # was: Alice renamed Carl
    alice, carl = ("Alice Able", ["alice@a.example"], "1"), ("Carl Cee", ["carl@b.example"], "1")
    assert _people(crm) == [alice, carl]
    # Two programs' id 101: HubSpot's Record ID is not Salesforce's Id.
    hubspot = "Record ID,First Name,Last Name,Email\n101,Ann,Lee,ann@x.example\n"
    salesforce = "Id,First Name,Last Name,Email\n101,Ann,Lee,ann.lee@y.example\n"
    crm.ok("import", _csv(tmp_path, "hubspot.csv", hubspot))
    crm.ok("import", _csv(tmp_path, "sf.csv", salesforce), "--on-conflict", "update")
    assert _people(crm)[2:] == [("Ann Lee", ["ann@x.example"], "101"),
                                ("Ann Lee", ["ann.lee@y.example"], "101")]  # fmt: skip
    # The same source again: a new name and a new e-mail, the phone in common.
    header = "ID,Name,Email,Phone\n"
    crm.ok("import", _csv(tmp_path, "p.csv", header + "7,Dee Doe,d@x.example,+1 555 0107\n"))
    again = _csv(tmp_path, "p2.csv", header + "7,Dee Smith,dee@y.example,(1) 555-0107\n")
    assert "updated 1" in crm.ok("import", again, "--on-conflict", "update").stderr
    assert _people(crm)[-1] == ("Dee Smith", ["d@x.example", "dee@y.example"], "7")


REPEATS = ("First Name,Last Name,E-mail Address,E-mail 2 Address\n"
           "Ann,Lee,ann@x.example,\n"
           "Annie,,ANN@X.EXAMPLE,other@x.example\n"
           "Bob,,bob@x.example,ann@x.example\n")  # fmt: skip


def test_a_repeat_is_merged_only_when_the_names_agree(crm, tmp_path):
    path = _csv(tmp_path, "repeats.csv", REPEATS)
    refused = crm.fails(1, "import", path)  # was: one contact, Bob's e-mail in it
    assert "1 problem\n  line 4: the same e-mail as line 2\n" in refused.stderr
    for how in ("update", "skip"):  # Bob never absorbed into Ann (skip leaves him out)
        crm("import", path, "--on-conflict", how)
        assert [p[:2] for p in _people(crm)] in ([], [("Ann Lee", ["ann@x.example",
                                                                  "other@x.example"])])  # fmt: skip
    kept = crm.ok("import", path, "--skip-invalid", env={"CRM_DB": str(tmp_path / "b.db")})
    assert "(1 row merged into another), rejected 1" in kept.stderr
    people = crm.json("contact", "list", env={"CRM_DB": str(tmp_path / "b.db")})
    assert [(p["name"], [e["value"] for e in p["emails"]]) for p in people] == [
        ("Ann Lee", ["ann@x.example", "other@x.example"])]  # fmt: skip


CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:7d3f0c1e-1111-4a5b-9c2d-000000000001\r\n"
        "FN:{name}\r\nN:{last};Ann;;;\r\nEMAIL:{email}\r\nEND:VCARD\r\n")  # fmt: skip


def test_a_vcards_uid_finds_the_record(crm, tmp_path):
    first = CARD.format(name="Ann Lee", last="Lee", email="ann@x.example")
    second = CARD.format(name="Ann Park", last="Park", email="ann@park.example")
    crm.ok("import", _csv(tmp_path, "a.vcf", first))
    b = _csv(tmp_path, "b.vcf", second)
    assert "conflicts with contact 1 already stored" in crm.fails(1, "import", b).stderr
    assert "updated 1" in crm.ok("import", b, "--on-conflict", "update").stderr
    (ann,) = crm.json("contact", "list")  # was: two contacts of one UID
    assert (ann["name"], [e["value"] for e in ann["emails"]]) == (
        "Ann Park", ["ann@x.example", "ann@park.example"])  # fmt: skip
    # crm's own export, renamed elsewhere, comes back to the same contact
    out = tmp_path / "out.vcf"
    crm.ok("export", "-f", "vcf", "-o", str(out))
    out.write_text(out.read_text().replace("Park", "Lee-Park").replace("ann@park", "al@park"))
    crm.ok("import", str(out), "--on-conflict", "update")
    (ann,) = crm.json("contact", "list")
    assert ann["name"] == "Ann Lee-Park"
    both = _csv(tmp_path, "both.vcf", first + second)
    refused = crm.fails(1, "import", both, env={"CRM_DB": str(tmp_path / "b.db")})
    assert "card 2 (line 8): the same UID as card 1 (line 1)" in refused.stderr


def test_update_merges_a_repeat_as_the_first_import_did(crm, tmp_path):
    path = _csv(tmp_path, "hubspot.csv",
                "Record ID,First Name,Last Name,Email,Phone Number\n"
                "201,Ann,Lee,ann@x.example,\n202,Ann,,ANN@x.example,+1 555 0100\n")  # fmt: skip
    crm.ok("import", path)
    first = crm.json("contact", "show", "1")
    again = crm.ok("import", path, "--on-conflict", "update").stderr
    assert "(1 row merged into another), updated 1" in again  # was: updated 2
    stored = crm.json("contact", "show", "1")
    assert (stored["name"], stored["fields"]["source_id"]) == ("Ann Lee", "201")
    assert stored["phones"] == first["phones"] == [{"value": "+1 555 0100", "label": None}]
