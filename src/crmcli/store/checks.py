"""Records of a file checked, one at a time and without the database (so a
second process can do it, see crmcli.workers): each becomes a `Checked`, the
columns and lists `store.imports` writes.

`data` maps SPEC's field names to values, from our JSON export or from a CSV row
or vCard already mapped to those names (lists may then be `a;b` text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from crmcli import models, when
from crmcli.config import Config
from crmcli.db import NUL_ESCAPES
from crmcli.errors import CrmError, InvalidValue
from crmcli.store import accounts, activities, common, contacts, deals, details, photos, search

_STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z"
_RARE_PARTS = ("prefix", "middle_name", "suffix")
# New columns a record mostly leaves empty.
_SPARSE = frozenset(("prefix", "middle_name", "suffix", *models.ADDRESS_FIELDS, "addresses",
                     *models.ITEM_LISTS, "vcard"))  # fmt: skip
_RARE_LISTS = frozenset((*models.ITEM_LISTS, "vcard"))
_CONTACT_VALUES = [key for key in contacts.EDITABLE
                   if key != "name" and key not in models.NAME_PARTS]  # fmt: skip
# A record's keys, in order -> (its keys of _CONTACT_VALUES, its name parts): found
# once for each shape records come in (a CSV file's rows have a few), not a row.
_SHAPES: dict[tuple, tuple[tuple[str, ...], tuple[str, ...]]] = {}
_SHAPES_KEPT, _SHAPE_MOST = 4096, 100  # shapes kept, of at most so many keys
# Values checked before, and what their check gave: a file repeats its companies,
# cities, titles and first names row after row, and a check depends on its value
# alone.  Each cache keeps at most _SEEN_MOST values (then starts again), each of at
# most LINE_MAX characters: memory does not follow the file.
_SEEN_MOST = 1024
_SEEN_VALUES: dict[tuple[str, str], str | None] = {}  # (column, text) -> checked
_SEEN_ADDRESSES: dict[tuple, tuple[dict, str | None, list[dict]]] = {}
_SEEN_NAMES: dict[tuple, dict] = {}
_SEEN_COMPANIES: dict[str, tuple[str, str] | None] = {}
_TEXT = frozenset((str, type(None)))


class Checked(NamedTuple):
    """An item checked without the database: what the importer needs to write it."""

    row: dict  # columns, each value checked
    file_id: int | None  # the id the file gives the record
    links: dict  # link column (account_id, parent_id...) -> the file's id for it
    account: tuple[str, str] | None = None  # a company column: (name, folded name)
    parent: str | None = None  # an account's parent by name
    emails: list | tuple = ()  # (label, address)
    phones: list | tuple = ()  # (label, number)
    email_keys: list | tuple = ()  # the addresses folded, as the unique index compares them
    # Should a contact be written as new (store.bulk): its search body and summary columns.
    text: str | None = None
    summary: tuple = ()
    # A contact's photo or an account's logo (photos.Picture); None leaves the stored one.
    picture: photos.Picture | None = None
    person: Checked | None = None  # a person account's person (store.persons)
    # A contact odd_rows counts (see odd): store.bulk, writing it with the triggers
    # lifted, counts it.
    odd: bool = False


def check(kind: str, data: dict, config: Config) -> Checked:
    """One record of a file, checked; raises a CrmError saying what is wrong.

    Needs no database, so a second process can do it while this one writes
    (see crmcli.workers).
    """
    return _CHECKERS[kind](data, config)


def checked(items: Iterable[tuple[str, str, dict]], config: Config) -> Iterator[tuple]:
    """(where, kind, Checked) for each item, or (where, kind, what is wrong with it);
    an item a reader gives as text in place of its record is what is wrong with it."""
    for where, kind, data in items:
        if isinstance(data, str):  # a reader's word: this record cannot be read (a card's line)
            yield where, kind, data
            continue
        try:
            yield where, kind, check(kind, data, config)
        except CrmError as exc:
            yield where, kind, exc.message


def picture_bytes(item: Checked | str) -> int:
    """The bytes of the photo (logo) a checked item carries, to keep what waits small."""
    picture = getattr(item, "picture", None)
    return len(picture.data) if picture is not None else 0


def _check_accounts(data: dict, config: Config) -> Checked:
    data = _picture_link(data, "logo")
    values = _texts(data, accounts.EDITABLE)
    if not values.get("name"):
        raise InvalidValue("an account needs a name")
    row = {**accounts.clean(values), **_common(data)}
    if data.get("vcard"):
        row["vcard"] = common.dump(details.vcard(data["vcard"]))
    parent = _text(data.get("parent"))
    return Checked(row, _id(data.get("id")), _ids(data, "parent_id", "person_contact_id"),
                   parent=parent if parent and parent.strip() else None,
                   picture=photos.from_record(data.get("logo"), what="logo"),
                   person=_person(data, row, config))  # fmt: skip


# An account record's keys that are the account's own, not its person's.
_ACCOUNT_ONLY = ("id", "kind", "type", "industry", "website", "parent", "parent_id", "logo",
                 "person_contact_id", "description", "vcard", "account", "account_id")  # fmt: skip


def _person(data: dict, row: dict, config: Config) -> Checked | None:
    """The person of a person account a record holds (a vCard KIND:individual with
    --kind accounts, a Salesforce person account's row): its person's fields, checked
    as a contact's.  crm's own records name their person (person_contact_id) instead,
    a contact of the same file."""
    if row.get("kind") != "person" or data.get("person_contact_id") not in (None, ""):
        return None  # not a person account, or one whose person is a record of its own
    person = {key: value for key, value in data.items() if key not in _ACCOUNT_ONLY}
    for one, several in (("email", "emails"), ("phone", "phones")):
        if person.get(one) and isinstance(person.get(several), list):
            person[several] = [{"value": person.pop(one), "label": None}, *person[several]]
    return _check_contacts(person, config)


def _check_contacts(data: dict, config: Config) -> Checked:
    data = _picture_link(data, "photo")
    values, parts = _shape(data)
    row = _cleaned({key: _text(value) for key in values
                    if (value := data[key]) is not None})  # fmt: skip
    # Only the lists a record has (most have none: a CSV row's cost counts).
    lists = {}
    if not _RARE_LISTS.isdisjoint(data):
        lists = {key: details.items(key, data[key]) for key in models.ITEM_LISTS if data.get(key)}
        if data.get("vcard"):
            lists["vcard"] = details.vcard(data["vcard"])
    given = data.get("addresses")
    if lists or (given and not row.keys().isdisjoint(models.ADDRESS_FIELDS)):
        lists["addresses"] = contacts.with_lists(row, details.addresses(given), lists)
        for column in [c for c, value in row.items() if value in (None, "[]") and c in _SPARSE]:
            del row[column]  # left out, the column's default (NULL, '[]') is written
    elif given:  # most often a CSV row's labelled address columns
        lists["addresses"] = _addresses_alone(row, given)
    elif not row.keys().isdisjoint(models.ADDRESS_FIELDS):  # a CSV's address columns
        address = details.from_columns(row)
        if address is not None:
            lists["addresses"] = [address]
            row["addresses"] = details.dump_addresses(lists["addresses"])
    emails, email_keys = contacts.emails_and_keys(
        _labelled(data.get("emails") or data.get("email"))
    )
    phones = contacts.parse_phones(_labelled(data.get("phones") or data.get("phone")))
    company = _company(data)
    row.update(_names_seen(data, row.get("nickname"), emails, phones, company, parts))
    row.update(_common(data))
    summary = contacts.summary(emails, phones)
    # Checked's thirteen fields in their order, made directly (its keyword __new__ costs
    # a tenth of a row's checking).
    return _CHECKED_NEW(Checked, (
        row,
        _id(data.get("id")),
        _ids(data, "account_id", "person_account_id"),
        company,
        None,
        emails,
        phones,
        email_keys,
        search.contact_text(row, emails, phones, lists),
        summary,
        photos.from_record(data.get("photo")),
        None,
        odd((*row.values(), *summary), row.get("tags")),
    ))  # fmt: skip


def odd(values, tags: str | None) -> bool:
    """Whether a contact of these column values is one odd_rows counts: what its
    triggers test (migrations.odd_row), for the values Python hands SQLite: a
    NUL, a NUL's escape in its tags (db.NUL_ESCAPES).  (A checked row's values
    are text, integers or None: never the BLOB or REAL the triggers also count.)
    Done here, beside the checking (a second process: the one writing is the
    slower), not in bulk."""
    return "\x00" in "".join(filter(str.__instancecheck__, values)) or (
        tags is not None and "\\" in tags and any(escape in tags for escape in NUL_ESCAPES)
    )


_CHECKED_NEW = tuple.__new__


def _cleaned(texts: dict[str, str]) -> dict:
    """contacts.clean(texts), each value checked once for all the records that
    repeat it (a title, a city)."""
    row: dict = {}
    missed = {}
    seen = _SEEN_VALUES
    for key, raw in texts.items():
        checked = seen.get((key, raw), row)  # row: not seen
        if checked is row:
            missed[key] = raw
        row[key] = checked
    if missed:
        found = contacts.clean(missed)  # raises what is wrong, the first in order
        for key, checked in found.items():
            row[key] = checked
            raw = missed[key]
            if len(raw) <= models.LINE_MAX:
                _remember(seen, (key, raw), checked)
    return row


def _remember(cache: dict, key, value):
    if len(cache) >= _SEEN_MOST:
        cache.clear()
    cache[key] = value
    return value


def _names_seen(data: dict, nickname: str | None, emails: list, phones: list,
                company: tuple | None, parts: tuple[str, ...]) -> dict:  # fmt: skip
    """_names() less the rare parts that are None (left out: NULL), once for all
    the records that give the same name parts and no name, as another program's
    first/last name columns do: what it gives then depends on nothing else (not on
    the e-mail, account or phone) as long as the parts or the nickname name the
    contact."""
    given = tuple([data.get(part) for part in parts])
    key = None
    if data.get("name") is None:
        key = (parts, given, nickname)
        try:
            found = _SEEN_NAMES.get(key)  # only keys of text are kept (1 is True, as keys)
        except TypeError:  # a value that is not text (a list)
            found = key = None
        if found is not None:
            return found
    names = _names(data, nickname, emails, phones, company, parts)
    for part in _RARE_PARTS:
        if names[part] is None:
            del names[part]  # left out: NULL
    if (
        key is not None
        and models.derived_name(names, nickname) is not None
        and _TEXT.issuperset(map(type, given))
        and all(value is None or len(value) <= models.LINE_MAX for value in given)
    ):
        _remember(_SEEN_NAMES, key, names)
    return names


def _shape(data: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of _CONTACT_VALUES and of models.NAME_PARTS a record has, in those orders."""
    shape = tuple(data) if len(data) <= _SHAPE_MOST else None
    found = _SHAPES.get(shape)
    if found is None:
        found = (tuple(key for key in _CONTACT_VALUES if key in data),
                 tuple(part for part in models.NAME_PARTS if part in data))  # fmt: skip
        if shape is not None and len(_SHAPES) < _SHAPES_KEPT:  # else JSON of every shape
            _SHAPES[shape] = found
    return found


