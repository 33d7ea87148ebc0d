"""Issue 12: the contact holds what address books hold (name parts, nickname,
gender, anniversary, addresses, URLs, IM handles, related people, dates, kept
vCard properties), through the store, the importer, merge, undo and the CLI."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli import models
from crmcli.config import Config
from crmcli.errors import InvalidValue
from crmcli.store import checks, contacts, imports, merge, search

HOME = {
    "label": "home",
    "po_box": None,
    "extended": None,
    "street": "1 Main St",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62701",
    "country": "USA",
}
WORK = {
    "label": "work",
    "po_box": "PO 9",
    "extended": "Floor 3",
    "street": "2 Office Rd",
    "city": "Chicago",
    "region": None,
    "postal_code": None,
    "country": None,
}
FULL = {
    "name": "Dr. Jane Q. Smith PhD",
    "prefix": "Dr.",
    "first_name": "Jane",
    "middle_name": "Q.",
    "last_name": "Smith",
    "suffix": "PhD",
    "nickname": "JJ",
    "gender": "O;non-binary",
    "anniversary": "--06-01",
    "birthday": "1990-04-23",
    "emails": [{"value": "jane@acme.example", "label": "work"}],
    "addresses": [HOME, WORK],
    "urls": [{"value": "https://jane.example", "label": "work"}],
    "impps": [
        {"value": "xmpp:jane@jabber.example", "label": None},
        {"value": "skype:jane.doe", "label": "skype"},
    ],
    "related": [
        {"value": "John Smith", "label": "spouse"},
        {"value": "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "label": None},
    ],
    "dates": [
        {"value": "2020-05-01", "label": "first met"},
        {"value": "June 2001", "label": "graduation"},
    ],
    "vcard": ["item1.X-ABLabel:Work", "X-SKYPE;X-SERVICE-TYPE=Skype:jane"],
    "fields": {"source_id": "c-17"},
}
NEW_KEYS = (
    "prefix",
    "middle_name",
    "suffix",
    "nickname",
    "gender",
    "anniversary",
    "addresses",
    "urls",
    "impps",
    "related",
    "dates",
    "vcard",
)


def _import(conn, records, kind="contacts", on_conflict="error"):
    items = checks.checked(((f"#{n}", kind, data) for n, data in enumerate(records, 1)), Config())
    return imports.import_records(conn, items, on_conflict=on_conflict)


# -- names --------------------------------------------------------------------------
def test_the_name_is_made_from_the_parts_or_what_the_contact_has(conn):
    jane = contacts.add_contact(
        conn,
        first="Jane",
        last="Smith",
        parts={"prefix": "Dr.", "middle_name": "Q.", "suffix": "PhD"},
    )
    assert jane["name"] == "Dr. Jane Q. Smith PhD"
    bo = contacts.add_contact(conn, values={"nickname": "Bo"})
    assert (bo["name"], bo["first_name"], bo["last_name"]) == ("Bo", None, None)
    mail = contacts.add_contact(conn, emails=["ops@acme.example"])
    assert mail["name"] == "ops@acme.example"
    from crmcli.store import accounts

    accounts.add_account(conn, {"name": "Acme"})
    assert contacts.add_contact(conn, account="Acme")["name"] == "Acme"
    assert contacts.add_contact(conn, phones=["+1 555 0100"])["name"] == "+1 555 0100"
    with pytest.raises(InvalidValue, match="needs a name"):
        contacts.add_contact(conn, values={"title": "CTO"})


def test_a_formatted_name_is_kept_as_given(conn):
    c = contacts.add_contact(conn, full_name="Dr. Jane Smith PhD", first="Jane", last="Smith")
    assert (c["name"], c["first_name"], c["last_name"]) == ("Dr. Jane Smith PhD", "Jane", "Smith")
    # editing parts keeps a given name; a name made from the parts follows them
    c = contacts.edit_contact(conn, str(c["id"]), parts={"middle_name": "Q."})
    assert c["name"] == "Dr. Jane Smith PhD" and c["middle_name"] == "Q."
    made = contacts.add_contact(conn, first="Ada", last="Byron")
    made = contacts.edit_contact(conn, str(made["id"]), last="Lovelace", parts={"prefix": "Lady"})
    assert made["name"] == "Lady Ada Lovelace"
    nick = contacts.add_contact(conn, values={"nickname": "Bo"})
    nick = contacts.edit_contact(conn, str(nick["id"]), values={"nickname": "Bobby"})
    assert nick["name"] == "Bobby"
    # --name '' makes it from the parts again
    c = contacts.edit_contact(conn, str(c["id"]), full_name="")
    assert c["name"] == "Jane Q. Smith"


# -- lists ----------------------------------------------------------------------------
def test_addresses_and_the_primary_columns_stay_in_step(conn):
    c = contacts.add_contact(
        conn,
        full_name="Jane Doe",
        addresses=[
            "home:1 Main St; Springfield; IL; 62701; USA",
            "work:PO 9; Floor 3; 2 Office Rd; Chicago; ; ;",
        ],
    )
    assert c["addresses"] == [HOME, WORK]
    assert (c["street"], c["city"], c["country"]) == ("1 Main St", "Springfield", "USA")
    c = contacts.edit_contact(conn, "Jane Doe", values={"city": "Boston"})
    assert c["addresses"][0]["city"] == "Boston" == c["city"] and c["addresses"][1] == WORK
    c = contacts.edit_contact(conn, "Jane Doe", remove_addresses=["1"])
    assert c["addresses"] == [WORK] and (c["street"], c["city"]) == ("2 Office Rd", "Chicago")
    c = contacts.edit_contact(conn, "Jane Doe", addresses=["work:9 New St; Oslo"])
    assert (
        c["addresses"]
        == [{**dict.fromkeys(WORK), "label": "work", "street": "9 New St", "city": "Oslo"}]
        and c["city"] == "Oslo"
    )
    c = contacts.edit_contact(conn, "Jane Doe", remove_addresses=["work"])
    assert c["addresses"] == [] and c["street"] is None
    c = contacts.edit_contact(conn, "Jane Doe", values={"street": "3 Side St"})  # made anew
    assert c["addresses"] == [{**dict.fromkeys(WORK), "street": "3 Side St"}]
    with pytest.raises(InvalidValue, match="no address 5"):
        contacts.edit_contact(conn, "Jane Doe", remove_addresses=["5"])
    with pytest.raises(InvalidValue, match="invalid address"):
        contacts.add_contact(conn, full_name="X", addresses=["a; b; c; d; e; f"])


def test_labelled_lists_add_relabel_and_remove(conn):
    c = contacts.add_contact(
        conn,
        full_name="Jane Doe",
        lists={
            "urls": ["https://jane.example", "work:https://acme.example/jane"],
            "impps": ["xmpp:jane@jabber.example", "work:skype:jane.doe"],
            "related": ["spouse:John Doe", "urn:uuid:1234"],
            "dates": ["first met:2020-05-01", "graduation:2001-06-15"],
        },
    )
    assert c["urls"] == [
        {"value": "https://jane.example", "label": None},
        {"value": "https://acme.example/jane", "label": "work"},
    ]
    assert c["impps"] == [
        {"value": "xmpp:jane@jabber.example", "label": None},
        {"value": "skype:jane.doe", "label": "work"},
    ]
    assert c["related"] == [
        {"value": "John Doe", "label": "spouse"},
        {"value": "urn:uuid:1234", "label": None},
    ]
    assert c["dates"][1] == {"value": "2001-06-15", "label": "graduation"}
    c = contacts.edit_contact(
        conn,
        "Jane Doe",
        lists={"urls": ["home:https://jane.example"]},
        removals={"impps": ["skype:jane.doe"], "dates": ["first met"]},
    )
    assert c["urls"][0] == {"value": "https://jane.example", "label": "home"}
    assert len(c["impps"]) == 1 and [d["label"] for d in c["dates"]] == ["graduation"]
    with pytest.raises(InvalidValue, match="no URL"):
        contacts.edit_contact(conn, "Jane Doe", removals={"urls": ["https://nope.example"]})
    with pytest.raises(InvalidValue, match="invalid IM handle"):
        contacts.edit_contact(conn, "Jane Doe", lists={"impps": ["jane doe"]})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nickname": "x" * (models.LINE_MAX + 1)}, "nickname is too long"),
        ({"anniversary": "2020-02-30"}, "invalid anniversary"),
        ({"urls": ["https://x.example/" + "a" * models.URI_MAX]}, "URL is too long"),
        ({"urls": [f"https://x.example/{n}" for n in range(models.LIST_MAX + 1)]}, "too many"),
        ({"urls": "not json"}, "must be a JSON list"),
        ({"addresses": [{"town": "Oslo"}]}, "unknown key"),
        ({"addresses": [{"street": "a\x00b"}]}, "NUL"),
        ({"dates": [{"value": "x", "label": "1st"}]}, "invalid label"),
        ({"vcard": ["X-A:1\r\nX-B:2"]}, "one \\(unfolded\\) line"),
        ({"vcard": [f"X-N:{n}" for n in range(models.VCARD_MAX + 1)]}, "too many"),
    ],
)
def test_new_fields_are_checked(data, message):
    with pytest.raises(InvalidValue, match=message):
        checks.check("contacts", {"name": "Jane Doe", **data}, Config())


# -- import, update, merge, undo ------------------------------------------------------
def test_import_stores_every_new_key_from_json_lists_or_json_text(conn):
    as_text = {
        **FULL,
        "name": "Other Person",
        "first_name": None,
        "prefix": None,
        "middle_name": None,
        "last_name": None,
        "suffix": None,
        "emails": [{"value": "other@acme.example", "label": None}],
        **{key: json.dumps(FULL[key]) for key in contacts.LISTS},
    }
    _import(conn, [FULL, as_text])
    jane, other = (contacts.get_contact(conn, i) for i in (1, 2))
    for key in NEW_KEYS:
        assert jane[key] == FULL[key], key
        if key in contacts.LISTS:
            assert other[key] == FULL[key], key
    assert (jane["street"], jane["city"]) == ("1 Main St", "Springfield")
    assert other["name"] == "Other Person" and other["first_name"] is None


def test_a_record_named_by_what_it_has_is_not_split(conn):
    _import(
        conn,
        [
            {"name": "ops@acme.example", "emails": "ops@acme.example"},
            {"name": "Bo", "nickname": "Bo"},
            {"nickname": "Kit"},
            {"name": "Jane Doe"},
        ],
    )
    got = [(c["name"], c["first_name"], c["last_name"]) for c in contacts.list_contacts(conn)]
    assert sorted(got) == [
        ("Bo", None, None),
        ("Jane Doe", "Jane", "Doe"),
        ("Kit", None, None),
        ("ops@acme.example", None, None),
    ]


def test_update_from_a_file_puts_its_lists_first_and_keeps_the_stored_ones(conn):
    contacts.add_contact(
        conn,
        full_name="Jane Doe",
        emails=["jane@acme.example"],
        addresses=["home:1 Main St; Springfield"],
        lists={"urls": ["https://old.example"]},
    )
    _import(
        conn,
        [
            {
                "name": "Jane Doe",
                "emails": "jane@acme.example",
                "nickname": "JJ",
                "addresses": [WORK],
                "urls": "[]",
            }
        ],
        on_conflict="update",
    )
    jane = contacts.get_contact(conn, 1)
    assert jane["nickname"] == "JJ" and [a["label"] for a in jane["addresses"]] == ["work", "home"]
    assert jane["city"] == "Chicago" and jane["urls"][0]["value"] == "https://old.example"


def test_merge_fills_empty_fields_and_joins_lists(conn):
    keep = contacts.add_contact(
        conn,
        full_name="Jane Doe",
        addresses=["home:1 Main St"],
        lists={"urls": ["https://a.example"]},
    )
    other = contacts.add_contact(
        conn,
        full_name="J. Doe",
        values={"nickname": "JJ", "gender": "F"},
        addresses=["home:1 Main St", "work:2 Rd"],
        lists={"urls": ["https://a.example", "https://b.example"], "impps": ["xmpp:j@x.example"]},
    )
    merged = merge.merge_contacts(conn, keep["id"], [other["id"]])
    assert (merged["nickname"], merged["gender"]) == ("JJ", "F")
    assert [a["street"] for a in merged["addresses"]] == ["1 Main St", "2 Rd"]
    assert merged["street"] == "1 Main St"
    assert [u["value"] for u in merged["urls"]] == ["https://a.example", "https://b.example"]
    assert merged["impps"] == [{"value": "xmpp:j@x.example", "label": None}]


def test_undo_restores_the_new_fields(crm, tmp_path):
    path = tmp_path / "jane.json"
    path.write_text(json.dumps([FULL]))
    crm.ok("import", str(path), "--kind", "contacts")
    crm.ok(
        "contact",
        "edit",
        "1",
        "--name",
        "Jane",
        "--prefix",
        "",
        "--nickname",
        "",
        "--city",
        "Oslo",
        "--remove-address",
        "work",
        "--remove-url",
        "https://jane.example",
        "--impp",
        "sip:jane@x.example",
        "--anniversary",
        "",
        "--gender",
        "",
    )
    edited = crm.json("contact", "show", "1")
    assert (edited["name"], edited["prefix"], edited["nickname"]) == ("Jane", None, None)
    crm.ok("undo")
    jane = crm.json("contact", "show", "1")
    for key in NEW_KEYS:
        assert jane[key] == FULL[key], key
    assert (jane["name"], jane["city"]) == (FULL["name"], "Springfield")


def test_search_finds_nickname_middle_name_and_every_address(conn):
    c = contacts.add_contact(
        conn,
        full_name="Jane Doe",
        parts={"middle_name": "Quintessa"},
        values={"nickname": "Jinx"},
        addresses=["home:1 Main St; Springfield", "work:2 Rd; Reykjavik"],
        lists={"urls": ["https://janedoe.example"]},
    )
    for word in ("jinx", "quintessa", "reykjavik", "janedoe"):
        assert [hit["id"] for hit in search.search(conn, word)] == [c["id"]], word
    row = conn.execute("SELECT * FROM contacts WHERE id = ?", (c["id"],))
    columns = dict(zip([d[0] for d in row.description], row.fetchone(), strict=True))
    emails = [(e["label"], e["value"]) for e in c["emails"]]
    body = conn.execute("SELECT body FROM search_contacts WHERE id = ?", (c["id"],)).fetchone()[0]
    assert search.contact_text(columns, emails, []) == body


def test_where_and_columns_know_the_new_fields(conn):
    contacts.add_contact(
        conn,
        full_name="Jane Doe",
        values={"nickname": "JJ", "gender": "F", "anniversary": "2010-06-01"},
        addresses=["home:1 Main St; Springfield", "work:2 Rd; Reykjavik"],
        lists={"urls": ["https://jane.example"]},
    )
    contacts.add_contact(conn, full_name="Bob Roe")
    from crmcli.store.query import Query

    def names(*where):
        return [c["name"] for c in contacts.list_contacts(conn, filters=Query(where=list(where)))]

    assert names("nickname=jj") == ["Jane Doe"] and names("gender=f") == ["Jane Doe"]
    assert names("anniversary>=2010-01-01") == ["Jane Doe"]
    assert names("city=springfield") == ["Jane Doe"] and names("city=reykjavik") == []
    assert names("addresses~reykjavik") == ["Jane Doe"]
    assert names("urls=https://jane.example") == ["Jane Doe"]
    assert names("addresses!=x", "nickname=") == ["Bob Roe"]


# -- crm's own files, through the installed crm -----------------------------------------
def test_every_new_field_round_trips_through_crms_own_files(run, tmp_path):
    """JSON backup, JSONL, CSV and TSV, each exported, imported into an empty
    database and exported again: the same records (a contact with every field,
    line breaks and tabs in them, and one named by its nickname alone)."""
    source = tmp_path / "full.json"
    tricky = {**FULL, "description": "two\nlines\\n and a\ttab",
              "addresses": [{**HOME, "street": "1 Main St\nApt 2"}, WORK]}  # fmt: skip
    nameless = {"nickname": "Bo", "emails": "bo@x.example", "vcard": ["X-A;B=c:d\\,e"]}
    source.write_text(json.dumps([tricky, nameless]))
    run("import", str(source), "--kind", "contacts")
    before = json.loads(run("export", "-f", "json").stdout)["contacts"]
    assert before[0]["addresses"][0]["street"] == "1 Main St\nApt 2"
    assert (before[1]["name"], before[1]["first_name"]) == ("Bo", None)
    for fmt in ("json", "jsonl", "csv", "tsv"):
        out = tmp_path / f"out.{fmt}"
        run("export", "-f", fmt, "-o", str(out), "--kind", "contacts")
        env = {**run.env, "CRM_DB": str(tmp_path / f"{fmt}.db")}
        run("import", str(out), "--kind", "contacts", env=env)
        after = json.loads(run("export", "-f", "json", env=env).stdout)["contacts"]
        assert after == before, fmt


def test_a_tsv_an_older_crm_wrote_is_still_read_as_crms(crm, tmp_path):
    from crmcli.formats import table

    old = ("id", "name", "first_name", "last_name", "title", "department", "email", "phone",
           "emails", "phones", "account_id", "account", "street", "city", "region",
           "postal_code", "country", "birthday", "description", "every", "last_contacted",
           "tags", "fields", "created_at", "updated_at")  # fmt: skip
    assert table.crm_header(list(old)) and table.crm_header(list(models.CONTACT_FIELDS))
    cells = dict.fromkeys(old, "")
    cells.update(name="Jane Doe", first_name="Jane", last_name="Doe", city="Oslo",
                 description="one\\ntwo")  # fmt: skip
    path = tmp_path / "old.tsv"
    path.write_text("\t".join(old) + "\n" + "\t".join(cells.values()) + "\n")
    crm.ok("import", str(path), "--kind", "contacts")
    jane = crm.json("contact", "show", "Jane Doe")
    assert jane["description"] == "one\ntwo"
    assert jane["addresses"] == [{**dict.fromkeys(models.ADDRESS_KEYS), "city": "Oslo"}]


def test_contact_options_and_their_help(crm):
    helptext = " ".join(crm.ok("contact", "add", "-h").stdout.split())
    assert "home:1 Main St; Springfield; IL; 62701; USA" in helptext and "--nickname" in helptext
    jane = crm.json("contact", "add", "Jane Doe", "--middle", "Q.", "--nickname", "JJ",
                    "--address", "home:1 Main St; Springfield", "--url", "https://jane.example",
                    "--impp", "work:skype:jane.doe", "--related", "spouse:urn:uuid:1234",
                    "--date", "graduation:--06-30", "--gender", "F")  # fmt: skip
    assert (jane["name"], jane["middle_name"], jane["city"]) == ("Jane Doe", "Q.", "Springfield")
    assert jane["impps"] == [{"value": "skype:jane.doe", "label": "work"}]
    assert jane["related"] == [{"value": "urn:uuid:1234", "label": "spouse"}]
    assert jane["dates"] == [{"value": "--06-30", "label": "graduation"}]
    shown = crm.ok("contact", "show", "Jane Doe").stdout
    assert "  home  1 Main St, Springfield" in shown and "nickname" in shown  # the card
    assert crm.fails(2, "contact", "add", "X", "--anniversary", "31/12").stderr.count("\n") == 1
    crm.fails(2, "contact", "edit", "Jane Doe", "--remove-address", "work")
    crm.fails(2, "contact", "add", "--title", "CTO")  # nothing to name it by
    listed = crm.ok("contact", "list", "--where", "nickname=jj", "--columns", "name,addresses,urls")
    assert (
        "home:1 Main St; Springfield" in listed.stdout and "https://jane.example" in listed.stdout
    )
    assert crm.json("search", "springfield")[0]["name"] == "Jane Doe"


def test_an_accounts_vcard_properties_are_kept(conn):
    _import(conn, [{"name": "Acme", "vcard": ["X-ABShowAs:COMPANY"]}], kind="accounts")
    from crmcli.store import accounts

    assert accounts.get_account(conn, 1)["vcard"] == ["X-ABShowAs:COMPANY"]


_PART = st.one_of(
    st.none(),
    st.sampled_from(["[b]", "\u202e", " ", "é", "😀", "a\nb", "Zoë"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6),
)
_ADDRESS = st.fixed_dictionaries({key: _PART for key in models.ADDRESS_KEYS[1:]})
_URL = st.builds("https://{}.example/{}".format, st.sampled_from("abc"), st.text(max_size=4))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    nickname=_PART,
    middle=_PART,
    addresses=st.lists(_ADDRESS, max_size=3),
    urls=st.lists(_URL, max_size=2),
    impps=st.lists(st.sampled_from(["xmpp:a@x.example", "skype:zoë", "sip:1@x"]), max_size=2),
)
def test_bulk_writes_index_the_new_fields_as_the_view_does(
    conn, nickname, middle, addresses, urls, impps
):
    """store.search.contact_text (what imports index) and the search_contacts view agree."""
    from crmcli.errors import CrmError
    from crmcli.store import bulk

    data = {"name": f"{uuid.uuid4().hex} Ana", "nickname": nickname, "middle_name": middle,
            "addresses": addresses, "urls": urls, "impps": impps,
            "related": ["spouse:Zoë"]}  # fmt: skip
    try:
        item = checks.check("contacts", data, Config())
    except CrmError:
        return
    batch = bulk.Batch(conn)
    contact_id = batch.add_contact(item, None, None, None)
    batch.flush()
    stored, view = conn.execute(
        "SELECT s.body, v.body FROM search s JOIN search_contacts v ON v.rowid = s.rowid"
        " WHERE v.id = ?",
        (contact_id,),
    ).fetchone()
    assert stored == view


def test_an_edit_cannot_grow_a_list_past_its_limit(conn):
    urls = [f"https://x.example/{n}" for n in range(models.LIST_MAX)]
    contacts.add_contact(conn, full_name="Jane Doe", lists={"urls": urls})
    with pytest.raises(InvalidValue, match="too many"):
        contacts.edit_contact(conn, "Jane Doe", lists={"urls": ["https://y.example"]})


def test_merged_accounts_keep_both_vcard_properties(conn):
    from crmcli.store import accounts

    _import(conn, [{"name": "Acme", "vcard": ["X-A:1"]}, {"name": "ACME Inc.",
                   "vcard": ["X-A:1", "X-B:2"]}], kind="accounts")  # fmt: skip
    merged = merge.merge_accounts(conn, 1, [2])
    assert merged["vcard"] == ["X-A:1", "X-B:2"]
    assert accounts.get_account(conn, 1)["vcard"] == ["X-A:1", "X-B:2"]


def test_db_check_finds_a_primary_address_out_of_step(crm, db_path):
    import sqlite3

    crm.ok("contact", "add", "Jane Doe", "--address", "home:1 Main St; Springfield")
    assert "database ok" in crm.ok("db", "check").stderr
    other = sqlite3.connect(db_path)  # another program writes the column alone
    other.execute("UPDATE contacts SET city = 'Paris'")
    other.commit()
    other.close()
    result = crm("db", "check")
    assert result.exit_code == 1 and "1 whose street..country are not" in result.stderr
