"""Import/export fidelity (issue 12's review): what a card says comes back as it said it,
crm -> vcf -> crm and vcf -> crm -> vcf."""

import pytest

from crmcli.formats import vcard
from test_vcard_read import card, one
from test_vcard_write import STAMP, vobject_card


def exported(record: dict, version: str = "4.0") -> dict:
    """A record as crm exports it, read back by crm."""
    full = {"id": 1, "created_at": STAMP, "updated_at": STAMP, **record}
    ((_, _, data),) = list(vcard.read_vcf(vcard.card(full, version)))
    return data


@pytest.mark.parametrize(
    "lines",
    [("FN:Dr. Jane Smith PhD",), ("FN:Pizza Place Downtown", "N:;;;;")],
)
def test_a_card_without_name_parts_keeps_them_empty(crm, tmp_path, lines):
    """No N, or an empty one: nothing is split from FN, in the record and the export."""
    text = card(*lines, version="4.0")
    data = one(text)
    assert data["first_name"] is None and data["last_name"] is None
    crm.ok("import", "-", "-f", "vcf", input=text)
    (contact,) = crm.json("contact", "list")
    assert (contact["first_name"], contact["last_name"]) == (None, None)
    out = crm.ok("export", "-f", "vcf").stdout_bytes.decode()
    assert "\r\nN:;;;;\r\n" in out


@pytest.mark.parametrize("bday", ["1990-02-30", "0000-00-00"])
def test_an_impossible_date_is_kept_as_text_and_written_back(crm, bday):
    text = card("FN:Jane Doe", f"BDAY:{bday}", f"ANNIVERSARY:{bday}", "item1.X-ABDATE:1990-13-01",
                "item1.X-ABLabel:first day", "FN:Other")  # fmt: skip
    crm.ok("import", "-", "-f", "vcf", input=text)
    (jane,) = crm.json("contact", "list")
    assert jane["birthday"] is None and jane["fields"]["birthday"] == bday
    assert {"value": bday, "label": "anniversary"} in jane["dates"]
    assert {"value": "1990-13-01", "label": "first day"} in jane["dates"]
    out = crm.ok("export", "-f", "vcf").stdout_bytes.decode()
    assert f"BDAY;VALUE=text:{bday}\r\n" in out
    assert vobject_card(out).bday.value == bday


def test_a_soft_break_on_the_last_property_does_not_swallow_end_vcard():
    text = ("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jane\r\nNOTE;ENCODING=QUOTED-PRINTABLE:abc=\r\n"
            "END:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nFN:John\r\nEND:VCARD\r\n")  # fmt: skip
    records = [data for _, _, data in vcard.read_vcf(text)]
    assert [(r["name"], r.get("description")) for r in records] == [("Jane", "abc"), ("John", None)]


BROKEN = (card("FN:Good One") + card("FN:Bad One", "this line has no colon")
          + card("FN:Good Two"))  # fmt: skip


def test_skip_invalid_steps_past_a_card_with_a_malformed_line(crm, tmp_path):
    refused = crm("import", "-", "-f", "vcf", input=BROKEN)
    assert refused.exit_code == 1
    assert "card 2 (line 5)" in refused.stderr and "line 8: not a property" in refused.stderr
    assert crm.json("contact", "list") == []
    rejects = tmp_path / "rejects.vcf"
    crm.ok("import", "-", "-f", "vcf", "--skip-invalid", "--rejects", str(rejects), input=BROKEN)
    assert [c["name"] for c in crm.json("contact", "list")] == ["Good One", "Good Two"]
    written = rejects.read_bytes().decode()
    assert written.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad One\r\nthis line has no colon")
    assert "X-CRM-REJECTED:" in written and written.count("BEGIN:VCARD") == 1


def test_line_breaks_are_read_as_lf_even_quoted_printable_crlf():
    data = one(card("N:Doe;Jane;;;", "ADR;ENCODING=QUOTED-PRINTABLE:;;1 Road=0D=0AFlat 2;Town;;;",
                    "NOTE;ENCODING=QUOTED-PRINTABLE:a=0Db=0D=0Ac", version="2.1"))  # fmt: skip
    assert data["addresses"][0]["street"] == "1 Road\nFlat 2"
    assert data["description"] == "a\nb\nc"


def test_labels_and_kept_lines_are_nfc_and_lose_control_characters():
    data = one(card("FN:Jane", "item1.EMAIL:jane@x.example", "item1.X-ABLabel:Bu\u0308ro",
                    "X-NOTE-ALT:Bu\u0308ro", "FBURL;ENCODING=QUOTED-PRINTABLE:http://f.example/=0C",
                    version="2.1"))  # fmt: skip
    assert data["emails"] == [{"value": "jane@x.example", "label": "b\u00fcro"}]
    assert data["vcard"] == ["X-NOTE-ALT:B\u00fcro", "FBURL:http://f.example/"]
    assert "FBURL:http://f.example/\r\n" in vcard.card(
        {"id": 1, "created_at": STAMP, "updated_at": STAMP, "name": "Jane", **data})


ALTERNATIVES = ["FN;LANGUAGE=ja:山田", "N;ALTID=1;LANGUAGE=en:Yamada;Taro;;;",
                "BDAY;ALTID=1;VALUE=text:circa 1990", "X-GENDER:M"]  # fmt: skip


