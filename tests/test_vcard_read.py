"""vCards as other programs write them, read into crm's record (formats.vcard.read_vcf):
every part of a name, every address, URL, IM, relation and date with its label,
photos, companies and groups, and the properties crm has no field for kept as
they came."""

import pytest

from crmcli import models
from crmcli.errors import InvalidValue
from crmcli.formats import vcard


def card(*lines: str, version: str = "3.0", end: str = "\r\n") -> str:
    return "".join(f"{line}{end}" for line in ("BEGIN:VCARD", f"VERSION:{version}", *lines,
                                                "END:VCARD"))  # fmt: skip


def read(text: str) -> list[tuple[str, dict]]:
    return [(kind, data) for _, kind, data in vcard.read_vcf(text)]


def one(text: str) -> dict:
    ((kind, data),) = read(text)
    assert kind == "contacts"
    return data


# A small JPEG's first bytes (base64 of FF D8 FF E0 ...), as the cards below hold them.
JPEG = "/9j/4AAQSkZJRgABAQAAAQABAAD/4QBARXhpZgAATU0AKgAAAAgAAYdpAAQAAAABAAAAGgAAAAAA"

# Apple's Mac Address Book, from ez-vcard's test fixtures (mangstadt/ez-vcard,
# src/test/resources/ezvcard/io/text/John_Doe_MAC_ADDRESS_BOOK.vcf, BSD licence);
# the note and the photo cut short.
MAC = "\n".join([
    "BEGIN:VCARD", "VERSION:3.0", "N:Doe;John;Richter\\,James;Mr.;Sr.",
    "FN:Mr. John Richter\\,James Doe Sr.", "NICKNAME:Johny", "X-PHONETIC-FIRST-NAME:Jon",
    "X-PHONETIC-LAST-NAME:Dow", "ORG:IBM;Accounting", "TITLE:Money Counter",
    "EMAIL;type=INTERNET;type=WORK;type=pref:john.doe@ibm.com",
    "TEL;type=WORK;type=pref:905-777-1234", "TEL;type=HOME:905-666-1234",
    "TEL;type=CELL:905-555-1234", "TEL;type=HOME;type=FAX:905-888-1234",
    "TEL;type=WORK;type=FAX:905-999-1234", "TEL;type=PAGER:905-111-1234",
    "item1.TEL:905-222-1234", "item1.X-ABLabel:AssistantPhone",
    "item2.ADR;type=HOME;type=pref:;;Silicon Alley 5\\,;New York;New York;12345;United States"
    " of America",
    "item2.X-ABADR:Silicon Alley",
    "item3.ADR;type=WORK:;;Street4\\nBuilding 6\\nFloor 8;New York;;12345;USA",
    "item3.X-ABADR:Street 4, Building 6,\\nFloor 8\\nNew York\\nUSA",
    "NOTE:THIS SOFTWARE IS PROVIDED \\\"AS IS\\\"\\, AND ANY EXPRESS WARRANTIES\\nFavotire"
    " Color\\: Blue",
    "item4.URL;type=pref:http\\://www.ibm.com", "item4.X-ABLabel:_$!<HomePage>!$_",
    "BDAY;value=date:2012-06-06", "PHOTO;BASE64:", f"  {JPEG}", f"  {JPEG}", "END:VCARD", "",
])  # fmt: skip


