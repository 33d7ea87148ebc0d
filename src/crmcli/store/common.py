"""Pieces every kind of record shares: timestamps, tags, custom fields, rows."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator

from crmcli import models

JSON_COLUMNS = ("tags", "fields", "emails", "phones")


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def record(cursor: sqlite3.Cursor, row: tuple) -> dict:
    """A result row as a dict; JSON-valued columns decoded."""
    result = {}
    for (column, *_), value in zip(cursor.description, row, strict=True):
        if column in JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        result[column] = value
    return result


def records(cursor: sqlite3.Cursor) -> Iterator[dict]:
    for row in cursor:
        yield record(cursor, row)


def insert(conn: sqlite3.Connection, table: str, values: dict) -> int:
    """Insert one row; `table` and the keys come from our code, never from users."""
    stamp = now()
    values = {**values, "created_at": stamp, "updated_at": stamp}
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    cursor = conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values.values())
    )
    return cursor.lastrowid


def update(conn: sqlite3.Connection, table: str, row_id: int, values: dict) -> None:
    values = {**values, "updated_at": now()}
    assignments = ", ".join(f"{column} = ?" for column in values)
    conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), row_id])


def edited_tags(current: list[str], add: Iterable[str], remove: Iterable[str]) -> list[str]:
    """Tags after an edit: removals match ignoring case; additions keep their spelling."""
    dropped = {models.fold(tag) for tag in models.tags(list(remove))}
    kept = [tag for tag in current if models.fold(tag) not in dropped]
    return models.tags(kept + models.tags(list(add)))


def edited_fields(current: dict, set_: dict[str, str], unset: Iterable[str]) -> dict:
    result = dict(current)
    for key in unset:
        result.pop(models.field_key(key), None)
    result.update(set_)
    return result
