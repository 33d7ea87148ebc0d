"""Deals: sales opportunities with an exact amount and a stage."""

from __future__ import annotations

import sqlite3
from decimal import Context, Decimal

from crmcli import models, when
from crmcli.config import Config
from crmcli.errors import InvalidValue
from crmcli.store import common, query, refs

_MAX_DIGITS = 15  # so every amount is also exact as a JSON (double) number


def amount(value: str | None) -> str | None:
    """An exact, non-negative decimal amount (models.number's forms), kept as canonical text."""
    if value is None or not value.strip():
        return None
    number = models.number("amount", value)
    if number < 0:
        raise InvalidValue(f"invalid amount {value!r}: must be a number, zero or more")
    if number == 0:
        return "0"
    # Bounds first, so that 1e999999999 is refused without writing it out; then
    # trailing zeros dropped with a context wide enough never to round.
    exact = -4 <= number.adjusted() < _MAX_DIGITS and number.normalize(
        Context(prec=len(number.as_tuple().digits))
    )
    if not exact or exact.as_tuple().exponent < -4 or len(exact.as_tuple().digits) > _MAX_DIGITS:
        raise InvalidValue(
            f"invalid amount {value!r}: at most {_MAX_DIGITS} digits and 4 decimal places"
        )
    return format(exact, "f")


def currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise InvalidValue(f"currency must be a three-letter ISO 4217 code (got {value!r})")
    return code