def test_an_apple_card_is_read_whole():
    data = one(MAC)
    assert data["name"] == "Mr. John Richter,James Doe Sr."
    assert [data[key] for key in ("prefix", "first_name", "middle_name", "last_name", "suffix")
            ] == ["Mr.", "John", "Richter,James", "Doe", "Sr."]  # fmt: skip
    assert (data["nickname"], data["account"], data["department"], data["title"]) == (
        "Johny", "IBM", "Accounting", "Money Counter")  # fmt: skip
    assert data["emails"] == [{"value": "john.doe@ibm.com", "label": "work"}]
    assert [(item["label"], item["value"]) for item in data["phones"]] == [
        ("work", "905-777-1234"), ("home", "905-666-1234"), ("mobile", "905-555-1234"),
        ("home fax", "905-888-1234"), ("work fax", "905-999-1234"), ("pager", "905-111-1234"),
        ("assistantphone", "905-222-1234")]  # fmt: skip
    home, work = data["addresses"]
    assert home == {"label": "home", "po_box": None, "extended": None,
                    "street": "Silicon Alley 5,", "city": "New York", "region": "New York",
                    "postal_code": "12345", "country": "United States of America"}  # fmt: skip
    assert (work["label"], work["street"], work["region"]) == (
        "work", "Street4\nBuilding 6\nFloor 8", None)  # fmt: skip
    assert (data["street"], data["country"]) == ("Silicon Alley 5,", "United States of America")
    assert data["urls"] == [{"value": "http://www.ibm.com", "label": "homepage"}]  # \: read
    assert data["description"].endswith('"AS IS", AND ANY EXPRESS WARRANTIES\nFavotire Color: Blue')
    assert data["birthday"] == "2012-06-06"
    assert data["photo"] == {"media_type": "image/jpeg", "data": JPEG * 2}
    # Kept as they came; the X-ABLabels that labelled what crm read are not kept twice.
    assert data["vcard"] == [
        "X-PHONETIC-FIRST-NAME:Jon",
        "X-PHONETIC-LAST-NAME:Dow",
        "item2.X-ABADR:Silicon Alley",
        "item3.X-ABADR:Street 4, Building 6,\\nFloor 8\\nNew York\\nUSA",
    ]


def test_n_has_five_parts_and_fn_is_kept_as_given():
    data = one(card("N:Smith;Jane;Ann,Marie;Dr.;PhD", "FN:Dr. Jane Smith PhD"))
    assert data["name"] == "Dr. Jane Smith PhD"
    assert [data[key] for key in ("last_name", "first_name", "middle_name", "prefix", "suffix")
            ] == ["Smith", "Jane", "Ann Marie", "Dr.", "PhD"]  # fmt: skip


@pytest.mark.parametrize(
    ("lines", "name"),
    [
        (["ORG:Acme Inc."], "Acme Inc."),
        (["EMAIL:jane@acme.example"], "jane@acme.example"),
        (["NICKNAME:JJ"], "JJ"),
        (["FN:", "N:;;;;", "NICKNAME:JJ", "EMAIL:jane@acme.example"], "JJ"),
    ],
)
def test_a_card_without_a_name_is_named_by_what_it_has(lines, name):
    assert one(card(*lines))["name"] == name


def test_gender_anniversary_and_dates():
    data = one(card("FN:x", "GENDER:O;non-binary", "BDAY:--0423", "ANNIVERSARY:20100612T1200Z",
                    "item1.X-ABDATE:2015-03-01", "item1.X-ABLabel:_$!<Other>!$_",
                    "item2.X-ABDATE;type=pref:2001-09-09", "item2.X-ABLabel:first date",
                    version="4.0"))  # fmt: skip
    assert (data["gender"], data["birthday"], data["anniversary"]) == (
        "O;non-binary", "--04-23", "2010-06-12")  # fmt: skip
    assert data["dates"] == [{"value": "2015-03-01", "label": "other"},
                             {"value": "2001-09-09", "label": "first date"}]  # fmt: skip
    assert "vcard" not in data


@pytest.mark.parametrize(
    ("bday", "expected"),
    [("19900423", "1990-04-23"), ("1990-04-23T10:30:00Z", "1990-04-23"), ("--0423", "--04-23"),
     ("--04-23", "--04-23"), ("1953-10-15T23:10:00", "1953-10-15")],
)  # fmt: skip
def test_birthdays_with_and_without_a_year(bday, expected):
    assert one(card("FN:x", f"BDAY:{bday}"))["birthday"] == expected


