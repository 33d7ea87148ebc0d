"""A record in $VISUAL/$EDITOR: the template written out, the saved text read back.

A template is `key: value` lines under `#` comments that say what each key takes;
a list (e-mails, phones, addresses ...) is one line per item, the key repeated,
`LABEL:VALUE` as the command line options take them; a line that starts with a
space goes on the value above (a description of several lines).  What the user
changed becomes the edit command's own options, so the editor and the options
follow the same rules and one save is one operation (one `crm undo`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from crmcli.errors import CrmError, InvalidValue, Refused


@dataclass(frozen=True)
class Field:
    key: str  # as the template writes it
    hint: str  # the comment above it
    read: Callable[[dict], list[str]]  # the record's value(s) as template lines
    many: bool = False  # one line per item, the key repeated


def scalar(name: str) -> Callable[[dict], list[str]]:
    return lambda record: [] if record.get(name) in (None, "") else [str(record[name])]


def items(name: str) -> Callable[[dict], list[str]]:
    """{value, label} items as LABEL:VALUE (or VALUE)."""
    return lambda record: [
        f"{item['label']}:{item['value']}" if item.get("label") else item["value"]
        for item in record.get(name) or []
    ]


def addresses(record: dict) -> list[str]:
    lines = []
    for address in record.get("addresses") or []:
        keys = ("street", "city", "region", "postal_code", "country")
        if address.get("po_box") or address.get("extended"):
            keys = ("po_box", "extended", *keys)
        parts = "; ".join(address.get(key) or "" for key in keys).rstrip("; ")
        lines.append(f"{address['label']}:{parts}" if address.get("label") else parts)
    return lines


def tags(record: dict) -> list[str]:
    return [", ".join(record.get("tags") or [])] if record.get("tags") else []


def custom(record: dict) -> list[str]:
    return [f"{key}={value}" for key, value in (record.get("fields") or {}).items()]


# What every kind's template ends with.
TAIL = (
    Field("description", "Free text; more lines: start each with two spaces.",
          scalar("description")),
    Field("tags", "Tags, separated by commas.", tags),
    Field("field", "Custom fields, one per line: KEY=VALUE.", custom, many=True),
)  # fmt: skip


def template(title: str, fields: list[Field], record: dict, problems: list[str]) -> str:
    lines = [f"# {title}"]
    lines += [f"# ERROR: {problem}" for problem in problems]
    lines += [
        "# Change what you like and save; leave the file as it is, or empty it, and",
        "# nothing changes. Lines starting with # are ignored; a value emptied (or its",
        "# line deleted) is cleared.",
        "",
    ]
    for field in fields:
        lines.append(f"# {field.hint}")
        values = field.read(record) or [""]
        for value in values:
            first, *more = value.split("\n")
            lines.append(f"{field.key}: {first}".rstrip())
            lines += [f"  {line}" for line in more]  # a line of several goes on indented
    return "\n".join(lines) + "\n"


def parse(text: str, fields: list[Field]) -> dict[str, list[str]]:
    """The saved template as {key: [values]}; InvalidValue lists each line that is wrong."""
    known = {field.key: field for field in fields}
    found: dict[str, list[str]] = {}
    problems = []
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#") or not line.strip():
            continue
        if line[:1] in (" ", "\t") and last is not None:
            found[last][-1] += "\n" + (line[2:] if line.startswith("  ") else line.lstrip())
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or key not in known:
            problems.append(f"line {number}: {line.strip()[:40]!r} is not KEY: VALUE with a"
                            f" key of the template ({', '.join(known)})")  # fmt: skip
            continue
        if key in found and not known[key].many:
            problems.append(f"line {number}: {key} is given twice")
            continue
        found.setdefault(key, []).append(value.strip())
        last = key
    if problems:
        raise InvalidValue("\n".join(problems))
    return {key: [value for value in values if value] for key, values in found.items()}


def was(fields: list[Field], record: dict) -> dict[str, list[str]]:
    """The record as the template reads back untouched: what the saved file is
    compared with, so that only what the user changed counts (not spacing the
    template cannot carry, such as a value's trailing blanks)."""
    return parse(template("", fields, record, []), fields)


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict:
    """{key: (old values, new values)} of what differs; a key left out is emptied."""
    return {
        key: (old, after.get(key, [])) for key, old in before.items() if after.get(key, []) != old
    }


def tail_options(key: str, change: tuple[list[str], list[str]], options: dict) -> bool:
    """The options for TAIL's tags and custom fields, added to `options`; False for
    another key."""
    if key == "tags":
        options.update(tag_options(change))
    elif key == "field":
        options.update(field_options(change))
    else:
        return False
    return True


def tag_options(change: tuple[list[str], list[str]]) -> dict:
    old, new = ({t.strip() for t in "".join(v).split(",") if t.strip()} for v in change)
    return {"add_tag": sorted(new - old), "remove_tag": sorted(old - new)}


def _pairs(lines: list[str]) -> dict[str, str]:
    """KEY=VALUE lines as a dict, spaces around KEY and VALUE left out."""
    pairs = {}
    for line in lines:
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise InvalidValue(f"field: {line[:40]!r} is not KEY=VALUE")
        pairs[key.strip()] = value.strip()
    return pairs


def field_options(change: tuple[list[str], list[str]]) -> dict:
    old, new = _pairs(change[0]), _pairs(change[1])
    return {
        "set_": [f"{key}={value}" for key, value in new.items() if old.get(key) != value],
        "unset": [key for key in old if key not in new],
    }


def command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi, as a command line (`code -w`, `emacsclient -t`)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        words = shlex.split(editor)
    except ValueError:
        raise Refused(f"cannot read the editor command {editor!r}") from None
    return words or ["vi"]


def edit_text(text: str, name: str = "crm-edit.txt") -> str:
    """Open `text` in the editor and return what was saved."""
    from crmcli import render

    render.before_prompt()  # the editor takes the terminal: nothing may stay held
    words = command()
    with tempfile.TemporaryDirectory(prefix="crm-") as folder:
        path = os.path.join(folder, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            code = subprocess.call([*words, path])
        except OSError as exc:
            raise Refused(f"cannot run the editor {shlex.join(words)!r}: {exc.strerror}") from None
        if code != 0:
            raise Refused(f"the editor {shlex.join(words)!r} failed (exit {code}); nothing changed")
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()


_REOPEN = ("InvalidValue", "Refused", "NotFound", "Ambiguous")  # the user's to fix


def loop(title: str, fields: list[Field], record: dict, apply: Callable[[dict], None]) -> None:
    """Open the record until what was saved applies: `apply(changes)` raises CrmError
    to have the editor open again with the message at the top.  An empty file, or
    one saved as it was opened, changes nothing."""
    before = was(fields, record)
    problems: list[str] = []
    text = template(title, fields, record, problems)
    while True:
        saved = edit_text(text)
        lines = saved.splitlines()
        if not any(line.strip() and not line.startswith("#") for line in lines):
            print("The file was empty: nothing changed.", file=sys.stderr)
            return
        if saved == text and problems:
            from crmcli.words import counted

            raise Refused(f"nothing changed; the file still has {counted(len(problems), 'error')}")
        try:
            changes = changed(before, parse(saved, fields))
            if not changes:
                print("Nothing was changed.", file=sys.stderr)
                return
            apply(changes)
            return
        except CrmError as exc:
            if type(exc).__name__ not in _REOPEN:
                raise
            problems = exc.message.splitlines()
            kept = [line for line in saved.splitlines() if not line.startswith("# ERROR: ")]
            head = kept[:1] if kept and kept[0].startswith("# ") else []
            lines = [*head, *(f"# ERROR: {problem}" for problem in problems), *kept[len(head) :]]
            text = "\n".join(lines) + "\n"


def _key_of(key: str) -> Callable[[str], str]:
    """What two lines of a list are compared by: the value without its label."""
    from crmcli import models
    from crmcli.store import details

    if key == "email":
        return lambda line: models.email_key(models.labelled(line)[1])
    if key == "phone":
        return lambda line: models.labelled(line)[1].strip()
    plural = {"url": "urls", "impp": "impps", "related": "related", "date": "dates"}[key]
    return lambda line: details.items(plural, [line])[0]["value"]


def list_options(key: str, change: tuple[list[str], list[str]]) -> tuple[list[str], list[str]]:
    """(to add, to remove) for a list: the new lines (a value kept is relabelled), and
    the old values no longer there."""
    value = _key_of(key)
    old, new = change
    kept = {value(line) for line in new}
    gone = [models_value for line in old if (models_value := value(line)) not in kept]
    return new, gone


CONTACT = [
    Field("name", "The name as shown. Empty: made from the parts below.", scalar("name")),
    Field("prefix", "Name prefix: Dr., Ms.", scalar("prefix")),
    Field("first", "First (given) name.", scalar("first_name")),
    Field("middle", "Middle (additional) name.", scalar("middle_name")),
    Field("last", "Last (family) name.", scalar("last_name")),
    Field("suffix", "Name suffix: PhD, Jr.", scalar("suffix")),
    Field("nickname", "Nickname.", scalar("nickname")),
    Field("account", "Account name or id; empty: none.", scalar("account")),
    Field("title", "Job title.", scalar("title")),
    Field("department", "Department.", scalar("department")),
    Field("email", "E-mail addresses, one per line: [LABEL:]ADDR; the first is primary.",
          items("emails"), many=True),
    Field("phone", "Phone numbers, one per line: [LABEL:]NUMBER, e.g. mobile:+1 555 0100.",
          items("phones"), many=True),
    Field("address", "Postal addresses, one per line: [LABEL:]STREET; CITY; REGION; POSTAL;"
          " COUNTRY.", addresses, many=True),
    Field("url", "Web pages, one per line: [LABEL:]URL.", items("urls"), many=True),
    Field("impp", "Chat handles as URIs, one per line: [LABEL:]xmpp:jane@jabber.example.",
          items("impps"), many=True),
    Field("related", "Related people, one per line: [LABEL:]NAME, e.g. spouse:John Doe.",
          items("related"), many=True),
    Field("date", "Other dates, one per line: LABEL:YYYY-MM-DD (or --MM-DD).",
          items("dates"), many=True),
    Field("birthday", "Birthday: YYYY-MM-DD, or --MM-DD without a year.", scalar("birthday")),
    Field("anniversary", "Anniversary: YYYY-MM-DD or --MM-DD.", scalar("anniversary")),
    Field("gender", "Gender as you write it (vCard: F, M, O;non-binary).", scalar("gender")),
    Field("every", "Keep in touch this often: 30d, 2w, 3m; empty: never.", scalar("every")),
    *TAIL,
]  # fmt: skip


def _options(changes: dict, links: tuple[str, ...], special=None, rename=None) -> dict:
    """The edit command's options for `changes`: a link emptied is its --no-... flag,
    `special(key, change, value, options)` handles a kind's own keys (True: done),
    TAIL's keys are tags and custom fields; any other key is the option of its name."""
    options: dict = {}
    for key, change in changes.items():
        value = change[1][0] if change[1] else ""
        if key in links:
            options.update({key: value} if value else {f"no_{key}": True})
        elif not (special and special(key, change, value, options)) and not tail_options(
            key, change, options
        ):
            options[(rename or {}).get(key, key)] = value
    return options


def _contact_lists(key: str, change: tuple, value: str, options: dict) -> bool:
    if key in ("email", "phone", "url", "impp", "related", "date"):
        options[key], options[f"remove_{key}"] = list_options(key, change)
    elif key == "address":
        options["remove_address"] = ["1"] * len(change[0])  # all, then the new ones
        options["address"] = change[1]
    else:
        return False
    return True


def contact_options(changes: dict) -> dict:
    """The options of `crm contact edit` that make these changes."""
    return _options(changes, ("account",), _contact_lists)


def _linked(key: str, name: str) -> Field:
    return Field(key, f"The {key} (name or id); empty: none.", scalar(name))


ACCOUNT = [
    Field("name", "The account's name (unique, ignoring case).", scalar("name")),
    Field("kind", "business or person.", scalar("kind")),
    Field("type", "customer, prospect, partner, vendor, competitor or other.", scalar("type")),
    Field("industry", "Industry.", scalar("industry")),
    Field("website", "Web site.", scalar("website")),
    Field("email", "General e-mail address.", scalar("email")),
    Field("phone", "Main phone number.", scalar("phone")),
    Field("street", "Street address.", scalar("street")),
    Field("city", "City.", scalar("city")),
    Field("region", "State, province or region.", scalar("region")),
    Field("postal_code", "Postal or ZIP code.", scalar("postal_code")),
    Field("country", "Country.", scalar("country")),
    _linked("parent", "parent"),
    *TAIL,
]  # fmt: skip


_ACCOUNT_CHOICES = {
    "kind": ("business", "person"),
    "type": ("customer", "prospect", "partner", "vendor", "competitor", "other"),
}


def _account_choice(key: str, change: tuple, value: str, options: dict) -> bool:
    if key in _ACCOUNT_CHOICES and value not in _ACCOUNT_CHOICES[key]:
        raise InvalidValue(f"{key}: {value[:30]!r} is not one of"
                           f" {', '.join(_ACCOUNT_CHOICES[key])}")  # fmt: skip
    return False


def account_options(changes: dict) -> dict:
    options = _options(changes, ("parent",), _account_choice, rename={"type": "type_"})
    for key in ("email", "phone"):  # repeatable options (a person's several)
        if key in options:
            options[key] = [options[key]]
    return options


DEAL = [
    Field("name", "What is being sold.", scalar("name")),
    _linked("account", "account"),
    _linked("contact", "contact"),
    Field("amount", "Amount, an exact decimal: 1200.50; empty: none.", scalar("amount")),
    Field("currency", "ISO 4217 code: USD, EUR.", scalar("currency")),
    Field("stage", "lead, qualified, proposal, negotiation, won, lost (or yours).",
          scalar("stage")),
    Field("probability", "Chance to win, 0-100.", scalar("probability")),
    Field("close", "Expected or actual close date; empty: none.", scalar("close_date")),
    *TAIL,
]  # fmt: skip


def _probability(key: str, change: tuple, value: str, options: dict) -> bool:
    if key != "probability":
        return False
    if not value.strip().isdigit():
        raise InvalidValue(f"probability: {value[:20]!r} is not a whole number 0-100")
    options[key] = int(value)
    return True


def deal_options(changes: dict) -> dict:
    return _options(changes, ("account", "contact"), _probability)


KINDS = {"contact": (CONTACT, contact_options), "account": (ACCOUNT, account_options),
         "deal": (DEAL, deal_options)}  # fmt: skip


def edit_record(noun: str, record: dict, edit: Callable[..., None]) -> None:
    """`crm NOUN edit REF` in the editor: `edit(**options)` is the edit command itself."""
    from crmcli import render

    fields, options = KINDS[noun]
    title = f"Editing {noun} {render.quoted(str(record.get('name'))[:60])} (id {record['id']})."
    person = record.get("person_contact_id") if noun == "account" else None
    if person is not None:  # its --email/--phone add to the person's: no place to change one
        fields = [field for field in fields if field.key not in ("email", "phone")]
        title += f"\n# Its person's e-mails and phones: crm contact edit {person} --editor"

    def apply(changes: dict) -> None:
        given = options(changes)
        if any(value == "" or value for value in given.values()):
            edit(**given)
        else:  # only spacing or order that means nothing (tags: b, a)
            print("Nothing was changed.", file=sys.stderr)

    loop(title, fields, record, apply)