def _addresses_alone(row: dict, given: object) -> list[dict]:
    """What contacts.with_lists() and leaving out the empty columns make of the
    addresses a record gives (`given`) with no other list and no street..country
    of its own, done directly: addresses[0]'s parts that hold something, and the
    list; once for all the records that give the same addresses (a CSV's city
    column)."""
    key = _addresses_key(given)
    try:
        found = _SEEN_ADDRESSES.get(key) if key is not None else None
    except TypeError:  # a value that is not text (a list): no key
        key = found = None
    if found is None:
        addresses = details.addresses(given)
        columns, text = {}, None
        if addresses:
            first = addresses[0]
            columns = {column: first[column] for column in models.ADDRESS_FIELDS
                       if first[column] is not None}  # fmt: skip
            text = details.dump_addresses(addresses)
        found = (columns, text, addresses)
        if (
            key is not None
            and (text is None or len(text) <= 4 * models.LINE_MAX)
            and all(_TEXT.issuperset(map(type, item.values())) for item in given)
        ):
            _remember(_SEEN_ADDRESSES, key, found)
    columns, text, addresses = found
    if text is not None:
        row.update(columns)
        row["addresses"] = text
    return addresses


def _addresses_key(given: object) -> tuple | None:
    """Addresses as a record gives them (a list of objects), as a key.  Only keys
    of text (what a CSV reader makes) are remembered, so no other value is found
    (1 is True, as keys)."""
    if type(given) is not list or len(given) > 4:
        return None
    key = []
    for item in given:
        if type(item) is not dict:
            return None
        key.append(tuple(item.items()))
    return tuple(key)