def test_apple_year_less_birthday_and_anniversary():
    data = one(card("FN:x", "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-23",
                    "item1.X-ABDATE;X-APPLE-OMIT-YEAR=1604:1604-06-12",
                    "item1.X-ABLabel:_$!<Anniversary>!$_"))  # fmt: skip
    assert (data["birthday"], data["anniversary"]) == ("--04-23", "--06-12")
    assert "dates" not in data and "vcard" not in data


def test_addresses_every_one_with_all_seven_parts():
    data = one(card("FN:x",
                    "ADR;TYPE=dom,home,postal,parcel:PO 12;Apt 4;1 Main St;Town;ST;12345;US",
                    "ADR;TYPE=WORK:;;2 Work Rd;City;;;", "item1.ADR:;;3 Cabin;Lake;;;",
                    "item1.X-ABLabel:Cabin"))  # fmt: skip
    assert data["addresses"] == [
        {"label": "home", "po_box": "PO 12", "extended": "Apt 4", "street": "1 Main St",
         "city": "Town", "region": "ST", "postal_code": "12345", "country": "US"},
        {"label": "work", "po_box": None, "extended": None, "street": "2 Work Rd", "city": "City",
         "region": None, "postal_code": None, "country": None},
        {"label": "cabin", "po_box": None, "extended": None, "street": "3 Cabin", "city": "Lake",
         "region": None, "postal_code": None, "country": None},
    ]  # fmt: skip
    assert [data[key] for key in ("street", "city", "region", "postal_code", "country")] == [
        "1 Main St", "Town", "ST", "12345", "US"]  # fmt: skip


def test_urls_ims_and_social_profiles():
    data = one(card(
        "FN:x", "URL;TYPE=work:https://acme.example", "URL:https://jane.example",
        "IMPP;X-SERVICE-TYPE=Skype;type=HOME;type=pref:skype:jane.doe",
        "X-SKYPE:jane.doe", "X-AIM;type=HOME:janeaim", "X-JABBER:jane@jabber.example",
        "X-ICQ:12345", "X-MSN:jane@msn.example", "X-YAHOO:janey",
        "X-GOOGLE-TALK:jane@gmail.example",
        "IMPP;TYPE=personal:xmpp:jane@x.example",
        "X-SOCIALPROFILE;type=twitter;x-user=janedoe:http://twitter.com/janedoe",
    ))  # fmt: skip
    assert data["urls"] == [
        {"value": "https://acme.example", "label": "work"},
        {"value": "https://jane.example", "label": None},
        {"value": "http://twitter.com/janedoe", "label": "twitter"},
    ]
    assert data["impps"] == [
        {"value": "skype:jane.doe", "label": "skype"},  # X-SKYPE says it again: once
        {"value": "aim:janeaim", "label": "aim"},
        {"value": "xmpp:jane@jabber.example", "label": "jabber"},
        {"value": "icq:12345", "label": "icq"},
        {"value": "msnim:jane@msn.example", "label": "msn"},
        {"value": "ymsgr:janey", "label": "yahoo"},
        {"value": "xmpp:jane@gmail.example", "label": "google-talk"},
        {"value": "xmpp:jane@x.example", "label": "personal"},
    ]
    assert "vcard" not in data


def test_related_people():
    data = one(card(
        "FN:x", "RELATED;TYPE=spouse:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af",
        "RELATED;TYPE=child;VALUE=text:Tom", "item1.X-ABRELATEDNAMES:Mary",
        "item1.X-ABLabel:_$!<Mother>!$_", "X-ASSISTANT:Bob", version="4.0",
    ))  # fmt: skip
    assert data["related"] == [
        {"value": "urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af", "label": "spouse"},
        {"value": "Tom", "label": "child"},
        {"value": "Mary", "label": "mother"},
        {"value": "Bob", "label": "assistant"},
    ]


def test_several_org_and_title_the_first_is_the_account():
    data = one(card("FN:x", "ORG:Acme;Sales;East", "TITLE:CTO", "ORG:Other Inc.",
                    "TITLE:Board member"))  # fmt: skip
    assert (data["account"], data["department"], data["title"]) == ("Acme", "Sales; East", "CTO")
    assert data["vcard"] == ["ORG:Other Inc.", "TITLE:Board member"]


