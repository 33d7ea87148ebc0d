"""The schema, as an ordered list of steps.

Each step is a plain function `mNNN_what(conn)` run inside the transaction that
`db._migrate` opens; `PRAGMA user_version` records how many have run.  Never
edit a step that has shipped: add a new one.  Plain SQL is used because the
schema needs what sqlite-utils' `create_table` cannot say (AUTOINCREMENT, so
ids are never reused; CHECK constraints).  Later steps that reshape a table can
use `sqlite_utils.Database(conn).table(...).transform(...)`, which runs inside
our transaction as savepoints.
"""

from __future__ import annotations

import sqlite3

from crmcli import db
from crmcli.db import NAMED, NUL_ESCAPES, ODD_TABLE, SEARCH_KINDS

_COMMON = """
    tags TEXT NOT NULL DEFAULT '[]',
    fields TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
"""

_ADDRESS = "street TEXT, city TEXT, region TEXT, postal_code TEXT, country TEXT,"


def m001_initial(conn: sqlite3.Connection) -> None:
    statements = f"""
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL DEFAULT 'business' CHECK (kind IN ('business', 'person')),
        type TEXT CHECK (type IN
            ('customer', 'prospect', 'partner', 'vendor', 'competitor', 'other')),
        industry TEXT, website TEXT, email TEXT, phone TEXT,
        {_ADDRESS}
        parent_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        description TEXT,
        {_COMMON}
    );
    CREATE INDEX accounts_parent ON accounts(parent_id);

    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        first_name TEXT,
        last_name TEXT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        title TEXT, department TEXT,
        account_id INTEGER REFERENCES accounts(id),
        {_ADDRESS}
        birthday TEXT,
        description TEXT,
        {_COMMON},
        CHECK (first_name IS NOT NULL OR last_name IS NOT NULL)
    );
    CREATE INDEX contacts_name_key ON contacts(name_key);
    CREATE INDEX contacts_account ON contacts(account_id);

    -- value_key is the address folded to lower case: UNIQUE makes the database
    -- itself refuse a second contact with the same e-mail, however scripts race.
    CREATE TABLE contact_emails (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        value TEXT NOT NULL,
        value_key TEXT NOT NULL UNIQUE,
        label TEXT
    );
    CREATE INDEX contact_emails_contact ON contact_emails(contact_id, position);

    CREATE TABLE contact_phones (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        value TEXT NOT NULL,
        label TEXT
    );
    CREATE INDEX contact_phones_contact ON contact_phones(contact_id, position);

    -- amount is an exact decimal kept as text, never a binary float.
    CREATE TABLE deals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        name_key TEXT NOT NULL,
        account_id INTEGER REFERENCES accounts(id),
        contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        amount TEXT,
        currency TEXT NOT NULL DEFAULT 'USD',
        stage TEXT NOT NULL DEFAULT 'lead',
        probability INTEGER CHECK (probability BETWEEN 0 AND 100),
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
        close_date TEXT,
        description TEXT,
        {_COMMON}
    );
    CREATE INDEX deals_name_key ON deals(name_key);
    CREATE INDEX deals_account ON deals(account_id);
    CREATE INDEX deals_contact ON deals(contact_id);

    CREATE TABLE activities (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('note', 'call', 'meeting', 'email')),
        subject TEXT,
        body TEXT,
        at TEXT NOT NULL,
        account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        deal_id INTEGER REFERENCES deals(id) ON DELETE SET NULL,
        {_COMMON}
    );
    CREATE INDEX activities_account ON activities(account_id);
    CREATE INDEX activities_contact ON activities(contact_id);
    CREATE INDEX activities_deal ON activities(deal_id);

    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        due TEXT,
        done INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
        done_at TEXT,
        account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
        contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
        deal_id INTEGER REFERENCES deals(id) ON DELETE SET NULL,
        {_COMMON}
    );
    CREATE INDEX tasks_account ON tasks(account_id);
    CREATE INDEX tasks_contact ON tasks(contact_id);
    CREATE INDEX tasks_deal ON tasks(deal_id);
    """
    # executescript() would COMMIT our transaction first; run statement by statement.
    for statement in statements.split(";"):
        if statement.strip():
            conn.execute(statement)


def m002_keep_in_touch(conn: sqlite3.Connection) -> None:
    """Contacts get a keep-in-touch interval; the timeline an index by contact and time."""
    import sqlite_utils  # only on the one run that upgrades a database

    database = sqlite_utils.Database(conn)
    database["contacts"].add_column("every", str)
    database["activities"].create_index(["contact_id", "at"], "activities_contact_at")
    database["activities"].create_index(["account_id", "at"], "activities_account_at")
    database["tasks"].create_index(["done", "due"], "tasks_open_due")


# A contact's primary and listed addresses and when it was last in touch are
# kept on its row by triggers, so a listing reads one row per contact instead
# of five look-ups (a million contacts list in seconds, not half a minute).
def _summary_values(table: str, column: str) -> dict[str, str]:
    """`email` (the first address) and `emails` (all, as `label:value;value`: labels hold
    no `:` and addresses or numbers no `;`), from one of the address tables."""
    rows = f"SELECT label, value FROM {table} WHERE contact_id = contacts.id ORDER BY position"
    return {
        column: f"(SELECT value FROM ({rows}) LIMIT 1)",
        f"{column}s": f"(SELECT group_concat(coalesce(label || ':', '') || value, ';')"
        f" FROM ({rows}))",
    }


def _summary(table: str, column: str) -> str:
    return ", ".join(f"{name} = {value}" for name, value in _summary_values(table, column).items())


_LAST_CONTACTED = (
    "(SELECT max(at) FROM activities WHERE contact_id = contacts.id"
    " AND kind IN ('call', 'meeting', 'email'))"
)
SUMMARIES = {
    "contact_emails": _summary("contact_emails", "email"),
    "contact_phones": _summary("contact_phones", "phone"),
    "activities": f"last_contacted = {_LAST_CONTACTED}",
}


_ACCOUNT = "(SELECT name FROM accounts WHERE id = contacts.account_id)"
_ACCOUNT_NAME = f"account = {_ACCOUNT}"

# Photos and logos (m011): their bytes in a table of their own, a row an owner
# (its id is the owner's), so that no listing reads them; the owner's row keeps
# {"media_type", "size"} as JSON text, kept in step by triggers.
PICTURES = {"contacts": ("contact_photos", "photo"), "accounts": ("account_logos", "logo")}


