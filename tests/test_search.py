"""crm search: FTS5 kept in step by triggers, and immune to query syntax."""

import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli.config import Config
from crmcli.errors import CrmError, InvalidValue
from crmcli.store import accounts, activities, bulk, checks, contacts, deals, search


@pytest.fixture
def book(conn):
    accounts.add_account(conn, {"name": "Cyberdyne Systems", "description": "Makers of T-800"})
    contacts.add_contact(
        conn,
        full_name="Zoë Ångström",
        account="Cyberdyne Systems",
        emails=["zoe@cyberdyne.example"],
        phones=["+1 (555) 010-0123"],
        tags=["vip"],
        fields={"source": "conference"},
    )
    deals.add_deal(conn, Config(), "Skynet licence", account="Cyberdyne Systems")
    activities.add_activity(
        conn, "Talked about the neural net processor", kind_name="call", contact="Zoë Ångström"
    )
    return conn


def found(conn, query, **kwargs):
    return [(hit["kind"], hit["name"]) for hit in search.search(conn, query, **kwargs)]


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("cyber", ("account", "Cyberdyne Systems")),  # prefix
        ("zoe", ("contact", "Zoë Ångström")),  # accents do not matter
        ("ANGSTROM", ("contact", "Zoë Ångström")),
        ("zoe@cyberdyne.example", ("contact", "Zoë Ångström")),  # an e-mail whole
        ("cyberdyne.example", ("contact", "Zoë Ångström")),  # or by parts
        ("+1 (555) 010-0123", ("contact", "Zoë Ångström")),  # a phone as written
        ("15550100123", ("contact", "Zoë Ångström")),  # as digits
        ("5550100123", ("contact", "Zoë Ångström")),  # without the country code
        ("0123", ("contact", "Zoë Ångström")),  # by a part
        ("vip", ("contact", "Zoë Ångström")),  # tags
        ("conference", ("contact", "Zoë Ångström")),  # custom fields
        ("skynet", ("deal", "Skynet licence")),
        ("neural processor", ("activity", "Talked about the neural net processor")),
        ("t-800", ("account", "Cyberdyne Systems")),
    ],
)
def test_finds(book, query, hit):
    assert hit in found(book, query)


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "AND",
        "OR NOT",
        "*",
        "zoe*",
        "(",
        ")",
        "-zoe",
        "NEAR(zoe cyber)",
        "zoe AND",
        "^zoe",
        "col:zoe",
        "name:zoe",
        "{name}: zoe",
        "'; DROP TABLE contacts; --",
    ],
)
def test_hostile_queries_are_just_words(book, query):
    try:
        search.search(book, query)  # never an FTS5 syntax error
    except InvalidValue as exc:  # nothing but punctuation: no word to look for
        assert "at least one word" in exc.message
    assert book.execute("SELECT count(*) FROM contacts").fetchone()[0] == 1


def test_all_words_must_match_and_ranking_puts_names_first(book):
    assert found(book, "zoe skynet") == []
    accounts.add_account(book, {"name": "Neural Corp"})
    hits = found(book, "neural")
    assert hits[0] == ("account", "Neural Corp")


def test_kind_and_limit(book):
    assert found(book, "cyberdyne", kind="contacts") == [("contact", "Zoë Ångström")]
    assert len(found(book, "cyberdyne", limit=1)) == 1
    with pytest.raises(InvalidValue):
        search.search(book, "  -- ")


def test_index_follows_edits_and_deletes(book):
    contacts.edit_contact(
        book,
        "Zoë Ångström",
        full_name="Sarah Connor",
        emails=["sarah@resistance.example"],
        remove_emails=["zoe@cyberdyne.example"],
    )
    assert found(book, "zoe") == []
    assert ("contact", "Sarah Connor") in found(book, "resistance")
    assert found(book, "cyberdyne.example") == []
    deals.edit_deal(book, Config(), "Skynet licence", name="Genisys licence")
    assert found(book, "skynet") == [] and found(book, "genisys")
    accounts.delete_account(book, "Cyberdyne Systems", "cascade")
    assert found(book, "cyberdyne") == [] and found(book, "sarah") == []
    assert found(book, "genisys") == [] and found(book, "neural") == []
    assert book.execute("SELECT count(*) FROM search").fetchone()[0] == 0


