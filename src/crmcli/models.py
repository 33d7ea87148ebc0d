"""Record fields and the rules their values must follow.

Records travel as plain dicts whose keys are the JSON field names of SPEC, in
the order the tuples below give.  Everything here is pure Python: the store
calls these checks before it writes, so a bad value is exit 2 and nothing is
written.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import TYPE_CHECKING

from crmcli.errors import InvalidValue

if TYPE_CHECKING:
    from decimal import Decimal

LINE_MAX = 500  # names, titles and other single-line fields
EMAIL_MAX = 254
TEXT_MAX_BYTES = 1_000_000  # descriptions and bodies
KEY_MAX = 64  # custom field keys
MAX_INT = 2**63 - 1  # SQLite's largest integer: ids, --limit, --offset

ACCOUNT_KINDS = ("business", "person")
ACCOUNT_TYPES = ("customer", "prospect", "partner", "vendor", "competitor", "other")

ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country")
# One of a contact's `addresses`: vCard ADR's seven parts and a label.
ADDRESS_KEYS = ("label", "po_box", "extended", *ADDRESS_FIELDS)
NAME_PARTS = ("prefix", "first_name", "middle_name", "last_name", "suffix")  # as a name reads
# Contacts' labelled lists of {value, label} besides e-mails and phones, and `vcard`.
ITEM_LISTS = ("urls", "impps", "related", "dates")
LIST_MAX = 100  # addresses, URLs, IM handles, related people, dates: items a contact has
URI_MAX = 2_000  # a URL, IM handle or related person's URI
VCARD_MAX = 1_000  # unknown vCard properties kept for one record

ACCOUNT_FIELDS = (
    "id",
    "name",
    "kind",
    "type",
    "industry",
    "website",
    "email",
    "phone",
    *ADDRESS_FIELDS,
    "parent_id",
    "parent",
    "person_contact_id",
    "description",
    "tags",
    "fields",
    "vcard",
    "logo",
    "created_at",
    "updated_at",
)

CONTACT_FIELDS = (
    "id",
    "name",
    "prefix",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "nickname",
    "title",
    "department",
    "email",
    "phone",
    "emails",
    "phones",
    "account_id",
    "account",
    "person_account_id",
    *ADDRESS_FIELDS,
    "addresses",
    "urls",
    "impps",
    "related",
    "birthday",
    "anniversary",
    "dates",
    "gender",
    "description",
    "every",
    "last_contacted",
    "tags",
    "fields",
    "vcard",
    "photo",
    "created_at",
    "updated_at",
)

DEAL_FIELDS = (
    "id",
    "name",
    "account_id",
    "account",
    "contact_id",
    "contact",
    "amount",
    "currency",
    "stage",
    "probability",
    "status",
    "close_date",
    "description",
    "tags",
    "fields",
    "created_at",
    "updated_at",
)

ACTIVITY_FIELDS = (
    "id",
    "kind",
    "subject",
    "body",
    "summary",
    "at",
    "account_id",
    "account",
    "contact_id",
    "contact",
    "deal_id",
    "deal",
    "tags",
    "fields",
    "created_at",
    "updated_at",
)

TASK_FIELDS = (
    "id",
    "title",
    "due",
    "done",
    "done_at",
    "account_id",
    "account",
    "contact_id",
    "contact",
    "deal_id",
    "deal",
    "tags",
    "fields",
    "created_at",
    "updated_at",
)

FIELDS_BY_KIND = {
    "accounts": ACCOUNT_FIELDS,
    "contacts": CONTACT_FIELDS,
    "deals": DEAL_FIELDS,
    "activities": ACTIVITY_FIELDS,
    "tasks": TASK_FIELDS,
}

# Patterns are kept as text and compiled by re's own cache on first use, so a
# command pays only for the ones it needs.

_KEY = r"[A-Za-z_][A-Za-z0-9_.-]*\Z"
# A label: anything up to the first `:` but `;` and control characters (LABEL_MAX).
_LABELLED = r"(?s)([^\W\d_][^:;\x00-\x1f\x7f-\x9f]{0,39}):(?!//)(.*)\Z"  # `work:`: empty value
_PHONE = r"(?i)[0-9+().\-/ *#,]+((ext\.?|x|#|;ext=) ?[0-9]+)?\Z"
# Where a `label:value;value` cell or summary column of phones splits: a `;` that
# does not begin a tel: URI's extension (+1-418-656-9254;ext=102).
PHONES_SPLIT = r"(?i);(?!ext=)"
# What phones and address books put in a number that is no part of it: direction
# marks (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) are dropped, no-break
# spaces (U+00A0, U+2007, U+202F) are spaces.
_PHONE_MARKS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_PHONE_SPACES = "[\u00a0\u2007\u202f]"


def nfc(text: str) -> str:
    """Text as stored: NFC-normalised; bytes that were not UTF-8 are refused."""
    if text.isascii():  # most text: valid and already NFC (a quarter of an import's time)
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue(f"{text!r} is not valid UTF-8 text") from None
    return unicodedata.normalize("NFC", text)


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, unchanged
# since Unicode 14): characters that render as nothing unless a font chooses
# otherwise (U+200B zero width space, U+2060 word joiner, U+FEFF, soft hyphen,
# bidi controls, variation selectors, Hangul fillers, tags ...).
IGNORABLE = (
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def fold(text: str) -> str:
    """The key two names are compared by: case, composition and invisible
    characters (IGNORABLE) ignored.  Stored in name_key columns: changing it
    needs a migration that recomputes them (see migrations.m008_visible_keys)."""
    if text.isascii():
        return text.lower()  # the same as below for ASCII, five times faster
    visible = re.sub(IGNORABLE, "", text)
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", visible).casefold())


NATURAL_WIDTH = 20  # digits a number of a name_order key is padded to
_DIGITS = re.compile(r"\d+")  # Unicode decimal digits too (category Nd)


def natural_key(key: str) -> str:
    """A name key (fold's) whose plain byte order is natural order, stored in
    name_order columns: `person 2` before `person 10`.  Each run of digits (any
    script's) becomes its number, zero-padded to NATURAL_WIDTH digits; a longer
    number becomes `:`, its digit count (4 digits) and its digits, so that it
    comes after every shorter one (`:` follows `9`).  Leading zeros are dropped:
    `Person 007` sorts as `Person 7`.  Changing it needs a migration that
    recomputes the columns (see migrations.m016_natural_names)."""

    def number(match: re.Match) -> str:
        run = match.group()
        if not run.isascii():  # no int(): it refuses runs of over 4,300 digits
            run = "".join(str(unicodedata.decimal(digit)) for digit in run)
        digits = run.lstrip("0") or "0"
        if len(digits) <= NATURAL_WIDTH:
            return digits.zfill(NATURAL_WIDTH)
        return f":{len(digits):04d}{digits}"

    return _DIGITS.sub(number, key)


def email_key(address: str) -> str:
    """The key two e-mail addresses are compared by (the one-contact-per-address
    rule, references, --where email=): lower case, after NFKC (so that
    full-width `ｊａｎｅ@ａｃｍｅ.example` is jane@acme.example), with the domain's
    IDNA labels (`xn--bcher-kva`) read as the Unicode they stand for (`bücher`),
    so that both spellings of a domain give one key.  Never fails."""
    lowered = address.lower()
    if address.isascii() and "xn--" not in lowered:
        return lowered  # nearly every address: what fold() gives, at once
    local, at, domain = address.rpartition("@")
    if not at:
        return _nfkc_fold(address)
    domain = re.sub("[\u3002\uff0e\uff61]", ".", domain)  # IDNA's other dots
    labels = domain.split(".")
    if len(domain) <= 253:  # longer is no domain (and may be any text a reference holds)
        labels = [_idna_label(label) for label in labels]
    return _nfkc_fold(local) + "@" + ".".join(_nfkc_fold(label) for label in labels)


def _nfkc_fold(text: str) -> str:
    """Case, width and invisible characters ignored; but lower(), not casefold():
    casefold's ß -> ss and ς -> σ would make two different addresses one
    (`faß.example` and `fass.example` are two domains under IDNA 2008)."""
    if text.isascii():
        return text.lower()
    visible = re.sub(IGNORABLE, "", unicodedata.normalize("NFKC", text))
    return unicodedata.normalize("NFC", visible.lower())


def _idna_label(label: str) -> str:
    """An `xn--` label as the Unicode label it encodes; any other label as it is.

    The standard library's punycode codec does the decoding; a label that does
    not decode, or is not the encoding of its decoding (IDNA's own test), is
    kept as typed.  Labels longer than DNS allows are not decoded: punycode is
    quadratic, and a reference may be any text."""
    if not (label[:4].lower() == "xn--" and label.isascii() and len(label) <= 63):
        return label
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
        again = decoded.encode("punycode").decode("ascii")
    except (UnicodeError, ValueError, OverflowError):
        return label
    if decoded.isascii() or again.lower() != label[4:].lower():
        return label
    return decoded


def _check_length(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidValue(f"{field} is too long: {len(value):,} characters (at most {limit:,})")
    return value


def line(field: str, value: str | None) -> str | None:
    """A single-line optional field; '' clears it."""
    if value is None:
        return None
    value = nfc(value)
    if not value.strip():
        return None
    # The length checked here only when it is too long: every import checks many lines.
    return value if len(value) <= LINE_MAX else _check_length(field, value, LINE_MAX)


def name(field: str, value: str | None) -> str:
    """A required name: surrounding blanks dropped, must not be empty."""
    value = nfc(value or "").strip()
    if not value:
        raise InvalidValue(f"{field} must not be empty")
    if not fold(value).strip():
        raise InvalidValue(f"{field} must not be empty (it holds only invisible characters)")
    return value if len(value) <= LINE_MAX else _check_length(field, value, LINE_MAX)


def text(field: str, value: str | None) -> str | None:
    """A long, multi-line optional field such as a description."""
    if value is None:
        return None
    value = nfc(value)
    if not value.strip():
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > TEXT_MAX_BYTES:
        raise InvalidValue(
            f"{field} is too large: {size:,} bytes (at most {TEXT_MAX_BYTES:,} bytes)"
        )
    return value


def choice(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    folded = value.strip().lower()
    if folded not in allowed:
        raise InvalidValue(f"{field} must be one of {', '.join(allowed)} (got {value!r})")
    return folded


def email(value: str | None, field: str = "email") -> str | None:
    """A syntactically valid address (no DNS look-up), stored as typed."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) <= EMAIL_MAX and text.isascii() and _plain(text):
        return text  # nearly every address: what the checks below make of it (ASCII is NFC)
    value = _check_length(field, nfc(text), EMAIL_MAX)
    problem = _email_problem(value)
    if problem:
        raise InvalidValue(f"invalid {field} {value!r}: {problem}")
    return value


# RFC 5322 dot-atom characters; RFC 6531 also allows any non-ASCII letter.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+\Z"
_DOMAIN_LABEL = r"(?!-)[^\W_]([^\W_]|-)*(?<!-)\Z"


def _email_problem(address: str) -> str | None:
    """Why an address is not valid, or None.

    Hand-written because email-validator compiles its patterns on import (about
    20 ms, an eighth of a command's budget); these are the same rules for the
    addresses people use: dot-atom local part, internationalised domain names,
    and [IP] literals. Quoted local parts are refused, as email-validator does.
    """
    if _plain(address):
        return None  # the common case, settled by one pattern
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return "it needs a name, an @-sign and a domain (name@example.com)"
    if "@" in local or '"' in local:
        return "only one @-sign is allowed (quoted names are not supported)"
    if len(local.encode()) > 64:
        return "the part before the @-sign is longer than 64 bytes"
    for atom in local.split("."):
        if not atom:
            return "a dot cannot start or end the name, or follow another dot"
        if not re.match(_ATEXT, atom) and not all(_unicode_atext(c) for c in atom):
            return "the part before the @-sign contains characters not allowed in an address"
    if domain.startswith("[") and domain.endswith("]"):
        return _literal_problem(domain[1:-1])
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253:
        return "the domain needs a dot, as in example.com"
    for label in labels:
        if not label or len(label) > 63 or not re.match(_DOMAIN_LABEL, label):
            return f"the domain label {label!r} is not valid"
    if labels[-1].isdigit():
        return "the domain cannot end in a number"
    return None


# An ASCII dot-atom address whose domain labels are letters, digits and inner
# hyphens: valid by the rules below once _plain_sizes holds.
_PLAIN_ADDRESS = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\Z"
)


def _plain(address: str) -> bool:
    if not (_PATTERNS.get(_PLAIN_ADDRESS) or _compiled(_PLAIN_ADDRESS)).match(address):
        return False
    local, _, domain = address.rpartition("@")
    labels = domain.split(".")
    return (
        len(local) <= 64
        and len(domain) <= 253
        and max(map(len, labels)) <= 63
        and not labels[-1].isdigit()
    )


def _unicode_atext(char: str) -> bool:
    return bool(re.match(_ATEXT, char)) or (
        ord(char) > 127 and unicodedata.category(char)[0] in "LMNS"
    )


def _literal_problem(literal: str) -> str | None:
    import ipaddress

    try:
        if literal.lower().startswith("ipv6:"):
            ipaddress.IPv6Address(literal[5:])
        else:
            ipaddress.IPv4Address(literal)
    except ValueError:
        return "the address in [brackets] is not an IP address"
    return None


def phone(value: str | None, field: str = "phone") -> str | None:
    if value is None or not value.strip():
        return None
    # Nearly every number: what the checks below make of it (ASCII is NFC, and the
    # only digits the pattern lets through are 0-9).
    if (
        value.isascii()
        and len(text := value.strip()) <= LINE_MAX
        and (_PATTERNS.get(_PHONE) or _compiled(_PHONE)).match(text)
        and (_PATTERNS.get(_A_DIGIT) or _compiled(_A_DIGIT)).search(text)
    ):
        return text
    if not value.isascii():
        value = re.sub(_PHONE_SPACES, " ", re.sub(_PHONE_MARKS, "", value))
    value = _check_length(field, nfc(value.strip()), LINE_MAX)
    if not re.match(_PHONE, value) or not any(map(str.isdigit, value)):
        raise InvalidValue(
            f"invalid {field} {value!r}: use digits, spaces and + ( ) . - / * # ,"
            " (e.g. +1 555 0100, +1 555 0100;ext=12, *123#)"
        )
    return value


LABEL_MAX = 40
_A_DIGIT = "[0-9]"
# Patterns the checks of every record of an import use, compiled on first use:
# re.match(text, ...) looks its pattern up in re's cache each call (a third of a
# short check's time).
_PATTERNS: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    _PATTERNS[pattern] = found = re.compile(pattern)
    return found


def labelled(raw: str) -> tuple[str | None, str]:
    """Split `[LABEL:]VALUE` as in `--email work:jane@acme.example`.

    The label is the text before the first `:` (Home/Office, Büro (alt)), a letter
    first (so `+1 555:0100` is no label but a bad number), at most
    LABEL_MAX characters, never `;` or a control character: CSV cells join labelled
    values with `;` (`work:a@x.example;b@y.example`).  Text before a `:` that holds an
    @ is an address (a@[IPv6:...]), one before `://` a URL; anything else there that
    is no label is refused as a label."""
    head, colon, rest = raw.partition(":")
    if not colon:
        return None, raw.strip()
    # `work:...`, the usual label, as the pattern below reads it
    plain = head.isalpha() and head.isascii() and len(head) <= LABEL_MAX
    if plain and rest.strip() and not rest.startswith("//"):
        return head.lower(), rest.strip()
    match = re.match(_LABELLED, raw.strip())
    if match and "@" not in match.group(1) and match.group(1).strip():
        return match.group(1).strip().lower(), match.group(2).strip()
    head, _, rest = raw.strip().partition(":")
    if "@" in head or rest.startswith("//") or not head.strip():
        return None, raw.strip()  # an address such as a@[IPv6:...], or a URL: its own check
    if len(head) > LABEL_MAX:
        raise InvalidValue(f"label is too long: {len(head):,} characters (at most {LABEL_MAX})")
    raise InvalidValue(
        f"invalid label {head!r}: a label begins with a letter and cannot hold ';' or"
        " control characters"
        " (work:jane@acme.example)"
    )


def clean_label(label: str) -> str:
    """A label from another program's file (vCard, CSV) as crm can keep it: each `:`,
    `;` or control character, which a `label:value` cell cannot hold, becomes a space."""
    return " ".join(re.sub(r"[:;\x00-\x1f\x7f-\x9f]", " ", label).split())


NUMBER_FORMS = "1200, 1200.50, 1,200.50 or 1.5e3 (a comma only between groups of three digits)"
_GROUPED = r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?\Z"


def number(field: str, value: str) -> Decimal:
    """A finite decimal number as a person writes it, exactly.

    The point is the decimal point; a comma is a thousands separator only where
    it separates well-formed groups (1,000.50 or 12,345,678).  Any other comma
    (1,5 or 1.000,50 or 1,2,3) could be read two ways and is refused rather than
    guessed; so are NaN and infinities.  The one parser of amounts, CSV cells
    and --where comparisons."""
    from decimal import Decimal, InvalidOperation  # 1 ms: only where a number is read

    text = value.strip()
    if "," in text:
        if not re.match(_GROUPED, text):
            raise InvalidValue(f"invalid {field} {value!r}: use a number such as {NUMBER_FORMS}")
        text = text.replace(",", "")
    try:
        parsed = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidValue(
            f"invalid {field} {value!r}: use a number such as {NUMBER_FORMS}"
        ) from None
    if not parsed.is_finite():
        raise InvalidValue(f"invalid {field} {value!r}: use a finite number such as 1200.50")
    return parsed


def date(field: str, value: str | None) -> str | None:
    """A calendar date written YYYY-MM-DD."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidValue(f"invalid {field} {value!r}: use YYYY-MM-DD, e.g. 1990-04-23") from None


def birthday(value: str | None, field: str = "birthday") -> str | None:
    """A birthday (or anniversary, or another date of a contact's): YYYY-MM-DD, or
    --MM-DD when the year is not known (SPEC)."""
    text = (value or "").strip()
    if not (text.startswith("--") and len(text) == 7 and text[4] == "-"):
        try:
            return date(field, value)
        except InvalidValue:
            if text.startswith("--"):
                raise InvalidValue(
                    f"invalid {field} {text!r}: use YYYY-MM-DD, or --MM-DD without a year"
                ) from None
            raise
    try:
        return "--" + dt.date.fromisoformat(f"2000{text[1:]}").isoformat()[5:]  # 2000: Feb 29
    except ValueError:
        raise InvalidValue(
            f"invalid {field} {text!r}: use YYYY-MM-DD, or --MM-DD without a year"
        ) from None


def field_key(key: str) -> str:
    key = key.strip()
    if not re.match(_KEY, key) or len(key) > KEY_MAX:
        raise InvalidValue(
            f"invalid custom field key {key!r}: letters, digits, _ . - "
            f"(starting with a letter or _), at most {KEY_MAX} characters"
        )
    return key


def custom_fields(values: dict | None) -> dict[str, str]:
    """Custom fields as stored: checked keys, NFC text values of at most LINE_MAX."""
    return {
        field_key(str(key)): _check_length(f"custom field {key}", nfc(str(value)), LINE_MAX)
        for key, value in (values or {}).items()
    }


def assignments(pairs: list[str] | None) -> dict[str, str]:
    """Parse repeated `--set KEY=VALUE` options."""
    parsed = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidValue(f"--set takes KEY=VALUE (got {pair!r})")
        parsed[key] = value
    return custom_fields(parsed)


# What a tag cannot hold: `;` joins tags in a CSV/TSV cell, and control characters
# (C0 with NUL, DEL, C1) would not survive one (SQLite's group_concat stops at NUL).
_TAG_UNSAFE = r"[;\x00-\x1f\x7f-\x9f]"


def tags(
    values: list[str] | None, *, stored: list[str] | None = None, exact: bool = False
) -> list[str]:
    """Clean tags: trimmed, non-empty, first spelling kept when two differ only in case.

    New tags (`values`) must not hold `;` or a control character.  `stored` are a
    record's own tags, put first and taken as they are: one stored before that rule
    stays until it is removed.  `exact`: tags read as a list from a file (JSON, JSONL,
    vCard), which carries them as they are, are spared that rule: crm's own backup
    may hold such old tags."""
    result: list[str] = []
    seen: set[str] = set()
    for value in stored or []:
        if fold(value) not in seen:
            seen.add(fold(value))
            result.append(value)
    for value in values or []:
        tag = _check_length("tag", nfc(value).strip(), LINE_MAX)
        if not tag:
            raise InvalidValue("a tag must not be empty")
        if not exact and re.search(_TAG_UNSAFE, tag):
            raise InvalidValue(
                f"invalid tag {tag!r}: a tag cannot hold ';' (it joins tags in CSV and TSV)"
                " or control characters"
            )
        if fold(tag) not in seen:
            seen.add(fold(tag))
            result.append(tag)
    return result


def split_full_name(full: str) -> tuple[str | None, str | None]:
    """'Jane Q. Doe' -> ('Jane Q.', 'Doe'); one word is a first name."""
    words = full.split()
    if not words:
        return None, None
    if len(words) == 1:
        return words[0], None
    return " ".join(words[:-1]), words[-1]


def full_name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


def derived_name(
    parts: dict,
    nickname: str | None = None,
    email: str | None = None,
    account: str | None = None,
    phone: str | None = None,
) -> str | None:
    """The name a contact is given when none is: its NAME_PARTS joined by single
    spaces; with no parts its nickname, else its first e-mail, else its account's
    name, else its first phone ("named by what it has"); None when it has none."""
    joined = " ".join([value for part in NAME_PARTS if (value := parts.get(part))])
    return joined or nickname or email or account or phone or None


# What a single line of someone else's text (a mail header, a completion line) may
# not hold: C0 (tab, line breaks too), DEL, C1, line separators, bidi controls.
_LINE_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def one_line(text: str | None, limit: int = LINE_MAX) -> str | None:
    """`text` as one clean line: those characters become spaces, runs of blanks
    one; cut at `limit` characters with an ellipsis; None when nothing is left.
    Lone surrogates (bytes that were not text) become `?`."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    cleaned = " ".join(_LINE_JUNK.sub(" ", nfc(text)).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned or None