def _check_deals(data: dict, config: Config) -> Checked:
    stage = config.check_stage(_text(data.get("stage")) or next(iter(config.stages)))
    chance = data.get("probability")
    row = {
        "name": models.name("name", _text(data.get("name"))),
        "amount": deals.amount(_text(data.get("amount"))),
        "currency": deals.currency(_text(data.get("currency")) or config.currency),
        "stage": stage,
        "status": config.status(stage),
        "probability": deals.probability(
            _whole(chance, "probability") if chance not in (None, "") else config.stages[stage]
        ),
        "close_date": models.date("close_date", _text(data.get("close_date"))),
        "description": models.text("description", _text(data.get("description"))),
        **_common(data),
    }
    row["name_key"] = models.fold(row["name"])
    return Checked(row, _id(data.get("id")), _ids(data, "contact_id", "account_id"),
                   _company(data))  # fmt: skip


def _check_activities(data: dict, config: Config) -> Checked:
    at = _text(data.get("at"))
    row = {
        "kind": activities.kind(_text(data.get("kind")) or "note"),
        "subject": models.line("subject", _text(data.get("subject"))),
        "body": models.text("body", _text(data.get("body"))),
        "at": _stamp("at", at, or_when=True) or common.now(),
        **_common(data),
    }
    if row["subject"] is None and row["body"] is None:
        raise InvalidValue("an activity needs a subject or a body")
    return Checked(row, _id(data.get("id")), _ids(data, "account_id", "contact_id", "deal_id"))


