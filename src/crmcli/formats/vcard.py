"""vCard 2.1, 3.0 and 4.0: contacts and accounts in (`read_vcf`) and out (`card`);
the mapping between a card and crm's record lives here alone, for import, export
and sync.

Writing: every line is made by `_line`, from a name that can be nothing but a
name, parameters that can be nothing but parameters, and a value escaped as
text (backslash, comma, semicolon, line breaks), so no stored value, however
it came in, can end a property, start a new one or add a parameter.  The
properties a card came with that crm has no field for (`vcard`) are written
back as they came, each only if it is still one property and not one crm
writes itself (`_kept`).  Long lines are folded at 75 octets.

Reading: crm finds the lines and cards itself (unfolding, vCard 2.1's
quoted-printable soft breaks, any mix of CR and LF line ends) and has vobject
parse one card's properties at a time (see read_vcf).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator

from crmcli.errors import Refused
from crmcli.formats import Source

# crmcli's UUID namespace 5d1e3c2a-6a9b-4f0e-9a44-0c2b8f1e7d11, fixed forever
_NAMESPACE = bytes.fromhex("5d1e3c2a6a9b4f0e9a440c2b8f1e7d11")
_NAME = re.compile(r"[A-Za-z0-9-]+\Z")  # a property name, no group
# What crm writes itself (or reads into a field of its own): an old custom field
# `vcard.EMAIL` or `vcard.END` must not add an e-mail or end the card.
_OWN = {"BEGIN", "END", "VERSION", "PRODID", "UID", "FN", "N", "ORG", "TITLE", "X-DEPARTMENT",
        "EMAIL", "TEL", "ADR", "LABEL", "BDAY", "ROLE", "URL", "NOTE", "CATEGORIES", "REV",
        "X-ABLABEL"}  # fmt: skip
# The properties crm reads into a field, every one of them (so a kept line never
# holds one), or writes once itself: a kept `vcard` line naming one is not
# written.  ORG, TITLE, NOTE, ROLE, NICKNAME, PHOTO and LOGO are not here: crm
# reads the first, and the others are kept.
_IMPP_NAMES = {"X-AIM": "aim", "X-JABBER": "xmpp", "X-SKYPE": "skype",
               "X-SKYPE-USERNAME": "skype", "X-ICQ": "icq", "X-MSN": "msnim", "X-YAHOO": "ymsgr",
               "X-GOOGLE-TALK": "xmpp", "X-GTALK": "xmpp", "X-QQ": "qq", "X-GADUGADU": "gg",
               "X-GROUPWISE": "groupwise", "X-TWITTER": "twitter"}  # fmt: skip
_RELATED_NAMES = {"X-SPOUSE": "spouse", "X-EVOLUTION-SPOUSE": "spouse",
                  "X-KADDRESSBOOK-X-SPOUSESNAME": "spouse", "X-MANAGER": "manager",
                  "X-EVOLUTION-MANAGER": "manager", "X-KADDRESSBOOK-X-MANAGERSNAME": "manager",
                  "X-ASSISTANT": "assistant", "X-EVOLUTION-ASSISTANT": "assistant",
                  "X-KADDRESSBOOK-X-ASSISTANTSNAME": "assistant"}  # fmt: skip
_ANNIVERSARY_NAMES = {"ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY",
                      "X-KADDRESSBOOK-X-ANNIVERSARY"}  # fmt: skip
_GROUP_KIND = {"KIND", "X-ADDRESSBOOKSERVER-KIND"}
_MEMBER = {"MEMBER", "X-ADDRESSBOOKSERVER-MEMBER"}
_CONTACT_WRITES = {
    "BEGIN", "END", "VERSION", "PRODID", "UID", "FN", "N", "REV", "KIND", "X-ABSHOWAS", "EMAIL",
    "TEL", "ADR", "LABEL", "URL", "IMPP", "RELATED", "X-ABRELATEDNAMES", "X-ABDATE", "BDAY",
    "GENDER", "X-GENDER", "CATEGORIES", "X-DEPARTMENT", "X-SOCIALPROFILE", "PROFILE", "X-CRM-FIELD",
    *_IMPP_NAMES, *_RELATED_NAMES, *_ANNIVERSARY_NAMES, *_GROUP_KIND, *_MEMBER,
}  # fmt: skip
_CONTACT_WRITES_4 = _CONTACT_WRITES - {"X-GENDER"}
# An account's card says one e-mail, phone, URL and address: the others are kept.
_ACCOUNT_WRITES = {"BEGIN", "END", "VERSION", "PRODID", "UID", "FN", "N", "REV", "KIND",
                   "X-ABSHOWAS", "CATEGORIES", "PROFILE", "X-CRM-FIELD", *_GROUP_KIND,
                   *_MEMBER}  # fmt: skip
# TYPE words each property's TYPE can say; a label of other words is an Apple
# item group's X-ABLabel.
_TYPE_WORDS = {
    "EMAIL": {"home", "work"},
    "TEL": {"home", "work", "cell", "fax", "voice", "pager", "video", "text", "textphone"},
    "ADR": {"home", "work"},
    "URL": {"home", "work"},
    "IMPP": {"home", "work", "personal", "business"},
    "RELATED": {"contact", "acquaintance", "friend", "met", "co-worker", "colleague",
                "co-resident", "neighbor", "child", "parent", "sibling", "spouse", "kin", "muse",
                "crush", "date", "sweetheart", "me", "agent", "emergency"},
}  # fmt: skip
# The forms of a date crm writes as BDAY's value; anything else is text.
_DATE = re.compile(r"(\d{4}(-?\d{2}(-?\d{2})?)?|--\d{2}-?\d{2}|---\d{2})\Z")
_UNSAFE_PARAM = re.compile(r'["\x00-\x1f\x7f]')  # not even inside quotes
_SPECIAL = re.compile(r"[\\,;\r\n]")  # what escape() changes
_NAMES_SEEN: set[str] = set()  # property names already checked against _NAME
# A custom field is X-CRM-FIELD;X-NAME="key":value, but those crm writes as a
# property of their own (UID, ROLE, a BDAY crm could not read, an old URL, TITLE).
_FIELD = "X-CRM-FIELD"
_FIELDS_WRITTEN = {"uid", "role", "birthday", "url", "title"}


def uid(record: dict, kind: str = "contacts") -> str:
    """The UID a card came in with, else one that stays the same at every export:
    uuid.uuid5(_NAMESPACE, name), made from its SHA-1 here (uuid.UUID costs more
    than the hash when a million cards are written)."""
    if (record.get("fields") or {}).get("uid"):
        return record["fields"]["uid"]
    name = f"{kind[:-1]}:{record['id']}:{record['created_at']}"
    digest = bytearray(hashlib.sha1(_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def escape(value: str) -> str:
    """A text value: backslash, comma, semicolon and line breaks escaped."""
    if _SPECIAL.search(value) is None:
        return value  # nearly every value: one search instead of six replaces
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(name: str, value: str) -> str:
    """NAME=VALUE, the value quoted when it holds anything but letters, digits and -;
    a double quote or a control character, which no quoting can hold, is a space."""
    clean = _UNSAFE_PARAM.sub(" ", value)
    return f"{name}={clean}" if _NAME.match(clean) else f'{name}="{clean}"'


def _line(
    name: str, *parts: str, params: tuple[str, ...] = (), sep: str = ";", group: str = ""
) -> str:
    """One property, folded: its parts escaped as text and joined by `sep` (N and
    ADR have parts; CATEGORIES is a list).  `group` is one crm made (item1)."""
    return _line_of(name, parts, params, sep, group)


def _line_of(name: str, parts: tuple[str, ...], params: tuple[str, ...], sep: str,
             group: str) -> str:  # fmt: skip
    """_line with its arguments as they are (_Card.add calls it for every line)."""
    if name not in _NAMES_SEEN:
        if not _NAME.match(name):
            raise ValueError(f"not a vCard property name: {name!r}")
        if len(_NAMES_SEEN) < 256:  # crm's own names and a few custom ones
            _NAMES_SEEN.add(name)
    head = ";".join([name, *params]) if params else name
    if len(parts) == 1:
        value = parts[0]
        if _SPECIAL.search(value) is not None:
            value = escape(value)
    elif _SPECIAL.search("".join(parts)) is None:  # no part to escape: one search
        value = sep.join(parts)
    else:
        value = sep.join([escape(part) for part in parts])
    line = f"{group}.{head}:{value}" if group else f"{head}:{value}"
    if len(line) <= 75 and line.isascii():  # fold()'s first test, without the call
        return line + "\r\n"
    return fold(line)


def fold(line: str) -> str:
    """Fold at 75 octets, never inside a UTF-8 character; CRLF line ends."""
    if len(line) <= 75 and line.isascii():
        return line + "\r\n"
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    pieces, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines begin with a space
    return "\r\n ".join(pieces) + "\r\n"


# -- writing --------------------------------------------------------------------
class _Card:
    """The lines of one card being written, and the item groups (item1 ...) taken."""

    def __init__(self, taken: set[str]):
        self.lines: list[str] = []
        self.names: set[str] = set()  # the properties written
        self.taken, self.next = taken, 0

    def add(self, name: str, *parts: str, params: tuple[str, ...] = (), sep: str = ";",
            group: str = "") -> None:  # fmt: skip
        self.lines.append(_line_of(name, parts, params, sep, group))
        self.names.add(name)

    def group(self) -> str:
        while True:
            self.next += 1
            if f"item{self.next}" not in self.taken:
                return f"item{self.next}"

    def labelled(self, name: str, *parts: str, label: str | None,
                 params: tuple[str, ...] = ()) -> None:  # fmt: skip
        """A property with its label: TYPE where TYPE can say it (home, work, cell,
        home fax ...), else an Apple item group with an X-ABLabel: also a word that
        TYPE would not give back as it was (voice reads as no label, cell as mobile)."""
        said = _label_type(name, label) if label else ""
        if not said:
            self.add(name, *parts, params=params)
        elif said != _GROUPED:
            self.add(name, *parts, params=(said, *params))
        else:
            group = self.group()
            self.add(name, *parts, params=params, group=group)
            self.add("X-ABLabel", label, group=group)


_GROUPED = "group"  # _label_type: a label TYPE cannot say
_LABEL_TYPES: dict[tuple[str, str], str] = {}  # (property, label) -> _label_type's answer


def _label_type(name: str, label: str) -> str:
    """How _Card.labelled writes this label on this property: "" (no words: no
    label), TYPE=... or _GROUPED.  Worked out once per label (an export writes the
    same few labels a million times); at most 256 kept."""
    said = _LABEL_TYPES.get((name, label))
    if said is not None:
        return said
    given = label.split()
    words = [{"mobile": "cell"}.get(word, word) for word in given]
    if not words:
        said = ""
    elif "cell" not in given and all(word in _TYPE_WORDS.get(name, ())
                                     and word not in _TYPE_SKIP for word in words):  # fmt: skip
        said = f"TYPE={','.join(words)}"
    else:
        said = _GROUPED
    if len(_LABEL_TYPES) < 256:
        _LABEL_TYPES[name, label] = said
    return said


def card(record: dict, version: str = "4.0", kind: str = "contacts") -> str:
    """One contact (or, kind accounts, one account as a KIND:org card) as a vCard.

    `record` is as `crm contact show -f json` gives it; its `photo` (an account's
    `logo`), when it has "data" (base64), is written as PHOTO (LOGO)."""
    kept = [line for line in record.get("vcard") or () if isinstance(line, str)]
    taken = {match.group(1).lower() for line in kept if (match := _KEPT.match(line))
             and match.group(1)}  # fmt: skip
    out = _Card(taken)
    out.add("VERSION", version)
    out.add("UID", uid(record, kind))
    if kind == "accounts":
        _account_lines(out, record, version)
    else:
        _contact_lines(out, record, version)
    if record.get("description"):
        out.add("NOTE", record["description"])
    if record.get("tags"):
        out.add("CATEGORIES", *record["tags"], sep=",")
    fields = record.get("fields") or {}
    for key, value in fields.items():  # an older import's `vcard.X-NAME` fields
        name = key.removeprefix("vcard.")
        if (key.startswith("vcard.") and _NAME.match(name) and name.upper() not in _OWN
                and name.upper() not in out.names):  # fmt: skip
            out.add(name, value)
    for key, value in fields.items():  # the others: X-CRM-FIELD;X-NAME="foo":bar
        if key not in _FIELDS_WRITTEN and not key.startswith("vcard.") and value is not None:
            name = _UNSAFE_PARAM.sub(" ", str(key))
            out.add(_FIELD, str(value), params=(f'X-NAME="{name}"',))
    if kept:
        writes = _ACCOUNT_WRITES if kind == "accounts" else _CONTACT_WRITES
        if kind != "accounts" and version == "4.0":
            writes = _CONTACT_WRITES_4  # 4.0's is GENDER: a card's X-GENDER besides it is kept
        out.lines.extend(line for line in map(_kept(writes), kept) if line)
    out.add("REV", record["updated_at"].replace("-", "").replace(":", ""))
    return "BEGIN:VCARD\r\n" + "".join(out.lines) + "END:VCARD\r\n"


def _contact_lines(out: _Card, contact: dict, version: str) -> None:
    out.add("FN", contact["name"])
    get = contact.get
    out.add("N", get("last_name") or "", get("first_name") or "", get("middle_name") or "",
            get("prefix") or "", get("suffix") or "")  # fmt: skip
    if contact.get("nickname"):
        out.add("NICKNAME", contact["nickname"])
    if contact.get("gender"):  # 4.0: sex;identity, as it came
        gender = contact["gender"].split(";", 1)
        out.add("GENDER" if version == "4.0" else "X-GENDER", *gender)
    # A person account's person is a card of its own: its account (itself) no ORG.
    account = None if contact.get("person_account_id") else contact.get("account")
    if account or contact.get("department"):
        if contact.get("department"):
            out.add("ORG", account or "", *org_units(contact["department"]))
        else:
            out.add("ORG", account)
    for key, prop in (("title", "TITLE"), ("role", "ROLE")):
        value = contact.get(key) or (contact.get("fields") or {}).get(key)
        if value:
            out.add(prop, value)
    for position, item in enumerate(contact.get("emails") or ()):
        out.labelled("EMAIL", item["value"], label=item.get("label"),
                     params=_pref(position, version))  # fmt: skip
    for position, item in enumerate(contact.get("phones") or ()):
        out.labelled("TEL", item["value"], label=item.get("label"),
                     params=_pref(position, version))  # fmt: skip
    for address in _addresses(contact):
        parts = (address.get(key) or "" for key in _ADR_KEYS)
        out.labelled("ADR", *parts, label=address.get("label"))
    _dates(out, contact, version)
    urls = contact.get("urls") or []
    for item in urls:
        out.labelled("URL", item["value"], label=item.get("label"))
    old_url = (contact.get("fields") or {}).get("url")  # an older import kept it so
    if old_url and old_url not in (item["value"] for item in urls):
        out.add("URL", old_url)
    for item in contact.get("impps") or ():
        label = item.get("label")
        if label and all(word in _TYPE_WORDS["IMPP"] for word in label.split()):
            out.add("IMPP", item["value"], params=(f"TYPE={','.join(label.split())}",))
        else:  # the service: Skype, ICQ ...
            out.add("IMPP", item["value"],
                    params=(_param("X-SERVICE-TYPE", label),) if label else ())  # fmt: skip
    for item in contact.get("related") or ():
        _related(out, item, version)
    _media(out, "PHOTO", contact.get("photo"), version)


def org_units(department: str) -> list[str]:
    """ORG's units after the organisation: read_vcf reads ORG:Acme;Sales;East as the
    department `Sales; East`, written back so; other text is one unit."""
    units = department.split("; ")
    return units if all(unit and unit == unit.strip() for unit in units) else [department]


def _account_lines(out: _Card, account: dict, version: str) -> None:
    out.add("FN", account["name"])
    out.add("N", "", "", "", "", "")
    if not any(_KEPT.match(line) and _KEPT.match(line).group(2).upper() == "ORG"
               for line in account.get("vcard") or ()):  # fmt: skip
        out.add("ORG", account["name"])  # else the card's own ORG, kept
    if version == "4.0":
        out.add("KIND", "org")
    else:
        out.add("X-ABShowAs", "COMPANY")
    if account.get("email"):
        out.add("EMAIL", account["email"], params=_pref(0, version))
    if account.get("phone"):
        out.add("TEL", account["phone"], params=_pref(0, version))
    address = [account.get(key) or "" for key in _ADR_KEYS]
    if any(address):
        out.add("ADR", *address)
    if account.get("website"):
        out.add("URL", account["website"])
    _media(out, "LOGO", account.get("logo"), version)


_ADR_KEYS = ("po_box", "extended", "street", "city", "region", "postal_code", "country")
_COLUMNS = ("street", "city", "region", "postal_code", "country")


def _addresses(record: dict) -> list[dict]:
    """Every address; a record of an older crm has only the columns."""
    if record.get("addresses"):
        return record["addresses"]
    if "addresses" not in record and any(record.get(key) for key in _COLUMNS):
        return [{key: record.get(key) for key in _COLUMNS}]
    return []


def _pref(position: int, version: str) -> tuple[str, ...]:
    if position:
        return ()
    return ("PREF=1",) if version == "4.0" else ("TYPE=pref",)  # the primary one


def _date_value(value: str, version: str) -> tuple[str, tuple[str, ...]]:
    """A date as BDAY and ANNIVERSARY say it (--04-15 is --0415; no year is --0415 in
    3.0 too, as khard, vobject and ez-vcard read it); other text as text."""
    if re.match(r"--\d\d-\d\d\Z", value):
        value = f"--{value[2:4]}{value[5:]}"
    day = _BDAY.match(value)
    date = _DATE.match(value) and (day is None or _real_day(*day.group(1, 2, 3)))
    return value, () if date or version != "4.0" else ("VALUE=text",)


def _dates(out: _Card, contact: dict, version: str) -> None:
    fields = contact.get("fields") or {}
    birthday = contact.get("birthday") or fields.get("birthday")  # a BDAY crm could not read
    if birthday:
        value, params = _date_value(birthday, version)
        out.add("BDAY", value, params=params)
    if contact.get("anniversary"):
        value, params = _date_value(contact["anniversary"], version)
        out.add("ANNIVERSARY" if version == "4.0" else "X-ANNIVERSARY", value, params=params)
    for item in contact.get("dates") or ():
        group = out.group()
        out.add("X-ABDATE", _date_value(item["value"], "3.0")[0], group=group)
        if item.get("label"):
            out.add("X-ABLabel", item["label"], group=group)


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")


def _related(out: _Card, item: dict, version: str) -> None:
    """4.0's RELATED (a name is VALUE=text); 3.0 has none: Apple's X-ABRELATEDNAMES."""
    label = item.get("label")
    if version == "4.0":
        text = () if _URI.match(item["value"]) else ("VALUE=text",)
        out.labelled("RELATED", item["value"], label=label, params=text)
    else:
        group = out.group()
        out.add("X-ABRELATEDNAMES", item["value"], group=group)
        if label:
            out.add("X-ABLabel", label, group=group)


_MEDIA_TYPE = re.compile(r"[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+\Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")


def _media(out: _Card, name: str, media: dict | None, version: str) -> None:
    """PHOTO;ENCODING=b;TYPE=JPEG:... (3.0) or PHOTO:data:image/jpeg;base64,... (4.0)."""
    if not isinstance(media, dict) or not isinstance(media.get("data"), str):
        return  # none, or only its size (crm contact show -f json)
    media_type = str(media.get("media_type") or "application/octet-stream")
    data = media["data"]
    if not _MEDIA_TYPE.match(media_type) or not _BASE64.match(data):
        return
    if version == "4.0":
        line = f"{name}:data:{media_type.lower()};base64,{data}"
    else:
        kind = media_type.partition("/")[2].upper().removeprefix("X-")
        line = f"{name};ENCODING=b;TYPE={'JPEG' if kind == 'PJPEG' else kind}:{data}"
    out.lines.append(fold(line))
    out.names.add(name)


_KEPT = re.compile(r"(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)[;:]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _kept(writes: set[str]):
    """A kept line as written: folded, if it is one property (a name, maybe a group,
    parameters, a value: no line break) and not one crm writes itself (unless
    read_vcf keeps it too: _kept_again)."""

    def kept(line: str) -> str | None:
        match = _KEPT.match(line)
        if match is None or _CONTROL.search(line) or (at := _value_at(line)) < 0:
            return None
        name = match.group(2).upper()
        if (name in writes and not _kept_again(name, line[at:].strip())
                and not (name in _ALTERNATIVES
                         and _ALTERNATE.search(_QUOTED.sub("", line[: at - 1])))):  # fmt: skip
            return None
        return fold(line)

    return kept


# An alternative representation (ALTID, LANGUAGE: FN;LANGUAGE=ja:山田) of a property
# crm writes once is written back beside crm's own; a second plain one is not.
_ALTERNATIVES = {"FN", "N", "BDAY", "ANNIVERSARY", "GENDER"}
_ALTERNATE = re.compile(r"(?i);\s*(ALTID|LANGUAGE)\s*=")
_QUOTED = re.compile(r'"[^"]*"')  # a parameter's quoted value


def _kept_again(name: str, value: str) -> bool:
    """Whether read_vcf keeps this property of crm's own as it came, rather than
    reading it: a TEL that is no number, an EMAIL that is no address crm takes, a
    URL, IM or relation of several lines."""
    if name == "TEL":
        return not _phone(value.removeprefix("tel:").strip())
    if name == "EMAIL":
        return not _email(value.strip())
    return name in _LISTED and name != "EMAIL" and re.search(r"\\[nN]", value) is not None


# -- reading --------------------------------------------------------------------
def read_vcf(text: str | Source) -> Iterator[tuple[str, str, dict | str]]:
    """vCard 2.1, 3.0 or 4.0 cards (several a file) as contacts and accounts; a card
    with a line crm cannot read (its BEGIN and END clear) gives, in place of its
    record, what is wrong (`not a valid vCard file: line 4: ...`), which checks.checked
    passes on as that card's problem (--skip-invalid leaves just that card out).

    A KIND:org card (Apple: X-ABShowAs:COMPANY) is an account, read before the
    file's people (a person's ORG then finds it, wherever it is); a KIND:group card
    (Apple: X-ADDRESSBOOKSERVER-KIND:group) is no record but a tag, its name, on
    each of its members that the file holds (found by UID, urn:uuid:..., or
    mailto:); members the file does not hold are not created.  ROLE and UID are
    kept as custom fields (`role`, `uid`), so an export writes them back;
    properties crm has no field for are kept in `vcard`, as they came.

    crm finds the lines and cards itself and has vobject parse one card's lines:
    vobject's own reader takes some 100 times a long line's size in memory, and
    a card inside a card makes it fail.  Memory follows the biggest card: the file
    is read as it comes, once to see what it holds, again for each kind of card.
    """
    source = Source.of(text)
    split, grouped, companies = _first_look(source)
    groups = _group_tags(source.lines(split)) if grouped else {}
    if companies:  # first, so that a person's ORG finds its company's card, wherever it is
        yield from _read_cards(source.lines(split), groups, _company)
    people = (lambda lines: not _company(lines)) if companies else None
    yield from _read_cards(source.lines(split), groups, people)


def person_accounts(items: Iterator[tuple]) -> Iterator[tuple]:
    """`crm import --kind accounts`: each person's card (KIND:individual, or no KIND)
    a person account, the card its person's fields; KIND:org cards stay accounts."""
    for where, kind, data in items:
        if kind == "contacts" and isinstance(data, dict):
            yield where, "accounts", {**data, "kind": "person"}
        else:
            yield where, kind, data


