"""--where, --tag, --sort, --limit, --offset, --columns on every listing."""

import shutil
import sqlite3

import pytest


@pytest.fixture(scope="module")
def book_file(tmp_path_factory):
    """The book below, made once for the module (each test gets a copy of the file)."""
    from conftest import Crm
    from crmcli import config

    folder = tmp_path_factory.mktemp("book")
    env = {"CRM_DB": str(folder / "book.db"), "CRM_CONFIG": str(folder / "none.toml"),
           **dict.fromkeys(("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"), str(folder))}  # fmt: skip
    config.load.cache_clear()
    _fill(Crm(), env)
    config.load.cache_clear()
    return folder / "book.db"


@pytest.fixture
def book(crm, book_file, db_path):
    shutil.copyfile(book_file, db_path)
    return crm


def _fill(crm, env):
    crm.ok("account", "new", "Acme", "--city", "Springfield", "--tag", "key", "--set", "tier=gold",
           env=env)
    crm.ok("account", "new", "Globex", "--city", "Cypress Creek", "--set", "tier=silver", env=env)
    crm.ok("account", "new", "Initech", "--city", "Austin", "--tag", "key", "--tag", "b2b",
           env=env)
    for name, account, email, birthday in (
        ("Jane Doe", "Acme", "jane@acme.example", "1990-04-23"),
        ("bob roe", "Acme", "bob@acme.example", "1985-12-01"),
        ("Zoë Ångström", "Globex", "zoe@globex.example", None),
        ("Al 100%_sure", "Initech", "al@initech.example", "2000-02-29"),
    ):
        args = ["contact", "add", name, "--account", account, "--email", email]
        crm.ok(*args, *(["--birthday", birthday] if birthday else []), env=env)
    crm.ok("contact", "edit", "Jane Doe", "--email", "home:jane@home.example", "--tag", "vip",
           env=env)
    for name, account, amount, stage in (
        ("Skates", "Acme", "12500", "proposal"),
        ("Anvils", "Acme", "900.50", "won"),
        ("Reactor", "Globex", "48000", "qualified"),
    ):
        crm.ok("deal", "new", name, "--account", account, "--amount", amount, "--stage", stage,
               env=env)


def names(crm, *args):
    return [row.get("name", row.get("title")) for row in crm.json(*args)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("city=springfield", ["Acme"]),  # = ignores case
        ("city!=Springfield", ["Globex", "Initech"]),
        ("city~CREEK", ["Globex"]),  # contains
        ("name>h", ["Initech"]),
        ("name<=globex", ["Acme", "Globex"]),
        ("id>=2", ["Globex", "Initech"]),
        ("id<2", ["Acme"]),
        ("tier=gold", ["Acme"]),  # a custom field by its key
        ("fields.tier~il", ["Globex"]),
        ("tags=key", ["Acme", "Initech"]),
        ("tags!=key", ["Globex"]),
        ("description=", ["Acme", "Globex", "Initech"]),  # empty
        ("city!=", ["Acme", "Globex", "Initech"]),
        ("created_at<=today", ["Acme", "Globex", "Initech"]),
        ("created_at>today", []),
    ],
)
def test_account_where(book, where, expected):
    assert names(book, "account", "list", "--where", where) == expected


def test_where_on_contacts(book):
    assert names(book, "contact", "list", "-w", "email=JANE@acme.example") == ["Jane Doe"]
    assert names(book, "contact", "list", "-w", "email=jane@home.example") == ["Jane Doe"]
    assert names(book, "contact", "list", "-w", "emails~acme") == ["Jane Doe", "bob roe"]
    assert names(book, "contact", "list", "-w", "account=acme", "-w", "name~doe") == ["Jane Doe"]
    assert names(book, "contact", "list", "-w", "name=zoë ångström") == ["Zoë Ångström"]
    assert names(book, "contact", "list", "-w", "birthday<1990-01-01") == ["bob roe"]
    assert names(book, "contact", "list", "-w", "birthday>=1990-04-23") == [
        "Jane Doe",
        "Al 100%_sure",
    ]
    # % and _ are literal in ~
    assert names(book, "contact", "list", "-w", "name~100%_") == ["Al 100%_sure"]
    assert names(book, "contact", "list", "-w", "name~%") == ["Al 100%_sure"]
    assert names(book, "list", "contacts", "--tag", "VIP") == ["Jane Doe"]


def test_where_on_deals_compares_numbers_as_numbers(book):
    assert names(book, "deal", "list", "-w", "amount>1000") == ["Skates", "Reactor"]
    assert names(book, "deal", "list", "-w", "amount<=900.5") == ["Anvils"]
    assert names(book, "deal", "list", "-w", "probability>=50") == ["Skates", "Anvils"]
    assert names(book, "deal", "list", "-w", "account=globex") == ["Reactor"]
    assert "numbers" in book.fails(2, "deal", "list", "-w", "amount>lots").stderr