def _check_tasks(data: dict, config: Config) -> Checked:
    done = _bool(data.get("done"))
    done_at = _text(data.get("done_at"))
    row = {
        "title": models.name("title", _text(data.get("title"))),
        "due": models.date("due", _text(data.get("due"))),
        "done": int(done),
        "done_at": (_stamp("done_at", done_at) or common.now()) if done else None,
        **_common(data),
    }
    return Checked(row, _id(data.get("id")), _ids(data, "account_id", "contact_id", "deal_id"))


_CHECKERS = {
    "accounts": _check_accounts,
    "contacts": _check_contacts,
    "deals": _check_deals,
    "activities": _check_activities,
    "tasks": _check_tasks,
}


# -- values from a file -------------------------------------------------------------
def _text(value: object) -> str | None:
    if value is None or type(value) is str:  # nearly always
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        raise InvalidValue(f"expected text, got {json.dumps(value)[:60]}")
    return str(value)


def _texts(data: dict, keys) -> dict[str, str | None]:
    return {key: _text(data[key]) for key in keys if key in data and data[key] is not None}


def _id(value: object) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise InvalidValue(f"an id is a whole number (got {_shown(value)})") from None
    if not 1 <= number <= models.MAX_INT:
        raise InvalidValue(
            f"an id is a whole number from 1 to {models.MAX_INT:,} (got {_shown(value)})"
        )
    return number