def _first_look(source: Source) -> tuple[str, bool, bool]:
    """How the file's lines end ("lf" if any line ends at LF, else "cr"), and whether
    it may hold a group card and a company card (the hints: a first look without
    vobject; a hint found where there is none only costs another reading).

    Read a chunk at a time: a hint cut by a chunk's end is looked for again with the
    next chunk (or, if what may be its start is long, taken as found)."""
    lf = grouped = companies = False
    held = ""
    for chunk in source.chunks():
        text = held + chunk
        lf = lf or "\n" in chunk
        grouped = grouped or _GROUP_HINT.search(text) is not None
        companies = companies or _ORG_HINT.search(text) is not None
        begun = _HINT_BEGUN.search(text)
        if begun is not None and len(text) - begun.start() > 4096:
            grouped = companies = True
        held = text[begun.start() :] if begun is not None else text[-len("X-ABShowA") :]
    return ("lf" if lf else "cr"), grouped, companies


# Where a hint may begin at the end of a chunk, to be read on with the next one.
_HINT_BEGUN = re.compile(r"(?i)(?:KIND|X-ABShowAs)[^:\n]*(?::[ \t]*[a-z]*)?\Z")


def _read_cards(
    physical: Iterable[str], groups: dict, wanted
) -> Iterator[tuple[str, str, dict | str]]:
    for number, begun, lines in _cards(physical):
        if wanted is not None and not wanted(lines):
            continue
        try:
            kind, data, keys = _from_card(_parsed(lines, begun), begun)
        except Refused as exc:  # a line of this card: the card, not the file (--skip-invalid)
            kind = "accounts" if _company(lines) else "contacts"
            yield f"card {number} (line {begun})", kind, exc.message
            continue
        if kind == "group":
            continue
        tags = [tag for key in keys for tag in groups.get(key, ())]
        if tags:
            data["tags"] = list(dict.fromkeys([*data.get("tags", []), *tags]))
        yield f"card {number} (line {begun})", kind, data