def test_crms_older_x_department_is_read():
    assert one(card("FN:x", "ORG:Acme", "X-DEPARTMENT:Sales"))["department"] == "Sales"


@pytest.mark.parametrize(
    ("line", "media_type", "version"),
    [
        (f"PHOTO;ENCODING=BASE64;TYPE=JPEG:{JPEG}", "image/jpeg", "2.1"),
        (f"PHOTO;JPEG;ENCODING=BASE64:{JPEG}", "image/jpeg", "2.1"),
        (f"PHOTO;ENCODING=b;TYPE=JPEG:{JPEG}", "image/jpeg", "3.0"),
        (f"PHOTO;ENCODING=b;TYPE=image/png:{JPEG}", "image/png", "3.0"),
        (f"PHOTO;ENCODING=b:{JPEG}", "image/jpeg", "3.0"),  # no type: the bytes say it
        (f"PHOTO:data:image/jpeg;base64,{JPEG}", "image/jpeg", "4.0"),
        (f"PHOTO;ENCODING=b:data:image/gif;base64,{JPEG}", "image/gif", "3.0"),
    ],
)
def test_photos_in_every_form(line, media_type, version):
    data = one(card("FN:x", line, version=version))
    assert data["photo"] == {"media_type": media_type, "data": JPEG}


def test_a_photo_that_is_a_url_is_kept_as_it_came():
    data = one(card("FN:x", "PHOTO;VALUE=uri:http://example.com/jane.jpg"))
    assert "photo" not in data and data["vcard"] == ["PHOTO;VALUE=uri:http://example.com/jane.jpg"]


def test_a_photo_that_is_not_base64_rejects_the_file_with_its_line():
    ((_, problem),) = read(card("FN:x", "NOTE:x", "PHOTO;ENCODING=b;TYPE=JPEG:not*base64!"))
    assert "line 5: the PHOTO's data is not base64" in problem  # the card's problem


def test_unknown_properties_are_kept_exactly():
    data = one(card(
        "FN:x", "X-SKYPE-DISPLAYNAME;X-SERVICE=a:Jane \\, Doe", "item5.X-CUSTOM;TYPE=a,b:v",
        "item5.X-ABLabel:For item5", "X-QP;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:M=C3=BC=",
        "ller=0D=0Anext", "CLIENTPIDMAP:1;urn:uuid:3df403f4-5924-4bb7-b077-3c711d9eb34b",
        "PRODID:-//Apple Inc.//Mac OS X 10.8//EN", "PROFILE:VCard", "X-EMPTY:", version="2.1",
    ))  # fmt: skip
    assert data["vcard"] == [
        "X-SKYPE-DISPLAYNAME;X-SERVICE=a:Jane \\, Doe",
        "item5.X-CUSTOM;TYPE=a,b:v",
        "item5.X-ABLabel:For item5",  # labels nothing crm read: kept
        "X-QP:Müller\\nnext",
        "CLIENTPIDMAP:1;urn:uuid:3df403f4-5924-4bb7-b077-3c711d9eb34b",
        "X-EMPTY:",
    ]


# -- reading what other programs write -------------------------------------------------
def test_quoted_printable_soft_breaks_in_names_addresses_and_a_leading_break():
    """Outlook, Android, Nokia: 2.1 QP everywhere, soft breaks (`=` at a line's end)."""
    text = card(
        "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FC=",
        "rgen;;;",
        "NOTE;ENCODING=QUOTED-PRINTABLE:=",
        "first line=0D=0A=",
        "second",
        "ADR;HOME;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:;;Hauptstra=C3=9Fe 1=",
        ";Berlin;;10115;Deutschland",
        "TEL;CELL;PREF:+49 171 1234567",
        version="2.1",
    )
    data = one(text)
    assert (data["first_name"], data["last_name"]) == ("Jürgen", "Müller")
    assert data["description"] == "first line\nsecond"
    assert data["addresses"][0] == {
        "label": "home", "po_box": None, "extended": None, "street": "Hauptstraße 1",
        "city": "Berlin", "region": None, "postal_code": "10115", "country": "Deutschland",
    }  # fmt: skip
    assert data["phones"] == [{"value": "+49 171 1234567", "label": "mobile"}]


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r\r\n"])
def test_a_broken_line_after_soft_breaks_is_named_by_its_own_line(end):
    text = card("N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FC=", "ller;;;;",
                "NOTE;QUOTED-PRINTABLE:a=",
                "b=", "c", "junk", version="2.1", end=end)  # fmt: skip
    ((_, problem),) = read(text)
    assert "line 8: not a property (NAME:VALUE): 'junk'" in problem