def _shown(value: object, most: int = 40) -> str:
    """A value of the file in a message: quoted, a long one cut short (a 5,000-digit
    id is not repeated whole)."""
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > most:
        return f"{text[:most]!r}... ({len(text):,} characters)"
    return repr(text) if isinstance(value, str) else text



def _ids(data: dict, *keys: str) -> dict[str, int]:
    """The links a record gives by id, checked to be ids."""
    if data.keys().isdisjoint(keys):  # another program's record: no crm ids
        return {}
    return {key: number for key in keys if (number := _id(data.get(key))) is not None}


def _company(data: dict) -> tuple[str, str] | None:
    """A company column (`account`): the name as stored, and folded."""
    text = _text(data.get("account"))
    if not text:
        return None
    found = _SEEN_COMPANIES.get(text)
    if found is None:
        if not text.strip():
            return None
        name = models.name("account", text)
        found = (name, models.fold(name))
        if len(text) <= models.LINE_MAX:
            _remember(_SEEN_COMPANIES, text, found)
    return found


def _picture_link(data: dict, key: str) -> dict:
    """Another program's photo column holds a link, not bytes (Google's CSV a URL): it
    is kept as the custom field `photo_url` (`logo_url`), as other columns crm has no
    field for are.  Bytes come as {"media_type", "data"} (or that as JSON text).  What
    `show` and crm's own CSV give, {"media_type", "size"} without "data", leaves the
    stored photo alone, also where a CSV reader took the column for a link."""
    value = data.get(key)
    fields = data.get("fields")
    if fields is None and not isinstance(value, str):
        return data  # nearly every record: no link to look for
    if isinstance(fields, str) and f'"{key}_url"' in fields:  # a CSV reader's JSON text
        try:
            fields = json.loads(fields)
        except ValueError:
            fields = None  # _common says what is wrong with it
    link = fields.get(f"{key}_url") if isinstance(fields, dict) else None
    if isinstance(link, str) and _summary(link):
        fields = {name: text for name, text in fields.items() if name != f"{key}_url"}
        return {**data, key: None, "fields": fields}
    if not isinstance(value, str) or not value.strip() or value.lstrip().startswith("{"):
        return data
    fields = data.get("fields") or {}
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except ValueError:
            return data  # _common says what is wrong with it
    if not isinstance(fields, dict):
        return data
    return {**data, key: None, "fields": {f"{key}_url": value.strip(), **fields}}


def _summary(text: str) -> bool:
    """Whether text is a picture's summary, {"media_type": ..., "size": BYTES}, no data."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and "size" in value and "data" not in value


def _whole(value: object, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidValue(f"{name} is a whole number (got {_shown(value)})") from None


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").strip().lower()
    if text in ("", "0", "false", "no"):
        return False
    if text in ("1", "true", "yes", "x"):
        return True
    raise InvalidValue(f"done is true or false (got {_shown(value)})")


def _labelled(value: object) -> list[str]:
    """E-mails or phones: [{value, label}] from JSON, or `label:value;value` text."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [_pair(item) if isinstance(item, dict) else str(item) for item in value]
    return [part for part in re.split(models.PHONES_SPLIT, str(value)) if part.strip()]


def _pair(item: dict) -> str | tuple[str | None, str]:
    """An item of a JSON (or CSV reader's) list as `label:value` text, or as the
    (label, value) that models.labelled() would make of that text when that is
    plain to see (a label of ASCII letters and a value; no label and no `:`)."""
    label, value = item.get("label"), item["value"]
    if not label:
        text = str(value)
        if ":" not in text and (stripped := text.strip()):
            return None, stripped
        return text
    if (
        type(label) is str
        and type(value) is str
        and label.isalpha()
        and label.isascii()
        and len(label) <= models.LABEL_MAX
        and (stripped := value.strip())
        and not value.startswith("//")
    ):
        return label.lower(), stripped
    return f"{label}:{value}"