_ORG_HINT = re.compile(r"(?i)KIND[^:\n]*:[ \t]*org|X-ABShowAs[^:\n]*:[ \t]*company")


def _company(lines: list[tuple[int, str]]) -> bool:
    """Whether a card's lines say KIND:org or X-ABShowAs:COMPANY (read without vobject)."""
    for _, line in lines:
        head, _, value = line.partition(":")
        name = head.partition(";")[0].rpartition(".")[2].strip().upper()
        value = value.strip().lower()
        if (name == "KIND" and value == "org") or (name == "X-ABSHOWAS" and value == "company"):
            return True
    return False


def _cards(physical: Iterable[str]) -> Iterator[tuple[int, int, list[tuple[int, str]]]]:
    """(number, line it begins on, its lines) for each card of the physical lines."""
    number, lines, begun = 0, None, 0
    for at, line in _logical_lines(physical):
        head, _, value = line.partition(":")
        name = head.partition(";")[0].rpartition(".")[2].strip().upper()
        value = value.strip().upper()
        if lines is None and name == "BEGIN":
            number += 1
            if value != "VCARD":
                raise Refused(f"card {number}: a {_kind(value)} is not a vCard")
            lines, begun = [], at
        elif lines is None:
            raise _broken(at, f"a card begins with BEGIN:VCARD, not {_shown(line)}")
        elif name == "BEGIN":
            raise _broken(at, f"BEGIN:{_kind(value)} inside the card begun on line {begun}:"
                          " crm reads cards one after another, not one inside another")  # fmt: skip
        elif name == "END":
            if value != "VCARD":
                raise _broken(at, f"END:{_kind(value)} ends the card begun on line {begun}")
            yield number, begun, lines
            lines = None
        else:
            lines.append((at, line))
    if lines is not None:
        raise _broken(begun, "the card begun here has no END:VCARD")