def probability(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 100:
        raise InvalidValue(f"probability must be 0-100 (got {value})")
    return value


def add_deal(
    conn: sqlite3.Connection,
    config: Config,
    name: str,
    *,
    account: str | None = None,
    contact: str | None = None,
    amount_text: str | None = None,
    currency_code: str | None = None,
    stage: str | None = None,
    chance: int | None = None,
    close: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> dict:
    """Create a deal; its probability follows the stage unless `chance` is given."""
    stage = config.check_stage(stage or next(iter(config.stages)))
    row = {
        "name": models.name("name", name),
        "amount": amount(amount_text),
        "currency": currency(currency_code or config.currency),
        "probability": probability(chance),
        "close_date": when.day(close),
        "description": models.text("description", description),
        "tags": common.dump(models.tags(tags)),
        "fields": common.dump(models.custom_fields(fields)),
    }
    row["name_key"] = models.fold(row["name"])
    row.update(_stage_columns(config, stage, row["probability"], row["close_date"]))
    row["account_id"] = refs.account_id(conn, account) if account is not None else None
    row["contact_id"] = refs.contact_id(conn, contact) if contact is not None else None
    return get_deal(conn, common.insert(conn, "deals", row))


def _stage_columns(config: Config, stage: str, chance: int | None, close: str | None) -> dict:
    """stage, status and probability together; closing a deal dates it if undated."""
    status = config.status(stage)
    columns = {
        "stage": stage,
        "status": status,
        "probability": config.stages[stage] if chance is None else chance,
    }
    if status != "open" and close is None:
        columns["close_date"] = when.today().isoformat()
    return columns


def get_deal(conn: sqlite3.Connection, deal_id: int) -> dict:
    cursor = conn.execute(SCHEMA.select() + " WHERE d.id = ?", (deal_id,))
    return _typed(common.record(cursor, cursor.fetchone()))


SCHEMA = query.schema(
    "deals",
    "d",
    "deals d LEFT JOIN accounts a ON a.id = d.account_id"
    " LEFT JOIN contacts c ON c.id = d.contact_id",
    models.DEAL_FIELDS,
    {"account": "a.name", "contact": "c.name"},
    flat={"tags": query.flat_list("d.tags")},
    kinds={
        "id": "number",
        "account_id": "number",
        "contact_id": "number",
        "amount": "number",
        "probability": "number",
        "close_date": "date",
        "created_at": "date",
        "updated_at": "date",
    },
    equal={"name": "d.name_key = ?"},
    lists={"tags": "json_each(d.tags) WHERE 1"},
    sort_keys={"id": "d.id", "name": "d.name_order"},
)


def list_deals(
    conn: sqlite3.Connection,
    *,
    stage: str | None = None,
    status: str | None = None,
    account_id: int | None = None,
    contact_id: int | None = None,
    filters: query.Query | None = None,
) -> query.Rows:
    fixed, params = query.equals(
        ("d.stage", stage),
        ("d.status", status),
        ("d.account_id", account_id),
        ("d.contact_id", contact_id),
    )
    compiled = query.compile_query(conn, SCHEMA, filters)
    return compiled.rows(conn, SCHEMA, "d.id", fixed, params, _typed)


def edit_deal(
    conn: sqlite3.Connection,
    config: Config,
    ref: str,
    *,
    name: str | None = None,
    account: str | None = None,
    no_account: bool = False,
    contact: str | None = None,
    no_contact: bool = False,
    amount_text: str | None = None,
    currency_code: str | None = None,
    stage: str | None = None,
    chance: int | None = None,
    close: str | None = None,
    description: str | None = None,
    tag_edit: common.TagEdit = common.TagEdit(),
) -> dict:
    deal_id = refs.deal_id(conn, ref)
    current = get_deal(conn, deal_id)
    row: dict = {}
    if name is not None:
        row["name"] = models.name("name", name)
        row["name_key"] = models.fold(row["name"])
    if amount_text is not None:
        row["amount"] = amount(amount_text)
    if currency_code is not None:
        row["currency"] = currency(currency_code)
    if close is not None:
        row["close_date"] = when.day(close)
    if description is not None:
        row["description"] = models.text("description", description)
    if stage is not None:
        close_date = row.get("close_date", current["close_date"])
        row.update(_stage_columns(config, config.check_stage(stage), chance, close_date))
    elif chance is not None:
        row["probability"] = probability(chance)
    row.update(_links(conn, account, no_account, contact, no_contact))
    row.update(tag_edit.columns(current))
    common.update(conn, "deals", deal_id, row)
    return get_deal(conn, deal_id)


def _links(conn, account, no_account, contact, no_contact) -> dict:
    row = {}
    for key, ref, clear, resolve in (
        ("account_id", account, no_account, refs.account_id),
        ("contact_id", contact, no_contact, refs.contact_id),
    ):
        if ref is not None and clear:
            raise InvalidValue(f"--{key[:-3]} and --no-{key[:-3]} cannot be used together")
        if clear:
            row[key] = None
        elif ref is not None:
            row[key] = resolve(conn, ref)
    return row


def move_deal(
    conn: sqlite3.Connection, config: Config, ref: str, stage: str, chance: int | None = None
) -> dict:
    """Move a deal to a stage: probability and status follow it."""
    return edit_deal(conn, config, ref, stage=stage, chance=probability(chance))


def delete_deal(conn: sqlite3.Connection, ref: str) -> dict:
    """Delete a deal; its activities and tasks stay, unlinked from it."""
    deal = get_deal(conn, refs.deal_id(conn, ref))
    conn.execute("DELETE FROM deals WHERE id = ?", (deal["id"],))
    return deal


Totals = dict[tuple[str, str], dict]  # (stage, currency): count, amount, weighted


def pipeline(conn: sqlite3.Connection, config: Config) -> list[dict]:
    """Count, total and weighted total per stage and currency, in stage order.

    Every configured stage appears (currency null and zeros when it has no
    deals); sums are exact decimals.  Read from stage_totals (migration m018),
    which triggers keep; summed from the deals themselves when a total cannot
    be exact there (an amount crm did not write, or a sum beyond 64 bits).
    """
    totals = kept_totals(conn)
    if totals is None:
        totals = summed_totals(conn)
    for stage in config.stages:
        if not any(stage == key[0] for key in totals):
            totals[(stage, "")] = _entry(stage, None)
    order = {stage: index for index, stage in enumerate(config.stages)}
    return sorted(
        totals.values(),
        key=lambda e: (order.get(e["stage"], len(order)), e["stage"], e["currency"] or ""),
    )


def kept_totals(conn: sqlite3.Connection) -> Totals | None:
    """The totals stage_totals keeps; None if one cannot be exact there."""
    from crmcli.migrations import STAGE_SUMS

    exact = " AND ".join(f"typeof({key}) = 'integer'" for key in STAGE_SUMS)
    rows = conn.execute(
        f"SELECT stage, currency, places, weighted_places, {', '.join(STAGE_SUMS)},"
        f" odd = 0 AND {exact} FROM stage_totals WHERE deals != 0"
    ).fetchall()
    if not all(row[-1] for row in rows):
        return None
    totals: Totals = {}
    places: dict[tuple[str, str], tuple[int, int]] = {}
    for stage, code, *most, count, _, units, fraction, w_units, w_fraction, _ in rows:
        entry = totals.setdefault((stage, code), _entry(stage, code))
        entry["count"] += count
        entry["amount"] += Decimal(units * 10_000 + fraction).scaleb(-4)
        entry["weighted"] += Decimal(w_units * 10_000 + w_fraction).scaleb(-6)
        so_far = places.get((stage, code), (0, 0))
        places[(stage, code)] = (max(so_far[0], most[0]), max(so_far[1], most[1]))
    for key, entry in totals.items():  # as many places as Decimal's own sums have
        entry["amount"] = entry["amount"].quantize(Decimal(1).scaleb(-places[key][0]))
        entry["weighted"] = entry["weighted"].quantize(Decimal(1).scaleb(-places[key][1]))
    return totals


def summed_totals(conn: sqlite3.Connection) -> Totals:
    """The totals summed deal by deal (what stage_totals spares the pipeline)."""
    totals: Totals = {}
    rows = conn.execute("SELECT stage, currency, amount, probability FROM deals")
    for stage, code, value, chance in rows:
        entry = totals.setdefault((stage, code), _entry(stage, code))
        entry["count"] += 1
        if value is not None:
            entry["amount"] += Decimal(value)
            entry["weighted"] += Decimal(value) * (chance or 0) / 100
    return totals


def _entry(stage: str, code: str | None) -> dict:
    return {"stage": stage, "currency": code, "count": 0, "amount": Decimal(0),
            "weighted": Decimal(0)}  # fmt: skip


def _typed(deal: dict) -> dict:
    """Amounts leave the store as Decimal: exact until they are printed."""
    if deal.get("amount") is not None:  # get: a listing of other fields (Rows.only)
        deal["amount"] = Decimal(deal["amount"])
    return deal