def _picture(owner: str) -> str:
    table = PICTURES[owner][0]
    return (
        f"(SELECT json_object('media_type', media_type, 'size', length(data)) FROM {table}"
        f" WHERE id = {owner}.id)"
    )


# The columns of a table that triggers work out from other rows, each with the
# expression that gives it (the triggers above assign exactly these).
DERIVED = {
    "contacts": {
        **_summary_values("contact_emails", "email"),
        **_summary_values("contact_phones", "phone"),
        "last_contacted": _LAST_CONTACTED,
        "account": _ACCOUNT,
        "photo": _picture("contacts"),
    },
    "accounts": {"logo": _picture("accounts")},
}


def m003_contact_summary(conn: sqlite3.Connection) -> None:
    """contacts.email, phone, emails, phones, last_contacted and account (the account's
    name, sparing listings a join: a quarter of a million-row listing's time), kept in
    step by triggers."""
    for column in ("email", "phone", "emails", "phones", "last_contacted", "account"):
        conn.execute(f"ALTER TABLE contacts ADD COLUMN {column} TEXT")
    conn.execute(f"UPDATE contacts SET {_ACCOUNT_NAME}")
    conn.execute(
        "CREATE TRIGGER summary_contacts_account AFTER UPDATE OF account_id ON contacts"
        f" BEGIN UPDATE contacts SET {_ACCOUNT_NAME} WHERE id = new.id; END"
    )
    conn.execute(
        "CREATE TRIGGER summary_contacts_insert AFTER INSERT ON contacts"
        " WHEN new.account_id IS NOT NULL"
        f" BEGIN UPDATE contacts SET {_ACCOUNT_NAME} WHERE id = new.id; END"
    )
    conn.execute(
        "CREATE TRIGGER summary_accounts_name AFTER UPDATE OF name ON accounts"
        " BEGIN UPDATE contacts SET account = new.name WHERE account_id = new.id; END"
    )
    for table, assignments in SUMMARIES.items():
        conn.execute(f"UPDATE contacts SET {assignments}")
        for event, rows in (("INSERT", ["new"]), ("UPDATE", ["old", "new"]), ("DELETE", ["old"])):
            owners = ", ".join(f"{row}.contact_id" for row in rows)
            conn.execute(
                f"CREATE TRIGGER summary_{table}_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN UPDATE contacts SET {assignments} WHERE id IN ({owners}); END"
            )


# What `crm search` finds, one view per kind.  The search table's rowid packs
# the kind into the low two bits (id * 4 + kind), so a record's entry is
# replaced by rowid, never by scanning.  Lists and JSON (tags, fields) are
# indexed as their text: the tokenizer reads only their words.  Phones are also
# indexed as bare digits, so `5550100` finds `+1 555 0100`.
def _digits(column: str) -> str:
    expression = column
    for separator in (" ", "-", "(", ")", ".", "/", "+"):
        expression = f"replace({expression}, '{separator}', '')"
    return expression


def _phone(column: str) -> str:
    """A number as written, as bare digits, and its last 10 and 7 digits, so that
    the number without its country or area code is found whole too."""
    digits = _digits(column)
    parts = (column, digits, f"substr({digits}, -10)", f"substr({digits}, -7)")
    return " || ' ' || ".join(parts)


def _words(*parts: str) -> str:
    """parts joined by spaces, NULLs skipped (SQLite 3.40 has no concat_ws)."""
    return "trim(" + " || ".join(f"coalesce({part} || ' ', '')" for part in parts) + ")"


_ADDRESS_COLUMNS = ("street", "city", "region", "postal_code", "country")
_EXTRAS = ("nullif(tags, '[]')", "nullif(fields, '{}')")
_EMAILS = "(SELECT group_concat(value, ' ') FROM contact_emails WHERE contact_id = c.id)"
_PHONES = (
    f"(SELECT group_concat({_phone('value')}, ' ') FROM contact_phones WHERE contact_id = c.id)"
)
_FIRST_LINE = "substr(body, 1, instr(body || char(10), char(10)) - 1)"
_SEARCH_VIEWS = {
    "accounts": (
        "id * 4",
        "name",
        _words(
            "industry",
            "website",
            "email",
            _phone("phone"),
            *_ADDRESS_COLUMNS,
            "description",
            *_EXTRAS,
        ),
    ),
    "contacts": (
        "id * 4 + 1",
        "name",
        _words("title", "department", _EMAILS, _PHONES, *_ADDRESS_COLUMNS, "description", *_EXTRAS),
    ),
    "deals": ("id * 4 + 2", "name", _words("stage", "currency", "description", *_EXTRAS)),
    "activities": (
        "id * 4 + 3",
        f"coalesce(subject, {_FIRST_LINE})",
        _words("kind", "body", *_EXTRAS),
    ),
}


def m004_search(conn: sqlite3.Connection) -> None:
    """Full-text search over every kind, kept in step by triggers on every write."""
    conn.execute(
        "CREATE VIRTUAL TABLE search USING fts5("
        "kind UNINDEXED, name, body, tokenize = 'unicode61 remove_diacritics 2')"
    )

    def refresh(table: str, code: int, row_id: str) -> str:
        return (
            f"DELETE FROM search WHERE rowid = {row_id} * 4 + {code};"
            " INSERT INTO search (rowid, kind, name, body)"
            f" SELECT rowid, kind, name, body FROM search_{table} WHERE id = {row_id};"
        )

    for code, (table, (rowid, name, body)) in enumerate(_SEARCH_VIEWS.items()):
        conn.execute(
            f"CREATE VIEW search_{table} AS SELECT id, {rowid} AS rowid,"
            f" '{SEARCH_KINDS[code]}' AS kind, {name} AS name, {body} AS body FROM {table} c"
        )
        conn.execute(
            f"INSERT INTO search (rowid, kind, name, body)"
            f" SELECT rowid, kind, name, body FROM search_{table}"
        )
        for event in ("INSERT", "UPDATE"):
            conn.execute(
                f"CREATE TRIGGER search_{table}_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN {refresh(table, code, 'new.id')} END"
            )
        conn.execute(
            f"CREATE TRIGGER search_{table}_delete AFTER DELETE ON {table}"
            f" BEGIN DELETE FROM search WHERE rowid = old.id * 4 + {code}; END"
        )