def _logical_lines(physical: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, line) for each property: folded lines (the next begins with a
    space or tab) unfolded, vCard 2.1's quoted-printable soft breaks (a line ending
    in =) joined; blank lines left out.

    Lines end at LF, CR LF or CR CR LF; a CR alone inside a line (Thunderbird
    writes them in a note) is a line break of the value.  Only a file without
    any LF has lines that end at CR: `physical` are the lines split so (see
    _first_look)."""
    pieces: list[str] = []
    begun = 0
    soft_break = empty_qp = False
    for number, line in enumerate(physical, start=1):
        line = line.rstrip("\n").rstrip("\r")
        if "\r" in line:
            line = line.replace("\r", "\\n")
        if soft_break and not _CARD_EDGE.match(line):  # a soft break never ends a card
            pieces.append(line)
        elif pieces and line[:1] in (" ", "\t"):
            pieces.append(line[1:])
        elif empty_qp and line.strip() and not _PROPERTY.match(line):
            pieces.append(line)  # Sony Ericsson: an empty QP value, the value on the next line
        else:
            if pieces and any(piece.strip() for piece in pieces):
                yield begun, "".join(pieces)
            pieces, begun = [line], number
        soft_break = line.endswith("=") and _quoted_printable(pieces[0])
        if soft_break:
            pieces[-1] = pieces[-1][:-1]
        empty_qp = len(pieces) == 1 and line.endswith(":") and _quoted_printable(line)
    if pieces and any(piece.strip() for piece in pieces):
        yield begun, "".join(pieces)


_PROPERTY = re.compile(r"\s*(?:[A-Za-z0-9-]+\.)?[A-Za-z0-9-]+\s*[;:]")
_CARD_EDGE = re.compile(r"(?i)\s*(BEGIN|END)\s*:\s*VCARD\s*\Z")


def _quoted_printable(line: str) -> bool:
    """Whether a property says ENCODING=QUOTED-PRINTABLE (or, as 2.1 may, just
    QUOTED-PRINTABLE) among its parameters."""
    params = line.partition(":")[0].upper().split(";")[1:]
    return any(
        param.strip() in ("QUOTED-PRINTABLE", "ENCODING=QUOTED-PRINTABLE") for param in params
    )


# Left to vobject: values with parts (N, ADR, ORG) or a list (CATEGORIES).
_STRUCTURED = {"N", "ADR", "ORG", "CATEGORIES"}
_ESCAPED = re.compile(r"\\([\\;,:Nn\"])")
_COLON = re.compile(r"(?<!\\)((?:\\\\)*)\\:")  # Apple's \: (no escape in vCard)
_BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}


class _Prop:
    """A property of a card as read: vobject's, the line number, and the line."""

    __slots__ = ("at", "group", "line", "name", "prop")

    def __init__(self, at: int, line: str, prop):
        self.at, self.line, self.prop = at, line, prop
        self.name = prop.name.upper()
        self.group = (prop.group or "").lower() or None


