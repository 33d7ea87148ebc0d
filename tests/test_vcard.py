"""vCards: no stored value can forge a property in an export, and no file, however
hostile, makes the import fail unexpectedly or take memory beyond one card."""

import tracemalloc
import unicodedata

import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli.formats import vcard

VICTIM = "victim@ok.example"
FORGERIES = [
    ("url", "http://x\r\nEMAIL:attacker@evil.example"),
    ("uid", "x\nEMAIL;PREF=1:attacker@evil.example"),
    ("birthday", "--0415\nTITLE:Forged CEO"),
    ("role", "boss\rEMAIL:attacker@evil.example\r\nTITLE:Forged CEO"),
    ("vcard.X-SKYPE", "x\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Forged\r\nEMAIL:attacker@evil.example"),
    ("vcard.NICKNAME", 'a;TYPE="x":b,c\\\nEMAIL:attacker@evil.example'),
]


CONTACT = {"id": 1, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
           "name": "Victim", "first_name": "Victim", "last_name": None, "tags": [],
           "emails": [{"value": VICTIM, "label": None}], "phones": []}  # fmt: skip


def nfc(label: str | None) -> str | None:
    return label and unicodedata.normalize("NFC", label)


def as_read(value: str) -> str:
    """vCard text has one line break, \\n: CR LF and CR come back as it."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def exported(crm, version: str) -> str:
    # CliRunner's .stdout turns CRLF into LF; vCards need the bytes as written.
    return crm.ok("export", "-f", "vcf", "--vcard-version", version).stdout_bytes.decode()


@pytest.mark.parametrize(("key", "value"), FORGERIES, ids=[key for key, _ in FORGERIES])
def test_a_custom_field_cannot_forge_a_property(crm, tmp_path, key, value):
    """Read back by vobject and by crm: one card, one e-mail (the victim's), no
    forged title, and the hostile text is the field's value."""
    crm.ok("contact", "add", "Victim", "--email", VICTIM, "--title", "Intern", "--set",
           f"{key}={value}")  # fmt: skip
    for version in ("4.0", "3.0"):
        text = exported(crm, version)
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        (card,) = list(vobject.readComponents(text))
        assert [email.value for email in card.contents["email"]] == [VICTIM]
        assert [title.value for title in card.contents["title"]] == ["Intern"]
        prop = {"url": "url", "uid": "uid", "birthday": "bday", "role": "role"}.get(
            key, key.removeprefix("vcard.").lower()
        )
        assert [item.value for item in card.contents[prop]] == [as_read(value)]
        other = {"CRM_DB": str(tmp_path / f"other-{version}.db")}
        crm.ok("import", "-", "-f", "vcf", input=text, env=other)
        (contact,) = crm.json("contact", "list", env=other)
        assert contact["emails"] == [{"value": VICTIM, "label": None}]
        assert (contact["name"], contact["title"]) == ("Victim", "Intern")
        ((_, _, data),) = list(vcard.read_vcf(text))
        if key in ("url", "vcard.X-SKYPE"):  # a URL or IM of two lines is kept as it came
            prop = {"url": "URL", "vcard.X-SKYPE": "X-SKYPE"}[key]
            assert data["vcard"] == [f"{prop}:{vcard.escape(value)}"]
        elif key == "vcard.NICKNAME":
            assert data["nickname"] == as_read(value)
        else:
            assert data["fields"][key] == as_read(value)


def test_vcard_fields_that_would_be_crms_own_properties_are_not_written():
    """`vcard.NAME` writes NAME back, unless crm writes NAME itself (EMAIL, END ...)
    or NAME is not a property name at all (a group, a parameter, a value)."""
    hostile = [
        "END",
        "BEGIN",
        "EMAIL",
        "email",
        "VERSION",
        "FN",
        "TITLE",
        "UID",
        "REV",
        "",
        "item1.X-ABLabel",
        "item1.EMAIL",
        "X-A;TYPE=x",
        "X-A:b",
        "X_A",
        "X-A\r\nEMAIL",
    ]
    fields = {f"vcard.{name}": "attacker@evil.example" for name in hostile}
    contact = {**CONTACT, "fields": {**fields, "vcard.X-SKYPE": "victim"}}
    text = vcard.card(contact)
    assert "evil" not in text and "\r\nX-SKYPE:victim\r\n" in text
    (card,) = list(vobject.readComponents(text))
    assert [email.value for email in card.contents["email"]] == [VICTIM]


def test_a_label_cannot_add_a_parameter_or_a_property():
    """Labels are checked when stored; the writer does not count on it."""
    emails = [{"value": VICTIM, "label": 'x";PREF=1:attacker@evil.example\r\nTITLE:y'}]
    phones = [{"value": "+1 555 0100", "label": "work\nEMAIL:a@evil.example"}]
    contact = {**CONTACT, "emails": emails, "phones": phones}
    text = vcard.card(contact)
    (card,) = list(vobject.readComponents(text))
    assert [email.value for email in card.contents["email"]] == [VICTIM]
    assert "title" not in card.contents
    # A label TYPE cannot say is the text of an Apple item group's X-ABLabel.
    assert [(label.group, label.value) for label in card.contents["x-ablabel"]] == [
        ("item1", as_read(emails[0]["label"])),
        ("item2", phones[0]["label"]),
    ]
    assert (card.email.group, card.tel.group) == ("item1", "item2")


# -- any text in any field -------------------------------------------------------------
HOSTILE = st.sampled_from(
    [value for _, value in FORGERIES]
    + ["a;b,c\\", "\\n", "\r", "=", "x=\r\n", "END:VCARD", "\x00\x1b[2J\x07", "\x0b\x0c\x1c\x85",
       "\u2028\u2029", " lead", "tail\t", "é" * 40, "😀" * 30, "C:\\temp\\", ";;;", ",,"]
)  # fmt: skip
TEXT = st.one_of(
    HOSTILE, st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
)
LABEL = st.one_of(
    st.none(),
    st.from_regex(r"[^\W\d_][\w .-]{0,8}", fullmatch=True)
    .map(lambda label: label.strip().lower())
    .filter(lambda label: label and label not in ("internet", "pref", "voice", "x400", "cell")),
)
ITEMS = st.lists(st.fixed_dictionaries({"value": TEXT, "label": LABEL}), max_size=2)
OPTIONAL = st.one_of(st.none(), TEXT)
PARTS = ("first_name", "last_name", "middle_name", "prefix", "suffix", "account", "title",
         "department", "description")  # fmt: skip
ADR_KEYS = ("po_box", "extended", "street", "city", "region", "postal_code", "country")
ADDRESS = st.fixed_dictionaries(
    dict.fromkeys(ADR_KEYS, OPTIONAL), optional={"label": LABEL}
).filter(lambda address: any(address[key] for key in ADR_KEYS))
TYPE_WORDS = {"EMAIL": {"home", "work"}, "TEL": {"home", "work", "cell", "fax", "voice",
              "pager", "video", "text", "textphone"}, "ADR": {"home", "work"},
              "URL": {"home", "work"}}  # fmt: skip


def vobject_label(card, prop) -> str | None:
    """The label another program reads: TYPE words, or the group's X-ABLabel."""
    if prop.group:
        (label,) = [item.value for item in card.contents["x-ablabel"] if item.group == prop.group]
        return label
    words = [word for item in prop.params.get("TYPE", []) for word in item.split(",")]
    words = [{"cell": "mobile"}.get(word, word) for word in words if word != "pref"]
    return " ".join(words) or None


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    name=TEXT,
    parts=st.fixed_dictionaries(dict.fromkeys(PARTS, OPTIONAL)),
    emails=ITEMS,
    phones=ITEMS,
    urls=ITEMS,
    addresses=st.lists(ADDRESS, max_size=2),
    tags=st.lists(TEXT, max_size=3),
    fields=st.fixed_dictionaries(
        {
            "url": TEXT,
            "uid": TEXT,
            "role": TEXT,
            "birthday": TEXT.map("--".__add__),  # text, never a date with a year
            "vcard.X-ONE": TEXT,
            "vcard.NICKNAME": TEXT,
            "vcard.END": TEXT,
            "vcard.EMAIL": TEXT,
            "vcard.item1.X-ABLabel": TEXT,
        }
    ),
    version=st.sampled_from(["4.0", "3.0"]),
)
def test_any_text_in_any_field_comes_back_as_that_field(
    name, parts, emails, phones, urls, addresses, tags, fields, version
):
    """A contact of arbitrary text, exported: vobject reads the same properties,
    as many as were written, with the same values and labels; so does crm's reader.
    (Older imports' `vcard.X-NAME`, `url` and `birthday` fields are written too.)"""
    stamp = "2024-01-02T03:04:05Z"
    contact = {"id": 7, "created_at": stamp, "updated_at": stamp, "name": name, **parts,
               "emails": emails, "phones": phones, "urls": urls, "addresses": addresses,
               "tags": tags, "fields": fields, "birthday": None}  # fmt: skip
    text = vcard.card(contact, version)
    lines = text.split("\r\n")
    assert [line for line in lines if line.upper().startswith(("BEGIN", "END"))] == [
        "BEGIN:VCARD",
        "END:VCARD",
    ]
    assert lines[-2:] == ["END:VCARD", ""] and all(len(line.encode()) <= 75 for line in lines)
    (card,) = list(vobject.readComponents(text))
    org = [parts["account"] or "", *vcard.org_units(parts["department"])] if parts[
        "department"] else [parts["account"]]  # fmt: skip
    expected = {
        "VERSION": [version],
        "UID": [fields["uid"]],
        "FN": [name],
        "N": [None],
        "ORG": [org] if parts["account"] or parts["department"] else [],
        "TITLE": [parts["title"]] if parts["title"] else [],
        "ROLE": [fields["role"]],
        "EMAIL": [item["value"] for item in emails],
        "TEL": [item["value"] for item in phones],
        "ADR": [None] * len(addresses),
        "BDAY": [fields["birthday"]],
        "URL": [item["value"] for item in urls]
        + ([fields["url"]] if fields["url"] not in [item["value"] for item in urls] else []),
        "NOTE": [parts["description"]] if parts["description"] else [],
        "CATEGORIES": [tags] if tags else [],
        "X-ONE": [fields["vcard.X-ONE"]],
        "NICKNAME": [fields["vcard.NICKNAME"]],
        "REV": ["20240102T030405Z"],
    }
    got: dict[str, list] = {}
    for prop in card.getChildren():
        if prop.name != "X-ABLABEL":
            value = None if prop.name in ("N", "ADR") else prop.value
            got.setdefault(prop.name, []).append(value)
    assert got == {
        key: [as_read(v) if isinstance(v, str) else v and [*map(as_read, v)] for v in values]
        for key, values in expected.items()
        if values
    }
    n = card.n.value
    assert [n.family, n.given, n.additional, n.prefix, n.suffix] == [
        as_read(parts[key] or "")
        for key in ("last_name", "first_name", "middle_name", "prefix", "suffix")
    ]
    for prop, items in (("EMAIL", emails), ("TEL", phones), ("URL", urls)):
        written = [item for item in card.contents.get(prop.lower(), [])]
        assert [vobject_label(card, item) for item in written[: len(items)]] == [
            item["label"] for item in items
        ]
    for adr, address in zip(card.contents.get("adr", []), addresses, strict=True):
        value = adr.value
        assert [value.box, value.extended, value.street, value.city, value.region, value.code,
                value.country] == [as_read(address[key] or "") for key in
                                   ("po_box", "extended", "street", "city", "region",
                                    "postal_code", "country")]  # fmt: skip
        assert vobject_label(card, adr) == address.get("label")

    ((_, _, data),) = list(vcard.read_vcf(text))
    clean = {key: as_read(value).strip() if value else "" for key, value in parts.items()}
    if name.strip():  # else the card is named by what it has (see test_named_by_what_it_has)
        assert data.get("name") == as_read(name)
    for key in ("first_name", "last_name", "middle_name", "prefix", "suffix"):
        assert (data.get(key) or "") == clean[key]  # no parts: first/last None
    for key in ("title", "description"):
        assert data.get(key, "") == as_read(parts[key] or "")
    assert data.get("account", "") == clean["account"]
    assert data.get("department", "") == clean["department"]
    assert data.get("tags", []) == [*map(as_read, tags)]

    def listed(items, strip=""):  # an empty one is left out
        values = [as_read(item["value"]).strip().removeprefix(strip).strip() for item in items]
        return [{"value": value, "label": nfc(item["label"])}
                for value, item in zip(values, items, strict=True) if value]  # fmt: skip

    # An address crm cannot take is kept as it came (in `vcard`), like a phone that is no number.
    addresses_ = [
        item for item in emails if listed([item]) and vcard._email(listed([item])[0]["value"])
    ]
    assert data.get("emails", []) == listed(addresses_)
    texts = [item for item in phones if listed([item], "tel:")]
    numbers = [item for item in texts if vcard._phone(listed([item], "tel:")[0]["value"])]
    assert data.get("phones", []) == listed(numbers, "tel:")  # text that is no number is kept
    old_url = [] if fields["url"] in [item["value"] for item in urls] else [
        {"value": fields["url"], "label": None}]  # fmt: skip
    one_line = [item for item in urls + old_url if "\n" not in as_read(item["value"]).strip()]
    assert data.get("urls", []) == listed(one_line)  # the others are kept as they came
    assert data.get("addresses", []) == [
        {"label": nfc(address.get("label")),  # labels are read NFC
         **{key: as_read(address[key] or "").strip() or None for key in address
            if key != "label"}}
        for address in addresses
    ]  # fmt: skip
    assert data.get("nickname") == as_read(fields["vcard.NICKNAME"])
    assert data["fields"] == {
        key: as_read(value) for key, value in fields.items() if key in ("uid", "role", "birthday")
    }
    kept = [line for line in data["vcard"] if not line.startswith(("TEL", "URL", "item", "EMAIL"))]
    # kept as it came, NFC and without control characters (read: vcard._Reading.keep)
    kept_value = unicodedata.normalize("NFC", vcard.escape(fields["vcard.X-ONE"]))
    assert kept == [f"X-ONE:{vcard._CONTROL.sub('', kept_value)}"]
    assert len(data["vcard"]) - len(kept) >= len(texts) - len(numbers)
    assert len(data["vcard"]) - len(kept) >= len(listed(emails)) - len(addresses_)