# Tables whose every change is kept, so `crm undo` can put it back.
_HISTORY_TABLES_M005 = (
    "accounts", "contacts", "contact_emails", "contact_phones", "deals", "activities", "tasks",
)  # fmt: skip
HISTORY_TABLES = (*_HISTORY_TABLES_M005, "contact_photos", "account_logos")


def history_triggers(conn: sqlite3.Connection) -> None:
    """(Re)create the triggers that log row images; a later step that changes a
    table's columns must call this again.

    Undo writes a row's images back newest first, so the row ends as its oldest
    image: the log must keep each row's changes in the order they happened,
    whatever else fires.  SQLite runs a statement's AFTER triggers in an order it
    does not promise (newest trigger first, so dropping and creating triggers, as
    store.bulk does, reorders them), and the summary triggers change the same
    contact inside its own statement: logged after, the outer change came out of
    order and undo ended on the state in between.  So images are taken BEFORE a
    row changes, and an update is logged only when one of the row's own columns
    changes: the DERIVED ones follow from other rows (undo works them out again),
    which leaves no change of a row nested inside another of the same row.

    JSON holds no bytes: a BLOB column's image is its hex() text (SQLite 3.40 has
    no unhex(); undo turns it back, see store.history).  A table a later step
    makes (not there yet) gets its triggers when that step calls this again."""
    for table in HISTORY_TABLES:
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        if not info:
            continue
        columns = [row[1] for row in info]
        own = [column for column in columns if column not in DERIVED.get(table, {})]
        changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in own)
        image = "json_object(" + ", ".join(
            f"'{name}', hex(old.{name})" if kind.upper() == "BLOB" else f"'{name}', old.{name}"
            for _, name, kind, *_ in info
        ) + ")"
        for event, timing, row, before, when in (
            ("INSERT", "AFTER", "new", "NULL", ""),  # new.id is only known after
            ("UPDATE", "BEFORE", "old", image, f" AND ({changed})"),
            ("DELETE", "BEFORE", "old", image, ""),
        ):
            name = f"history_{table}_{event.lower()}"
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute(
                f"CREATE TRIGGER {name} {timing} {event} ON {table}"
                f" WHEN (SELECT id FROM current_operation) IS NOT NULL{when} BEGIN"
                " INSERT INTO changes (operation_id, tbl, row_id, before)"
                f" SELECT id, '{table}', {row}.id, {before} FROM current_operation;"
                " END"
            )


def _history_triggers_m005(conn: sqlite3.Connection) -> None:
    """The triggers m005 made (AFTER each change; replaced by m009)."""
    for table in _HISTORY_TABLES_M005:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]

        def image(row: str, columns=columns) -> str:
            return "json_object(" + ", ".join(f"'{c}', {row}.{c}" for c in columns) + ")"

        # Only the row as it was is kept: undo writes it back (an insert, which had
        # none, is undone by deleting the row); what a row became needs no copy.
        for event, before, row in (
            ("INSERT", "NULL", "new"),
            ("UPDATE", image("old"), "new"),
            ("DELETE", image("old"), "old"),
        ):
            name = f"history_{table}_{event.lower()}"
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table}"
                " WHEN (SELECT id FROM current_operation) IS NOT NULL BEGIN"
                " INSERT INTO changes (operation_id, tbl, row_id, before)"
                f" SELECT id, '{table}', {row}.id, {before} FROM current_operation;"
                " END"
            )


def m005_history(conn: sqlite3.Connection) -> None:
    """Every write command is one operation with the row images it changed."""
    for statement in (
        """CREATE TABLE operations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            summary TEXT NOT NULL,
            undoes INTEGER,
            undone_by INTEGER
        )""",
        """CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            operation_id INTEGER NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
            tbl TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            before TEXT
        )""",
        "CREATE INDEX changes_operation ON changes(operation_id)",
        "CREATE INDEX changes_row ON changes(tbl, row_id, operation_id)",
        # The operation the running command writes into; NULL between commands, so
        # writes by other programs and by migrations are not logged.
        "CREATE TABLE current_operation (id INTEGER)",
        "INSERT INTO current_operation VALUES (NULL)",
    ):
        conn.execute(statement)
    _history_triggers_m005(conn)


# Each phone's digits worked out once (m006).  `LIMIT -1` keeps SQLite from
# folding the inner query back into the outer one (and the expression with it).
_PHONES_ONCE = (
    "(SELECT group_concat(value || ' ' || digits || ' ' || substr(digits, -10) || ' ' ||"
    f" substr(digits, -7), ' ') FROM (SELECT value, {_digits('value')} AS digits"
    " FROM contact_phones WHERE contact_id = c.id LIMIT -1))"
)


def m006_search_digits_once(conn: sqlite3.Connection) -> None:
    """The contacts' search view, giving the same text, with each phone's digits
    worked out once instead of three times: a quarter less work per contact
    written."""
    rowid, name, _ = _SEARCH_VIEWS["contacts"]
    body = _words(
        "title", "department", _EMAILS, _PHONES_ONCE, *_ADDRESS_COLUMNS, "description", *_EXTRAS
    )
    conn.execute("DROP VIEW search_contacts")
    conn.execute(
        f"CREATE VIEW search_contacts AS SELECT id, {rowid} AS rowid,"
        f" 'contact' AS kind, {name} AS name, {body} AS body FROM contacts c"
    )


def m007_change_ranges(conn: sqlite3.Connection) -> None:
    """One `changes` row may stand for a run of inserted rows: ids row_id to
    last_id of its table, each an insert (no image before).  Bulk imports log
    their new rows this way (store.bulk): a row each, a million contacts with
    their e-mails and phones cost three million rows and a tenth of the import.
    The small index finds the runs when an undo looks for later changes."""
    conn.execute("ALTER TABLE changes ADD COLUMN last_id INTEGER")
    conn.execute("CREATE INDEX changes_runs ON changes(operation_id) WHERE last_id IS NOT NULL")


# The key columns, each with the column it is made from and the function that
# makes it (crmcli.models); `unique` if the database refuses two equal keys.
KEYS = (
    ("accounts", "name_key", "name", "fold", True),
    ("contacts", "name_key", "name", "fold", False),
    ("deals", "name_key", "name", "fold", False),
    ("contact_emails", "value_key", "value", "email_key", True),
)


