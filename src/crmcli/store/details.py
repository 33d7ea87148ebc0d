"""A contact's address-book lists: addresses, URLs, IM handles, related people,
other dates, and the vCard properties crm has no field for.

Each list is stored as JSON text in its own column of the contact's row (the
listing reads one row per contact).  The street..country columns are the
primary address, addresses[0], kept in step here: whatever changes the list
sets them again, and setting one of them edits addresses[0].

Values arrive from the command line as text (`[LABEL:]VALUE`, an address as
`[LABEL:]street; city; region; postal code; country`), from a JSON file as
lists of objects (or of such text), and from a CSV cell as JSON text.
"""

from __future__ import annotations

import contextlib
import re

from crmcli import models
from crmcli.errors import InvalidValue, Refused

_ONE = {"addresses": "address", "urls": "URL", "impps": "IM handle",
        "related": "related person", "dates": "date", "vcard": "vCard property"}  # fmt: skip
_LABEL = r"[^\W\d_][^:;\x00-\x1f\x7f-\x9f]*\Z"
_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*:"
_URI = _SCHEME + r"[^\s\x00-\x1f\x7f-\x9f]+\Z"
_LINE_BREAK = r"[\r\n\x00]"
# A value that begins with one of these is a URI, not a label and a value.
_SCHEMES = ("urn", "mailto", "http", "https", "tel", "sip", "sips", "xmpp", "skype", "data",
            "cid", "ftp", "aim", "icq", "irc", "msnim", "ymsgr", "im", "geo")  # fmt: skip
_PARTS = models.ADDRESS_KEYS[1:]  # po_box ... country


