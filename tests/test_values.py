"""Values a person would read differently: amounts with commas, names that differ
only by invisible characters, e-mail domains in IDNA or full-width spelling."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcli import db, migrations, models
from crmcli.errors import InvalidValue
from crmcli.store import deals

# -- amounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [("1200", "1200"), ("1200.50", "1200.5"), ("1,000.50", "1000.5"), ("12,345,678", "12345678"),
     ("1,000", "1000"), ("0.0001", "0.0001"), ("1.5e3", "1500"), ("100.10", "100.1"), ("0", "0")],
)  # fmt: skip
def test_amounts_people_write(text, stored):
    assert deals.amount(text) == stored


@pytest.mark.parametrize("text", ["1,5", "1.000,50", "1,2,3", ",5", "1,000,00", "1,0000", "1, 000"])
def test_a_comma_outside_groups_of_three_is_refused_not_guessed(text):
    with pytest.raises(InvalidValue, match="a comma only between groups of three digits"):
        deals.amount(text)


@pytest.mark.parametrize(
    "text", ["1e999999999", "1e-999999999", "1.00000000000000000000000000000001", "0.00001",
             "1234567890123456", "nan", "inf", "-1"],
)  # fmt: skip
def test_amounts_that_cannot_be_kept_exactly_are_refused(text):
    with pytest.raises(InvalidValue, match="amount"):
        deals.amount(text)


def test_amounts_on_the_command_line_csv_import_and_where(crm, tmp_path):
    crm.ok("account", "new", "Acme")
    for text in ("1,5", "1.000,50", "1,2,3"):
        result = crm.fails(2, "deal", "add", "X", "--account", "Acme", "--amount", text)
        assert "1,200.50" in result.stderr  # the accepted forms are named
    assert crm.json("deal", "add", "Big", "--account", "Acme", "--amount", "1,000.50")[
        "amount"] == 1000.5  # fmt: skip
    path = tmp_path / "deals.csv"
    path.write_text('name,account,amount\nComma,Acme,"1,5"\n')
    assert "1,5" in crm.fails(1, "import", str(path), "--kind", "deals").stderr
    path.write_text('name,account,amount\nGrouped,Acme,"12,345,678"\n')
    crm.ok("import", str(path), "--kind", "deals")
    assert crm.json("deal", "show", "Grouped")["amount"] == 12345678
    crm.fails(2, "list", "deals", "--where", "amount>1,5")
    names = [d["name"] for d in crm.json("list", "deals", "--where", "amount>1,000")]
    assert names == ["Big", "Grouped"]


# -- invisible characters ---------------------------------------------------------

INVISIBLE = ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u200d", "\u202e", "\ufe0f", "\U000e0041"]


@pytest.mark.parametrize("mark", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_names_differing_only_by_invisible_characters_are_one_name(crm, mark):
    acme = crm.new_id("account", "new", "Acme")
    result = crm.fails(1, "account", "new", f"Ac{mark}me")
    assert f"(id {acme})" in result.stderr
    assert crm.json("account", "show", f"Acme{mark}")["id"] == acme
    jane = crm.new_id("contact", "add", "Jane Doe", "--account", f"{mark}acme")
    assert crm.json("contact", "show", f"Ja{mark}ne Doe")["id"] == jane
    deal = crm.new_id("deal", "add", "Skates", "--account", "Acme")
    assert crm.json("deal", "show", f"Ska{mark}tes")["id"] == deal
    assert [c["id"] for c in crm.json("list", "--where", f"name=jane{mark} doe")] == [jane]


def test_invisible_characters_are_kept_as_given(crm):
    name = "Zero\u200bWidth\u2060Inc"
    assert crm.json("account", "new", name)["name"] == name
    crm.fails(1, "account", "new", "zerowidthinc")
    assert [hit["id"] for hit in crm.json("search", "Zero\u200b")] == [1]
    crm.fails(2, "account", "new", "\u200b\u2060")  # nothing visible: an empty name
    crm.fails(2, "contact", "add", "\ufeff")


def test_the_invisible_set_is_unicodes_default_ignorable_code_points():
    # Spot checks from DerivedCoreProperties.txt, both ends of each kind of range.
    for code in (0xAD, 0x34F, 0x61C, 0x115F, 0x17B5, 0x180F, 0x200F, 0x202A, 0x206F, 0x3164,
                 0xFE00, 0xFEFF, 0xFFA0, 0xFFF8, 0x1BCA3, 0x1D173, 0xE0000, 0xE0FFF):  # fmt: skip
        assert models.fold(f"a{chr(code)}b") == "ab", hex(code)
    for code in (0x20, 0x200A, 0x2010, 0x2070, 0xFFF9, 0x1D17B, 0xE1000):
        assert models.fold(f"a{chr(code)}b") != "ab", hex(code)


# -- e-mail domains ---------------------------------------------------------------


def test_an_address_in_idna_or_full_width_spelling_is_the_same_address(crm):
    jane = crm.new_id("contact", "add", "Jane", "--email", "user@bücher.example")
    result = crm.fails(1, "contact", "add", "Copy", "--email", "user@xn--bcher-kva.example")
    assert "already belongs to contact 'Jane'" in result.stderr
    assert crm.json("contact", "show", "USER@XN--BCHER-KVA.example")["id"] == jane
    wide = crm.new_id("contact", "add", "Wide", "--email", "ｊａｎｅ@ａｃｍｅ.example")
    crm.fails(1, "contact", "add", "Narrow", "--email", "jane@acme.example")
    assert crm.json("contact", "show", "jane@acme.example")["id"] == wide
    assert [c["id"] for c in crm.json("list", "--where", "email=jane@ACME.example")] == [wide]
    shown = crm.json("contact", "show", str(wide))
    assert shown["email"] == "ｊａｎｅ@ａｃｍｅ.example"  # stored as given
    crm.ok("contact", "edit", "Jane", "--remove-email", "user@xn--bcher-kva.example")
    assert crm.json("contact", "show", "Jane")["emails"] == []


def test_addresses_that_casefold_alike_but_differ_stay_two(crm):
    """ß is not ss, ς is not σ: faß.example and fass.example are two domains (IDNA 2008)."""
    pairs = [("a@faß.example", "a@fass.example"), ("straße@x.example", "strasse@x.example"),
             ("a@ς.example", "a@σ.example")]  # fmt: skip
    for one, other in pairs:
        first = crm.new_id("contact", "add", f"One {one}", "--email", one)
        second = crm.new_id("contact", "add", f"Other {other}", "--email", other)
        assert crm.json("contact", "show", other)["id"] == second
        assert crm.json("contact", "show", one)["id"] == first


def test_import_matches_contacts_by_the_same_address_key(crm, tmp_path):
    crm.ok("contact", "add", "Jane", "--email", "user@bücher.example")
    path = tmp_path / "in.csv"
    path.write_text("name,email,title\nJane B.,user@xn--bcher-kva.example,CTO\n")
    assert "conflicts with contact 1" in crm.fails(1, "import", str(path)).stderr
    crm.ok("import", str(path), "--on-conflict", "update")
    assert [(c["name"], c["title"]) for c in crm.json("contact", "list")] == [("Jane B.", "CTO")]


@pytest.mark.parametrize(
    "address", ["a@xn--", "a@xn--zz-.example", "a@xn--example-.com", "a@" + "xn--a." * 200 + "x",
                "x@\udcff.example", "@", "a@b@c", "ａ@ｂ。ｃ"],
)  # fmt: skip
def test_every_address_gets_a_key(address):
    assert isinstance(models.email_key(address), str)


def test_only_real_idna_labels_are_read_as_unicode():
    assert models.email_key("a@xn--example-.com") != "a@example.com"  # encodes nothing
    assert models.email_key("x@xn--fa-hia.de") == models.email_key("x@faß.de")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(local=TEXT, domain=TEXT)
def test_keys_are_their_own_keys(local, domain):
    """What m008 relies on to keep unique keys unique: a key folds to itself."""
    assert models.fold(models.fold(local)) == models.fold(local)
    key = models.email_key(f"{local}@{domain}")
    assert models.email_key(key) == key


# -- the migration ----------------------------------------------------------------


def _at_previous_schema(path: Path, rows: list[str]) -> None:
    """A database as the schema before m008 made it, holding `rows` (keys folded the old way)."""
    version = migrations.MIGRATIONS.index(migrations.m008_visible_keys)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for step in migrations.MIGRATIONS[:version]:
        step(conn)
    for statement in rows:
        conn.execute(statement, {"t": "2025-06-01T10:00:00Z"})
    conn.execute(f"PRAGMA application_id = {db.APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("COMMIT")
    conn.close()


_ACCOUNT = ("INSERT INTO accounts (id, name, name_key, created_at, updated_at)"
            " VALUES ({}, '{}', '{}', :t, :t)")  # fmt: skip
_CONTACT = ("INSERT INTO contacts (id, first_name, name, name_key, created_at, updated_at)"
            " VALUES ({0}, '{1}', '{1}', '{2}', :t, :t)")  # fmt: skip
_EMAIL = ("INSERT INTO contact_emails (contact_id, position, value, value_key)"
          " VALUES ({}, 0, '{}', '{}')")  # fmt: skip


def test_the_migration_keeps_both_of_two_names_that_became_one(crm, tmp_path):
    path = tmp_path / "old.db"
    _at_previous_schema(path, [
        _ACCOUNT.format(1, "Ac\u200bme", "ac\u200bme"),  # the older, but not yet the key
        _ACCOUNT.format(2, "Acme", "acme"),
        _ACCOUNT.format(3, "Glo\u00adbex", "glo\u00adbex"),  # alone: simply re-keyed
        _CONTACT.format(1, "Jane\u2060", "jane\u2060"),
        _CONTACT.format(2, "Bob", "bob"),
        _EMAIL.format(1, "user@bücher.example", "user@bücher.example"),
        _EMAIL.format(2, "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
        # An undo image of a deleted account, with its key folded the old way.
        "INSERT INTO operations (id, at, summary) VALUES (1, :t, 'account delete')",
        "INSERT INTO changes (operation_id, tbl, row_id, before) VALUES (1, 'accounts', 9,"
        " json_object('id', 9, 'name', 'In\u200bitech', 'name_key', 'in\u200bitech',"
        " 'kind', 'business', 'tags', '[]', 'fields', '{}', 'created_at', :t, 'updated_at', :t))",
    ])  # fmt: skip
    env = {"CRM_DB": str(path)}
    assert len(crm.json("account", "list", env=env)) == 3  # opened, nothing lost
    assert crm.json("account", "show", "acme", env=env)["id"] == 2  # it had the key already
    assert crm.json("account", "show", "1", env=env)["name"] == "Ac\u200bme"
    assert crm.json("account", "show", "Globex", env=env)["id"] == 3
    assert crm.json("contact", "show", "jane", env=env)["id"] == 1
    assert crm.json("contact", "show", "user@xn--bcher-kva.example", env=env)["id"] == 1
    problems = crm.fails(1, "db", "check", env=env).stderr
    assert "2 problems" in problems
    assert "'Ac\\u200bme' (account 1) is the same as 'Acme' (account 2)" in problems
    assert "'user@xn--bcher-kva.example' (the e-mail of contact 2)" in problems
    crm.ok("account", "edit", "1", "--name", "Acme East", env=env)
    crm.ok("contact", "edit", "2", "--remove-email", "user@xn--bcher-kva.example", env=env)
    assert "database ok" in crm.ok("db", "check", env=env).stderr
    crm.ok("undo", "1", env=env)  # the deleted account comes back under today's key
    assert crm.json("account", "show", "Initech", env=env)["id"] == 9
    assert "database ok" in crm.ok("db", "check", env=env).stderr


def test_the_previous_schemas_fixture_upgrades_with_keys_in_step(crm, tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "schema-7.db", path)
    assert "database ok" in crm.ok("db", "check", env={"CRM_DB": str(path)}).stderr


def test_a_birthday_without_a_year(crm, tmp_path):
    """SPEC: `--MM-DD` without a year; vCard's --0415 comes in and goes out as one."""
    crm.ok("contact", "add", "Bee", "--birthday=--02-29")  # any year's Feb 29
    assert "--MM-DD" in crm.fails(2, "contact", "add", "Bad", "--birthday=--02-30").stderr
    assert crm.json("contact", "show", "Bee")["birthday"] == "--02-29"
    card = crm.ok("export", "-f", "vcf").stdout
    assert "\nBDAY:--0229\n" in card.replace("\r\n", "\n")
    (tmp_path / "in.vcf").write_text("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nBDAY:--0415\r\n"
                                     "END:VCARD\r\n")  # fmt: skip
    (tmp_path / "in.csv").write_text("name,birthday\nCid,--12-31\n")
    crm.ok("import", str(tmp_path / "in.vcf"))
    crm.ok("import", str(tmp_path / "in.csv"))
    assert crm.json("contact", "show", "Ann")["birthday"] == "--04-15"
    assert crm.json("contact", "show", "Cid")["birthday"] == "--12-31"


def test_a_label_begins_with_a_letter(crm):
    """`Home/Office:` is a label; `+1 555:0100` is a bad number, not label `+1 555`."""
    crm.ok("contact", "add", "Lab", "--email", "Home/Office:lab@x.example")
    assert crm.json("contact", "show", "Lab")["emails"][0]["label"] == "home/office"
    assert "begins with a letter" in crm.fails(2, "contact", "add", "P", "--phone",
                                               "+1 555:0100").stderr  # fmt: skip