def m008_visible_keys(conn: sqlite3.Connection) -> None:
    """Keys ignore invisible characters (U+200B, U+2060, U+FEFF...), and e-mail keys
    read IDNA domains and full-width letters as people do (models.fold, email_key).

    Two rows of a unique key can now be one name (`Acme` and `Ac<U+200B>me`, or
    `jane@bücher.example` and `jane@xn--bcher-kva.example`).  Both are kept:
    the row that already had the new key, else the oldest, takes it; the others
    keep their old key (unique, since the old keys were), and `crm db check`
    names them until they are renamed or merged.  Opening never fails on them.
    Row images kept for undo get the new keys too, so an undo puts back a row
    whose key is current."""
    from crmcli import models

    for table, column, source, how, unique in KEYS:
        make = getattr(models, how)
        rows = conn.execute(f"SELECT id, {column}, {source} FROM {table}")
        changed = {row_id: (old, new) for row_id, old, text in rows if (new := make(text)) != old}
        final = {row_id: new for row_id, (_, new) in changed.items()}
        if unique:
            final, taken = {}, set()
            for row_id, (_, new) in changed.items():  # in id order: the oldest first
                held = conn.execute(f"SELECT id FROM {table} WHERE {column} = ?", (new,))
                holder = held.fetchone()
                if new not in taken and (holder is None or holder[0] in changed):
                    final[row_id] = new
                    taken.add(new)
            # Out of the way first, so that no key is held twice on the way.
            for row_id in final:
                moving = f"\x00moving {row_id}"
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (moving, row_id))
        for row_id, key in final.items():
            old = changed[row_id][0]
            # The old key, or failing that one no text folds to, if a key is still
            # held: never for these folds, but opening must not fail on it.
            for choice in (key, old, f"{old}\x00{row_id}"):
                try:
                    conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (choice, row_id))
                    break
                except sqlite3.IntegrityError:
                    continue
        images = conn.execute(
            f"SELECT id, before ->> '$.{source}', before ->> '$.{column}' FROM changes"
            f" WHERE tbl = '{table}' AND before IS NOT NULL"
        ).fetchall()
        for change_id, text, old in images:
            if isinstance(text, str) and make(text) != old:
                conn.execute(
                    f"UPDATE changes SET before = json_set(before, '$.{column}', ?) WHERE id = ?",
                    (make(text), change_id),
                )


def m009_history_in_order(conn: sqlite3.Connection) -> None:
    """History images are taken before each change, and updates of nothing but
    derived columns are not logged (see history_triggers): undo then puts back
    exactly what was, on a database a batched import has written to as well.
    The runs' index also orders them by table and first id, so that an undo
    finds the run a row falls in (store.history checks it changed only its
    operation's rows) without walking them all."""
    history_triggers(conn)
    # Operations logged before this by the old triggers may hold a row's images out of
    # order; undo refuses those it cannot put back exactly (store.history).
    conn.execute("CREATE TABLE history_exact (since INTEGER NOT NULL)")
    conn.execute("INSERT INTO history_exact SELECT coalesce(max(id), 0) + 1 FROM operations")
    conn.execute("DROP INDEX changes_runs")
    conn.execute(
        "CREATE INDEX changes_runs ON changes(operation_id, tbl, row_id) WHERE last_id IS NOT NULL"
    )


# What a contact's search body holds since m010: its nickname and middle name,
# every address (not only the primary one), its URLs, IM handles and related
# people.  store.search.contact_text gives the same text in Python.
ADDRESS_PARTS = ("po_box", "extended", "street", "city", "region", "postal_code", "country")
_ADDRESSES = (
    "(SELECT group_concat("
    + _words(*(f"a.value ->> '{part}'" for part in ADDRESS_PARTS))
    + ", ' ') FROM json_each(c.addresses) a)"
)


def _values(column: str) -> str:
    return f"(SELECT group_concat(v.value ->> 'value', ' ') FROM json_each(c.{column}) v)"


CONTACT_BODY = _words(
    "nickname",
    "middle_name",
    "title",
    "department",
    _EMAILS,
    _PHONES_ONCE,
    _ADDRESSES,
    _values("urls"),
    _values("impps"),
    _values("related"),
    "description",
    *_EXTRAS,
)
CONTACT_TEXT = ("prefix", "middle_name", "suffix", "nickname", "gender", "anniversary")
CONTACT_LISTS = ("addresses", "urls", "impps", "related", "dates", "vcard")
_NAME_CHECK = r",\s*CHECK \(first_name IS NOT NULL OR last_name IS NOT NULL\)"


def _address_json(part) -> str:
    """A one-address list (label null) from the five primary address values that
    `part(name)` gives as SQL, or '[]' when they are all empty."""
    values = [part(name) for name in _ADDRESS_COLUMNS]
    address = ", ".join(
        f"'{name}', " + (part(name) if name in _ADDRESS_COLUMNS else "NULL")
        for name in ("label", *ADDRESS_PARTS)
    )
    return (
        f"CASE WHEN coalesce({', '.join(values)}) IS NULL THEN '[]'"
        f" ELSE json_array(json_object({address})) END"
    )


def _name_given(column) -> str:
    """1 unless the name is the first and last name joined (`column` gives a column's
    expression from its name)."""
    first, last = column("first_name"), column("last_name")
    return f"{column('name')} IS NOT trim(coalesce({first}, '') || ' ' || coalesce({last}, ''))"


def _m010_url(text: str | None) -> str | None:
    """The urls list (JSON text) an old fields.url becomes: `[]` when blank, None
    (it stays in fields) when the urls check refuses it."""
    import json

    from crmcli.errors import InvalidValue
    from crmcli.store import details

    if text is None:
        return None
    if not text.strip():
        return "[]"
    try:
        urls = details.items("urls", [{"value": text, "label": None}])
    except InvalidValue:
        return None
    return json.dumps(urls, ensure_ascii=False, separators=(",", ":"))


