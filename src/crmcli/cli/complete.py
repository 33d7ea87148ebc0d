"""Shell completion from the database: account, contact and deal names, stages, fields.

Completion runs on every Tab, so it is quick (an indexed prefix range, at most 50
answers) and silent: whatever goes wrong, it offers nothing rather than an
error in the middle of someone's command line.  It never creates a database.
"""

import os

import typer

_MAX = 50


def _database(ctx: typer.Context):
    """A read-only connection to the database the command line names, or None."""
    import sqlite3

    from crmcli import db

    root = ctx.find_root()
    path = db.resolve_path(root.params.get("db") if root.params else None)
    if not path.is_file():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)


def _prefixed(ctx: typer.Context, sql: str, incomplete: str) -> list[str]:
    try:
        from crmcli import models

        conn = _database(ctx)
        if conn is None:
            return []
        key = models.fold(incomplete)
        with conn:
            rows = conn.execute(sql, (key, key + "\U0010ffff", _MAX)).fetchall()
        conn.close()
        return [_as_typed(value, incomplete) for (value,) in rows]
    except Exception:
        return []


def _as_typed(value: str, incomplete: str) -> str:
    """`acme` + Tab -> `acme Corporation`: the shell only offers words that begin as typed,
    and references ignore case anyway.  The shell prints candidates on the terminal:
    control characters come escaped, as everywhere else."""
    from crmcli.render import escape

    if value.casefold().startswith(incomplete.casefold()):
        value = incomplete + value[len(incomplete) :]
    return escape(value)


def accounts(ctx: typer.Context, incomplete: str) -> list[str]:
    return _prefixed(
        ctx,
        "SELECT name FROM accounts WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?",
        incomplete,
    )


def contacts(ctx: typer.Context, incomplete: str) -> list[str]:
    """Names and e-mail addresses."""
    if "@" in incomplete:
        return _prefixed(
            ctx,
            "SELECT value FROM contact_emails WHERE value_key >= ? AND value_key < ?"
            " ORDER BY value_key LIMIT ?",
            incomplete,
        )
    return _prefixed(
        ctx,
        "SELECT DISTINCT name FROM contacts WHERE name_key >= ? AND name_key < ?"
        " ORDER BY name_key LIMIT ?",
        incomplete,
    )


def deals(ctx: typer.Context, incomplete: str) -> list[str]:
    return _prefixed(
        ctx,
        "SELECT DISTINCT name FROM deals WHERE name_key >= ? AND name_key < ?"
        " ORDER BY name_key LIMIT ?",
        incomplete,
    )


def kinds(incomplete: str) -> list[str]:
    """What `crm list` lists."""
    kinds = ("accounts", "contacts", "deals", "activities", "tasks")
    return [kind for kind in kinds if kind.startswith(incomplete.lower())]


def stages(incomplete: str) -> list[str]:
    try:
        from crmcli import config
        from crmcli.render import escape

        stages = config.load().stages
        return [escape(stage) for stage in stages if stage.startswith(incomplete.lower())]
    except Exception:
        return []


def fields(incomplete: str) -> list[str]:
    """Field names of the listing being typed, for --where, --sort and --columns."""
    try:
        from crmcli.cli.listing import LISTINGS

        names = LISTINGS[_listed_kind(_typed_words())].fields
        prefix, _, last = incomplete.rpartition(",")  # --columns name,ci<Tab>
        lead = prefix + "," if prefix else ""
        return [f"{lead}{name}" for name in names if name.startswith(last)]
    except Exception:
        return []


def _typed_words() -> list[str]:
    """The command line being completed, as the shell hands it over.

    Typer gives an autocompletion function no arguments, and a half-typed
    option stops click from parsing the positional ones (`crm list deals
    --sort a<Tab>`), so the words are read from the shell's own variables.
    """
    import shlex

    line = os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS") or ""
    try:
        return shlex.split(line)
    except ValueError:  # an unclosed quote
        return line.split()


def _listed_kind(words: list[str]) -> str:
    """accounts, contacts ... from `crm KIND list ...` or `crm list KIND ...`."""
    from crmcli.cli.listing import SINGULAR as plural

    words = [word for word in words if not word.startswith("-")]
    for index, word in enumerate(words):
        if word in plural:
            return plural[word]
        if word == "list":
            following = words[index + 1] if index + 1 < len(words) else ""
            following = plural.get(following, following)
            return following if following in plural.values() else "contacts"
    return "contacts"