def test_where_on_tasks_and_activities(book):
    book.ok("task", "add", "Call", "--due", "yesterday")
    book.ok("task", "add", "Mail", "--due", "+5d")
    book.ok("task", "done", "1")
    assert names(book, "task", "list", "--all", "-w", "done=true") == ["Call"]
    assert names(book, "task", "list", "--all", "-w", "due>today") == ["Mail"]
    book.ok("log", "Quote sent", "--kind", "email", "--contact", "Jane Doe")
    rows = book.json("activity", "list", "-w", "kind=email", "-w", "contact~jane")
    assert [row["body"] for row in rows] == ["Quote sent"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("colour=red", "unknown field 'colour'"),
        ("city", "invalid --where"),
        ("=x", "invalid --where"),
        ("city=>x", None),  # a value may start with >
        ("tags>x", "several values"),
        ("id>abc", "numbers"),
        ("created_at>whenever", "YYYY-MM-DD"),
    ],
)
def test_bad_where_is_exit_2_naming_the_fields(book, where, message):
    if message is None:
        book.ok("account", "list", "-w", where)
        return
    result = book.fails(2, "account", "list", "-w", where)
    assert message in result.stderr
    if "unknown field" in message or "invalid" in message:
        assert "name, kind, type" in result.stderr


@pytest.mark.parametrize(
    "hostile",
    [
        "name=x' OR '1'='1",
        "name~'); DROP TABLE accounts; --",
        'city="x" OR 1=1',
        "fields.a'b=1",
        "name=\x00",
    ],
)
def test_injection_attempts_are_harmless(book, hostile, db_path):
    result = book("account", "list", "-w", hostile, "--json")
    assert result.exit_code in (0, 2)
    if result.exit_code == 0:
        assert book.json("account", "list", "-w", hostile) == []
    for sort in ("name; DROP TABLE accounts", "-(SELECT 1)", "name DESC, id"):
        book.fails(2, "account", "list", "--sort", sort)
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM accounts").fetchone() == (3,)


def test_sort_limit_offset(book):
    assert names(book, "account", "list", "--sort", "-name") == ["Initech", "Globex", "Acme"]
    assert names(book, "account", "list", "--sort", "city") == ["Initech", "Globex", "Acme"]
    assert names(book, "contact", "list", "--sort", "birthday") == [
        "bob roe",
        "Jane Doe",
        "Al 100%_sure",
        "Zoë Ångström",  # empty values last
    ]
    assert names(book, "contact", "list", "--sort", "-birthday") == [
        "Al 100%_sure",
        "Jane Doe",
        "bob roe",
        "Zoë Ångström",
    ]
    assert names(book, "deal", "list", "--sort", "-amount") == ["Reactor", "Skates", "Anvils"]
    assert names(book, "deal", "list", "--sort", "status", "--sort", "-amount") == [
        "Reactor",
        "Skates",
        "Anvils",  # open before won, then by amount
    ]
    assert names(book, "account", "list", "--limit", "2") == ["Acme", "Globex"]
    assert names(book, "account", "list", "--limit", "2", "--offset", "2") == ["Initech"]
    assert names(book, "account", "list", "--offset", "1") == ["Globex", "Initech"]
    book.fails(2, "account", "list", "--sort", "colour")
    book.fails(2, "account", "list", "--limit", "-1")


def test_columns(book):
    csv_text = book.ok("account", "list", "--columns", "name,city", "-f", "csv").stdout
    assert csv_text.splitlines() == [
        "name,city",
        "Acme,Springfield",
        "Globex,Cypress Creek",
        "Initech,Austin",
    ]
    table = book.ok("account", "list", "--columns", "city,id").stdout
    assert table.splitlines()[1].split("┃")[1:3] == [" city          ", " id "]
    assert "use id, name" in book.fails(2, "account", "list", "--columns", "name,colour").stderr


def test_tables_stop_at_200_rows_and_say_how_many_more(crm, db_path):
    from crmcli import db
    from crmcli.store import accounts

    with db.session(db_path, write=True) as conn:
        for i in range(230):
            accounts.add_account(conn, {"name": f"Company {i:03}"})
    result = crm.ok("account", "list")
    assert result.stdout.count("Company ") == 200
    assert "30 more accounts" in result.stderr
    assert crm.ok("account", "list", "--limit", "210").stdout.count("Company ") == 210
    assert len(crm.json("account", "list")) == 230  # other formats stream everything
    assert len(crm.ok("account", "list", "-f", "ids").stdout.splitlines()) == 230
    assert "more" not in crm.ok("account", "list", "--offset", "30").stderr
