"""The database looking after itself: facts about it, a health check, a backup."""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from pathlib import Path

from crmcli.errors import Refused

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
_CODES = {"accounts": 0, "contacts": 1, "deals": 2, "activities": 3}  # search rowid low bits


def info(conn: sqlite3.Connection, path: Path) -> dict:
    from crmcli.migrations import SCHEMA_VERSION

    exists = path.exists()
    return {
        "path": str(path),
        "size": path.stat().st_size if exists else 0,
        "schema_version": conn.execute("PRAGMA user_version").fetchone()[0] if exists else
        SCHEMA_VERSION,
        "sqlite_version": sqlite3.sqlite_version,
        "counts": {kind: conn.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
                   for kind in KINDS},
    }  # fmt: skip


def check(conn: sqlite3.Connection) -> list[str]:
    """Every problem found, one a line: SQLite's own checks, then crm's invariants.

    A damaged file can make a check itself fail; that is listed as a problem too,
    and the checks after it still run.
    """
    problems = _checked("integrity", lambda: _integrity(conn))
    problems += _checked("foreign key", lambda: [
        f"{table} row {rowid} points to a missing {parent} row"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")
    ])  # fmt: skip
    problems += _checked("search index", lambda: _search_problems(conn))
    problems += _checked("contacts", lambda: _contact_problems(conn))
    problems += _checked("keys", lambda: _key_problems(conn))
    problems += _checked("pipeline totals", lambda: _stage_problems(conn))
    problems += _checked("odd rows", lambda: _odd_problems(conn))
    return problems


def _checked(what: str, find) -> list[str]:
    try:
        return [f"{what}: {problem}" for problem in find()]
    except sqlite3.DatabaseError as exc:
        return [f"{what}: could not be checked: {exc}"]


def _integrity(conn: sqlite3.Connection) -> list[str]:
    """SQLite's integrity check, one problem a line. A damaged page can stop the
    whole check with "malformed": then each table (with its indexes) is checked
    alone, so the list still says which are damaged and which are fine."""
    try:
        return _problem_lines(conn.execute("PRAGMA integrity_check(200)"))
    except sqlite3.DatabaseError:
        pass
    problems = []
    with suppress(sqlite3.DatabaseError):  # the pages themselves, without reading rows
        problems += _problem_lines(conn.execute("PRAGMA quick_check(200)"))
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    for (table,) in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        try:
            lines = _problem_lines(conn.execute(f"PRAGMA integrity_check({quoted})"))
        except sqlite3.DatabaseError as exc:
            lines = [f"table {table} (or one of its indexes) cannot be read: {exc}"]
        problems += [line for line in lines if line not in problems]
    return problems or ["the check stopped on a damaged page it could not place"]


def _problem_lines(rows) -> list[str]:
    lines = [line for (row,) in rows for line in str(row).splitlines()]
    return [line for line in lines if line != "ok" and not line.startswith("*** in database")]


def _search_problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    for table, code in _CODES.items():
        missing = conn.execute(
            # The view's rows: a person account has no entry, its person has.
            f"SELECT count(*) FROM search_{table} WHERE rowid NOT IN (SELECT rowid FROM search)"
        ).fetchone()[0]
        stale = conn.execute(
            f"SELECT count(*) FROM search WHERE rowid % 4 = {code}"
            f" AND rowid NOT IN (SELECT rowid FROM search_{table})"
        ).fetchone()[0]
        if missing or stale:
            problems.append(f"{missing} {table} missing, {stale} stale")
        outdated = conn.execute(
            f"SELECT count(*) FROM search_{table} v JOIN search s ON s.rowid = v.rowid"
            " WHERE s.name IS NOT v.name OR s.body IS NOT v.body"
        ).fetchone()[0]
        if outdated:
            problems.append(f"{outdated} {table} out of date")
    return problems


# The street..country columns are the primary address, addresses[0] (store.details).
_ADDRESS_APART = " OR ".join(
    f"{column} IS NOT (addresses ->> '$[0].{column}')"
    for column in ("street", "city", "region", "postal_code", "country")
)


def _contact_problems(conn: sqlite3.Connection) -> list[str]:
    stale = conn.execute(f"SELECT count(*) FROM contacts c WHERE {_STALE}").fetchone()[0]
    apart = conn.execute(f"SELECT count(*) FROM contacts WHERE {_ADDRESS_APART}").fetchone()[0]
    return [f"{stale} with summary columns out of step"] * bool(stale) + [
        f"{apart} whose street..country are not their first address"
    ] * bool(apart)