def m010_address_book_fields(conn: sqlite3.Connection) -> None:
    """A contact holds what address books hold (issue 12): N's five parts, a
    nickname, gender, anniversary, and lists of addresses, URLs, IM handles,
    related people, other dates and the vCard properties crm has no field for
    (accounts too).  The street..country columns stay as the primary address,
    addresses[0]; an old import's `fields.url` moves to `urls` when the urls check
    takes it (a blank one goes; one of several lines stays a custom field).  Other
    custom fields an old vCard import made (`vcard.NICKNAME`...) stay as they are.

    A contact may now have no name parts (named by its nickname, e-mail or
    account), so the CHECK that wanted a first or last name goes.  SQLite cannot
    drop a constraint, and rebuilding the table would fire the ON DELETE actions
    of the tables that point at it; a CHECK removed changes nothing stored, so the
    table's SQL is edited in place, as SQLite's ALTER TABLE documentation
    describes (writable_schema, then a new schema_version so every connection
    reads the schema again)."""
    import re

    for column in CONTACT_TEXT:
        conn.execute(f"ALTER TABLE contacts ADD COLUMN {column} TEXT")
    for column in CONTACT_LISTS:
        conn.execute(f"ALTER TABLE contacts ADD COLUMN {column} TEXT NOT NULL DEFAULT '[]'")
    conn.execute("ALTER TABLE accounts ADD COLUMN vcard TEXT NOT NULL DEFAULT '[]'")
    # Whether the name was given (NAME, FN) or made by crm from the parts (then
    # made again when they change).  Before, a contact always had a first or last
    # name: its name was made from them when it is the two joined.
    conn.execute("ALTER TABLE contacts ADD COLUMN name_given INTEGER NOT NULL DEFAULT 0")
    conn.execute(f"UPDATE contacts SET name_given = {_name_given(lambda name: name)}")

    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'contacts'").fetchone()
    without, found = re.subn(_NAME_CHECK, "", sql)
    if found != 1:
        raise RuntimeError("m010: the contacts table's name CHECK was not found")
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    if hasattr(conn, "setconfig"):  # Python 3.12+: a SQLite built defensive would refuse
        conn.setconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, False)
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'contacts'",
            (without,),
        )
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")

    # The stored rows, without their search entries rewritten one by one: the
    # contacts' entries are made again below, from the new view.
    (reindex,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'search_contacts_update'"
    ).fetchone()
    conn.execute("DROP TRIGGER search_contacts_update")
    conn.execute(
        f"UPDATE contacts SET addresses = {_address_json(lambda name: name)}"
        f" WHERE coalesce({', '.join(_ADDRESS_COLUMNS)}) IS NOT NULL"
    )
    # Only a URL the urls list accepts moves (checked as `--url` is); a blank one
    # goes, one it refuses (several lines, too long) stays a custom field.
    conn.create_function("crm_m010_url", 1, _m010_url, deterministic=True)
    url = "crm_m010_url(fields ->> '$.url')"
    conn.execute(
        f"UPDATE contacts SET urls = {url}, fields = json_remove(fields, '$.url')"
        f" WHERE json_type(fields, '$.url') = 'text' AND {url} IS NOT NULL"
    )
    # Row images kept for undo, likewise, so an undo puts back a row whose lists
    # agree with its columns.
    # ('' || ...: the lists go in as text, as the triggers take columns, not as JSON.)
    image = (
        "json_set(before, '$.addresses', '' || "
        + _address_json(lambda name: f"before ->> '$.{name}'")
        + ")"
    )
    conn.execute(
        f"UPDATE changes SET before = {image}"
        " WHERE tbl = 'contacts' AND before IS NOT NULL AND before ->> '$.addresses' IS NULL"
    )
    made = _name_given(lambda name: f"(before ->> '$.{name}')")
    conn.execute(
        f"UPDATE changes SET before = json_set(before, '$.name_given', {made})"
        " WHERE tbl = 'contacts' AND before IS NOT NULL AND before ->> '$.name_given' IS NULL"
    )
    old_url = "crm_m010_url((before ->> '$.fields') ->> '$.url')"
    conn.execute(
        "UPDATE changes SET before = json_set(before,"
        f" '$.urls', '' || {old_url},"
        " '$.fields', '' || json_remove(before ->> '$.fields', '$.url'))"
        " WHERE tbl = 'contacts' AND before IS NOT NULL"
        f" AND json_type(before ->> '$.fields', '$.url') = 'text' AND {old_url} IS NOT NULL"
    )

    rowid, name, _ = _SEARCH_VIEWS["contacts"]
    conn.execute("DROP VIEW search_contacts")
    conn.execute(
        f"CREATE VIEW search_contacts AS SELECT id, {rowid} AS rowid,"
        f" 'contact' AS kind, {name} AS name, {CONTACT_BODY} AS body FROM contacts c"
    )
    conn.execute(reindex)
    conn.execute("DELETE FROM search WHERE rowid IN (SELECT id * 4 + 1 FROM contacts)")
    conn.execute(
        "INSERT INTO search (rowid, kind, name, body) SELECT rowid, kind, name, body"
        " FROM search_contacts"
    )
    history_triggers(conn)


def m011_photos(conn: sqlite3.Connection) -> None:
    """A photo a contact, a logo an account: bytes with their media type, in tables
    of their own (see PICTURES), deleted with their owner, logged for undo."""
    for owner, (table, column) in PICTURES.items():
        conn.execute(
            f"CREATE TABLE {table} ("
            f" id INTEGER PRIMARY KEY REFERENCES {owner}(id) ON DELETE CASCADE,"
            " media_type TEXT NOT NULL, data BLOB NOT NULL)"
        )
        conn.execute(f"ALTER TABLE {owner} ADD COLUMN {column} TEXT")
        for event, rows in (("INSERT", ["new"]), ("UPDATE", ["old", "new"]), ("DELETE", ["old"])):
            ids = ", ".join(f"{row}.id" for row in rows)
            conn.execute(
                f"CREATE TRIGGER summary_{table}_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN UPDATE {owner} SET {column} = {DERIVED[owner][column]}"
                f" WHERE id IN ({ids}); END"
            )
    history_triggers(conn)


def m012_source_ids(conn: sqlite3.Connection) -> None:
    """Another program's id of a record (custom field source_id, from a CSV's ID or
    Record ID column) and a vCard's UID (custom field uid) found fast: importing the
    same source again matches by them.  Only rows that have one are in the index."""
    for table in ("contacts", "accounts"):
        for key in ("source_id", "uid"):
            conn.execute(
                f"CREATE INDEX {table}_{key} ON {table}(json_extract(fields, '$.{key}'))"
                f" WHERE json_extract(fields, '$.{key}') IS NOT NULL"
            )