def _json_list(kind: str, raw: object) -> list:
    """A list as a reader or the command line gives it: a list, or JSON text."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        import json  # here, not at the top: most commands never decode one (start-up time)

        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidValue(f"{kind} must be a JSON list (got {raw[:40]!r})") from None
    if not isinstance(raw, list):
        raise InvalidValue(f"{kind} must be a list")
    if len(raw) > (models.VCARD_MAX if kind == "vcard" else models.LIST_MAX):
        most = models.VCARD_MAX if kind == "vcard" else models.LIST_MAX
        raise InvalidValue(f"{kind}: too many ({len(raw):,}; at most {most:,})")
    return raw


def label(text: object) -> str | None:
    """A label given apart from its value (a JSON object's `label`), by the rules
    of models.labelled: a letter first, no `:`, `;` or control character, at most
    LABEL_MAX characters; lower case."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidValue(f"a label is text (got {_shown(text)})")
    if text.isalpha() and text.isascii() and text.islower() and len(text) <= models.LABEL_MAX:
        return text  # one lower-case word (work, home): what the rules below keep as it is
    cleaned = models.nfc(text).strip()
    if not cleaned:
        return None
    if len(cleaned) > models.LABEL_MAX:
        raise InvalidValue(
            f"label is too long: {len(cleaned):,} characters (at most {models.LABEL_MAX})"
        )
    if not re.match(_LABEL, cleaned):
        raise InvalidValue(
            f"invalid label {cleaned!r}: a label begins with a letter and cannot hold ':', ';'"
            " or control characters"
        )
    return cleaned.lower()


# -- labelled values ----------------------------------------------------------------
def _split(kind: str, raw: str) -> tuple[str | None, str]:
    """`[LABEL:]VALUE` for one of the item lists.  An IM handle is a URI itself
    (`skype:jane.doe`): a label is there only when a URI follows it
    (`work:xmpp:jane@x.org`).  A URL, related person or date that starts with a
    URI scheme (`https://`, `urn:uuid:`, `mailto:`) has no label either."""
    text = raw.strip()
    head, colon, rest = text.partition(":")
    if not colon:
        return None, text
    if kind == "impps":
        if re.match(_SCHEME, rest.strip()):
            return label(head), rest.strip()
        return None, text
    if head.strip().lower() in _SCHEMES:
        return None, text
    return models.labelled(text)


def _value(kind: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"a {_ONE[kind]} is text (got {_shown(value)})")
    text = models.nfc(value).strip()
    if not text:
        raise InvalidValue(f"empty {_ONE[kind]}")
    if kind == "dates":
        try:
            return models.birthday(text, "date")
        except InvalidValue:  # another program's text (`June 2001`): kept as given
            pass
    if re.search(_LINE_BREAK, text):
        raise InvalidValue(f"a {_ONE[kind]} is one line (got {text[:40]!r})")
    if kind == "impps" and not re.match(_URI, text):
        raise InvalidValue(
            f"invalid IM handle {text!r}: use a URI such as xmpp:jane@example.org or skype:jane.doe"
        )
    most = models.LINE_MAX if kind == "dates" else models.URI_MAX
    if len(text) > most:
        raise InvalidValue(f"{_ONE[kind]} is too long: {len(text):,} characters (at most {most:,})")
    return text


def items(kind: str, raw: object) -> list[dict]:
    """urls, impps, related or dates as stored: [{value, label}], each value once
    (the first label kept, or the later one where the first had none)."""
    result: list[dict] = []
    for item in _json_list(kind, raw):
        if isinstance(item, dict):
            unknown = set(item) - {"value", "label"}
            if unknown:
                raise InvalidValue(f"{kind}: unknown key(s) {', '.join(sorted(unknown))}")
            value, tag = _value(kind, item.get("value")), label(item.get("label"))
        elif isinstance(item, str):
            tag, text = _split(kind, item)
            value = _value(kind, text)
        else:
            raise InvalidValue(f"{kind}: each item is text or an object with value and label")
        result = add_items(result, [{"value": value, "label": tag}], kind)
    return result


def given_items(kind: str, raw: list[str]) -> list[dict]:
    """items() from the command line (`--date` ...): there a date must be one
    (YYYY-MM-DD or --MM-DD, a real day); another program's text date read from a
    file (`June 2001`) stays text."""
    result = items(kind, raw)
    if kind == "dates":
        for item in result:
            try:
                models.birthday(item["value"], "date")
            except InvalidValue:
                raise InvalidValue(
                    f"invalid date {item['value']!r}: use [LABEL:]YYYY-MM-DD, or --MM-DD"
                    " without a year"
                ) from None
    return result


def add_items(stored: list[dict], new: list[dict], kind: str = "") -> list[dict]:
    """New items appended; one whose value is there already gives it its label.
    Dates are events: two labels on one day are two dates (`birthday` and `met`),
    so a date is the same as a stored one only with the same label or none."""
    result = [dict(item) for item in stored]
    for item in new:
        same = next((old for old in result if old["value"] == item["value"]
                     and (kind != "dates" or None in (old["label"], item["label"])
                          or old["label"] == item["label"])), None)  # fmt: skip
        if same is None:
            result.append(dict(item))
        elif item["label"]:
            same["label"] = item["label"]
    return _at_most(result)


def _at_most(result: list) -> list:
    if len(result) > models.LIST_MAX:
        raise InvalidValue(f"too many values in one list (at most {models.LIST_MAX})")
    return result


def remove_items(kind: str, stored: list[dict], gone: list[str]) -> list[dict]:
    """Items without those whose value (or, for dates, label) is given."""
    result = list(stored)
    for text in gone:
        wanted = models.nfc(text).strip()
        if kind == "dates":
            with contextlib.suppress(InvalidValue):
                wanted = models.birthday(wanted, "date")
        kept = [
            item
            for item in result
            if item["value"] != wanted and not (kind == "dates" and item["label"] == wanted.lower())
        ]
        if len(kept) == len(result):
            raise InvalidValue(f"the contact has no {_ONE[kind]} {text!r} to remove")
        result = kept
    return result


def union(first: list, second: list, key=lambda item: item, kind: str = "") -> list:
    """first, then what second has that first has not (compared by `key`).

    Two records merged (`contact merge`, repeats of one record in a file, an
    import's update) must not make a list longer than one record may hold
    (LIST_MAX items, vCard's VCARD_MAX lines and TEXT_MAX_BYTES): that is refused
    (exit 1), since dropping the extra would lose data silently."""
    import json

    seen = {json.dumps(key(item), sort_keys=True) for item in first}
    extra = [item for item in second if json.dumps(key(item), sort_keys=True) not in seen]
    result = [*first, *extra]
    _merged_within(kind, result)
    return result


def _merged_within(kind: str, result: list) -> None:
    most = models.VCARD_MAX if kind == "vcard" else models.LIST_MAX
    if len(result) > most:
        raise Refused(
            f"merged, {kind or 'a list'} would hold {len(result):,} items (at most {most:,}):"
            " remove some first"
        )
    if kind == "vcard":
        size = sum(len(line.encode("utf-8")) for line in result)
        if size > models.TEXT_MAX_BYTES:
            raise Refused(
                f"merged, vcard would hold {size:,} bytes (at most {models.TEXT_MAX_BYTES:,}):"
                " remove some properties first"
            )


def value_of(item: dict) -> object:
    return item["value"]


def dated(item: dict) -> object:
    """A date's key when records merge: its value and label (see add_items)."""
    return [item["value"], item["label"]]


def without_label(address: dict) -> dict:
    return {part: address.get(part) for part in _PARTS}


# -- addresses ------------------------------------------------------------------------
ADDRESS_FORM = "[LABEL:]STREET; CITY; REGION; POSTAL CODE; COUNTRY"


def _address_text(raw: str) -> dict:
    """`home:1 Main St; Springfield; IL; 62701; USA`: the parts in that order,
    later ones may be left out; seven parts are vCard ADR's order (PO box;
    extended; street; city; region; postal code; country).  The label is the text
    before the first `:`, when it is one (a letter first): a street holding a `:`
    needs a label before it."""
    text = raw.strip()
    head, colon, rest = text.partition(":")
    tag = None
    if colon and re.match(_LABEL, head.strip()) and len(head.strip()) <= models.LABEL_MAX:
        tag, text = label(head), rest
    parts = [part.strip() for part in text.split(";")]
    if len(parts) == 7:
        names = _PARTS
    elif len(parts) <= 5:
        names = models.ADDRESS_FIELDS[: len(parts)]
    else:
        raise InvalidValue(
            f"invalid address {raw!r}: give {ADDRESS_FORM} (up to five parts, or all seven"
            " of vCard's ADR)"
        )
    return {"label": tag, **dict(zip(names, parts, strict=True))}


def _address(item: object) -> dict | None:
    """One address as stored: every key, each part one checked line (None when
    empty); None when it has no part at all."""
    if isinstance(item, str):
        item = _address_text(item)
    if not isinstance(item, dict):
        raise InvalidValue("addresses: each one is an object (label, street, city ...) or text")
    if not item.keys() <= _EMPTY.keys():
        unknown = item.keys() - _EMPTY.keys()
        raise InvalidValue(
            f"addresses: unknown key(s) {', '.join(sorted(unknown))}"
            f" (use {', '.join(models.ADDRESS_KEYS)})"
        )
    address = {"label": label(item.get("label"))}
    found = False
    for part in _PARTS:
        value = item.get(part)
        if value is None:  # most parts of most addresses: nothing to check
            address[part] = None
            continue
        if not isinstance(value, str):
            value = str(value) if isinstance(value, int) and not isinstance(value, bool) else None
            if value is None:
                raise InvalidValue(f"addresses: {part.replace('_', ' ')} is text")
        address[part] = checked = _line(part, value)
        found = found or checked is not None
    return address if found else None


def _line(part: str, value: str | None) -> str | None:
    """An address part: a line of text (a street may have line breaks, as vCard's
    ADR allows), never NUL, which SQLite's JSON functions cut text at (the search
    index reads the parts through them)."""
    checked = models.line(_NAMES[part], value)
    if checked and "\x00" in checked:
        raise InvalidValue(f"the {_NAMES[part]} cannot hold a NUL character")
    return checked.strip() if checked else None


_NAMES = {part: part.replace("_", " ") for part in _PARTS}
_EMPTY = dict.fromkeys(models.ADDRESS_KEYS)


def addresses(raw: object) -> list[dict]:
    """Addresses as a record gives them, each once: a home and a work address that
    are the same place stay two (a phone's export has both), so only the very same
    address, label and all, is dropped.  (Edits, add_addresses, relabel instead.)"""
    result: list[dict] = []
    for item in _json_list("addresses", raw):
        address = _address(item)
        if address is not None and address not in result:
            result.append(address)
    return _at_most(result)


def given_addresses(raw: list[str] | None) -> list[dict]:
    """addresses() from the command line: an `--address` with no part (`""`,
    `home:;;;;`) is refused, as an empty `--url` is, not dropped silently."""
    for text in raw or []:
        if _address(text) is None:
            raise InvalidValue(f"empty address {text!r}: give {ADDRESS_FORM}")
    return addresses(raw)


def add_addresses(stored: list[dict], new: list[dict]) -> list[dict]:
    """New addresses appended; one with the label of a stored one replaces it, one
    the same as a stored one (label aside) relabels it."""
    result = [dict(address) for address in stored]
    for address in new:
        bare = without_label(address)
        same = next((old for old in result if without_label(old) == bare), None)
        tag = address["label"]
        labelled = next((old for old in result if tag and old["label"] == tag), None)
        if same is not None:
            if address["label"]:
                same["label"] = address["label"]
        elif labelled is not None:
            labelled.update(address)
        else:
            result.append(dict(address))
    return _at_most(result)


def remove_addresses(stored: list[dict], gone: list[str]) -> list[dict]:
    """Addresses without those given by position (1 is the primary) or label."""
    result = list(stored)
    for text in gone:
        wanted = text.strip()
        if wanted.isdigit():
            position = int(wanted)
            if not 1 <= position <= len(result):
                raise InvalidValue(
                    f"the contact has no address {position} to remove (it has {len(result)})"
                )
            result = result[: position - 1] + result[position:]
            continue
        kept = [address for address in result if address["label"] != wanted.lower()]
        if len(kept) == len(result):
            raise InvalidValue(f"the contact has no address labelled {text!r} to remove")
        result = kept
    return result


def with_primary(stored: list[dict], columns: dict) -> list[dict]:
    """The addresses after `--street` etc.: `columns` (the primary address's
    columns that were given, None clearing one) edit addresses[0], made if
    there is none; one left with no part goes."""
    if not columns:
        return stored
    first = dict(stored[0]) if stored else dict(_EMPTY)
    for column, value in columns.items():
        first[column] = _line(column, value)
    rest = stored[1:]
    return [first, *rest] if any(first[part] for part in _PARTS) else rest


def from_columns(row: dict) -> dict | None:
    """The one address a record's street..country columns give (a CSV row's),
    checked; the columns left in `row` are those that hold something."""
    address = dict(_EMPTY)
    found = False
    for column in models.ADDRESS_FIELDS:
        if column in row:
            value = _line(column, row[column])
            if value is None:
                del row[column]
            else:
                row[column] = address[column] = value
                found = True
    return address if found else None


def dump_addresses(stored: list[dict]) -> str:
    """The address list as JSON text, exactly as common.dump writes it, made
    directly (a fifth of the time: a CSV import's every row with a city pays it)."""
    if not stored:
        return "[]"
    from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) uses

    return "[" + ",".join([_address_json(address, encode_basestring) for address in stored]) + "]"