def test_quoted_printable_without_a_charset_that_is_not_utf_8_is_windows_1252():
    """2.1 says ASCII; Outlook's and old phones' 8-bit text without a CHARSET is
    their Windows code page."""
    data = one(card("N;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen;;;", "FN;QUOTED-PRINTABLE:=80 x",
                    "NOTE;ENCODING=QUOTED-PRINTABLE:Gr=C3=BC=C3=9Fe", version="2.1"))  # fmt: skip
    assert (data["first_name"], data["last_name"], data["name"]) == ("Jürgen", "Müller", "€ x")
    assert data["description"] == "Grüße"  # UTF-8 where it is UTF-8


def test_cr_cr_lf_line_ends_and_folding():
    data = one(card("FN:Jane", "NOTE:one", " two", "EMAIL:j@x.example", end="\r\r\n"))
    assert (data["description"], data["emails"][0]["value"]) == ("onetwo", "j@x.example")


def test_a_bare_cr_inside_a_value_is_a_line_break():
    """Thunderbird writes a note's line breaks as a bare CR."""
    data = one(card("FN:Jane", "NOTE:one\rtwo", "EMAIL:j@x.example"))
    assert (data["description"], data["emails"][0]["value"]) == ("one\ntwo", "j@x.example")


def test_a_file_of_cr_line_ends_only():
    assert one(card("FN:Jane", "NOTE:x", end="\r"))["description"] == "x"


def test_the_rfc_6350_tel_uri_with_an_extension():
    data = one(card("FN:x", "TEL;VALUE=uri;TYPE=\"voice,home\":tel:+1-418-656-9254;ext=102",
                    version="4.0"))  # fmt: skip
    assert data["phones"] == [{"value": "+1-418-656-9254;ext=102", "label": "home"}]
    assert models.phone(data["phones"][0]["value"]) == "+1-418-656-9254;ext=102"


def test_profile_vcard_of_lotus_notes_is_read_and_not_kept():
    data = one(card("PROFILE:VCard", "FN:x"))
    assert "vcard" not in data and "fields" not in data


def test_apple_backslash_colon_escapes():
    data = one(card("FN:x", "URL:http\\://x.example/a", "NOTE:Time\\: 10\\:00",
                    "ADR:;;1 Main\\: St;Town;;;"))  # fmt: skip
    assert data["urls"][0]["value"] == "http://x.example/a"
    assert (data["description"], data["street"]) == ("Time: 10:00", "1 Main: St")


def test_home_fax_keeps_both_words():
    data = one(card("FN:x", "TEL;TYPE=HOME,FAX:+1 555 0100", "TEL;HOME;FAX:+1 555 0101",
                    "TEL;TYPE=WORK;TYPE=VOICE:+1 555 0102"))  # fmt: skip
    assert [item["label"] for item in data["phones"]] == ["home fax", "home fax", "work"]


@pytest.mark.parametrize(
    ("number", "kept"),
    [("*123#", "*123#"), ("+1 555 0100;ext=12", "+1 555 0100;ext=12"),
     ("+49\u00a0171\u00a01234567", "+49 171 1234567"),
     ("\u202a+1 555 0100\u202c", "+1 555 0100"), ("\u202b+972 3 1234567\u202c", "+972 3 1234567")],
)  # fmt: skip
def test_phones_as_people_write_them(number, kept):
    assert models.phone(number) == kept


