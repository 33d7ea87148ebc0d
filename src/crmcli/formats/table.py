"""CSV and TSV: other programs' exports and crm's own, read a row at a time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from crmcli import models
from crmcli.errors import InvalidValue, Refused
from crmcli.formats import Source

# Column names of other programs' exports, compared as _key gives them (lowercase,
# camelCase split, each run of other characters as one space), for what they fill.
# Sources: the export headers of Google Contacts (current and legacy), Outlook,
# Thunderbird, LinkedIn's Connections.csv, HubSpot, Salesforce (report and data
# export names) and Zoho, as written down in tests/test_import_csv.py.  Our own
# field names are known too.
_CONTACT_COLUMNS = {
    "name": ["name", "full name", "display name"],
    "first_name": ["first name", "given name", "firstname"],
    "middle_name": ["middle name", "additional name"],
    "last_name": ["last name", "family name", "surname", "lastname"],
    "prefix": ["prefix", "name prefix", "salutation", "honorific"],
    "suffix": ["suffix", "name suffix"],
    "nickname": ["nickname", "nick name"],
    "title": ["job title", "position", "organization 1 title", "organization title",
              "title"],
    "department": ["department", "organization 1 department", "organization department"],
    "account": ["company", "company name", "organization", "organization name",
                "organization 1 name", "account", "account name", "associated company"],
    "street": ["street", "street address", "address"],
    "city": ["city"],
    "region": ["region", "state", "state region", "state province"],
    "postal_code": ["postal code", "zip", "zip code", "zip postal code"],
    "country": ["country", "country region"],
    "birthday": ["birthday", "birthdate", "birth date", "date of birth"],
    "anniversary": ["anniversary"],
    "gender": ["gender"],
    "description": ["description", "notes", "note"],
    "tags": ["tags", "categories", "group membership", "labels"],
}  # fmt: skip
_ACCOUNT_COLUMNS = {
    "name": ["name", "account name", "company name", "company", "organization",
             "organization name"],
    "website": ["website", "web site", "website url", "web page", "company domain name",
                "domain"],
    "industry": ["industry"],
    "type": ["type", "account type"],
    "phone": ["phone", "phone number", "main phone", "company phone"],
    "email": ["email", "e mail", "email address"],
    "street": ["street", "street address", "address", "billing street", "billing address"],
    "city": ["city", "billing city"],
    "region": ["region", "state", "state region", "state province", "billing state",
               "billing state province"],
    "postal_code": ["postal code", "zip", "zip code", "zip postal code", "billing zip",
                    "billing postal code", "billing zip postal code", "billing code"],
    "country": ["country", "country region", "billing country"],
    "description": ["description", "notes", "note", "about us"],
    "parent": ["parent", "parent account", "parent company"],
    "tags": ["tags", "categories", "labels"],
}  # fmt: skip
# Columns that fill a field only when no other column does (HubSpot has both Company
# Name and Associated Company, Outlook both Company and Account): else a custom field.
_SECONDARY = {"associated company", "account", "company domain name", "display name"}
_EMAIL_COLUMNS = {
    "email": None, "emails": "*", "e mail": None, "email address": None,
    "e mail address": None, "e mail 2 address": None, "e mail 3 address": None,
    "work email": "work", "home email": "home", "other email": "other",
    "primary email": None, "secondary email": None,
}  # fmt: skip
_PHONE_COLUMNS = {
    "phone": None, "phones": "*", "phone number": None, "business phone": "work",
    "business phone 2": "work", "home phone": "home", "home phone 2": "home",
    "mobile phone": "mobile", "mobile": "mobile", "mobile phone number": "mobile",
    "mobile number": "mobile", "work phone": "work", "other phone": "other",
    "business fax": "work fax", "home fax": "home fax", "other fax": "other fax",
    "fax": "fax", "fax number": "fax", "pager": "pager", "pager number": "pager",
    "assistants phone": "assistant", "assistant phone": "assistant", "asst phone": "assistant",
    "callback": "callback", "car phone": "car", "company main phone": "company",
    "isdn": "isdn", "primary phone": "primary", "radio phone": "radio",
    "tty tdd phone": "tty", "telex": "telex",
}  # fmt: skip
_LATER_PHONES = {"work fax", "home fax", "other fax", "fax", "pager", "assistant", "callback",
                 "car", "company", "isdn", "radio", "tty", "telex"}  # fmt: skip
_URL_COLUMNS = {
    "url": None, "web page": None, "webpage": None, "website": None,
    "website url": None, "web page 1": "work", "web page 2": "home",
    "business web page": "work", "personal web page": "home", "home page": "home",
    "linkedin url": "linkedin", "linkedin": "linkedin",
}  # fmt: skip
_RELATED_COLUMNS = {"spouse": "spouse", "children": "child", "assistants name": "assistant",
                    "managers name": "manager"}  # fmt: skip
# A labelled address: its columns' first words give the label, the rest the part.
_ADDRESS_LABELS = {"business": "work", "work": "work", "home": "home", "other": "other",
                   "mailing": None}  # fmt: skip
_ADDRESS_PARTS = {
    # Outlook's Street 2 and 3, Thunderbird's Address 2: more lines of the street (as
    # Outlook writes them in a vCard's ADR; RFC 6350 wants ADR's extended part empty).
    "street": "street", "address": "street", "street 2": "street", "street 3": "street",
    "address 2": "street", "city": "city", "state": "region", "region": "region",
    "state province": "region", "postal code": "postal_code", "zip code": "postal_code",
    "zip": "postal_code", "zip postal code": "postal_code", "country": "country",
    "country region": "country", "address po box": "po_box", "po box": "po_box",
}  # fmt: skip
ADDRESS_KEYS = ("label", "po_box", "extended", "street", "city", "region", "postal_code",
                "country")  # fmt: skip
# Google's numbered columns: `E-mail 1 - Value`, `Address 2 - City`, `Event 1 - Label`.
_GOOGLE = (r"(e mail|phone|address|website|relation|event|im|custom field) (\d+)"
           r" (value|type|label|service|formatted|street|city|po box|region|postal code"
           r"|country|extended address)\Z")  # fmt: skip
_GOOGLE_LISTS = {"e mail": "emails", "phone": "phones", "address": "addresses",
                 "website": "urls", "relation": "related", "event": "dates", "im": "impps",
                 "custom field": "fields"}  # fmt: skip
_GOOGLE_PARTS = {"po box": "po_box", "postal code": "postal_code",
                 "extended address": "extended"}  # fmt: skip
# Other programs' record ids: never crm's ids (see own_header).
_SOURCE_IDS = {"id": "source_id", "record id": "source_id", "contact id": "source_id",
               "lead id": "source_id", "company id": "source_id", "account id": "source_id",
               "account number": "source_account_number", "parent id": "source_parent_id",
               "parent account id": "source_parent_id"}  # fmt: skip
_CONTACT_SOURCE_IDS = {**_SOURCE_IDS, "account id": "source_account_id",
                       "associated company ids": "source_account_id",
                       "primary associated company id": "source_account_id"}  # fmt: skip
_EX = "Outlook's e-mail type; an Exchange (EX) address is kept as custom field exchange_address"
# Columns that say nothing a person would miss (Outlook's e-mail display names and
# SMTP types), and values that mean "nothing" (Outlook writes them in every row).
_IGNORED = {"e mail display name": "Outlook's display name for the e-mail",
            "e mail 2 display name": "Outlook's display name for the e-mail",
            "e mail 3 display name": "Outlook's display name for the e-mail",
            "e mail type": _EX, "e mail 2 type": _EX, "e mail 3 type": _EX}  # fmt: skip
_NOTHING = {"sensitivity": "normal", "priority": "normal", "private": "false",
            "gender": "unspecified"}  # fmt: skip
_IMPP_SCHEMES = {"skype": "skype", "jabber": "xmpp", "xmpp": "xmpp", "google talk": "xmpp",
                 "hangouts": "xmpp", "icq": "icq", "aim": "aim", "yahoo": "ymsgr",
                 "msn": "msnim", "qq": "qq", "sip": "sip"}  # fmt: skip
# Fields of the record contract (issue 12) a reader may fill before the store knows them.
_NEW_FIELDS = {"contacts": {"prefix", "middle_name", "suffix", "nickname", "gender",
                            "anniversary", "addresses", "urls", "impps", "related", "dates"},
               # a person account's person's (Salesforce's FirstName, PersonTitle...)
               "accounts": {"first_name", "last_name", "prefix", "middle_name", "suffix",
                            "title", "department"}}  # fmt: skip
_DATES = ("birthday", "anniversary")
_KNOWN = {alias: field for field, aliases in _CONTACT_COLUMNS.items() for alias in aliases}
_ACCOUNT_KNOWN = {alias: field for field, aliases in _ACCOUNT_COLUMNS.items()
                  for alias in aliases}  # fmt: skip
# The ' that crm's CSV/TSV writer puts before a formula cell or a cell starting with '
# (crmcli.render): taken off again, and only that one.
_FORMULA = ("'=", "'+", "'-", "'@", "'\t", "'\r", "''")
DATE_ORDERS = ("mdy", "dmy")


def _key(header: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header.strip())  # MailingCity, ZipCode
    return re.sub(r"[^0-9a-z]+", " ", spaced.lower().replace("'", "").replace(".", "")).strip()


def own_header(header: list[str], kind: str) -> bool:
    """Whether a header is crm's: every column one of crm's field names for the kind
    (crm's own export, or one cut down in a spreadsheet).  Only then is an `id`
    column crm's id; any other file's ids are the source's (custom field source_id)."""
    from crmcli.models import FIELDS_BY_KIND

    names = set(FIELDS_BY_KIND[kind]) | _NEW_FIELDS.get(kind, set())
    columns = [column for column in header if column.strip()]
    return bool(columns) and all(column in names for column in columns)


def _targets(header: list[str], kind: str, maps: dict[str, str]) -> list[tuple]:
    """What each column fills: ("f", field), ("c", custom key), ("e"|"p"|"u"|"r",
    label) for a list, ("n", list, number, part) for Google's numbered columns,
    ("a", label, part) for a labelled address, ("b", part) for Thunderbird's birth
    year/month/day, or ("x", why) when it is ignored."""
    keys = [_key(column) for column in header]
    own = own_header(header, kind)
    linkedin = "connected on" in keys
    outlook_title = "job title" in keys  # Outlook's "Title" is Dr./Ms.
    # Google's `E-mail 2 - Type` is Outlook's `E-mail 2 Type` once folded: Google's
    # files have `E-mail 2 - Value` too.
    google = any(key.endswith(" value") and re.match(_GOOGLE, key) for key in keys)
    targets = []
    for column, key in zip(header, keys, strict=True):
        if column in maps:
            target = _MAPPED_LISTS.get(maps[column], ("f", maps[column]))
        elif own and column in ("id", "account_id", "parent_id", "contact_id", "deal_id",
                                "person_account_id", "person_contact_id"):
            target = ("f", column)
        elif kind == "contacts":
            target = _contact_target(key, linkedin, outlook_title, google)
        elif kind == "accounts":
            target = _account_target(key)
        elif key in ("id", "record id", *_DEAL_IDS.get(kind, ())):
            target = ("c", "source_id")
        elif key in ("account id", "contact id", "deal id", "parent id"):  # not crm's links
            target = ("c", f"source_{key.replace(' ', '_')}")
        else:
            target = ("f", key.replace(" ", "_"))  # ours (close_date ...) or a custom field
        targets.append(target)
    # A secondary column whose field another column fills is a custom field.
    claimed = {target for key, target in zip(keys, targets, strict=True)
               if key not in _SECONDARY}  # fmt: skip
    return [
        ("c", key.replace(" ", "_")) if key in _SECONDARY and target in claimed
        and column not in maps else target
        for column, key, target in zip(header, keys, targets, strict=True)
    ]  # fmt: skip


_DEAL_IDS = {"deals": ("deal id", "opportunity id")}  # a deal's own id in another's file
# --map COLUMN=email (or phone...) adds to the contact's list, as such columns do.
_MAPPED_LISTS = {"email": ("e", None), "emails": ("e", "*"), "phone": ("p", None),
                 "phones": ("p", "*"), "url": ("u", None)}  # fmt: skip


def _contact_target(key: str, linkedin: bool, outlook_title: bool, google: bool) -> tuple:
    if key in _CONTACT_SOURCE_IDS:
        return ("c", _CONTACT_SOURCE_IDS[key])
    if google and (match := re.match(_GOOGLE, key)):
        what, number, part = match.groups()
        return ("n", _GOOGLE_LISTS[what], int(number), _GOOGLE_PARTS.get(part, part))
    if key in _IGNORED:
        return ("x", _IGNORED[key])
    if key in _EMAIL_COLUMNS:
        return ("e", _EMAIL_COLUMNS[key])
    if key in _PHONE_COLUMNS:
        return ("p", _PHONE_COLUMNS[key])
    if key == "url" and linkedin:
        return ("u", "linkedin")
    if key == "connected on":
        return ("c", "linkedin_connected_on")
    if key in _URL_COLUMNS:
        return ("u", _URL_COLUMNS[key])
    if key in _RELATED_COLUMNS:
        return ("r", _RELATED_COLUMNS[key])
    if key in ("birth year", "birth month", "birth day"):
        return ("b", key[6:])
    if key == "title" and outlook_title:
        return ("f", "prefix")
    first, _, rest = key.partition(" ")
    if first in _ADDRESS_LABELS and rest in _ADDRESS_PARTS:
        return ("a", _ADDRESS_LABELS[first], _ADDRESS_PARTS[rest])
    if key in _KNOWN:
        return ("f", _KNOWN[key])
    if key == "photo":
        return ("c", "photo_url")  # Google's: a link to the picture, not the picture
    if key.startswith("person ") and key != "person account":
        # Salesforce's person accounts: PersonEmail, PersonMailingCity...
        target = _contact_target(key[7:], linkedin, outlook_title, google)
        if target[0] != "f" or target[1] in _CONTACT_COLUMNS:
            return target
    return ("f", key.replace(" ", "_"))  # ours (postal_code ...) or a custom field


def _account_target(key: str) -> tuple:
    if key in _SOURCE_IDS:
        return ("c", _SOURCE_IDS[key])
    if key == "is person account":  # Salesforce's person accounts: kind person
        return ("k", "kind")
    if key in _PERSON_COLUMNS:  # a person account's person's (store.persons)
        return _PERSON_COLUMNS[key]
    if key.startswith("person ") and (key[7:] in ("email", "phone") or key.startswith(
        "person mailing "
    )):
        return _account_target(key[15:] if key.startswith("person mailing ") else key[7:])
    if key in ("type", "account type"):
        return ("t", "type")  # Salesforce's "Customer - Direct": crm's type and the text
    if key in _ACCOUNT_KNOWN:
        return ("f", _ACCOUNT_KNOWN[key])
    if key.startswith("shipping "):
        return ("c", key.replace(" ", "_"))
    return ("f", key.replace(" ", "_"))


_PERSON_COLUMNS = {
    "first name": ("f", "first_name"), "last name": ("f", "last_name"),
    "salutation": ("f", "prefix"), "middle name": ("f", "middle_name"),
    "suffix": ("f", "suffix"), "person birthdate": ("f", "birthday"),
    "person title": ("f", "title"), "person department": ("f", "department"),
    "person mobile phone": ("p", "mobile"), "person home phone": ("p", "home"),
    "person other phone": ("p", "other"),
}  # fmt: skip
_LIST_NAMES = {"e": "e-mail", "p": "phone", "u": "url", "r": "related"}
_NUMBERED_NAMES = {"emails": "e-mail", "phones": "phone", "addresses": "address",
                   "urls": "url", "related": "related", "dates": "date", "impps": "impp",
                   "fields": "custom field"}  # fmt: skip


def describe(header: list[str], kind: str, mapping) -> list[tuple[str, str]]:
    """For each column of a CSV/TSV header, what it fills: `field first_name`,
    `e-mail (work)`, `address (home) city`, `custom field linkedin_connected_on`,
    `ignored (...)`: the --dry-run preview's mapping.  `mapping` is --map's
    COLUMN=FIELD list (or a dict)."""
    from crmcli.models import FIELDS_BY_KIND

    maps = mapping if isinstance(mapping, dict) else _maps(mapping or [])
    known = set(FIELDS_BY_KIND[kind]) | _NEW_FIELDS.get(kind, set())
    targets = _targets(header, kind, maps)
    return [(column, _described(target, known))
            for column, target in zip(header, targets, strict=True)]  # fmt: skip


def _described(target: tuple, known: set[str]) -> str:
    tag = target[0]
    if tag == "f":
        if target[1] in known or target[1] == "fields":
            return f"field {target[1]}"
        return f"custom field {_field_key(target[1])}"
    if tag == "c":
        return f"custom field {_field_key(target[1])}"
    if tag in _LIST_NAMES:
        name = _LIST_NAMES[tag]
        if target[1] == "*":
            return f"{name}s (label:value;...)"
        return f"{name} ({target[1]})" if target[1] else name
    if tag == "n":
        _, what, number, part = target
        name = f"{_NUMBERED_NAMES[what]} {number}"
        if part == "value":
            return name
        if part == "formatted":
            return f"{name} street (when it has no other parts)"
        return f"{name} {part.replace('_', ' ')}"
    if tag == "a":
        return f"address ({target[1]}) {target[2].replace('_', ' ')}"
    if tag == "b":
        return f"birthday ({target[1]})"
    if tag == "t":
        return "field type (customer, prospect... found in it; the text: source_type)"
    if tag == "k":
        return "field kind (true: person)"
    if not target[1]:
        return "ignored"
    return f"ignored ({target[1]})"


def _maps(mapping: list[str]) -> dict[str, str]:
    maps = {}
    for pair in mapping:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise InvalidValue(f"--map takes COLUMN=FIELD (got {pair!r})")
        maps[column.strip()] = target.strip()
    return maps


def read_csv(
    text: str | Source,
    kind: str,
    delimiter: str | None,
    mapping: list[str],
    unescape: bool | None = None,
    date_order: str | None = None,
) -> Iterator[tuple[str, str, dict]]:
    """Rows of a CSV/TSV file as records: known columns to fields, the rest to
    custom fields, several e-mail/phone/address/URL columns to labelled lists.

    `delimiter` None: the one the header uses of `,` `;` and tab (an Excel `sep=`
    line says it too).  A preamble before the header (LinkedIn's `Notes:` and a
    blank line) is skipped.  Dates: YYYY-MM-DD, --MM-DD, --MMDD and YYYYMMDD as
    they are, D.M.Y day first, and M/D/Y or D/M/Y as `date_order` says; without
    it, Outlook's files are month first, and elsewhere a date that could be either
    refuses the file.  TSV: crm's escapes (\\t \\n \\r \\\\) are read back when
    `unescape` says so, by default only in a file whose header is one crm writes
    (see crm_header)."""
    import csv

    from crmcli.models import FIELDS_BY_KIND, TEXT_MAX_BYTES

    maps = _maps(mapping)
    # A description may be 1 MB, twice that in TSV with every character escaped.
    csv.field_size_limit(max(csv.field_size_limit(), 2 * TEXT_MAX_BYTES + 2))
    try:
        reader, delimiter, header, replay, error = _opened(Source.of(text), delimiter)
    except StopIteration:
        return
    if delimiter == "\t" and (crm_header(header) if unescape is None else unescape):
        reader = _Unescaped(reader)
        header = reader.unescape_row(header)
        replay = [(line, reader.unescape_row(row)) for line, row in replay]
    targets = _targets(header, kind, maps)
    _one_column_each(header, targets)
    known = set(FIELDS_BY_KIND[kind]) | _NEW_FIELDS.get(kind, set())
    keys = [_key(column) for column in header]
    plan = _Plan(targets, keys, known, date_order or _date_order(keys))
    for line, row in replay:
        if any(cell.strip() for cell in row):
            yield f"line {line}", kind, plan.record(row, f"line {line}")
    if error:
        raise _not_csv(error[0], reader.line_num, error[1])
    # The csv reader itself, not its wrapper (a Python call a row, twice).
    rows, skipped = (reader._reader, reader._skipped) if type(reader) is _Counted else (reader, 0)
    while True:
        begun = rows.line_num + skipped + 1
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _not_csv(begun, rows.line_num + skipped, exc) from None
        if not "".join(row).strip():  # every cell blank (or none)
            continue
        where = f"line {rows.line_num + skipped}"
        yield where, kind, plan.record(row, where)


def read_header(text: str | Source, delimiter: str | None = None) -> list[str]:
    """The header row of a CSV/TSV as read_csv finds it (past a preamble, with the
    delimiter it detects when `delimiter` is None): what describe() wants."""
    try:
        return _opened(Source.of(text), delimiter)[2]
    except StopIteration:
        return []


def _opened(text: Source, delimiter: str | None) -> tuple:
    """(reader, delimiter, header, rows read past it, error) for read_csv."""
    import csv

    lines = _lines(text)
    skipped = 0
    if delimiter is None:
        first, lines = _peek(lines)
        if re.match(r"sep=(.)\r?\n?\Z", first or ""):  # Excel's: the delimiter, said
            delimiter, skipped = first[4], 1
            next(lines)
        else:
            delimiter = _delimiter(text)
    # strict: an unterminated quote or text after a closing one is an error, not
    # the rest of the file read into one cell.
    reader = _Counted(csv.reader(lines, delimiter=delimiter, strict=True), skipped)
    try:
        header, replay, error = _header(reader)
    except csv.Error as exc:
        raise _not_csv(1, reader.line_num, exc) from None
    return reader, delimiter, header, replay, error


def _peek(lines: Iterator[str]) -> tuple[str | None, Iterator[str]]:
    import itertools

    first = next(lines, None)
    return first, (itertools.chain([first], lines) if first is not None else iter(()))


def _delimiter(text: Source) -> str:
    """`,`, `;` or tab: the one the header line uses most (Thunderbird writes `;` or
    tab in a .csv), counted outside quotes; `,` when it uses none.  The header is
    the first line, or the first after a preamble and a blank line (LinkedIn's)."""
    first, blank = True, False
    for line in text.head(65536).splitlines()[:_PREAMBLE_ROWS]:
        if not line.strip():
            blank = True
            continue
        bare = re.sub(r'"[^"]*"', "", line)
        counts = {sep: bare.count(sep) for sep in (",", ";", "\t")}
        if any(counts.values()):
            if not (first or blank):
                break  # one column, whose values hold a , or ;
            return max(counts, key=lambda sep: counts[sep])  # ties: , first
        first = False
    return ","


class _Counted:
    """A csv reader whose line numbers count an Excel `sep=` line before it."""

    def __init__(self, reader, skipped: int):
        self._reader, self._skipped = reader, skipped

    @property
    def line_num(self) -> int:
        return self._reader.line_num + self._skipped

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        return next(self._reader)


_PREAMBLE_ROWS = 30


def _header(reader) -> tuple[list[str], list[tuple[int, list[str]]], tuple | None]:
    """The header row, the rows read after it to find it (line, row), and the
    error that stopped the search (line it began on, csv.Error), raised when the
    rows before it have been read.

    Leading rows of at most one cell then a blank row are a preamble (LinkedIn's
    `Notes:` paragraph) when a row of several cells follows: that is the header.
    Otherwise the first row is, as always (a one-column file keeps its rows)."""
    import csv

    rows: list[tuple[int, list[str]]] = []
    error = None
    while True:
        begun = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            if not rows:
                raise
            break
        except csv.Error as exc:
            if not rows:
                raise
            error = (begun, exc)
            break
        if rows or any(cell.strip() for cell in row):  # blank lines before it: nothing
            rows.append((reader.line_num, row))
        if len([cell for cell in row if cell.strip()]) > 1 or len(rows) > _PREAMBLE_ROWS:
            break
    last = rows[-1][1]
    blank = any(not any(cell.strip() for cell in row) for _, row in rows[:-1])
    if blank and len([cell for cell in last if cell.strip()]) > 1:
        return last, [], None
    return rows[0][1], rows[1:], error


def _date_order(keys: list[str]) -> str | None:
    """Outlook writes dates month first; other files must say so when a date could
    be read both ways (--date-order)."""
    outlook = {"e mail address", "e mail display name", "business street", "business phone",
               "home street"}  # fmt: skip
    return "mdy" if outlook.intersection(keys) else None


class _Plan:
    """A header's columns sorted by what they fill, to make records of rows: the
    work a column needs is found once for the file, each row only looks at its cells."""

    def __init__(self, targets: list[tuple], keys: list[str], known: set[str], order):
        self.order = order
        # (index, field, the value that means nothing in it or None)
        self.fields: list[tuple[int, str, str | None]] = []
        self.dates: list[tuple[int, str]] = []
        self.custom: list[tuple[int, str, str | None]] = []
        self.listed: list[tuple[int, str, str | None]] = []  # (index, list, label): e-mails...
        self.located: list[tuple[int, str | None, str]] = []  # (index, label, part): addresses
        self.others: list[tuple[int, tuple]] = []  # the rest, rarer: see _lists
        for index, (target, key) in enumerate(zip(targets, keys, strict=True)):
            nothing = _NOTHING.get(key)
            tag = target[0]
            if tag == "f" and target[1] in _DATES:
                self.dates.append((index, target[1]))
            elif tag == "f" and (target[1] in known or target[1] == "fields"):
                self.fields.append((index, target[1], nothing))
            elif tag in ("f", "c"):
                self.custom.append((index, target[1], nothing))
            elif tag in _LIST_KEYS and target[1] != "*":
                self.listed.append((index, _LIST_KEYS[tag], target[1]))
            elif tag == "a":
                self.located.append((index, target[1], target[2]))
            elif tag != "x" and (tag != "f" or target[1]):
                self.others.append((index, target))
        self.width = len(targets)
        # The id column's folded header (`record id`): which kind of source gave a
        # source_id, kept with it (custom field source_id_column, see store.imports).
        self.source = next((key for target, key in zip(targets, keys, strict=True)
                            if target == ("c", "source_id")), None)  # fmt: skip
        # Outlook's EX e-mails: an Exchange directory name (/o=.../cn=...), no address.
        where_is = {key: index for index, key in enumerate(keys)}
        self.exchange = [
            (where_is[f"e mail{n} type"], where_is[f"e mail{n} address"], f"exchange_address{n}")
            for n in ("", " 2", " 3")
            if f"e mail{n} type" in where_is and f"e mail{n} address" in where_is
            and targets[where_is[f"e mail{n} address"]][0] == "e"
        ]  # fmt: skip

    def record(self, row: list[str], where: str) -> dict:
        if len(row) < self.width:
            row = row + [""] * (self.width - len(row))
        fields: dict[str, str] = {}
        for kind, address, name in self.exchange:
            if row[kind].strip().upper() == "EX" and row[address].strip():
                fields[name.replace(" ", "_")] = row[address]
                row = [*row]
                row[address] = ""
        data: dict = {}
        for index, name, nothing in self.fields:
            value = row[index]
            if value and not value.isspace():
                if nothing is not None and nothing == value.strip().lower():
                    continue
                data[name] = value[1:] if value.startswith(_FORMULA) else value
        for index, name in self.dates:
            value = row[index]
            value = (value[1:] if value.startswith(_FORMULA) else value).strip()  # '--04-23
            if value and (when := _date(value, self.order, where, name)) is not None:
                data[name] = when
        for index, name, nothing in self.custom:
            value = row[index]
            if value and not value.isspace():
                if nothing is not None and nothing == value.strip().lower():
                    continue
                fields[name] = value[1:] if value.startswith(_FORMULA) else value
        if self.listed or self.located or self.others:
            self._lists(row, data, fields)
        if self.source is not None and "source_id" in fields:
            fields["source_id_column"] = self.source
        if "tags" in data:  # Google joins groups with " ::: " and marks system ones with *
            parts = data["tags"].replace(" ::: ", ";").split(";")
            tags = ";".join(p.strip() for p in parts if p.strip() and not p.startswith("*"))
            if tags:
                data["tags"] = tags
            else:
                del data["tags"]
        if fields:
            data["fields"] = _merged_fields(data.get("fields"), fields)
        return data

    def _lists(self, row: list[str], data: dict, fields: dict) -> None:
        lists: dict[str, list] = {}
        for index, name, label in self.listed:  # a column that adds to a list: most of them
            value = row[index]
            if value and not value.isspace():
                item = {"value": (value[1:] if value.startswith(_FORMULA) else value).strip(),
                        "label": label}  # fmt: skip
                if name in lists:
                    lists[name].append(item)
                else:
                    lists[name] = [item]
        located = self._located(row)
        if not self.others:  # nearly every file: e-mail, phone and address columns alone
            if located:
                _with_addresses(data, located, {})
            _with_lists(data, lists, {})
            return
        own: dict[str, list] = {}
        numbered: dict[tuple[str, int], dict[str, str]] = {}  # Google: (emails, 1) -> parts
        addresses: dict = {}  # Google's (number, label) -> parts
        birth: dict[str, str] = {}
        for index, target in self.others:
            value = row[index]
            if not value or value.isspace():
                continue
            value = (value[1:] if value.startswith(_FORMULA) else value).strip()
            tag = target[0]
            name = _LIST_KEYS.get(tag)
            if name is not None:  # our own labelled list: first, so its labels win
                # crm's `label:value;value`; a phone's `;ext=` is no separator
                split = models.PHONES_SPLIT if name == "phones" else ";"
                own[name] = [part for part in re.split(split, value) if part.strip()]
            elif tag == "n":
                numbered.setdefault(target[1:3], {})[target[3]] = value
            elif tag == "t":
                _account_type(value, data, fields)
            elif tag == "k":
                if value.lower() in ("true", "1", "yes", "person"):
                    data["kind"] = "person"
            else:  # "b"
                birth[target[1]] = value
        if numbered:
            for (what, number), parts in sorted(numbered.items()):
                _google(what, number, parts, lists, fields, addresses)
        if located or addresses:
            _with_addresses(data, located, addresses)
        if birth:
            _birth(birth, data, fields)
        _with_lists(data, lists, own)

    def _located(self, row: list[str]) -> dict:
        """label -> the address its columns give (made whole, in order)."""
        located: dict = {}
        for index, label, part in self.located:
            value = row[index]
            if value and not value.isspace():
                value = (value[1:] if value.startswith(_FORMULA) else value).strip()
                address = located.get(label)
                if address is None:
                    address = located[label] = dict(_NO_ADDRESS)
                    address["label"] = label
                before = address[part]
                address[part] = value if before is None else f"{before}\n{value}"
        return located


def _with_addresses(data: dict, located: dict, google: dict) -> None:
    """A record's addresses: its plain street..country columns', then those of its
    labelled columns (`located`), then Google's numbered ones."""
    plain = ({key: data.pop(key) for key in ADDRESS_KEYS[3:] if key in data}
             if not data.keys().isdisjoint(ADDRESS_KEYS[3:]) else None)  # fmt: skip
    found = [_address(None, plain)] if plain else []
    numbered = [_address(label, parts) for label, parts in google.items()]
    data["addresses"] = [*found, *located.values(), *numbered]


def _with_lists(data: dict, lists: dict, own: dict) -> None:
    """The e-mails, phones... a record's columns gave, after the labelled lists of
    crm's own columns (`own`)."""
    phones = lists.get("phones")
    if phones and len(phones) > 1:  # Outlook's fax, pager... columns come before its phones
        phones.sort(key=lambda item: item["label"] in _LATER_PHONES)
    if own:
        for name, items in lists.items():
            data[name] = own.pop(name, []) + items
        data.update(own)
    else:
        data.update(lists)


_LIST_KEYS = {"e": "emails", "p": "phones", "u": "urls", "r": "related"}


def _account_type(value: str, data: dict, fields: dict) -> None:
    """Another program's account type: crm's type found in it (Salesforce's
    "Customer - Direct" is a customer), the text as given kept as source_type."""
    from crmcli.models import ACCOUNT_TYPES

    folded = value.lower()
    found = next((kind for kind in ACCOUNT_TYPES if kind in folded), None)
    if found:
        data["type"] = found
    if found != folded:
        fields["source_type"] = value


def _item(value: str, label: str | None) -> dict:
    return {"value": value, "label": label}


def _google(what: str, number: int, parts: dict[str, str], lists: dict, fields: dict,
            addresses: dict) -> None:  # fmt: skip
    """One of Google's numbered groups (`Phone 1 - Label`, `Phone 1 - Value`)."""
    label = _label((parts.get("type") or parts.get("label") or "").strip("* ").lower()) or None
    if what == "addresses":
        formatted = parts.pop("formatted", None)
        parts.pop("label", None), parts.pop("type", None)
        if not parts and formatted:  # the address as one text: kept as its street
            parts["street"] = "\n".join(line.strip() for line in formatted.splitlines()
                                         if line.strip())  # fmt: skip
        addresses[(number, label)] = parts
        return
    value = parts.get("value") or ""
    if what == "fields":
        if value and (label or parts.get("label") or parts.get("type")):
            fields[parts.get("label") or parts.get("type")] = value
        return
    for item in value.split(" ::: "):
        if not item.strip():
            continue
        item = item.strip()
        if what == "impps":
            service = (parts.get("service") or "").strip()
            scheme = _IMPP_SCHEMES.get(service.lower(), re.sub(r"[^a-z0-9]", "",
                                                               service.lower()))  # fmt: skip
            if scheme and ":" not in item:
                item = f"{scheme}:{item}"
            lists.setdefault("impps", []).append(_item(item, label or service.lower() or None))
        elif what == "dates":
            lists.setdefault("dates", []).append(_item(_date(item, "keep", "", "") or item, label))
        else:
            lists.setdefault(what, []).append(_item(item, label))


def _address(label, parts: dict[str, str]) -> dict:
    if isinstance(label, tuple):  # a Google address: (number, label)
        label = label[1]
    # Every key, in order: most of them empty, so the parts given are put in.
    address = dict(_NO_ADDRESS)
    for part, value in parts.items():
        if part in address:
            address[part] = value
    address["label"] = label
    return address


_NO_ADDRESS = dict.fromkeys(ADDRESS_KEYS)


def _birth(birth: dict[str, str], data: dict, fields: dict) -> None:
    """Thunderbird's Birth Year, Birth Month and Birth Day as one birthday
    (year-less without a year); a year alone is kept as a custom field."""
    year, month, day = (birth.get(part, "").strip() for part in ("year", "month", "day"))
    if not (month and day):
        if year:
            fields["birth_year"] = year
        return
    if not (month.isdigit() and day.isdigit() and (not year or year.isdigit())):
        data.setdefault("birthday", f"{year}-{month}-{day}")  # refused by the check
        return
    date = f"--{int(month):02}-{int(day):02}"
    data.setdefault("birthday", f"{int(year):04}{date[1:]}" if year else date)


def _date(value: str, order: str | None, where: str, name: str) -> str | None:
    """A date as crm keeps it (YYYY-MM-DD, or --MM-DD without a year), None for
    Outlook's 0/0/00, or the text as given when it is no date (the check says so)."""
    text = value.strip()
    if match := re.fullmatch(r"--(\d\d)-?(\d\d)", text):
        return f"--{match[1]}-{match[2]}"
    if match := re.fullmatch(r"(\d{4})-?(\d\d)-?(\d\d)(?:[T ][0-9:.]+Z?)?", text):
        return f"{match[1]}-{match[2]}-{match[3]}"
    if match := re.fullmatch(r"(\d{4})([/.-])(\d{1,2})\2(\d{1,2})", text):  # 1990/4/23
        return f"{match[1]}-{int(match[3]):02}-{int(match[4]):02}"
    match = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d\d)", text)
    if not match:
        return text
    if order == "keep":  # another date: the text as given unless it is certain
        return text
    first, second, year = int(match[1]), int(match[3]), match[4]
    if first == 0 or second == 0 or int(year) == 0 or (first, second, year) == (1, 1, "4501"):
        return None  # Outlook's placeholders for no date: 0/0/00, 1/1/4501
    if len(year) == 2:  # a birthday is past: 23 is 1923 in 2022, 2023 from 2023
        import datetime as dt

        now = dt.date.today().year
        year = str(now - (now - 2000 - int(year)) % 100)
    if match[2] == ".":
        order = "dmy"  # 23.04.1990: day first everywhere
    elif (first > 12 and order == "mdy") or (second > 12 and order == "dmy"):
        # the text, which the check refuses for this record alone (--skip-invalid)
        return f"{text} (no {'month/day/year' if order == 'mdy' else 'day/month/year'}" \
            f" date, as --date-order {order} says)"
    elif first > 12 or second > 12:
        order = "dmy" if first > 12 else "mdy"
    elif first != second and order is None:
        raise Refused(
            f"{where}: {name} {text!r} could be month/day/year or day/month/year:"
            " say which with --date-order mdy or --date-order dmy"
        )
    month, day = (first, second) if order == "mdy" else (second, first)
    return f"{int(year):04}-{month:02}-{day:02}"


