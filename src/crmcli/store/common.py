"""Pieces every kind of record shares: timestamps, tags, custom fields, rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from crmcli import models, when
from crmcli.db import NAMED
from crmcli.records import FrozenRecord
from crmcli.store import refs

# Columns holding JSON text, decoded when read (the lists of issue 12 too).
JSON_COLUMNS = ("tags", "fields", "addresses", "urls", "impps", "related", "dates", "vcard",
                "photo", "logo")  # photo, logo: {"media_type", "size"}


def now() -> str:
    return when.now().strftime("%Y-%m-%dT%H:%M:%SZ")


# Most lists and custom fields are empty: written and read without json, which a
# command then need not import (start-up time: bench/startup.py).
def dump(value: object) -> str:
    if type(value) in (list, dict) and not value:
        return "[]" if type(value) is list else "{}"
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load(text: str) -> object:
    """JSON text as dump() writes it, decoded."""
    if text == "[]":
        return []
    if text == "{}":
        return {}
    import json

    return json.loads(text)


def record(cursor: sqlite3.Cursor, row: tuple) -> dict:
    """A result row as a dict; JSON-valued columns decoded."""
    result = {}
    for (column, *_), value in zip(cursor.description, row, strict=True):
        if column in JSON_COLUMNS and isinstance(value, str):
            value = load(value)
        result[column] = value
    return result


def records(cursor: sqlite3.Cursor) -> Iterator[dict]:
    """The rows as record() makes them, the column names and JSON columns worked
    out once (a listing's rows have many columns, a few of them JSON)."""
    names = [column for column, *_ in cursor.description]
    decoded = [(index, name) for index, name in enumerate(names) if name in JSON_COLUMNS]
    import json

    loads = json.loads
    for row in cursor:
        result = dict(zip(names, row, strict=True))
        for index, name in decoded:
            value = row[index]
            if value == "[]":  # most lists are empty, and most custom fields
                result[name] = []
            elif value == "{}":
                result[name] = {}
            elif isinstance(value, str):
                result[name] = loads(value)
        yield result


def ordered(table: str, values: dict) -> dict:
    """`values` with the name_order that goes with their name_key, if they bring
    one (see migrations.m016_natural_names): every write of a name_key comes here."""
    if "name_key" in values and table in NAMED:
        return {**values, "name_order": models.natural_key(values["name_key"])}
    return values


def insert(conn: sqlite3.Connection, table: str, values: dict) -> int:
    """Insert one row; `table` and the keys come from our code, never from users.

    Timestamps are now unless `values` brings its own (an import keeps them).
    """
    stamp = now()
    values = {"created_at": stamp, "updated_at": stamp, **ordered(table, values)}
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values())
    )
    return cursor.lastrowid


def update(conn: sqlite3.Connection, table: str, row_id: int, values: dict) -> None:
    values = {**ordered(table, values), "updated_at": now()}
    assignments = ", ".join(f"{column} = ?" for column in values)
    conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id])


def links(
    conn: sqlite3.Connection,
    *,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
) -> dict:
    """Link columns for the references given ('' unlinks).

    A contact or a deal brings its account along unless an account is given, so
    what is logged against Jane also shows on Acme's timeline.
    """
    row: dict = {}
    for key, ref, resolve in (
        ("contact_id", contact, refs.contact_id),
        ("deal_id", deal, refs.deal_id),
        ("account_id", account, refs.account_id),
    ):
        if ref is not None:
            row[key] = resolve(conn, ref) if ref.strip() else None
    for table, key in (("contacts", "contact_id"), ("deals", "deal_id")):
        if account is None and "account_id" not in row and row.get(key) is not None:
            found = conn.execute(f"SELECT account_id FROM {table} WHERE id = ?", (row[key],))
            if (account_id := found.fetchone()[0]) is not None:
                row["account_id"] = account_id
    return row


class TagEdit(
    FrozenRecord,
    fields={"add_tags": list, "remove_tags": list, "set_fields": dict, "unset_fields": list},
):
    """What an edit does to a record's tags and custom fields."""

    add_tags: list[str]
    remove_tags: list[str]
    set_fields: dict[str, str]
    unset_fields: list[str]

    def __bool__(self) -> bool:
        return any((self.add_tags, self.remove_tags, self.set_fields, self.unset_fields))

    def columns(self, current: dict) -> dict[str, str]:
        """The `tags`/`fields` column values after the edit, for those it changes.

        Tag removals match ignoring case; additions keep their spelling.
        """
        result = {}
        if self.add_tags or self.remove_tags:
            # Any tag can be removed, even one no longer allowed (models.tags).
            dropped = {models.fold(models.nfc(tag).strip()) for tag in self.remove_tags}
            kept = [tag for tag in current["tags"] if models.fold(tag) not in dropped]
            result["tags"] = dump(models.tags(self.add_tags, stored=kept))
        if self.set_fields or self.unset_fields:
            fields = dict(current["fields"])
            for key in self.unset_fields:
                fields.pop(models.field_key(key), None)
            fields.update(models.custom_fields(self.set_fields))
            result["fields"] = dump(fields)
        return result