# A person account (issue 13) is an account of kind person bound one to one to a
# contact, its person: the contact's person_account_id names the account (and its
# account_id too, so whatever follows a contact's account works on it).  The
# account's name, e-mail, phone and address are its person's, kept in step by a
# trigger; search finds the person only (the account's entry would be a twin).
PERSON_MIRROR = ("name", "name_key", "email", "phone", *_ADDRESS_COLUMNS)


def person_trigger(conn: sqlite3.Connection, mirror: tuple[str, ...] = PERSON_MIRROR) -> None:
    """(A summary_ trigger: bulk writes lift it, and bind no person while they do.)"""
    columns = ", ".join(mirror)
    differs = " OR ".join(f"{column} IS NOT new.{column}" for column in mirror)
    assign = ", ".join(f"{column} = new.{column}" for column in mirror)
    conn.execute(
        f"CREATE TRIGGER summary_person_account AFTER UPDATE OF {columns}, person_account_id"
        " ON contacts WHEN new.person_account_id IS NOT NULL BEGIN"
        f" UPDATE accounts SET {assign} WHERE id = new.person_account_id AND ({differs}); END"
    )


def _m013_person(conn: sqlite3.Connection, account_id: int) -> None:
    """A person made for an old person account (a flag only before): from its name,
    e-mail, phone and address."""
    import json

    from crmcli import models

    name, email, phone, *address, tags, at = conn.execute(
        f"SELECT name, email, phone, {', '.join(_ADDRESS_COLUMNS)}, '[]', created_at"
        " FROM accounts WHERE id = ?",
        (account_id,),
    ).fetchone()
    first, last = models.split_full_name(name)
    addresses = "[]"
    if any(address):
        addresses = json.dumps(
            [{"label": None, "po_box": None, "extended": None,
              **dict(zip(_ADDRESS_COLUMNS, address, strict=True))}]
        )  # fmt: skip
    cursor = conn.execute(
        f"INSERT INTO contacts (name, name_key, name_given, first_name, last_name, account_id,"
        f" person_account_id, {', '.join(_ADDRESS_COLUMNS)}, addresses, tags, fields,"
        f" created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{{}}', ?, ?)",
        (name, models.fold(name), first, last, account_id, account_id, *address, addresses,
         tags, at, at),
    )  # fmt: skip
    contact_id = cursor.lastrowid
    if email and not conn.execute(
        "SELECT 1 FROM contact_emails WHERE value_key = ?", (models.email_key(email),)
    ).fetchone():
        conn.execute(
            "INSERT INTO contact_emails (contact_id, position, value, value_key)"
            " VALUES (?, 0, ?, ?)",
            (contact_id, email, models.email_key(email)),
        )
    if phone:
        conn.execute(
            "INSERT INTO contact_phones (contact_id, position, value) VALUES (?, 0, ?)",
            (contact_id, phone),
        )


def m013_person_accounts(conn: sqlite3.Connection) -> None:
    """Person accounts: a contact bound to an account of kind person (see above).

    An old person account (kind person was only a flag) with no contacts gets a
    person made from its name, e-mail, phone and address; one whose only contact
    has its name gets that contact as its person; one with other contacts (a
    person account cannot have any now) becomes a business account, keeping them."""
    conn.execute(
        "ALTER TABLE contacts ADD COLUMN person_account_id INTEGER REFERENCES accounts(id)"
    )
    conn.execute(
        "CREATE UNIQUE INDEX contacts_person_account ON contacts(person_account_id)"
        " WHERE person_account_id IS NOT NULL"
    )
    old = conn.execute(
        "SELECT a.id, (SELECT count(*) FROM contacts c WHERE c.account_id = a.id),"
        " (SELECT min(c.id) FROM contacts c WHERE c.account_id = a.id"
        " AND c.name_key = a.name_key) FROM accounts a WHERE a.kind = 'person'"
    ).fetchall()
    for account_id, count, same_name in old:
        if count == 0:
            _m013_person(conn, account_id)
        elif count == 1 and same_name is not None:
            conn.execute(
                "UPDATE contacts SET person_account_id = ? WHERE id = ?", (account_id, same_name)
            )
        else:
            conn.execute("UPDATE accounts SET kind = 'business' WHERE id = ?", (account_id,))
    person_trigger(conn)
    conn.execute(
        "UPDATE contacts SET person_account_id = person_account_id"
        " WHERE person_account_id IS NOT NULL"
    )  # the accounts take their persons' e-mail, phone and address
    rowid, name, body = _SEARCH_VIEWS["accounts"]
    conn.execute("DROP VIEW search_accounts")
    conn.execute(
        f"CREATE VIEW search_accounts AS SELECT id, {rowid} AS rowid,"
        f" 'account' AS kind, {name} AS name, {body} AS body FROM accounts c"
        " WHERE c.kind IS NOT 'person'"
    )
    conn.execute(
        "DELETE FROM search WHERE rowid IN (SELECT id * 4 FROM accounts WHERE kind = 'person')"
    )
    history_triggers(conn)


def m014_sync(conn: sqlite3.Connection) -> None:
    """Remotes crm syncs with (issue 14) and what each card looked like at the last
    sync.  No password: it comes from a command, a variable or a prompt each time.

    remotes: a CardDAV address book (url: the book's, as discovered) or a vdir
    folder; the sync-collection token; the vCard version its cards say (a new card
    is written so).  sync_cards: one row a card both sides hold, keyed by the
    remote's href: its ETag, the contact it is (`contact`, its id: no link, which
    would go with the contact, and a contact deleted here must still be seen as
    deleted at the next sync), its UID and version, the hash of the text the
    remote holds (as last fetched or sent) and of the card crm would write (REV
    left out), and the contact's `stamp` (updated_at, photo, account) then, so a
    sync renders only the contacts whose stamp moved.  Neither table is in the
    history: undo changes contacts, and the next sync sends that on."""
    conn.execute(
        """CREATE TABLE remotes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('carddav', 'vdir')),
            url TEXT NOT NULL,
            user TEXT,
            password_command TEXT,
            password_env TEXT,
            addressbook TEXT,
            sync_token TEXT,
            version TEXT CHECK (version IN ('3.0', '4.0')),
            created_at TEXT NOT NULL,
            synced_at TEXT
        )"""
    )
    conn.execute(
        """CREATE TABLE sync_cards (
            remote_id INTEGER NOT NULL REFERENCES remotes(id) ON DELETE CASCADE,
            href TEXT NOT NULL,
            etag TEXT,
            contact INTEGER NOT NULL,
            uid TEXT NOT NULL,
            version TEXT NOT NULL,
            remote_hash TEXT NOT NULL,
            local_hash TEXT NOT NULL,
            stamp TEXT NOT NULL,
            PRIMARY KEY (remote_id, href),
            UNIQUE (remote_id, contact)
        )"""
    )


