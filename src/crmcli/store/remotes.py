"""The remotes crm syncs with (crm remote ...): their names, where they are and how
to get their password (a command or a variable: never the password itself)."""

from __future__ import annotations

import sqlite3

from crmcli import models
from crmcli.errors import InvalidValue, NotFound, Refused
from crmcli.store import common

FIELDS = ("name", "kind", "url", "user", "password", "addressbook", "version", "cards",
          "synced_at", "created_at")  # fmt: skip
_COLUMNS = ("id", "name", "kind", "url", "user", "password_command", "password_env",
            "addressbook", "sync_token", "version", "created_at", "synced_at")  # fmt: skip


def name(text: str) -> str:
    """A remote's name: a word of letters, digits, `.`, `_` or `-`, as on a command line."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", text):
        raise InvalidValue(
            f"a remote's name is up to 64 letters, digits, '.', '_' or '-', not {text!r}"
        )
    return text


def add_remote(conn: sqlite3.Connection, row: dict) -> dict:
    name(row["name"])
    for key in ("url", "user", "password_command", "password_env", "addressbook"):
        if row.get(key) is not None:
            row[key] = models.line(key.replace("_", " "), row[key])
    if get_remote(conn, row["name"], missing_ok=True) is not None:
        raise Refused(f"there is a remote {row['name']!r} already (crm remote list)")
    row = {key: value for key, value in row.items() if key in _COLUMNS}
    conn.execute(
        f"INSERT INTO remotes ({', '.join(row)}, created_at) VALUES"
        f" ({', '.join('?' for _ in row)}, ?)",
        (*row.values(), common.now()),
    )
    return get_remote(conn, row["name"])


def get_remote(conn: sqlite3.Connection, remote: str, missing_ok: bool = False) -> dict | None:
    found = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM remotes WHERE name = ?", (remote,)
    ).fetchone()
    if found is None:
        if missing_ok:
            return None
        raise NotFound(f"no remote {remote!r} (crm remote list)")
    return dict(zip(_COLUMNS, found, strict=True))


def list_remotes(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        f"SELECT {', '.join('r.' + c for c in _COLUMNS)},"
        " (SELECT count(*) FROM sync_cards s WHERE s.remote_id = r.id) FROM remotes r"
        " ORDER BY r.name"
    ).fetchall()
    return [dict(zip((*_COLUMNS, "cards"), row, strict=True)) for row in rows]


def shown(remote: dict) -> dict:
    """A remote as `remote list` shows it: where its password comes from, not one."""
    if remote["password_command"]:
        password = f"command: {remote['password_command']}"
    elif remote["password_env"]:
        password = f"${remote['password_env']}"
    else:
        password = "prompt" if remote["user"] else None
    return {**{key: remote.get(key) for key in FIELDS if key != "password"},
            "password": password}  # fmt: skip


def remove_remote(conn: sqlite3.Connection, remote: str) -> dict:
    """Forget a remote and what crm knew of its cards (the contacts stay, and so do
    the remote's cards)."""
    found = get_remote(conn, remote)
    conn.execute("DELETE FROM sync_cards WHERE remote_id = ?", (found["id"],))
    conn.execute("DELETE FROM remotes WHERE id = ?", (found["id"],))
    return found
