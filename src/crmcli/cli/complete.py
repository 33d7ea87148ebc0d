"""Shell completion from the database: account, contact and deal names, stages, fields.

Completion runs on every Tab, so it is quick (an indexed prefix range, at most 50
answers) and silent: whatever goes wrong, it offers nothing rather than an
error in the middle of someone's command line.  It never creates a database.
"""

import os

import typer

_MAX = 50
# Matching ignoring accents reads every key (no index has them without accents):
# done up to this many rows (a few hundredths of a second for ASCII names, a few
# tenths if all have accents); above, only case is ignored.
_SCAN_MAX = 200_000


def _database(ctx: typer.Context):
    """A read-only connection to the database the command line names, or None."""
    import sqlite3

    from crmcli import db

    root = ctx.find_root()
    path = db.resolve_path(root.params.get("db") if root.params else None)
    if not path.is_file():
        return None
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)


def _prefixed(ctx: typer.Context, table: str, column: str, incomplete: str) -> list[str]:
    """Values of `column` whose key (`column`_key) begins as typed, ignoring case, then
    those that do ignoring accents too (`jose` finds José: a scan, stopping at _MAX)."""
    try:
        from crmcli import models

        conn = _database(ctx)
        if conn is None:
            return []
        key = models.fold(incomplete)
        select = f"SELECT DISTINCT {column} FROM {table} WHERE"
        with conn:
            found = dict.fromkeys(
                value
                for (value,) in conn.execute(
                    f"{select} {column}_key >= ? AND {column}_key < ? ORDER BY {column}_key"
                    " LIMIT ?",
                    (key, key + "\U0010ffff", _MAX),
                )
            )
            plain = _plain(key)
            small = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] <= _SCAN_MAX
            if len(found) < _MAX and plain and small:
                def plain_prefix(text: str) -> str:
                    return _plain(text[: len(plain) + 4])[: len(plain)]

                conn.create_function("crm_plain_prefix", 1, plain_prefix, deterministic=True)
                rows = conn.execute(  # only keys with a non-ASCII character can differ
                    f"{select} length(CAST({column}_key AS BLOB)) != length({column}_key)"
                    f" AND crm_plain_prefix({column}_key) = ? LIMIT ?",
                    (plain, _MAX * 2),
                )
                found.update(dict.fromkeys(value for (value,) in rows))
        conn.close()
        natural = sorted(found, key=lambda name: models.natural_key(models.fold(name)))
        return _offered(natural[:_MAX], incomplete)
    except Exception:
        return []


def _plain(text: str) -> str:
    """Without accents: José is jose."""
    import unicodedata

    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _offered(values: list[str], incomplete: str) -> list[str]:
    """Candidates in the stored case, as the shell in use needs them.  bash puts them
    on the command line as they are: each is escaped to stay one word (`Jane\\ Q.\\
    Doe`).  fish and zsh (ZshComplete below) quote what they insert.  The shell shows
    candidates on the terminal: control characters come escaped."""
    from crmcli.render import escape

    if "bash" not in os.environ.get("_CRM_COMPLETE", ""):
        return [_Candidate(escape(v)) for v in values]
    quote = _bash_quote()
    return [_Candidate(_bash_word(escape(v), quote)) for v in values]


def _bash_quote() -> str:
    """The quote the word being completed opens (`'Jane Q`), or "".  bash keeps it and
    puts the candidate after it: it must then be quoted as that quote reads it."""
    words = os.environ.get("COMP_WORDS", "").split("\n")  # joined by the script's IFS
    try:
        current = words[int(os.environ.get("COMP_CWORD", ""))]
    except (ValueError, IndexError):
        return ""
    return current[:1] if current[:1] in ("'", '"') else ""


class _Candidate(str):
    """A candidate typer must pass on to the shell although it does not begin as typed
    (typer drops those: `value.startswith(incomplete)`): `ja` offers `Jane Doe`."""

    def startswith(self, *args, **kwargs) -> bool:
        return True


def _bash_word(value: str, quote: str = "") -> str:
    """One word for bash: every character the shell would read specially, backslashed;
    after a ' begun, a ' as '\\'' ; after a " begun, \\ " $ ` backslashed."""
    import re

    if quote == "'":
        return value.replace("'", "'\\''")
    if quote == '"':
        return re.sub(r'([\\"$`])', r"\\\1", value)
    return re.sub(r"([^\w@%+=:,./-])", r"\\\1", value)


def accounts(ctx: typer.Context, incomplete: str) -> list[str]:
    return _prefixed(ctx, "accounts", "name", incomplete)


def contacts(ctx: typer.Context, incomplete: str) -> list[str]:
    """Names and e-mail addresses."""
    if "@" in incomplete:
        return _prefixed(ctx, "contact_emails", "value", incomplete)
    return _prefixed(ctx, "contacts", "name", incomplete)


def deals(ctx: typer.Context, incomplete: str) -> list[str]:
    return _prefixed(ctx, "deals", "name", incomplete)


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


def use_zsh_completion() -> None:
    """zsh: crm's own answer in place of typer's, whose `_arguments '*: :(("..."))'`
    keeps only candidates that begin as typed (case and all) and breaks on an
    apostrophe (`O''Neil`).  Values without a description (crm's candidates) go to
    `compadd -U`, which takes them whatever was typed and quotes what it inserts."""
    import shlex

    from typer import _completion_classes as classes
    from typer._click.shell_completion import add_completion_class

    class ZshComplete(classes.ZshComplete):
        def complete(self) -> str:
            args, incomplete = self.get_completion_args()
            items = self.get_completions(args, incomplete)
            if items and not any(item.help for item in items):
                return "compadd -U -- " + " ".join(shlex.quote(item.value) for item in items)
            return super().complete()

    add_completion_class(ZshComplete, "zsh")