def _names(
    data: dict,
    nickname: str | None,
    emails: list,
    phones: list,
    company: tuple | None,
    given: tuple[str, ...] = models.NAME_PARTS,
) -> dict:
    """The name as the file gives it, and its parts.  A record with a name and no
    parts has it split into first/last (another program's `Name` column), unless
    it names its parts as empty (crm's JSON, which has the keys) or the name is
    what the contact would be named by anyway (its nickname, first e-mail or
    account: a contact that has no name parts).  With no name it is derived
    from what the record has (contacts.names).  `given`: the name parts among the
    record's keys, if known."""
    parts = {part: _text(value) for part in given if (value := data.get(part))}
    name = _text(data.get("name"))
    email = emails[0][1] if emails else None
    account = company[0] if company else None
    phone = phones[0][1] if phones else None
    if name is not None and not name.strip():
        name = None
    if name is not None and not any(part and part.strip() for part in parts.values()):
        plain = models.nfc(name).strip()
        split = (
            "first_name" not in data
            and "last_name" not in data
            and plain not in (nickname, email, account, phone)
        )
        return contacts.names(name, {}, split=split, nickname=nickname, email=email,
                              account=account, phone=phone)  # fmt: skip
    return contacts.names(
        name, parts, nickname=nickname, email=email, account=account, phone=phone, split=False
    )


_COMMON = ("tags", "fields", "created_at", "updated_at")


def _common(data: dict) -> dict:
    """tags, custom fields and timestamps, as columns."""
    if data.keys().isdisjoint(_COMMON):  # most rows of another program's CSV
        return {"tags": "[]", "fields": "{}"}
    tags = data.get("tags") or []
    # A list (JSON, JSONL, vCard CATEGORIES) is carried exactly, as crm's backup holds it:
    # only a `;`-joined cell needs the tag rule (models.tags).
    exact = not isinstance(tags, str)
    if not exact:
        tags = [tag for tag in tags.split(";") if tag.strip()]
    raw_fields = data.get("fields") or {}
    if isinstance(raw_fields, str):
        try:
            raw_fields = json.loads(raw_fields)
        except ValueError:
            raise InvalidValue("fields must be a JSON object") from None
    if not isinstance(raw_fields, dict):
        raise InvalidValue("fields must be a JSON object")
    row = {
        "tags": common.dump(models.tags([_text(tag) for tag in tags], exact=exact))
        if tags
        else "[]",
        "fields": common.dump(
            models.custom_fields({key: _text(value) or "" for key, value in raw_fields.items()})
        )
        if raw_fields
        else "{}",
    }
    for key in ("created_at", "updated_at"):
        if key in data and (stamp := _stamp(key, _text(data[key]))):
            row[key] = stamp
    return row


def _stamp(field: str, value: str | None, *, or_when: bool = False) -> str | None:
    """A timestamp from a file as crm stores it, YYYY-MM-DDTHH:MM:SSZ (UTC).

    Any ISO 8601 date-time Python reads is taken (2024-01-01T12:00:00+02:00,
    2024-01-01T10:00:00.123Z, 2024-01-01 10:00:00): an offset is converted to UTC,
    one without an offset is taken as UTC, fractions of a second are dropped.  It
    must be a real moment (not 2020-13-45T99:99:99Z).  An activity's `at` (or_when)
    may also be a date or date-time as `crm log --at` takes it, in local time when it
    has no offset.  Empty: None."""
    import datetime as dt

    if value is None or not value.strip():
        return None
    value = value.strip()
    if re.match(_STAMP, value):  # crm's own form: kept byte for byte
        try:
            dt.datetime.fromisoformat(value[:-1])
            return value
        except ValueError:
            pass
    else:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and len(value) > 10:  # a date-time, not a bare date
            try:
                if parsed.tzinfo is None and or_when:
                    parsed = parsed.astimezone()  # local, as `crm log --at` reads it
                utc = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed
            except (OverflowError, ValueError):
                utc = None  # 0001-01-01T00:00:00+01:00 falls in year 0
            if utc is not None:
                return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
        elif or_when:
            return when.moment(value)
    raise InvalidValue(
        f"invalid {field} {value!r}: use an ISO 8601 date-time such as 2026-01-31T09:00:00Z"
    )