def _parsed(lines: list[tuple[int, str]], begun: int) -> list[_Prop]:
    """One card's lines as vobject properties, in the order of the file.

    Text values are unescaped here, whole: vobject keeps only what comes before
    the first unescaped comma (`NOTE:Call him, he is nice` -> `Call him`).
    Binary values (PHOTO, LOGO, SOUND, KEY) are not given to vobject, only their
    names and parameters.
    """
    from vobject import base

    card = base.Component("VCARD")
    props = []
    for at, line in lines:
        value_at = _value_at(line)
        if value_at < 0 and len(line) > _HEAD_MOST:
            raise _broken(at, f"no value within {_HEAD_MOST:,} characters: {_shown(line)}")
        binary = value_at > 0 and _BINARY_HEAD.match(line) is not None
        try:
            prop = _content_line(line[:value_at] if binary else line, at, value_at)
        except base.ParseError:
            raise _broken(at, f"not a property (NAME:VALUE): {_shown(line)}") from None
        except Exception as exc:  # quoted-printable text in an unknown or wrong charset
            raise _broken(at, f"cannot read {_shown(line)}: {str(exc)[:200]}") from None
        if binary:
            props.append(_Prop(at, line, prop))
            continue
        if "\r" in prop.value:  # quoted-printable =0D=0A: line breaks are LF, as crm keeps them
            prop.value = prop.value.replace("\r\n", "\n").replace("\r", "\n")
        if "\\" in prop.value:
            value = _COLON.sub(r"\1:", prop.value)
            prop.value = value if prop.name in _STRUCTURED else _ESCAPED.sub(_unescaped, value)
        if prop.name not in _STRUCTURED:
            prop.encoded = False
        card.add(prop)
        props.append(_Prop(at, line, prop))
    try:
        card.setBehavior(base.getBehavior("VCARD"))
        card.transformChildrenToNative()  # in place: the props above are read
    except Exception as exc:  # vobject raises several kinds for a value it cannot take
        at = getattr(exc, "lineNumber", None) or begun
        raise _broken(at, f"cannot read the card: {str(exc)[:200]}") from None
    return props


def _content_line(line: str, at: int, value_at: int):
    """vobject's property; quoted-printable bytes that are not UTF-8 in a property
    that names no CHARSET are read as Windows-1252 (2.1 says ASCII: Outlook and
    older phones write their code page)."""
    from vobject import base

    try:
        return base.textLineToContentLine(line, at)
    except UnicodeDecodeError:
        if "CHARSET=" in line[:value_at].upper() or not _quoted_printable(line):
            raise
    return base.textLineToContentLine(f"{line[: value_at - 1]};CHARSET=windows-1252"
                                      f"{line[value_at - 1 :]}", at)  # fmt: skip


_BINARY_HEAD = re.compile(r"(?i)(?:[A-Za-z0-9-]+\.)?(?:PHOTO|LOGO|SOUND|KEY)\s*[;:]")


# A property's name and parameters: vobject's expression for them takes some 200
# bytes a character, so a megabyte of `;X=a;X=a...` would take gigabytes.
_HEAD_MOST = 10_000


def _value_at(line: str) -> int:
    """Where a property's value begins (after the first : outside double quotes), if
    within _HEAD_MOST characters; else -1."""
    quoted = False
    for index, char in enumerate(line[:_HEAD_MOST]):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index + 1
    return -1


def _unescaped(match: re.Match) -> str:
    return "\n" if match.group(1) in "nN" else match.group(1)


def _broken(line: int, what: str) -> Refused:
    return Refused(f"not a valid vCard file: line {line}: {what}")


def _shown(text: str, most: int = 40) -> str:
    """Text of the file in a message: quoted, and cut short."""
    return repr(text if len(text) <= most else text[:most] + "...")


def _kind(value: str) -> str:
    """What BEGIN: or END: names (VCARD), as given if it is a name."""
    return value if re.match(r"[A-Z0-9-]{1,40}\Z", value) else _shown(value)


