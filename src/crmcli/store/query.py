"""--where, --tag, --sort, --limit and --offset, turned into SQL safely.

Field names only ever come from a kind's Schema (never from the user's text),
and every value reaches SQLite as a bound parameter.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from crmcli import models, when
from crmcli.errors import InvalidValue
from crmcli.records import REQUIRED, FrozenRecord, Record

_EXPRESSION = r"\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(!=|>=|<=|=|~|>|<)(.*)\Z"
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


class Query(
    FrozenRecord, fields={"where": list, "tags": list, "sort": list, "limit": None, "offset": 0}
):
    """What the user asked a listing for, before it is checked: `where`, `tags` and
    `sort` (lists of str), `limit` (int or None), `offset` (int)."""

    where: list[str]
    tags: list[str]
    sort: list[str]
    limit: int | None
    offset: int


class Schema(
    FrozenRecord,
    fields=dict.fromkeys(("source", "alias", "tables", "columns"), REQUIRED)
    | dict.fromkeys(("flat", "kinds", "equal", "keys", "lists", "sort_keys"), dict),
):
    """One kind's listing: its fields as SQL, and how they filter and sort.

    `columns` maps every field (in output order) to its SQL expression over
    `tables`; `flat` gives, for fields that hold lists or flags, the expression
    for a CSV cell (tags -> `a;b`), so a CSV listing is SQLite's work alone.
    `kinds` says how values compare ("number", "date", "bool"; text otherwise);
    `equal` gives an indexed test for = (name -> name_key = ?), and `keys` the
    function that makes its value a key (models.fold unless named); `lists` the
    fields holding several values, as FROM ... WHERE yielding a column `value`;
    `sort_keys` indexed sort orders.  `source` is the main table, `alias` its
    alias in `tables`.
    """

    source: str
    alias: str
    tables: str
    columns: dict[str, str]
    flat: dict[str, str]
    kinds: dict[str, str]
    equal: dict[str, str]
    keys: dict[str, Callable[[str], str]]
    lists: dict[str, str]
    sort_keys: dict[str, str]

    def valid(self) -> str:
        return ", ".join(self.columns)

    def select(self, fields=None, *, flat: bool = False) -> str:
        chosen = fields or self.columns
        expressions = (
            (self.flat.get(name) if flat else None) or self.columns[name] for name in chosen
        )
        listed = ", ".join(
            f"{expr} AS {name}" for expr, name in zip(expressions, chosen, strict=True)
        )
        return f"SELECT {listed} FROM {self.tables}"


def schema(
    source: str, alias: str, tables: str, fields: tuple[str, ...], columns: dict[str, str], **rest
) -> Schema:
    """A Schema whose fields default to same-named columns of the main table."""
    every = {name: columns.get(name, f"{alias}.{name}") for name in fields}
    return Schema(source, alias, tables, every, **rest)


def flat_list(expression: str) -> str:
    """A JSON list column as one CSV cell: `a;b`, labelled values as `label:value`."""
    item = (
        "CASE type WHEN 'object' THEN coalesce(value ->> 'label' || ':', '')"
        " || (value ->> 'value') ELSE value END"
    )
    return (
        f"CASE {expression} WHEN '[]' THEN NULL ELSE"
        f" (SELECT group_concat({item}, ';') FROM json_each({expression})) END"
    )


class Rows:
    """A listing's rows, streamed: as dicts, or as flat CSV cells; `total()` counts all.

    `convert` changes each row (a dict) as it is read; `converts` names the fields
    it changes (a listing of none of them then skips it), empty when not known."""

    def __init__(self, conn, schema: Schema, where: str, params: list, tail: str, convert=None,
                 converts: tuple[str, ...] = ()):  # fmt: skip
        self._conn, self._schema, self._where, self._params = conn, schema, where, params
        self._tail, self._convert, self._converts = tail, convert, converts
        self._fields = None  # every field

    def only(self, fields) -> Rows:
        """The same rows with just these fields (those a table shows): fewer
        columns read, no JSON decoded for a list not shown."""
        wanted = set(fields)
        convert = self._convert
        if self._converts and wanted.isdisjoint(self._converts):
            convert = None
        narrowed = Rows(self._conn, self._schema, self._where, self._params, self._tail,
                        convert, self._converts)  # fmt: skip
        narrowed._fields = [name for name in self._schema.columns if name in wanted]
        return narrowed

    def columns(self) -> dict[str, list]:
        """The rows a column at a time (field -> its values, in order), as iterating
        gives them but with no dict a row (unless `convert` needs them): a table
        of thousands of rows reads its columns whole."""
        if self._convert is not None:
            rows = list(self)
            names = list(rows[0]) if rows else self._fields or list(self._schema.columns)
            return {name: [row.get(name) for row in rows] for name in names}
        import gc
        import json

        from crmcli.store.common import JSON_COLUMNS

        sql = self._schema.select(self._fields) + self._where + self._tail
        cursor = self._conn.execute(sql, self._params)
        names = [column for column, *_ in cursor.description]
        collecting = gc.isenabled()
        gc.disable()  # thousands of new tuples, none of them garbage: no collection to run
        try:
            rows = cursor.fetchall()
            values = [list(column) for column in zip(*rows, strict=True)] or [[] for _ in names]
            del rows
        finally:
            if collecting:
                gc.enable()
        for index, name in enumerate(names):
            if name in JSON_COLUMNS:  # decoded as records() decodes them; most lists are empty
                values[index] = [
                    ([] if text == "[]" else json.loads(text)) if isinstance(text, str) else text
                    for text in values[index]
                ]
        return dict(zip(names, values, strict=True))

    def __iter__(self):
        from crmcli.store.common import records

        sql = self._schema.select(self._fields) + self._where + self._tail
        rows = records(self._conn.execute(sql, self._params))
        return map(self._convert, rows) if self._convert else rows

    def text_batches(self, fields, fmt: str):
        """The CSV/TSV listing of `fields` as render.write_cells takes it, most of
        each line made by SQLite (store.lines)."""
        from crmcli.store import lines

        return lines.text_batches(
            self._conn, self._schema, fields, self._where, self._params, self._tail, fmt
        )

    def total(self) -> int:
        sql = f"SELECT count(*) FROM {self._schema.tables}{self._where}"
        return self._conn.execute(sql, self._params).fetchone()[0]


class Compiled(
    Record, fields=dict.fromkeys(("where", "params", "order", "limit", "offset"), REQUIRED)
):
    where: list[str]
    params: list
    order: str | None
    limit: int | None
    offset: int

    def rows(
        self,
        conn: sqlite3.Connection,
        schema: Schema,
        default_order: str,
        fixed: tuple[str, ...] = (),
        fixed_params: tuple = (),
        convert=None,
        converts: tuple[str, ...] = (),
    ) -> Rows:
        """The listing: the fixed filters (--account ...) and the user's; `convert`
        changes each row, `converts` names the fields it changes (see Rows)."""
        wheres = [*fixed, *self.where]
        where = f" WHERE {' AND '.join(wheres)}" if wheres else ""
        tail = f" ORDER BY {self.order or default_order}"
        if self.limit is not None or self.offset:
            limit = -1 if self.limit is None else int(self.limit)
            tail += f" LIMIT {limit} OFFSET {int(self.offset)}"
        return Rows(conn, schema, where, [*fixed_params, *self.params], tail, convert, converts)


def equals(*pairs: tuple[str, object]) -> tuple[tuple[str, ...], tuple]:
    """Fixed `column = ?` filters for the (column, value) pairs whose value is given."""
    given = [(column, value) for column, value in pairs if value is not None]
    return tuple(f"{column} = ?" for column, _ in given), tuple(value for _, value in given)


def compile_query(conn: sqlite3.Connection, schema: Schema, query: Query | None) -> Compiled:
    query = query or Query()
    for value in (query.limit, query.offset):
        if value is not None and not 0 <= value <= models.MAX_INT:
            raise InvalidValue(f"--limit and --offset take a number from 0 to {models.MAX_INT:,}")
    where: list[str] = []
    params: list = []
    for text in query.where:
        clause, values = _condition(conn, schema, text)
        where.append(clause)
        params += values
    for tag in query.tags:
        where.append(
            f"EXISTS (SELECT 1 FROM json_each({schema.alias}.tags) WHERE crm_fold(value) = ?)"
        )
        params.append(models.fold(models.nfc(tag.strip())))
    order = ", ".join(_order(schema, key) for key in query.sort) or None
    return Compiled(where, params, order, query.limit, query.offset)


def _condition(conn: sqlite3.Connection, schema: Schema, text: str) -> tuple[str, list]:
    match = re.match(_EXPRESSION, text, re.S)
    if not match:
        raise InvalidValue(
            f"invalid --where {text!r}: use FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT, "
            f"FIELD>VALUE, >=, <, <= (fields: {schema.valid()})"
        )
    name, operator, raw = match.groups()
    value = models.nfc(raw.strip())
    if operator in ("=", "!=") and name in schema.equal and value:
        test = schema.equal[name]
        key = schema.keys.get(name, models.fold)(value)
        return (test if operator == "=" else f"NOT ({test})"), [key]
    if name in schema.lists:
        return _list_condition(schema.lists[name], name, operator, value)
    expression, kind = _field(conn, schema, name, value)
    if value == "" and operator in ("=", "!="):
        test = f"coalesce({expression}, '') = ''"
        return (test if operator == "=" else f"NOT ({test})"), []
    if operator == "~":
        return f"instr(crm_fold({expression}), ?) > 0", [models.fold(value)]
    if kind == "number":
        return _compare(f"CAST({expression} AS NUMERIC)", operator, _number(name, value))
    if kind == "date":
        return _date_condition(expression, operator, value)
    if kind == "bool":
        return _compare(expression, operator, _bool(name, value))
    return _compare(f"crm_fold({expression})", operator, models.fold(value))


def _date_condition(expression: str, operator: str, value: str) -> tuple[str, list]:
    """A date compared.  A year-less value (`--04-23`, a birthday whose year is not
    known) compares the day of the year: `birthday=--04-23` is every April 23rd,
    year or none, `birthday>=--04-01` from April on.  A value with a year compares
    the whole date, and a range then leaves out the year-less ones (`--04-23` is
    before or after no 1900-01-01)."""
    day = f"substr({expression}, 1, 10)"
    if value.startswith("--"):
        month_day = models.birthday(value, "date")[2:]  # MM-DD, checked
        return _compare(f"substr({day}, -5)", operator, month_day)
    test, params = _compare(day, operator, when.day(value))
    if operator in ("=", "!="):
        return test, params
    return f"({test} AND {expression} NOT LIKE '--%')", params


def _compare(expression: str, operator: str, value) -> tuple[str, list]:
    if operator == "!=":
        return f"({expression} IS NULL OR {expression} != ?)", [value]
    return f"{expression} {operator} ?", [value]


def _list_condition(values: str, name: str, operator: str, value: str) -> tuple[str, list]:
    """emails=jane@x: one of them equals; ~: one contains; !=: none equals."""
    if operator not in ("=", "!=", "~"):
        raise InvalidValue(f"{name} holds several values: use =, != or ~")
    test = "crm_fold(value) = ?" if operator != "~" else "instr(crm_fold(value), ?) > 0"
    exists = f"EXISTS (SELECT 1 FROM {values} AND {test})"
    return (f"NOT {exists}" if operator == "!=" else exists), [models.fold(value)]


def _field(conn: sqlite3.Connection, schema: Schema, name: str, value: str) -> tuple[str, str]:
    """A record field's expression and kind, or a custom field's."""
    if name in schema.columns:
        return schema.columns[name], schema.kinds.get(name, "text")
    key = name.removeprefix("fields.")
    if name.startswith("fields.") or _custom_key_exists(conn, schema, key):
        path = f'$."{models.field_key(key)}"'
        kind = "number" if _is_number(value) else "text"
        return f"json_extract({schema.alias}.fields, '{path}')", kind
    raise InvalidValue(
        f"unknown field {name!r}: use one of {schema.valid()}, or a custom field (fields.KEY)"
    )


def _custom_key_exists(conn: sqlite3.Connection, schema: Schema, key: str) -> bool:
    if not re.match(r"[A-Za-z_][A-Za-z0-9_.-]*\Z", key):
        return False
    row = conn.execute(
        f"SELECT 1 FROM {schema.source} WHERE json_extract(fields, ?) IS NOT NULL LIMIT 1",
        (f'$."{key}"',),
    ).fetchone()
    return row is not None


def _order(schema: Schema, key: str) -> str:
    name = key.lstrip("-+").strip()
    if name not in schema.columns:
        raise InvalidValue(f"cannot sort by {name!r}: use one of {schema.valid()}")
    direction = "DESC" if key.startswith("-") else "ASC"
    if name in schema.sort_keys:
        return f"{schema.sort_keys[name]} {direction}"
    expression = schema.columns[name]
    if schema.kinds.get(name) == "number":
        expression = f"CAST({expression} AS NUMERIC)"
    elif schema.kinds.get(name) not in ("date", "bool"):
        expression = f"crm_fold({expression})"
    # Empty values last, whichever the direction.
    return f"{expression} IS NULL, {expression} {direction}"


def _is_number(value: str) -> bool:
    try:
        models.number("number", value)
    except InvalidValue:
        return False
    return True


def _number(name: str, value: str) -> int | float:
    """A number to compare with: an int where SQLite's integers hold it exactly,
    else a float (1e19 and 1e999999 compare as they should, never overflow)."""
    try:
        number = models.number(name, value)
    except InvalidValue:
        raise InvalidValue(
            f"{name} compares with numbers such as {models.NUMBER_FORMS} (got {value!r})"
        ) from None
    whole = number.adjusted() < 19 and number == number.to_integral_value()
    if whole and abs(number) <= models.MAX_INT:
        return int(number)
    return float(number)


def _bool(name: str, value: str) -> int:
    folded = value.lower()
    if folded in _TRUE:
        return 1
    if folded in _FALSE:
        return 0
    raise InvalidValue(f"{name} is true or false (got {value!r})")
