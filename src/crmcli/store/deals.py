"""Deals: sales opportunities with an exact amount and a stage."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from crmcli import models
from crmcli.errors import InvalidValue
from crmcli.store import common, refs

# Stage -> the probability a deal takes on entering it.
STAGES = {"lead": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}
_CLOSED = {"won": "won", "lost": "lost"}

_SELECT = """
    SELECT d.id, d.name, d.account_id, a.name AS account, d.contact_id, c.name AS contact,
           d.amount, d.currency, d.stage, d.probability, d.status, d.close_date,
           d.description, d.tags, d.fields, d.created_at, d.updated_at
    FROM deals d
    LEFT JOIN accounts a ON a.id = d.account_id
    LEFT JOIN contacts c ON c.id = d.contact_id
"""


def amount(value: str | None) -> str | None:
    """An exact, non-negative decimal amount, kept as canonical text."""
    if value is None or not value.strip():
        return None
    try:
        number = Decimal(value.strip().replace("_", ""))
    except InvalidOperation:
        raise InvalidValue(
            f"invalid amount {value!r}: use a number such as 1200 or 99.95"
        ) from None
    if not number.is_finite() or number < 0:
        raise InvalidValue(f"invalid amount {value!r}: must be zero or more")
    return format(number, "f")


def add_deal(
    conn: sqlite3.Connection,
    name: str,
    *,
    account: str | None = None,
    contact: str | None = None,
    amount_text: str | None = None,
    currency: str = "USD",
    stage: str = "lead",
    probability: int | None = None,
    close_date: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
) -> dict:
    if stage not in STAGES:
        raise InvalidValue(f"stage must be one of {', '.join(STAGES)} (got {stage!r})")
    if probability is not None and not 0 <= probability <= 100:
        raise InvalidValue(f"probability must be 0-100 (got {probability})")
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidValue(f"currency must be a three-letter ISO 4217 code (got {currency!r})")
    row = {
        "name": models.name("name", name),
        "account_id": refs.account_id(conn, account) if account is not None else None,
        "contact_id": refs.contact_id(conn, contact) if contact is not None else None,
        "amount": amount(amount_text),
        "currency": currency.upper(),
        "stage": stage,
        "probability": STAGES[stage] if probability is None else probability,
        "status": _CLOSED.get(stage, "open"),
        "close_date": models.date("close date", close_date),
        "description": models.text("description", description),
        "tags": common.dump(models.tags(tags)),
        "fields": "{}",
    }
    row["name_key"] = models.fold(row["name"])
    return get_deal(conn, common.insert(conn, "deals", row))


def get_deal(conn: sqlite3.Connection, deal_id: int) -> dict:
    cursor = conn.execute(_SELECT + " WHERE d.id = ?", (deal_id,))
    return _typed(common.record(cursor, cursor.fetchone()))


def list_deals(conn: sqlite3.Connection, *, account_id: int | None = None) -> Iterator[dict]:
    if account_id is None:
        cursor = conn.execute(_SELECT + " ORDER BY d.id")
    else:
        cursor = conn.execute(_SELECT + " WHERE d.account_id = ? ORDER BY d.id", (account_id,))
    return (_typed(deal) for deal in common.records(cursor))


def _typed(deal: dict) -> dict:
    """JSON carries the amount as a number; Decimal keeps it exact until then."""
    if deal["amount"] is not None:
        deal["amount"] = Decimal(deal["amount"])
    return deal