def test_alternative_representations_and_x_gender_are_written_back():
    text = card("FN:Taro Yamada", "N:Yamada;Taro;;;", "GENDER:M", "BDAY:19900423", *ALTERNATIVES,
                "BDAY:19900423", "UID:urn:uuid:1", "UID:urn:uuid:1", version="4.0")  # fmt: skip
    data = one(text)
    assert data["vcard"] == ALTERNATIVES  # the repeated BDAY and UID said nothing new
    out = vcard.card({"id": 1, "created_at": STAMP, "updated_at": STAMP, **data}, "4.0")
    logical = out.replace("\r\n ", "").split("\r\n")
    for line in ALTERNATIVES:
        assert logical.count(line) == 1, line
    assert [line for line in logical if line.startswith(("FN", "N:", "N;", "UID", "BDAY"))] == [
        "UID:urn:uuid:1", "FN:Taro Yamada", "N:Yamada;Taro;;;", "BDAY:1990-04-23",
        *ALTERNATIVES[:3]]  # fmt: skip
    assert exported(data)["vcard"] == ALTERNATIVES
    plain = {**data, "vcard": ["FN:Second", "UID:other", "BDAY:2000-01-01",
                               'FN;X-A="b;ALTID=1":Second', "UID;ALTID=1:other"]}  # fmt: skip
    written = vcard.card({"id": 1, "created_at": STAMP, "updated_at": STAMP, **plain}, "4.0")
    assert "Second" not in written and "other" not in written and "2000" not in written


def test_custom_fields_go_out_and_come_back(crm, tmp_path):
    crm.ok("contact", "add", "Jane Doe", "--set", "foo=bar; baz", "--set", "source_id=g:123",
           "--set", "role=Boss")  # fmt: skip
    for version in ("4.0", "3.0"):
        out = crm.ok("export", "-f", "vcf", "--vcard-version", version).stdout_bytes.decode()
        assert 'X-CRM-FIELD;X-NAME="foo":bar\\; baz\r\n' in out and "ROLE:Boss" in out
        assert vobject_card(out).contents["x-crm-field"][1].value == "g:123"
        other = {"CRM_DB": str(tmp_path / f"{version}.db")}
        crm.ok("import", "-", "-f", "vcf", input=out, env=other)
        (jane,) = crm.json("contact", "list", env=other)
        assert {k: v for k, v in jane["fields"].items() if k != "uid"} == {
            "foo": "bar; baz", "source_id": "g:123", "role": "Boss"}  # fmt: skip
        assert not jane["vcard"]


@pytest.mark.parametrize("version", ["4.0", "3.0"])
def test_every_phone_label_crm_writes_comes_back_as_it_was(version):
    labels = ["voice", "cell", "mobile", "home fax", "work voice", "text", None]
    phones = [{"value": f"+1 555 010{n}", "label": label} for n, label in enumerate(labels)]
    assert exported({"name": "Jane", "phones": phones}, version)["phones"] == phones


PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAAB"
       "JRU5ErkJggg==")  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_crms_own_photo_summary_cell_leaves_the_photo_alone(crm, tmp_path, fmt):
    import base64

    picture = tmp_path / "p.png"
    picture.write_bytes(base64.b64decode(PNG))
    crm.ok("contact", "add", "Jane Doe", "--photo", str(picture))
    text = crm.ok("export", "-f", fmt).stdout_bytes.decode()
    assert '""size"":70' in text
    crm.ok("import", "-", "-f", fmt, "--on-conflict", "update", input=text)
    (jane,) = crm.json("contact", "list")
    assert jane["fields"] == {} and crm.json("contact", "show", "Jane Doe")["photo"]["size"] == 70
    other = {"CRM_DB": str(tmp_path / "other.db")}
    crm.ok("import", "-", "-f", fmt, input=text, env=other)
    (jane,) = crm.json("contact", "list", env=other)
    assert jane["fields"] == {}


def test_a_csv_date_against_date_order_is_that_records_error_and_4501_is_no_date(crm):
    text = "name,birthday\nJane Doe,23/04/1990\nJohn Doe,04/23/1990\nOld One,1/1/4501\n"
    refused = crm("import", "-", "-f", "csv", "--date-order", "mdy", input=text)
    assert refused.exit_code == 1 and "1 problem" in refused.stderr
    assert "line 2: invalid birthday '23/04/1990 (no month/day/year date, as --date-order mdy" \
        in refused.stderr  # fmt: skip
    crm.ok("import", "-", "-f", "csv", "--date-order", "mdy", "--skip-invalid", input=text)
    got = {c["name"]: c["birthday"] for c in crm.json("contact", "list")}
    assert got == {"John Doe": "1990-04-23", "Old One": None}


def test_khard_reads_crms_year_less_birthday_in_3_0_as_year_less():
    """khard keeps a year-less date as its placeholder year 1900 and shows --04-23."""
    contacts = pytest.importorskip("khard.contacts")
    text = vcard.card({"id": 1, "created_at": STAMP, "updated_at": STAMP, "name": "Jane",
                       "birthday": "--04-23"}, "3.0")  # fmt: skip
    assert "BDAY:--0423\r\n" in text
    card = contacts.YAMLEditable(vobject_card(text), "3.0")
    assert card.get_formatted_birthday() == "--04-23"