# -- hostile files ---------------------------------------------------------------------
def card(*lines: str, version: str = "3.0") -> str:
    return "".join(
        f"{line}\r\n" for line in ("BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD")
    )


@pytest.fixture(params=["here", "in a child"])
def checked_where(request, monkeypatch):
    """Records checked in this process, then in a second one (as a big file is)."""
    from crmcli import workers

    if request.param == "in a child":
        monkeypatch.setattr(workers, "ELSEWHERE_FROM", 0)


NESTED = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n" * 500 + "END:VCARD\r\n" * 500
REFUSED = {
    "500 nested cards": (NESTED, "line 4: BEGIN:VCARD inside the card begun on line 1"),
    "vCard 2.1 AGENT": (card("FN:x", "AGENT:", "BEGIN:VCARD", "FN:y", "END:VCARD"),
                        "inside the card begun on line 1"),
    "no END": (card("FN:x").removesuffix("END:VCARD\r\n"),
               "line 1: the card begun here has no END"),
    "END of something else": (card("FN:x").replace("END:VCARD", "END:VCALENDAR"),
                              "line 4: END:VCALENDAR ends the card"),
    "END before BEGIN": ("END:VCARD\r\n" + card("FN:x"), "a card begins with BEGIN:VCARD"),
    "text outside a card": (card("FN:x") + "hello\r\n", "line 5: a card begins with BEGIN:VCARD"),
    "a line without a colon": (card("FN:x", "junk"), "line 4: not a property (NAME:VALUE): 'junk'"),
    "8 MB without a colon": (card("FN:x", "junk" * 2_000_000),
                             "line 4: no value within 10,000 characters: 'junkjunk"),
    "binary junk after a card": (card("FN:x") + "\x00\x01\xff\x7f",
                                 "line 5: a card begins with BEGIN:VCARD, not '\\x00\\x01"),
    "a wrong charset": (card("FN;ENCODING=QUOTED-PRINTABLE;CHARSET=none:x", version="2.1"),
                        "line 3: cannot read 'FN;ENCODING=QUOTED-PRINTABLE;CHARSET=non...':"
                        " unknown encoding: none"),
    "a megabyte of parameters": (card("FN:x", "EMAIL" + ";X=a" * 250_000 + ":a@b.example"),
                                 "line 4: no value within 10,000 characters: 'EMAIL;X=a"),
    "a 5 MB line": (card("FN:x", "NOTE:" + "n" * 5_000_000), "description is too large"),
    "not a vCard": ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "card 1: a VCALENDAR is not a vCard"),
}  # fmt: skip