# -- groups ------------------------------------------------------------------------
_GROUP_HINT = re.compile(r"(?i)KIND[^:\n]*:[ \t]*group")


def _group_tags(physical: Iterable[str]) -> dict[str, list[str]]:
    """Member key (see _member_key) -> the names of the groups that list it.  A first
    look at the file, without vobject; a broken file is left to the reading proper."""
    tags: dict[str, list[str]] = {}
    try:
        for _, _, lines in _cards(physical):
            name, members, group = None, [], False
            for _, line in lines:
                head, _, value = line.partition(":")
                prop = head.partition(";")[0].rpartition(".")[2].strip().upper()
                if prop in _GROUP_KIND:
                    group = group or value.strip().lower() == "group"
                elif prop == "FN" or (prop == "N" and name is None):
                    text_value = _ESCAPED.sub(_unescaped, value.split(";")[0] if prop == "N"
                                              else value).strip()  # fmt: skip
                    name = text_value or name
                elif prop in _MEMBER:
                    members.append(value)
            if group and name:
                for member in members:
                    tags.setdefault(_member_key(member), []).append(name)
    except Refused:
        return tags
    return tags


def _member_key(value: str) -> str:
    """urn:uuid:X and a bare X are one; mailto:a@b.example stays a mailto: URI."""
    key = value.strip().lower()
    return key.removeprefix("urn:uuid:")


# -- a card as a record --------------------------------------------------------------
_TYPE_SKIP = {"internet", "pref", "x400", "voice", "dom", "intl", "postal", "parcel", "msg",
              "quoted-printable", "base64", "8bit", "7bit"}  # fmt: skip
_BDAY = re.compile(r"(\d{4}|-)-?(\d{2})-?(\d{2})(T[\dZ:.+-]*)?\Z")


class _Reading:
    """What one card gives, as it is read."""

    def __init__(self, props: list[_Prop]):
        self.props = props
        self.data: dict = {}
        self.fields: dict[str, str] = {}
        self.lists: dict[str, list] = {key: [] for key in
                                       ("emails", "phones", "addresses", "urls", "impps",
                                        "related", "dates")}  # fmt: skip
        self.kept: list[tuple[int, str]] = []  # (position, line)
        self.used: set[str] = set()  # the groups whose label a read property took
        self.labels = {
            p.group: str(p.prop.value) for p in props if p.name == "X-ABLABEL" and p.group
        }
        self.seen: dict[str, int] = {}  # how many of a property were read so far
        self.org: tuple | None = None  # an account card's ORG: (position, property, parts)

    def label(self, p: _Prop, *more: str | None) -> str | None:
        """A group's X-ABLabel, else the first of `more`, else the TYPE words."""
        if p.group in self.labels:
            self.used.add(p.group)
            return _clean_label(self.labels[p.group])
        for label in more:
            if label:
                return _clean_label(label)
        return _type_label(p)

    def first(self, p: _Prop) -> bool:
        """Whether this is the card's first property of its name (later ones are kept)."""
        self.seen[p.name] = self.seen.get(p.name, 0) + 1
        return self.seen[p.name] == 1

    def keep(self, position: int, p: _Prop) -> None:
        """Kept as it came, NFC-normalised as crm's text is, without control
        characters (Outlook's FBURL ends in a form feed): one property still."""
        self.kept.append((position, _CONTROL.sub("", _nfc(_as_kept(p)))))


def _from_card(props: list[_Prop], begun: int) -> tuple[str, dict, list[str]]:
    """(kind, record, the keys a group's MEMBER finds it by) for one card."""
    kind = "contacts"
    for p in props:
        value = str(p.prop.value).strip().lower() if p.name not in _BINARY else ""
        if (p.name in _GROUP_KIND and value == "group") and kind == "contacts":
            kind = "group"
        elif (p.name == "KIND" and value == "org") or (p.name == "X-ABSHOWAS"
                                                       and value == "company"):  # fmt: skip
            kind = "accounts"
    card = _Reading(props)
    for position, p in enumerate(props):
        if p.name != "X-ABLABEL":
            _read(card, position, p, kind)
    for position, p in enumerate(props):  # a label no read property took is kept
        if p.name == "X-ABLABEL" and (p.group is None or p.group not in card.used):
            card.keep(position, p)
    data, lists = card.data, card.lists
    if card.org and (card.org[2] > 1 or data.get("name") not in (None, data.get("account"))):
        card.keep(*card.org[:2])  # a unit's card (FN:ABC Marketing, ORG:ABC;Marketing): kept
    keys = [_member_key(card.fields["uid"])] if card.fields.get("uid") else []
    keys += [f"mailto:{item['value'].lower()}" for item in lists["emails"]]
    if lists["addresses"]:
        data.update({key: lists["addresses"][0][key] for key in _COLUMNS})
    if card.fields:
        data["fields"] = card.fields
    if card.kept:
        data["vcard"] = [line for _, line in sorted(card.kept)]
    if kind == "accounts":
        return kind, _as_account(data, lists), keys
    data.update({key: value for key, value in lists.items() if value})
    if not data.get("name") and not any(data.get(key) for key in _NAME_PARTS):
        # named by what it has (an e-mail alone, a nickname alone, a company alone)
        data["name"] = (data.get("nickname")
                        or (lists["emails"][0]["value"] if lists["emails"] else None)
                        or data.get("account")
                        or (lists["phones"][0]["value"] if lists["phones"] else None)
                        or _first_line(data.get("description")))  # fmt: skip
    record = {key: value for key, value in data.items() if value not in (None, "")}
    if not any(record.get(key) for key in _NAME_PARTS):
        # no N, or an empty one: the parts are empty as the card says, not split from FN
        record.update(first_name=None, last_name=None)
    return kind, record, keys


def _first_line(note: str | None, most: int = 60) -> str | None:
    """A card with nothing but a note (a phone's memo) is named by the note's first
    line, cut short: kept, rather than refusing the whole file."""
    line = next((line.strip() for line in (note or "").splitlines() if line.strip()), None)
    return line if line is None or len(line) <= most else line[: most - 1].rstrip() + "…"


_NAME_PARTS = ("prefix", "first_name", "middle_name", "last_name", "suffix")
_N_KEYS = (("family", "last_name"), ("given", "first_name"), ("additional", "middle_name"),
           ("prefix", "prefix"), ("suffix", "suffix"))  # fmt: skip
_ADR_PARTS = (("box", "po_box"), ("extended", "extended"), ("street", "street"),
              ("city", "city"), ("region", "region"), ("code", "postal_code"),
              ("country", "country"))  # fmt: skip


_ACCOUNT_READS = {"FN", "ORG", "EMAIL", "TEL", "ADR", "URL", "NOTE", "CATEGORIES", "UID",
                  "PHOTO", "LOGO", "VERSION", "PRODID", "REV", "PROFILE", "LABEL", "X-ABSHOWAS",
                  "X-CRM-FIELD", *_GROUP_KIND}  # fmt: skip