def m015_mail(conn: sqlite3.Connection) -> None:
    """E-mails logged by `crm mail log` keep their Message-ID in the custom field
    message_id; found fast, so that logging a message again is seen and skipped.
    Only activities that have one are in the index."""
    conn.execute(
        "CREATE INDEX activities_message_id ON activities(json_extract(fields, '$.message_id'))"
        " WHERE json_extract(fields, '$.message_id') IS NOT NULL"
    )




def m016_natural_names(conn: sqlite3.Connection) -> None:
    """Names sort naturally (`Person 2` before `Person 10`) in SQL, so across
    --limit pages and in every format: name_order holds a key whose byte order is
    natural order, indexed.  crm writes it wherever it writes name_key
    (store.common.insert/update, store.bulk); a person account takes its person's
    through summary_person_account.  Row images kept for undo get it too, so an
    undo puts back a row whose name_order is its name's."""
    from crmcli import models

    # Filling the column is no change to search: its update triggers are lifted
    # meanwhile, or a million contacts would each be indexed again.
    lifted = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search%update'"
        f" AND tbl_name IN {NAMED}"
    ).fetchall()
    for name, _ in lifted:
        conn.execute(f"DROP TRIGGER {name}")
    # For this step only (no schema object names it: other programs can write).
    conn.create_function("crm_natural", 1, models.natural_key, deterministic=True)
    for table in NAMED:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN name_order TEXT NOT NULL DEFAULT ''")
        conn.execute(f"UPDATE {table} SET name_order = crm_natural(name_key)")
        conn.execute(f"CREATE INDEX {table}_name_order ON {table}(name_order)")
        conn.execute(
            "UPDATE changes SET before = json_set(before, '$.name_order',"
            " crm_natural(before ->> '$.name_key')) WHERE tbl = ? AND before IS NOT NULL"
            " AND json_type(before, '$.name_key') = 'text'",
            (table,),
        )
    for _, sql in lifted:
        conn.execute(sql)
    conn.execute("DROP TRIGGER IF EXISTS summary_person_account")
    person_trigger(conn, (*PERSON_MIRROR, "name_order"))
    history_triggers(conn)  # the images hold name_order


def m017_due_index(conn: sqlite3.Connection) -> None:
    """`crm due` reads only the contacts with a keep-in-touch interval
    (store.contacts.due_contacts): a small index of those spares it reading
    every contact of a million."""
    conn.execute("CREATE INDEX contacts_every ON contacts(every) WHERE every IS NOT NULL")


# `crm pipeline`'s figures (m018): per stage and currency, the deals' count and
# exact sums, kept by triggers, so that it reads a few rows and not every deal.
# A row for each number of decimal places the amounts and weighted amounts have
# (store.deals.pipeline gives each sum the most places of its terms, as Decimal
# arithmetic does).  Amounts are summed exactly as integers: their whole part
# (units) and their part after the point in 1/10,000 (fraction); weighted
# amounts (amount x probability / 100) as the same parts times the probability.
# The sum columns have no type, so no affinity: a sum that outgrew 64 bits
# became a REAL and stays one, and the reader then sums the deals itself; so it
# does while `odd` counts amounts crm did not write (not plain decimal text).
# A step that rebuilds the deals table must call stage_triggers again.
STAGE_SUMS = ("deals", "odd", "units", "fraction", "weighted_units", "weighted_fraction")
_STAGE_KEY = ("stage", "currency", "places", "weighted_places")


def _stage_terms(row: str, sign: int, source: str = "") -> str:
    """What one deal (`row`: new or old; or each of `source`, FROM deals) adds to
    its stage_totals row, times `sign`: columns in the order of _STAGE_KEY then
    STAGE_SUMS.  Each part is worked out once, so the triggers stay short (every
    connection parses them)."""
    raw = (
        f"SELECT {row}.stage AS stage, {row}.currency AS code, {row}.probability AS chance,"
        f" coalesce({row}.amount, '0') AS a{source}"  # a missing amount sums as 0
    )
    parts = f"SELECT *, coalesce(chance, 0) AS p, instr(a || '.', '.') AS d FROM ({raw})"
    # `ok`: text as crm writes amounts: digits, at most one point, at most 15
    # digits before it and 4 after.  Decimal's amount x probability / 100 has 0,
    # 1 or 2 places more than the amount, as its digits times the probability need.
    figures = (
        "SELECT stage, code, p, typeof(a) = 'text' AND a NOT GLOB '*[^0-9.]*'"
        " AND a GLOB '*[0-9]*' AND a NOT GLOB '*.*.*' AND a NOT GLOB '*.?????*' AND d <= 16"
        " AND typeof(chance) IN ('integer', 'null') AS ok,"
        " CAST(substr(a, 1, d - 1) AS INTEGER) AS units,"
        " CAST(substr(substr(a, d + 1) || '0000', 1, 4) AS INTEGER) AS fraction,"
        " length(substr(a, d + 1)) AS places,"
        f" CAST(substr(replace(a, '.', ''), -2) AS INTEGER) * p AS product FROM ({parts})"
    )
    more = "CASE WHEN product % 100 = 0 THEN 0 WHEN product % 10 = 0 THEN 1 ELSE 2 END"
    return (
        f"SELECT stage, code, ok * places, ok * (places + {more}), {sign}, {sign} * (1 - ok),"
        f" {sign} * ok * units, {sign} * ok * fraction, {sign} * ok * units * p,"
        f" {sign} * ok * fraction * p FROM ({figures})"
    )


def _add_to_stage_totals(terms: str) -> str:
    """An INSERT adding the `terms` (_stage_terms) to stage_totals."""
    columns = ", ".join((*_STAGE_KEY, *STAGE_SUMS))
    added = ", ".join(f"{key} = {key} + excluded.{key}" for key in STAGE_SUMS)
    return (
        f"INSERT INTO stage_totals ({columns}) {terms} WHERE true"
        f" ON CONFLICT ({', '.join(_STAGE_KEY)}) DO UPDATE SET {added}"
    )


