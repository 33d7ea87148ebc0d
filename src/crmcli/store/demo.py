"""Sample data for `crm demo`: a small, believable book of business."""

from __future__ import annotations

import sqlite3

from crmcli.config import Config
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
    ):
        contacts.add_contact(
            conn,
            full_name=full,
            account=account,
            emails=emails,
            phones=phones,
            values={"title": title},
        )
    # A person account: a customer who is one person, an account and its contact.
    accounts.add_account(
        conn,
        {"name": "Émile Zola", "kind": "person", "type": "customer",
         "email": "emile@zola.example", "city": "Paris", "country": "FR"},
    )  # fmt: skip
    contacts.edit_contact(conn, "emile@zola.example", values={"birthday": "1840-04-02"})
    config = Config()  # the demo shows the default stages, whatever config.toml says
    for name, account, contact, amount, stage, close in (
        ("Acme rocket skates", "Acme Corporation", "jane@acme.example", "12500", "proposal", "+1m"),
        ("Acme anvils, Europe", "Acme Europe", "Anneke de Vries", "8400.75", "negotiation", "+2w"),
        ("Globex reactor controls", "Globex", "Hank Scorpio", "48000", "qualified", "+3m"),
        ("Globex cafeteria", "Globex", None, "1500", "lead", None),
        ("Initech TPS licences", "Initech", "Peter Gibbons", "3200.50", "won", "-1w"),
        ("Initech printers", "Initech", None, "900", "lost", "-2w"),
    ):
        deals.add_deal(
            conn,
            config,
            name,
            account=account,
            contact=contact,
            amount_text=amount,
            stage=stage,
            close=close,
        )
    for body, kind, subject, link, at in (
        (
            "Asked for a quote on 200 pairs.",
            "call",
            "Quote request",
            {"contact": "jane@acme.example"},
            "-3w",
        ),
        (
            "Sent the quote and the safety sheet.",
            "email",
            "Skates quote",
            {"deal": "Acme rocket skates", "contact": "Jane Q. Doe"},
            "-1w",
        ),
        (
            "Met at the energy fair; wants a demo in spring.",
            "meeting",
            "Trade fair",
            {"contact": "Hank Scorpio"},
            "-2m",
        ),
        ("Signed. Invoice sent.", "note", None, {"deal": "Initech TPS licences"}, "-1w"),
    ):
        activities.add_activity(conn, body, kind_name=kind, subject=subject, at=at, **link)
    for full, every in (("Jane Q. Doe", "2w"), ("Hank Scorpio", "1m"), ("Anneke de Vries", "3m")):
        contacts.edit_contact(conn, full, values={"every": every})
    for title, due, link in (
        ("Send the skates quote", "yesterday", {"contact": "jane@acme.example"}),
        ("Book the Globex demo", "today", {"account": "Globex"}),
        ("Ask Anneke about the anvil volumes", "+3d", {"deal": "Acme anvils, Europe"}),
        ("Update the price list", None, {}),
    ):
        tasks.add_task(conn, title, due=due, **link)
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in _TABLES}