_BREAK = re.compile(r"[\r\n]")
_LISTED = {"EMAIL", "TEL", "URL", "IMPP", "RELATED", "X-ABRELATEDNAMES", "X-SOCIALPROFILE",
           *_IMPP_NAMES, *_RELATED_NAMES}  # fmt: skip


def _read(card: _Reading, position: int, p: _Prop, kind: str) -> None:
    """One property into the record, or kept as it came."""
    name, value, data, lists = p.name, p.prop.value, card.data, card.lists
    text = "" if name in _BINARY or not isinstance(value, str) else value
    if name in _LISTED and not text.strip():
        return  # EMAIL;INTERNET: with no address (phones write them)
    if name in _LISTED and name not in ("EMAIL", "TEL") and _BREAK.search(text.strip()):
        card.keep(position, p)  # a URL, IM or relation is one line: text kept as it came
        return
    if kind == "accounts" and name not in _ACCOUNT_READS:
        if name != "N" or any(_joined(getattr(value, part), " ") for part, _ in _N_KEYS):
            card.keep(position, p)  # a title, a birthday ... on a company's card
        return
    if name in ("VERSION", "PRODID", "REV", "PROFILE", "LABEL") or name in _GROUP_KIND:
        return  # LABEL: the text of an address that ADR holds
    if name == "X-ABSHOWAS" and text.strip().upper() == "COMPANY":
        return
    if name in _MEMBER and kind == "group":
        return
    if name == "FN" and card.first(p):
        if text.strip():
            data["name"] = text
    elif name == "N" and card.first(p):
        for part, key in _N_KEYS:
            data[key] = _joined(getattr(value, part), " ") or None
    elif name == "NICKNAME" and card.first(p):
        data["nickname"] = text or None
    elif name in ("GENDER", "X-GENDER") and "gender" not in data:
        data["gender"] = text.strip() or None
    elif name == "ORG" and kind == "accounts" and card.first(p):
        parts = [_joined(part, ",") for part in value] if isinstance(value, list) else [text]
        data["account"] = parts[0].strip() or None
        card.org = (position, p, len([part for part in parts if part.strip()]))
    elif name == "ORG" and card.first(p):
        parts = [_joined(part, ",") for part in value] if isinstance(value, list) else [
            text.strip()]  # fmt: skip
        data["account"] = parts[0] or None
        if len(parts) > 1 and any(parts[1:]):
            data["department"] = "; ".join(part for part in parts[1:] if part)
    elif name == "X-DEPARTMENT" and card.first(p):  # crm's own export used to write it
        data.setdefault("department", text.strip() or None)
    elif name in ("TITLE", "ROLE") and card.first(p):
        if name == "TITLE":
            data["title"] = text or None
        else:
            card.fields["role"] = text
    elif name == "UID" and card.first(p):
        card.fields["uid"] = text
    elif name == _FIELD and (key := _field_key(p)) and key not in card.fields:
        card.fields[key] = text  # crm's custom field, as crm wrote it
    elif name == "EMAIL":
        if _email(text.strip()):
            lists["emails"].append({"value": text.strip(), "label": card.label(p)})
        else:  # not an address crm takes (`semicolon;@points.net`): kept as it came
            card.keep(position, p)
    elif name == "TEL":
        number = text.strip().removeprefix("tel:").strip()
        if _phone(number):
            lists["phones"].append({"value": number, "label": card.label(p)})
        else:  # text, not a number (+1-800-MYFAX, a placeholder): kept as it came
            card.keep(position, p)
    elif name == "ADR":
        address = {key: _joined(getattr(value, part), ",") or None for part, key in _ADR_PARTS}
        lists["addresses"].append({"label": card.label(p), **address})
    elif name == "URL":
        lists["urls"].append({"value": text.strip(), "label": card.label(p)})
    elif name == "X-SOCIALPROFILE":  # a profile's URL, labelled by its service
        service = (p.prop.params.get("TYPE") or [None])[0]
        lists["urls"].append({"value": text.strip(), "label": card.label(p, service)})
    elif name == "IMPP" or name in _IMPP_NAMES:
        _impp(card, p, text.strip())
    elif name == "RELATED" or name == "X-ABRELATEDNAMES" or name in _RELATED_NAMES:
        label = card.label(p, _RELATED_NAMES.get(name))
        lists["related"].append({"value": text.strip(), "label": label})
    elif name == "BDAY" and "birthday" not in data and "birthday" not in card.fields:
        day = _date(text, p)
        if day:
            data["birthday"] = day
        elif text.strip():
            card.fields["birthday"] = text  # text: kept as it is
    elif name in _ANNIVERSARY_NAMES or name == "X-ABDATE":
        label = "anniversary" if name != "X-ABDATE" else card.label(p)
        day = _date(text, p)
        if label == "anniversary" and day and not data.get("anniversary"):
            data["anniversary"] = day
        elif text.strip():
            lists["dates"].append({"value": day or text.strip(), "label": label})
    elif name == "NOTE" and card.first(p):
        data["description"] = text.replace("\r\n", "\n")
    elif name == "CATEGORIES":
        tags = value if isinstance(value, list) else text.split(",")
        data["tags"] = [*data.get("tags", []), *tags]
    elif name in ("PHOTO", "LOGO") and _wanted_media(card, p, kind):
        media = _media_of(p)
        if media is None:
            card.keep(position, p)  # a URL, not the picture
        else:
            data["logo" if kind == "accounts" else "photo"] = media
    elif not (name in _ONCE and any(q.line == p.line for q in card.props[:position])):
        card.keep(position, p)  # (a second UID or BDAY that says the first again: read)


_ONCE = {"UID", "BDAY", "FN", "N", "GENDER", "ANNIVERSARY"}


def _field_key(p: _Prop) -> str | None:
    """X-CRM-FIELD's X-NAME, if crm takes it as a custom field's key."""
    key = (p.prop.params.get("X-NAME") or [""])[0].strip()
    return key if key and key not in _FIELDS_WRITTEN and _FIELD_KEY.match(key) else None


_FIELD_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")  # models.field_key


def _phone(number: str) -> bool:
    """Whether crm takes this as a phone number (models.phone)."""
    from crmcli.errors import InvalidValue
    from crmcli.models import phone

    try:
        return phone(number) is not None
    except InvalidValue:
        return False


def _email(address: str) -> bool:
    """Whether crm takes this as an e-mail address (models.email)."""
    from crmcli.errors import InvalidValue
    from crmcli.models import email

    try:
        return email(address) is not None
    except InvalidValue:
        return False


def _wanted_media(card: _Reading, p: _Prop, kind: str) -> bool:
    """A contact's picture is its PHOTO, an account's its LOGO (or PHOTO): the first."""
    key = "logo" if kind == "accounts" else "photo"
    return key not in card.data and (p.name == "PHOTO" or kind == "accounts")


