"""Sample data for `crm demo`: a small, believable book of business."""

from __future__ import annotations

import sqlite3

from crmcli.errors import Refused
from crmcli.store import accounts, activities, contacts, deals, tasks

_TABLES = ("accounts", "contacts", "deals", "activities", "tasks")


def is_empty(conn: sqlite3.Connection) -> bool:
    return not any(conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in _TABLES)


def fill_demo(conn: sqlite3.Connection) -> dict[str, int]:
    """Write the sample records; refuses a database that already holds any."""
    if not is_empty(conn):
        raise Refused("the database already holds records; the demo fills only an empty one")
    for name, values, tags in (
        (
            "Acme Corporation",
            {
                "type": "customer",
                "industry": "Manufacturing",
                "website": "https://acme.example",
                "city": "Springfield",
                "country": "US",
            },
            ["key"],
        ),
        (
            "Acme Europe",
            {"type": "customer", "industry": "Manufacturing", "city": "Rotterdam", "country": "NL"},
            [],
        ),
        (
            "Globex",
            {"type": "prospect", "industry": "Energy", "city": "Cypress Creek", "country": "US"},
            ["inbound"],
        ),
        (
            "Initech",
            {"type": "partner", "industry": "Software", "city": "Austin", "country": "US"},
            [],
        ),
        (
            "Émile Zola",
            {"kind": "person", "type": "customer", "city": "Paris", "country": "FR"},
            [],
        ),
    ):
        accounts.add_account(conn, {"name": name, **values}, tags=tags)
    accounts.edit_account(conn, "Acme Europe", {}, parent="Acme Corporation")
    for full, account, emails, phones, title in (
        (
            "Jane Q. Doe",
            "Acme Corporation",
            ["work:jane@acme.example"],
            ["work:+1 555 0100"],
            "Head of Purchasing",
        ),
        (
            "Wile E. Coyote",
            "Acme Corporation",
            ["work:wile@acme.example", "home:coyote@desert.example"],
            ["mobile:+1 555 0199"],
            "Field Tester",
        ),
        ("Anneke de Vries", "Acme Europe", ["anneke@acme-europe.example"], [], "Buyer"),
        ("Hank Scorpio", "Globex", ["hank@globex.example"], ["+1 555 0142"], "CEO"),
        ("Peter Gibbons", "Initech", ["peter@initech.example"], [], "Engineer"),
        ("Émile Zola", "Émile Zola", ["emile@zola.example"], [], None),
    ):
        contacts.add_contact(
            conn,
            full_name=full,
            account=account,
            emails=emails,
            phones=phones,
            values={"title": title},
        )
    deals.add_deal(
        conn,
        "Acme rocket skates",
        account="Acme Corporation",
        contact="jane@acme.example",
        amount_text="12500",
        stage="proposal",
    )
    deals.add_deal(
        conn,
        "Globex reactor controls",
        account="Globex",
        contact="Hank Scorpio",
        amount_text="48000",
        stage="qualified",
        close_date="2027-03-31",
    )
    deals.add_deal(
        conn, "Initech TPS licences", account="Initech", amount_text="3200.50", stage="won"
    )
    activities.add_activity(
        conn,
        "Asked for a quote on 200 pairs.",
        kind="call",
        subject="Quote request",
        contact="jane@acme.example",
    )
    activities.add_activity(
        conn,
        "Met at the energy fair; wants a demo in spring.",
        kind="meeting",
        subject="Trade fair",
        contact="Hank Scorpio",
    )
    activities.add_activity(conn, "Signed. Invoice sent.", kind="note", deal="Initech TPS licences")
    tasks.add_task(conn, "Send the skates quote", contact="jane@acme.example", due="2026-12-04")
    tasks.add_task(conn, "Book the Globex demo", account="Globex")
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in _TABLES}