def _key_problems(conn: sqlite3.Connection) -> list[str]:
    """Key columns that are not what crm makes of their text: names and e-mails that
    became one when keys began to ignore invisible characters and to read IDNA
    domains (migration m008 kept both rows), or keys written by another program."""
    from crmcli import migrations, models

    problems = []
    orders = [(table, "name_order", "name_key", "natural_key", False) for table in migrations.NAMED]
    for table, column, source, how, unique in (*migrations.KEYS, *orders):  # orders: m016
        make = getattr(models, how)
        owner = "contact_id" if table == "contact_emails" else "id"
        rows = conn.execute(f"SELECT {owner}, {source}, {column} FROM {table}")
        stale = [(at, text, new) for at, text, stored in rows if (new := make(text)) != stored]
        noun = "the e-mail of contact" if table == "contact_emails" else table[:-1]
        for at, text, key in stale[:_SHOWN]:
            other = unique and conn.execute(
                f"SELECT {owner}, {source} FROM {table} WHERE {column} = ?", (key,)
            ).fetchone()
            if other:
                problems.append(
                    f"{table}: {text!r} ({noun} {at}) is the same as {other[1]!r} ({noun}"
                    f" {other[0]}) once invisible characters and IDNA spellings are ignored:"
                    " rename or merge one of them"
                )
            else:
                problems.append(f"{table}: the {column} of {text!r} ({noun} {at}) is out of step")
        if len(stale) > _SHOWN:
            problems.append(f"{table}: {len(stale) - _SHOWN:,} more keys out of step")
    return problems


_SHOWN = 10  # problems of one kind listed


def _stage_problems(conn: sqlite3.Connection) -> list[str]:
    """stage_totals (m018, kept by triggers) against the deals summed one by one."""
    from crmcli.store import deals

    kept = deals.kept_totals(conn)
    if kept is None:
        return []  # not exact there, so the pipeline sums the deals itself
    summed = deals.summed_totals(conn)

    def figures(totals: dict, key: tuple[str, str]) -> str:
        total = totals.get(key)
        if total is None:
            return "no deals"
        return f"{total['count']} deals, {total['amount']:f}, weighted {total['weighted']:f}"

    return [
        f"{stage!r} {code!r}: {figures(kept, (stage, code))} kept, the deals make"
        f" {figures(summed, (stage, code))}"
        for stage, code in sorted({*kept, *summed})
        if figures(kept, (stage, code)) != figures(summed, (stage, code))
    ]


def _odd_problems(conn: sqlite3.Connection) -> list[str]:
    """odd_rows (m019) below the contacts it counts: CSV listings would then write
    those contacts unmeasured, cut at a NUL.  (Above them is only slower.)"""
    from crmcli import db, migrations

    kept = conn.execute("SELECT rows FROM odd_rows WHERE tbl = ?", (db.ODD_TABLE,)).fetchone()
    if kept is None:  # no count: every listing measures its cells
        return []
    odd = migrations.odd_row(conn, db.ODD_TABLE)
    (held,) = conn.execute(f"SELECT count(*) FROM {db.ODD_TABLE} WHERE {odd}").fetchone()
    if kept[0] >= held:
        return []
    return [f"{kept[0]} counted, {held} contacts hold a BLOB, a REAL or a NUL"]


# A contact's summary columns (kept by triggers, or written by an import) against
# what its addresses, account and activities say.
def _listed(table: str) -> str:
    rows = f"SELECT label, value FROM {table} WHERE contact_id = c.id ORDER BY position"
    return f"(SELECT group_concat(coalesce(label || ':', '') || value, ';') FROM ({rows}))"


def _first(table: str) -> str:
    return f"(SELECT value FROM {table} WHERE contact_id = c.id ORDER BY position LIMIT 1)"


_STALE = (
    f"c.email IS NOT {_first('contact_emails')} OR c.emails IS NOT {_listed('contact_emails')}"
    f" OR c.phone IS NOT {_first('contact_phones')} OR c.phones IS NOT {_listed('contact_phones')}"
    " OR c.account IS NOT (SELECT name FROM accounts WHERE id = c.account_id)"
    " OR c.last_contacted IS NOT (SELECT max(at) FROM activities"
    " WHERE contact_id = c.id AND kind IN ('call', 'meeting', 'email'))"
    " OR c.photo IS NOT (SELECT json_object('media_type', media_type, 'size', length(data))"
    " FROM contact_photos WHERE id = c.id)"
)


def backup(conn: sqlite3.Connection, target: Path, database: Path) -> tuple[int, list[str]]:
    """A consistent copy in the new file `target` (mode 0600), even while others write
    (SQLite's backup API), made whole (files.created): an interrupted backup leaves
    nothing. Returns its size and the problems the integrity check finds in the copy
    (a damaged database copies as is).
    """
    from crmcli import db, files

    target = target.expanduser()
    files.refuse_overwriting(database, target)
    with files.created(target) as temporary:
        copy = sqlite3.connect(temporary, isolation_level=None)
        try:
            conn.backup(copy)
            problems = _integrity(copy)
        except sqlite3.OperationalError as exc:
            db.unchanged(conn)  # a database changed under a reader that cannot lock it
            error = _copy_failed(exc, target)
            if error is None:
                raise
            raise error from None
        finally:
            copy.close()
        db.unchanged(conn)
    return target.stat().st_size, problems


def _copy_failed(exc: sqlite3.OperationalError, target: Path) -> Exception | None:
    """Writing the copy failed: say so about the copy's disk, not the database's."""
    from crmcli import db

    code = db.result_code(exc)
    if code == db.FULL:
        return Refused(f"the disk holding {target} is full; no copy was made")
    if code in (db.IOERR, db.CANTOPEN, db.READONLY):
        return Refused(f"cannot write {target}: {exc}; no copy was made")
    return None