def _impp(card: _Reading, p: _Prop, value: str) -> None:
    """IMPP's URI, or Apple's and others' X-SKYPE:jane.doe as skype:jane.doe; the
    label is the service (X-SERVICE-TYPE, or the property's), else its TYPE."""
    scheme = _IMPP_NAMES.get(p.name)
    if scheme and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value):
        value = f"{scheme}:{value}"
    if not value:
        return
    service = (p.prop.params.get("X-SERVICE-TYPE") or [None])[0]
    named = p.name.removeprefix("X-").lower() if scheme else None
    label = card.label(p, service, named)
    impps = card.lists["impps"]
    if value.lower() not in (item["value"].lower() for item in impps):  # Apple writes both
        impps.append({"value": value, "label": label})


def _date(value: str, p: _Prop) -> str | None:
    """A date as YYYY-MM-DD (19900423, and a time after it too) or, without a year
    (--0415, Apple's X-APPLE-OMIT-YEAR), --MM-DD; None for other text."""
    match = _BDAY.match(value.strip())
    if not match:
        return None
    year = match.group(1)
    omit = (p.prop.params.get("X-APPLE-OMIT-YEAR") or [None])[0]
    if omit and omit.strip() == year:
        year = "-"
    if not _real_day(year, *match.group(2, 3)):
        return None  # 1990-02-30, 0000-00-00: text, kept as it came
    return "-".join((year, *match.group(2, 3)))


def _real_day(year: str, month: str, day: str) -> bool:
    """Whether it is a day of the calendar (a year-less one: of a leap year)."""
    import datetime as dt

    try:
        dt.date(2000 if year == "-" else int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _nfc(text: str) -> str:
    import unicodedata

    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _joined(value, sep: str) -> str:
    """A component of N or ADR; several values (a list) joined by `sep`."""
    if isinstance(value, list) and sep == ",":  # a comma that was not escaped, as it was
        return ",".join(value).strip()
    if isinstance(value, list):
        return sep.join(part.strip() for part in value if part.strip())
    return (value or "").strip()


def _type_label(p: _Prop) -> str | None:
    """`home fax` from TEL;TYPE=HOME,FAX, 2.1's bare TEL;HOME;FAX, `mobile` for CELL."""
    words = [*p.prop.singletonparams]
    for item in p.prop.params.get("TYPE", []):
        words += item.split(",")
    label = []
    for word in (word.strip().lower() for word in words):
        word = {"cell": "mobile"}.get(word, word)
        if word and word not in _TYPE_SKIP and word not in label:
            label.append(word)
    return _clean_label(" ".join(label)) if label else None


_APPLE = re.compile(r"_\$!<(.*)>!\$_\Z")


def _clean_label(label: str) -> str | None:
    """Another program's label as crm keeps it: Apple's `_$!<HomePage>!$_` as
    `homepage`; begins with a letter; `:`, `;` and control characters, which a
    `label:value` cell cannot hold, as spaces (models.clean_label).  One too long is
    left for the check to refuse."""
    from crmcli.models import clean_label

    label = _nfc(label.strip())
    if match := _APPLE.match(label):
        label = match.group(1)
    label = re.sub(r"^[\W\d_]+", "", clean_label(label).lower())
    return label or None


_MEDIA_TYPES = {"JPEG": "image/jpeg", "JPG": "image/jpeg", "PJPEG": "image/jpeg",
                "PNG": "image/png", "GIF": "image/gif", "BMP": "image/bmp",
                "TIFF": "image/tiff", "WEBP": "image/webp", "HEIC": "image/heic"}  # fmt: skip
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"),
          (b"BM", "image/bmp"), (b"RIFF", "image/webp"))  # fmt: skip


def _media_of(p: _Prop) -> dict | None:
    """{"media_type", "data": base64} from 2.1's ENCODING=BASE64, 3.0's ENCODING=b,
    4.0's data: URI (also with ENCODING=b); None for a URL."""
    value = p.line[_value_at(p.line) :].strip()
    params = p.prop.params
    encoding = {item.upper() for item in params.get("ENCODING", [])}
    encoding.update(item.upper() for item in p.prop.singletonparams)
    media = None
    if value[:5].lower() == "data:":
        head, _, value = value[5:].partition(",")
        if ";base64" not in head.lower():
            return None  # text in the URI itself: kept as it came
        media = head.partition(";")[0].strip().lower() or None
    elif not encoding & {"B", "BASE64"} and not (
        _URI_HEAD.match(value) is None and _BASE64_TEXT.match(value[:4096])
    ):  # a URL; Thunderbird's 3.0 writes base64 without ENCODING
        return None
    if media is None:
        named = [*params.get("TYPE", []), *params.get("MEDIATYPE", []),
                 *p.prop.singletonparams]  # fmt: skip
        for item in named:
            item = item.strip()
            media = ("/" in item and item.lower()) or _MEDIA_TYPES.get(item.upper()) or media
    data = re.sub(r"\s+", "", value)
    data += "=" * (-len(data) % 4)
    try:
        head = base64.b64decode(data[:64], validate=True)
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _broken(p.at, f"the {p.name}'s data is not base64") from None
    if media is None:
        media = next((kind for magic, kind in _MAGIC if head.startswith(magic)),
                     "application/octet-stream")  # fmt: skip
    return {"media_type": media, "data": data}


_URI_HEAD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/\s]{16,}={0,2}\s*\Z")


_QP_PARAM = re.compile(r"(?i)(ENCODING=)?QUOTED-PRINTABLE\Z|CHARSET=")


def _as_kept(p: _Prop) -> str:
    """A property crm has no field for, as `vcard` keeps it: the line as it came,
    unfolded; quoted-printable decoded to text (ENCODING and CHARSET dropped)."""
    line = p.line
    if not _quoted_printable(line):
        return line
    head = line[: _value_at(line) - 1]
    params = [param for param in head.split(";") if not _QP_PARAM.match(param.strip())]
    value = str(p.prop.value).replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return ";".join(params) + ":" + value


def _as_account(data: dict, lists: dict) -> dict:
    """A KIND:org card as an account: one e-mail, phone and website (the others are
    kept as they came); the card's name, else its ORG."""
    account = {
        "name": data.get("name") or data.get("account"),
        "kind": "business",
        "email": lists["emails"][0]["value"] if lists["emails"] else None,
        "phone": lists["phones"][0]["value"] if lists["phones"] else None,
        "website": lists["urls"][0]["value"] if lists["urls"] else None,
        **{key: data.get(key) for key in (*_COLUMNS, "description", "tags", "fields", "logo")},
    }
    extra = []
    for key, prop in (("emails", "EMAIL"), ("phones", "TEL"), ("urls", "URL")):
        extra += [_line(prop, item["value"]).rstrip("\r\n").replace("\r\n ", "")
                  for item in lists[key][1:]]  # fmt: skip
    for address in lists["addresses"][1:]:
        line = _line("ADR", *(address[key] or "" for key in _ADR_KEYS))
        extra.append(line.rstrip("\r\n").replace("\r\n ", ""))
    vcard = [*data.get("vcard", []), *extra]
    if vcard:
        account["vcard"] = vcard
    return {key: value for key, value in account.items() if value not in (None, "", [])}