def test_writes_by_other_programs_are_indexed_too(book, db_path):
    book.execute("COMMIT")
    other = sqlite3.connect(db_path)
    other.execute(
        "INSERT INTO accounts (name, name_key, created_at, updated_at)"
        " VALUES ('Tyrell', 'tyrell', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    other.commit()
    book.execute("BEGIN")
    assert found(book, "tyrell") == [("account", "Tyrell")]


def test_cli_search(crm):
    crm.ok("account", "new", "Cyberdyne Systems")
    crm.ok("contact", "add", "Miles Dyson", "--account", "Cyberdyne Systems")
    hits = crm.json("search", "cyber")
    assert hits == [
        {
            "kind": "account",
            "id": 1,
            "name": "Cyberdyne Systems",
            "snippet": "Cyberdyne Systems",
            "rank": 1,
        }
    ]
    assert crm.json("search", "dyson", "--kind", "contacts")[0]["id"] == 1
    assert crm.ok("search", "nothing-like-it").stderr == "no matches\n"
    assert "at least one word" in crm.fails(2, "search", '"*"').stderr
    table = crm.ok("search", "cyber").stdout
    assert "Cyberdyne Systems" in table and "\x02" not in table and "\x1b" not in table
    crm.fails(2, "search", "x", "--kind", "widgets")


def test_highlighting_on_a_terminal(crm, monkeypatch):
    crm.ok("account", "new", "Cyberdyne Systems")
    monkeypatch.setattr("crmcli.render._styled", lambda: True)
    table = crm.ok("search", "cyber").stdout
    assert "\x1b[1;33mCyberdyne\x1b[0m Systems" in table


def test_index_follows_imports(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,email,company\nMiles Dyson,miles@cyberdyne.example,Cyberdyne\n")
    crm.ok("import", str(path))
    assert [hit["kind"] for hit in crm.json("search", "cyberdyne")] == ["account", "contact"]
    path.write_text("name,email\nMiles B. Dyson,miles@cyberdyne.example\n")
    crm.ok("import", str(path), "--on-conflict", "update")
    assert crm.json("search", "miles")[0]["name"] == "Miles B. Dyson"


# Text as imports meet it: markup, control and combining characters, every plane.
_PIECES = st.one_of(
    st.sampled_from(["[bold]", "\x1b[31m", "\u202e", "\x00", " ", "  ", "-", "+1 (5)", "é", "😀"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
)
_TEXT = st.lists(_PIECES, max_size=3).map("".join)
_PHONE = st.builds(
    "{}{}{}".format,
    st.text(alphabet="0123456789 -().+/", max_size=16),
    st.sampled_from("0123456789"),
    st.sampled_from(["", " x12", "ext.7"]),
)
_COLUMNS = ("title", "department", "street", "city", "region", "postal_code", "country",
            "description", "industry", "website", "phone")  # fmt: skip


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    values=st.dictionaries(st.sampled_from(_COLUMNS), st.one_of(_TEXT, _PHONE)),
    labels=st.lists(st.one_of(st.none(), st.sampled_from(["work", "home", "x y"])), max_size=3),
    phones=st.lists(_PHONE, max_size=3),
    tags=st.lists(_TEXT.filter(str.strip), max_size=2),
    fields=st.dictionaries(st.sampled_from(["a", "b_c"]), _TEXT, max_size=2),
)
def test_bulk_writes_index_the_text_the_views_give(conn, values, labels, phones, tags, fields):
    """store.search works out in Python what the search_* views give (bulk
    imports write that): the same text, whatever the record holds."""
    data = {**values, "name": "Ana Lima", "tags": tags, "fields": fields,
            "emails": [{"value": f"{uuid.uuid4().hex}@x.example", "label": label}
                       for label in labels],
            "phones": [{"value": number} for number in phones]}  # fmt: skip
    batch = bulk.Batch(conn)
    written = []
    for kind in ("accounts", "contacts"):
        try:
            item = checks.check(kind, {**data, "name": f"{uuid.uuid4().hex} {data['name']}"},
                                 Config())  # fmt: skip
        except CrmError:
            continue  # a value the import refuses: nothing is written
        if kind == "accounts":
            written.append(("accounts", batch.add_account(item.row)))
        else:
            written.append(("contacts", batch.add_contact(item, None, None, None)))
    batch.flush()
    for table, row_id in written:
        stored, view = conn.execute(
            f"SELECT s.body, v.body FROM search s JOIN search_{table} v ON v.rowid = s.rowid"
            " WHERE v.id = ?",
            (row_id,),
        ).fetchone()
        assert stored == view


def test_a_word_in_many_records_is_taken_whole_and_names_come_first(conn, monkeypatch):
    """Past RANKED whole-word matches crm neither expands the prefix nor weighs
    with bm25 (both read every match): names holding the word first, then the
    others, each in the order they were written; fewer, and bm25 ranks."""
    monkeypatch.setattr(search, "RANKED", 4)
    for number in range(5):
        contacts.add_contact(conn, full_name=f"Person {number}", emails=[f"p{number}@acme.example"])
    accounts.add_account(conn, {"name": "Acmeville"})  # acme as a prefix only
    accounts.add_account(conn, {"name": "Acme"})
    assert found(conn, "acme") == [
        ("account", "Acme"),
        *(("contact", f"Person {number}") for number in range(3)),
    ]
    assert found(conn, "acme", limit=2) == [("account", "Acme"), ("contact", "Person 0")]
    assert found(conn, "acme", kind="contacts", limit=9) == [
        ("contact", f"Person {number}") for number in range(4)
    ]
    assert found(conn, "acme person") == [("contact", f"Person {number}") for number in range(4)]
    # Under the cap, prefixes count and bm25 ranks (names weigh most).
    assert found(conn, "acmev") == [("account", "Acmeville")]
    assert sorted(found(conn, "acme", kind="accounts")) == [
        ("account", "Acme"),
        ("account", "Acmeville"),
    ]