def _field_key(name: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "field"
    if not key[0].isalpha() and key[0] != "_":
        key = f"f_{key}"
    return key[:64]


def _one_column_each(header: list[str], targets: list) -> None:
    """Two columns that fill one field (name and Name, First Name and first_name) or
    one custom field are refused: one value would be lost.  Columns that add to one
    list (Work Email and Email) may both be there; empty header cells too."""
    seen: dict = {}
    for column, target in zip(header, targets, strict=True):
        if not column.strip():
            continue
        keys = [("column", _key(column))]
        if target[0] in ("f", "c"):
            keys.append((target[0], target[1] if target[0] == "f" else _field_key(target[1])))
        for key in keys:
            if key in seen:
                first = seen[key].strip()
                if first == column.strip():
                    what = f"the column {first!r} comes twice"
                else:
                    what = f"the columns {first!r} and {column.strip()!r} fill one field"
                raise Refused(f"line 1: {what}: which one holds the value?")
            seen.setdefault(key, column)


def _not_csv(begun: int, line: int, exc: Exception) -> Refused:
    """csv's error said for a person: where a cell's quote opened, or what is wrong."""
    if "unexpected end of data" in str(exc):
        return Refused(f"line {begun}: a quoted cell begins here and is never closed")
    if "expected after" in str(exc):
        return Refused(
            f"line {line}: text after a quoted cell's closing quote (a quote inside a"
            ' quoted cell is written "")'
        )
    return Refused(f"line {line}: not valid CSV: {exc}")


def crm_header(header: list[str]) -> bool:
    """Whether a TSV's header is the one crm writes for a kind (`crm export -f tsv`,
    `crm list KIND -f tsv`), now or in an older version (_OLDER_HEADERS): only then
    are its backslashes crm's escapes.  Another program's TSV keeps
    `C:\\temp\\new` as it is."""
    from crmcli.models import FIELDS_BY_KIND

    older = (tuple(f for f in fields if f not in ("person_contact_id", "person_account_id"))
             for fields in FIELDS_BY_KIND.values())  # before issue 13's person accounts
    return (tuple(header) in FIELDS_BY_KIND.values() or tuple(header) in _OLDER_HEADERS
            or tuple(header) in older)  # fmt: skip


_ADDRESS = ("street", "city", "region", "postal_code", "country")
# The headers crm wrote before the fields of issue 12 (schema 9 and before).
_OLDER_HEADERS = (
    ("id", "name", "kind", "type", "industry", "website", "email", "phone", *_ADDRESS,
     "parent_id", "parent", "description", "tags", "fields", "created_at", "updated_at"),
    ("id", "name", "first_name", "last_name", "title", "department", "email", "phone", "emails",
     "phones", "account_id", "account", *_ADDRESS, "birthday", "description", "every",
     "last_contacted", "tags", "fields", "created_at", "updated_at"),
)  # fmt: skip


_TSV_ESCAPE = re.compile(r"\\([\\tnr])")
_TSV_CHARS = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


class _Unescaped:
    """TSV rows with crm's escapes undone: \\\\, \\t, \\n, \\r (any other backslash is
    kept as it is)."""

    def __init__(self, reader):
        self._reader = reader

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        return self.unescape_row(next(self._reader))

    def unescape_row(self, row: list[str]) -> list[str]:
        return [self._unescape(cell) for cell in row]

    def _unescape(self, cell: str) -> str:
        if "\\" not in cell:
            return cell
        return _TSV_ESCAPE.sub(lambda match: _TSV_CHARS[match.group(1)], cell)


def _lines(text: str | Source) -> Iterator[str]:
    """The file's lines with their endings (\n, \r\n or \r), as csv wants them,
    read as they come: memory follows a row, not the file."""
    return Source.of(text).lines("any")


def _merged_fields(existing: str | None, extra: dict[str, str]) -> str:
    import re

    merged = json.loads(existing) if existing else {}
    for column, value in extra.items():
        key = re.sub(r"[^A-Za-z0-9_.-]+", "_", column).strip("_") or "field"
        if not key[0].isalpha() and key[0] != "_":
            key = f"f_{key}"
        merged.setdefault(key[:64], value)
    return json.dumps(merged, ensure_ascii=False)


def _label(label: str | None) -> str | None:
    """Another program's label as crm keeps it (models.clean_label)."""
    from crmcli.models import clean_label

    return clean_label(label) if label else label