def stage_triggers(conn: sqlite3.Connection) -> None:
    """(Re)create the triggers that keep stage_totals (see STAGE_SUMS)."""
    emptied = (
        "DELETE FROM stage_totals WHERE stage = old.stage AND currency = old.currency"
        " AND deals = 0;"
    )
    watched = ("stage", "currency", "amount", "probability")
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in watched)
    for event, body, when in (
        ("INSERT", f"{_add_to_stage_totals(_stage_terms('new', 1))};", ""),
        ("DELETE", f"{_add_to_stage_totals(_stage_terms('old', -1))}; {emptied}", ""),
        (
            f"UPDATE OF {', '.join(watched)}",
            f"{_add_to_stage_totals(_stage_terms('old', -1))};"
            f" {_add_to_stage_totals(_stage_terms('new', 1))}; {emptied}",
            f" WHEN {changed}",
        ),
    ):
        name = f"stage_totals_{event.split()[0].lower()}"
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute(f"CREATE TRIGGER {name} AFTER {event} ON deals{when} BEGIN {body} END")


def m018_stage_totals(conn: sqlite3.Connection) -> None:
    """`crm pipeline` reads stage_totals (see STAGE_SUMS), filled here from the
    deals there are and kept by triggers from now on.

    Also for a million: an account's card shows its first contacts by name
    (cli.accounts.SHOWN), which an index of contacts by account and name finds
    without sorting all of an account's 100,000; it replaces the index by account
    alone, and leaves out contacts of no account (found by a scan instead), so
    an import of such contacts writes one index fewer.  Its timeline's newest
    activities are looked for among the newest of all first, which an index of
    activities by time reads in order (store.activities.list_activities)."""
    conn.execute("DROP INDEX IF EXISTS contacts_account")
    conn.execute("CREATE INDEX activities_at ON activities(at)")
    conn.execute(
        "CREATE INDEX contacts_account_name ON contacts(account_id, name_order)"
        " WHERE account_id IS NOT NULL"
    )
    sums = ", ".join(f"{key} NOT NULL" for key in STAGE_SUMS)
    conn.execute(
        "CREATE TABLE stage_totals (stage TEXT NOT NULL, currency TEXT NOT NULL,"
        f" places INTEGER NOT NULL, weighted_places INTEGER NOT NULL, {sums},"
        f" PRIMARY KEY ({', '.join(_STAGE_KEY)})) WITHOUT ROWID"
    )
    conn.execute(_add_to_stage_totals(_stage_terms("deals", 1, " FROM deals")))
    stage_triggers(conn)



# Contacts a printf() listing cannot show as crm reads them (m019): a row with a
# BLOB or a REAL in any column, or a NUL in any text (printf's %s stops at one;
# crm stores what a file gives it), or a NUL written as \u0000 in its tags (a
# listing flattens them through json_each; SQLite 3.42+ reads JSON5's \x00
# and \0 as a NUL too: db.NUL_ESCAPES).  store.lines skips checking each
# listed row when odd_rows says there are none.  The count is kept by triggers,
# and by store.bulk for the rows it writes with them lifted; a REPLACE that
# deletes a row fires no delete trigger, which leaves the count too high: never
# too low, so a listing is still right, if slower.  A step that adds a column to
# contacts, or rebuilds the table, must call odd_triggers again.


def odd_row(conn: sqlite3.Connection, row: str) -> str:
    """SQL true (1) when `row` (new, old, or the table itself) is odd; NULL or 0
    when it is not."""
    terms = [f"instr({row}.tags, '{escape}')" for escape in NUL_ESCAPES]
    for _, name, declared, *_ in conn.execute(f"PRAGMA table_info({ODD_TABLE})"):
        if name == "id":  # the rowid: an integer
            continue
        terms.append(f"{row}.{name} >= x'' OR instr({row}.{name}, x'00')")  # BLOBs sort last
        if not db.text_affinity(declared):  # TEXT affinity makes a number text
            terms.append(f"typeof({row}.{name}) = 'real'")
    return "(" + " OR ".join(terms) + ")"


def odd_triggers(conn: sqlite3.Connection) -> None:
    """(Re)create the triggers that keep odd_rows (see ODD_TABLE)."""
    new, old = odd_row(conn, "new"), odd_row(conn, "old")
    count = f"UPDATE odd_rows SET rows = rows + {{}} WHERE tbl = '{ODD_TABLE}';"
    # An update is the old row's delete and the new row's insert.  Each trigger is
    # short: every connection parses them, and every statement writing contacts
    # compiles them in.
    for name, event, when, body in (
        ("insert", "INSERT", new, count.format(1)),
        ("delete", "DELETE", old, count.format(-1)),
        ("update_old", "UPDATE", old, count.format(-1)),
        ("update_new", "UPDATE", new, count.format(1)),
    ):
        name = f"odd_{ODD_TABLE}_{name}"
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {ODD_TABLE} WHEN {when} BEGIN {body} END"
        )


def m019_odd_rows(conn: sqlite3.Connection) -> None:
    """How many contacts a fast CSV listing would show wrong (see ODD_TABLE),
    counted here and kept by triggers from now on."""
    conn.execute(
        "CREATE TABLE odd_rows (tbl TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID"
    )
    conn.execute(
        f"INSERT INTO odd_rows SELECT '{ODD_TABLE}', count(*) FROM {ODD_TABLE}"
        f" WHERE {odd_row(conn, ODD_TABLE)}"
    )
    odd_triggers(conn)

MIGRATIONS = [
    m001_initial,
    m002_keep_in_touch,
    m003_contact_summary,
    m004_search,
    m005_history,
    m006_search_digits_once,
    m007_change_ranges,
    m008_visible_keys,
    m009_history_in_order,
    m010_address_book_fields,
    m011_photos,
    m012_source_ids,
    m013_person_accounts,
    m014_sync,
    m015_mail,
    m016_natural_names,
    m017_due_index,
    m018_stage_totals,
    m019_odd_rows,
]
SCHEMA_VERSION = len(MIGRATIONS)
if SCHEMA_VERSION != db.SCHEMA_VERSION:  # opening a database trusts db's number
    raise RuntimeError(f"{SCHEMA_VERSION} migrations, but crmcli.db says {db.SCHEMA_VERSION}")