@pytest.mark.parametrize("number", ["1;2", "+1;ext=", "call me", "*#"])
def test_phones_that_are_still_not_numbers(number):
    with pytest.raises(InvalidValue, match="invalid phone"):
        models.phone(number)


def test_a_tel_that_is_no_number_is_kept_as_it_came_not_refused():
    data = one(card("FN:x", "TEL;TYPE=FAX:+1-800-MYFAX", "TEL;WORK;VOICE:BusinessPhone",
                    "TEL:+1 555 0100"))  # fmt: skip
    assert data["phones"] == [{"value": "+1 555 0100", "label": None}]
    assert data["vcard"] == ["TEL;TYPE=FAX:+1-800-MYFAX", "TEL;WORK;VOICE:BusinessPhone"]
    record = {"id": 1, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
              **data}  # fmt: skip
    assert one(vcard.card(record, "3.0"))["vcard"] == data["vcard"]  # written back, read again


def test_a_card_with_only_a_phone_is_named_by_it():
    assert one(card("TEL:+1 555 0100"))["name"] == "+1 555 0100"


def test_what_real_phones_and_clients_write():
    """Shapes from the corpus (tests/corpus): Sony Ericsson's empty QP value continued on
    the next line and empty EMAILs (gammu se-3.vcf), an unescaped comma in ORG (ez-vcard
    outlook-2003.vcf), Thunderbird's 3.0 PHOTO in base64 without ENCODING."""
    data = one(card("N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:", ";=D0=A2=D0=B0=D0=BD=D1=8F",
                    "TEL;CELL:+380989945355", "EMAIL;INTERNET;PREF;CHARSET=UTF-8:",
                    "ORG:Company, The;TheDepartment", version="2.1"))  # fmt: skip
    assert (data.get("last_name"), data["first_name"]) == (None, "Таня")
    assert "emails" not in data and data["phones"][0]["value"] == "+380989945355"
    assert (data["account"], data["department"]) == ("Company, The", "TheDepartment")
    assert one(card("FN:x", f"PHOTO:{JPEG}"))["photo"] == {"media_type": "image/jpeg",
                                                          "data": JPEG}  # fmt: skip


# -- companies and groups ------------------------------------------------------------
def test_a_kind_org_card_is_an_account():
    text = card("KIND:org", "FN:Acme Inc.", "ORG:Acme Inc.", "EMAIL:info@acme.example",
                "EMAIL:sales@acme.example", "TEL:+1 555 0100", "URL:https://acme.example",
                "ADR;TYPE=work:;;1 Road;Springfield;IL;62701;USA", "NOTE:Our best customer",
                f"LOGO:data:image/png;base64,{JPEG}", "X-CUSTOM:kept", "CATEGORIES:vip",
                "UID:urn:uuid:acme", version="4.0")  # fmt: skip
    ((kind, data),) = read(text)
    assert kind == "accounts"
    assert data == {
        "name": "Acme Inc.", "kind": "business", "email": "info@acme.example",
        "phone": "+1 555 0100", "website": "https://acme.example", "street": "1 Road",
        "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "USA",
        "description": "Our best customer", "tags": ["vip"], "fields": {"uid": "urn:uuid:acme"},
        "logo": {"media_type": "image/png", "data": JPEG},
        "vcard": ["X-CUSTOM:kept", "EMAIL:sales@acme.example"],
    }  # fmt: skip


def test_apples_company_card_is_an_account():
    text = card("N:;;;;", "FN:Acme", "ORG:Acme;", "X-ABShowAs:COMPANY", "TITLE:x")
    ((kind, data),) = read(text)
    assert kind == "accounts" and data["name"] == "Acme" and data["vcard"] == ["TITLE:x"]