@pytest.mark.usefixtures("checked_where")
@pytest.mark.parametrize("name", REFUSED)
def test_a_hostile_vcard_is_refused_with_one_clear_line(crm, name):
    """Exit 1 as for any file that cannot be imported, nothing written, and the
    message says where (a 10 MB line is not repeated in it)."""
    text, message = REFUSED[name]
    crm.ok("contact", "add", "Already Here")
    error = crm.fails(1, "import", "-", "-f", "vcf", input=text).stderr
    assert message in error and "unexpected" not in error
    assert error.count("\n") <= 3 and len(error) < 500
    assert [c["name"] for c in crm.json("contact", "list")] == ["Already Here"]


@pytest.mark.usefixtures("checked_where")
def test_hostile_but_readable_vcards_import(crm):
    """1,000 properties (the most a record keeps), vCard 2.1's quoted-printable soft line
    breaks, a base64 photo of a megabyte, a 4.0 data: URI, and commas not escaped."""
    jpeg = "/9j/" + "QUFB" * 400_000  # a JPEG's signature (FF D8 FF), then bytes
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + jpeg
    cards = (
        card("FN:Many", *(f"X-P{i}:v{i}" for i in range(1_000)))
        + card("N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;",
               "FN;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BC=",
               "ller", "NOTE;QUOTED-PRINTABLE:line one=0D=0Aline=", " two =", "continues",
               version="2.1")
        + card("FN:Photo", photo, "NOTE:Call him, he is nice")
        + card("FN:Uri", "PHOTO:data:image/jpeg;base64,/9j/" + "QUFB" * 100_000, "URL:http://x/a,b",
               version="4.0")
    )  # fmt: skip
    assert "imported 4 contacts" in crm.ok("import", "-", "-f", "vcf", input=cards).stderr
    _, jurgen, _, _ = crm.json("contact", "list", "--sort", "id")
    assert (jurgen["name"], jurgen["first_name"], jurgen["last_name"]) == (
        "Jürgen Müller", "Jürgen", "Müller")  # fmt: skip
    assert jurgen["description"] == "line one\nline two continues"
    many, _, photo, uri = (data for _, _, data in vcard.read_vcf(cards))
    assert len(many["vcard"]) == 1_000 and many["vcard"][-1] == "X-P999:v999"
    assert photo["photo"] == {"media_type": "image/jpeg", "data": jpeg}
    assert photo["description"] == "Call him, he is nice" and "vcard" not in photo
    assert uri["urls"] == [{"value": "http://x/a,b", "label": None}]
    assert uri["photo"] == {"media_type": "image/jpeg", "data": "/9j/" + "QUFB" * 100_000}


def test_reading_a_card_takes_memory_of_that_card_not_of_its_lines():
    """A 2 MB note folded into 75-octet lines: vobject's own reader took some
    150 times that (a regular expression's stack); now a few times."""
    note = "n" * 2_000_000
    text = card("FN:x", vcard.fold("NOTE:" + note).removesuffix("\r\n"))
    tracemalloc.start()
    try:
        ((_, _, data),) = list(vcard.read_vcf(text))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data["description"] == note
    assert peak < 10 * len(text), peak


def test_a_file_of_random_bytes_is_refused(crm, tmp_path):
    junk = tmp_path / "junk.vcf"
    junk.write_bytes(bytes(range(256)) * 100)
    assert "not valid utf-8" in crm.fails(1, "import", str(junk)).stderr