# One address as common.dump writes it: every key in order, each value JSON.
_ADDRESS_JSON = "{" + ",".join(f'"{key}":%s' for key in models.ADDRESS_KEYS) + "}"


def _address_json(address: dict, encode) -> str:
    values = ["null" if (value := address[key]) is None else encode(value)
              for key in models.ADDRESS_KEYS]  # fmt: skip
    return _ADDRESS_JSON % tuple(values)


def _shown(value: object) -> str:
    """A value that is not text, in a message: as JSON, cut to 40 characters."""
    import json

    return json.dumps(value)[:40]


def primary(stored: list[dict]) -> dict:
    """The street..country columns: addresses[0]'s, or all None."""
    first = stored[0] if stored else {}
    return {column: first.get(column) for column in models.ADDRESS_FIELDS}


# -- vCard properties ---------------------------------------------------------------
def vcard(raw: object) -> list[str]:
    """The properties crm has no field for, kept exactly: each one content line of
    text (no line break), at most VCARD_MAX of them and TEXT_MAX_BYTES in all."""
    lines = _json_list("vcard", raw)
    size = 0
    for line in lines:
        if not isinstance(line, str) or not line.strip():
            raise InvalidValue("vcard: each property is a line of text")
        if re.search(_LINE_BREAK, line):
            raise InvalidValue(f"vcard: a property is one (unfolded) line (got {line[:40]!r})")
        models.nfc(line)  # refuses text that is not UTF-8; kept as it is
        size += len(line.encode("utf-8"))
    if size > models.TEXT_MAX_BYTES:
        raise InvalidValue(
            f"vcard is too large: {size:,} bytes (at most {models.TEXT_MAX_BYTES:,} bytes)"
        )
    return list(lines)