def test_a_group_tags_its_members_before_and_after_it():
    group = card("KIND:group", "FN:Book club", "MEMBER:urn:uuid:aaa", "MEMBER:mailto:b@x.example",
                 "MEMBER:urn:uuid:not-in-the-file", version="4.0")  # fmt: skip
    apple = card(
        "X-ADDRESSBOOKSERVER-KIND:group", "FN:Family", "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:BBB"
    )
    a = card("FN:A", "UID:urn:uuid:aaa", "CATEGORIES:friends")
    b = card("FN:B", "UID:bbb", "EMAIL:B@x.example")
    c = card("FN:C")
    items = read(a + group + b + apple + c)
    assert [(kind, data["name"], data.get("tags")) for kind, data in items] == [
        ("contacts", "A", ["friends", "Book club"]),
        ("contacts", "B", ["Family", "Book club"]),
        ("contacts", "C", None),
    ]


def test_where_each_card_is_is_its_number_in_the_file_and_its_line():
    text = card("KIND:group", "FN:G", version="4.0") + card("FN:A") + card("FN:B")
    assert [where for where, _, _ in vcard.read_vcf(text)] == [
        "card 2 (line 6)",
        "card 3 (line 10)",
    ]


# -- through crm import --------------------------------------------------------------
def test_files_that_were_refused_import(crm):
    """Each of these rejected a whole real file."""
    files = [
        card("FN:Ext", 'TEL;VALUE=uri;TYPE="voice,home":tel:+1-418-656-9254;ext=102',
             "TEL;TYPE=cell:\u202a+1 555 0100\u202c", "TEL:*123#", version="4.0"),
        card("PROFILE:VCard", "FN:Lotus", "N:Notes;Lotus;;;"),
        card("FN:Thunderbird", "NOTE:one\rtwo", "EMAIL:t@x.example"),
        card("FN:Cr Cr Lf", "NOTE:one", " two", end="\r\r\n"),
        card("N;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FC=", "rgen;;;", "NOTE;QUOTED-PRINTABLE:=",
             "starts with a break", version="2.1"),
    ]  # fmt: skip
    assert "imported 5 contacts" in crm.ok("import", "-", "-f", "vcf", input="".join(files)).stderr
    ext, lotus, bird, crcrlf, qp = crm.json("contact", "list", "--sort", "id")
    assert [(phone["value"], phone["label"]) for phone in ext["phones"]] == [
        ("+1-418-656-9254;ext=102", "home"),
        ("+1 555 0100", "mobile"),
        ("*123#", None),
    ]
    assert lotus["fields"] == {} and bird["description"] == "one\ntwo"
    assert crcrlf["description"] == "onetwo"
    assert (qp["first_name"], qp["description"]) == ("Jürgen", "starts with a break")


def test_a_broken_card_still_rejects_the_file_with_its_line(crm):
    good = card("FN:Good", "NOTE;QUOTED-PRINTABLE:a=", "b", version="2.1")
    broken = card("FN:Broken", "NOTE;QUOTED-PRINTABLE:c=", "d", "junk line", version="2.1")
    error = crm.fails(1, "import", "-", "-f", "vcf", input=good + broken).stderr
    assert "line 12: not a property (NAME:VALUE): 'junk line'" in error
    assert crm.json("contact", "list") == []


def test_company_cards_are_read_before_the_people_who_name_them():
    text = card("FN:Jane", "ORG:Acme") + card("X-ABShowAs:COMPANY", "FN:Acme", "ORG:Acme")
    assert [(where, kind) for where, kind, _ in vcard.read_vcf(text)] == [
        ("card 2 (line 6)", "accounts"), ("card 1 (line 1)", "contacts")]  # fmt: skip


def test_a_person_naming_a_company_card_later_in_the_file_imports(crm):
    text = card("FN:Jane", "ORG:Acme") + card("X-ABShowAs:COMPANY", "FN:Acme", "ORG:Acme",
                                              "URL:https://acme.example")  # fmt: skip
    assert "imported 1 account, 1 contact" in crm.ok("import", "-", "-f", "vcf", input=text).stderr
    (acme,) = crm.json("account", "list")
    assert acme["website"] == "https://acme.example"
    assert crm.json("contact", "list")[0]["account"] == "Acme"
