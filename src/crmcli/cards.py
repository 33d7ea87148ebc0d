"""A record as a card, for people (`crm contact show` and the others' table).

A header (the name, then what the record is: `Head of Purchasing at Acme`,
`proposal · 12,500 USD · 50%`, then its tags), then sections that appear only
when they have something to say: the details (e-mails and phones with their
labels, every other field the record has, in its order), addresses, the
lists the command adds (deals with their totals, open tasks, the timeline),
custom fields and the description.  The card is made from the record's own
keys, so a field added later shows up under the details without a change
here.  Columns of a section that only repeat the card (an account's timeline
naming the account on every line) are left out.

Drawing (escaping, dates, colour, fitting) is render's: this module only
lays out, through the `draw` object render hands it.
"""

from __future__ import annotations

from collections.abc import Sequence

from crmcli.render import BOLD, CYAN, DIM, escape, measure, money, wrap

_PARTS = ("prefix", "first_name", "middle_name", "last_name", "suffix")
_ADDRESS = ("street", "city", "region", "postal_code", "country")
_LISTS = ("emails", "phones", "urls", "impps", "related", "dates")  # of {"value", "label"}
# Shown by the header, by a section of their own, or derived from others.
_ELSEWHERE = frozenset(("id", "name", "tags", "fields", "addresses", "description", "body",
                        "summary", "created_at", "updated_at", *_ADDRESS))  # fmt: skip
_TITLES = {"activities": "Timeline", "tasks": "Open tasks", "children": "Child accounts"}
_LABELS = {"email": "e-mail", "emails": "e-mail", "phones": "phone", "urls": "web",
           "impps": "chat", "dates": "date", "every": "keep in touch"}  # fmt: skip


def card(row: dict, fields: Sequence[str], sections: dict, draw) -> str:
    lines: list[str] = []
    used: set[str] = set()
    lines += _header(row, used, draw)
    details = _details(row, fields, used, draw)
    if details:
        lines += ["", *details] if lines else details
    addresses = _addresses(row)
    if addresses:
        width = min(max(measure(label) for label, _ in addresses), 16)
        lines += ["", draw.style("Addresses", BOLD)]
        lines += [_pair(label, text, width, draw) for label, text in addresses]
    for name, (rows, columns) in sections.items():
        if rows:
            lines += ["", draw.style(_section_title(name, rows), BOLD)]
            lines.append(draw.table(rows, _own_columns(row, rows, columns)).rstrip("\n"))
            if isinstance(rows, First) and rows.total > len(rows):
                more = f"… and {rows.total - len(rows):,} more: {rows.rest}"
                lines.append(draw.style(f"  {escape(more)}", DIM))
    custom = row.get("fields") or {}
    if custom:
        lines += ["", draw.style("Custom fields", BOLD)]
        width = min(max(measure(draw.value("", key, row)) for key in custom), 20)
        lines += [_pair(draw.value("", key, row), draw.value("", value, row), width, draw)
                  for key, value in custom.items()]  # fmt: skip
    text = row.get("description") or row.get("body")
    if text:
        lines += ["", draw.style("Description" if row.get("description") else "Text", BOLD)]
        width = None if draw.width is None else draw.width - 2
        lines += ["  " + line for line in _block(draw.value("description", text, row), width)]
    stamps = _stamps(row, draw)
    if stamps:
        lines += ["", draw.style(stamps, DIM)]
    return "\n".join(lines) + "\n"


def _header(row: dict, used: set[str], draw) -> list[str]:
    title_field = next((f for f in ("name", "title", "subject", "summary") if row.get(f)), None)
    title = draw.value("name", row[title_field], row) if title_field else ""
    used.add(title_field or "name")
    ident = f"#{row['id']}" if row.get("id") is not None else ""
    lines = [" ".join(filter(None, (draw.style(title, BOLD), draw.style(ident, DIM))))]
    headline = _headline(row, used, draw)
    if headline:
        lines.append(headline)
    if row.get("tags"):
        lines.append(draw.style(" ".join(f"#{draw.value('', tag, row)}" for tag in row["tags"]),
                                CYAN))  # fmt: skip
    if _parts_make_name(row):
        used.update(_PARTS)
    return [line for line in lines if line]


def _headline(row: dict, used: set[str], draw) -> str:
    """What the record is, in one line: job at account, stage and amount, due date."""
    def take(*names: str) -> list[str]:
        values = []
        for field in names:
            if field not in used and row.get(field) not in (None, "", [], {}):
                used.add(field)
                values.append(draw.value(field, row[field], row))
        return values

    pieces = []
    if "stage" in row:  # a deal
        pieces += take("stage")
        if row.get("amount") is not None:
            used.update(("amount", "currency"))
            code = escape(row.get("currency") or "")
            pieces.append(" ".join(filter(None, (money(row["amount"]), code))))
        if row.get("probability") is not None and row.get("status") == "open":
            used.add("probability")
            pieces.append(f"{row['probability']}%")
        used.add("status")
    if "done" in row:  # a task
        used.add("done")
        if row["done"]:
            done_at = take("done_at")
            pieces.append("done" + (f" {done_at[0]}" if done_at else ""))
        due = take("due")
        if due:
            pieces.append(f"due {due[0]}")
    if "kind" in row and "at" in row:  # an activity
        pieces += take("kind", "at")
    pieces += take("type", "industry")
    job = ", ".join(take("title", "department"))
    where = take("account")
    if job or where:
        pieces.insert(0, f"{job} at {where[0]}" if job and where else job or where[0])
    parent = take("parent")
    if parent:
        pieces.append(f"part of {parent[0]}")
    return " · ".join(pieces)


def _details(row: dict, fields: Sequence[str], used: set[str], draw) -> list[str]:
    pairs: list[tuple[str, str]] = []
    for field in fields:
        if field in used or field in _ELSEWHERE or field not in row:
            continue
        value = row[field]
        if value in (None, "", [], {}, False) and field != "done":
            continue
        if field.endswith("_id") and field[:-3] in row:  # account_id beside account
            continue
        if field in ("email", "phone") and row.get(field + "s"):
            continue  # the labelled list below says it, primary first
        label = _LABELS.get(field, field.replace("_", " "))
        if field in _LISTS and isinstance(value, list):
            for index, item in enumerate(value):
                pairs.append((label if index == 0 else "", _item(item, row, draw)))
        elif field == "vcard" and isinstance(value, list):
            pairs.append(("vcard", f"{len(value)} more properties, kept for export"))
        elif field in ("photo", "logo") and isinstance(value, dict):
            size = value.get("size")
            kind = draw.value("", value.get("media_type") or "", row)
            pairs.append((label, kind + (f", {size:,} bytes" if isinstance(size, int) else "")))
        elif field == "every":
            pairs.append((label, f"every {draw.value(field, value, row)}"))
        else:
            pairs.append((label, draw.value(field, value, row)))
    width = min(max((measure(label) for label, _ in pairs), default=0), 16)
    return [_pair(label, text, width, draw) for label, text in pairs]


def _item(item: object, row: dict, draw) -> str:
    if isinstance(item, dict) and "value" in item:
        text = draw.value("", item["value"], row)
        label = item.get("label")
        if label:
            return f"{text} {draw.style('(' + draw.value('', label, row) + ')', DIM)}"
        return text
    return draw.value("", item, row)


def _addresses(row: dict) -> list[tuple[str, str]]:
    """(label, the address on one line) for each address the record has."""
    if row.get("addresses"):
        found = []
        for address in row["addresses"]:
            parts = [address.get(key) for key in ("po_box", "extended", *_ADDRESS)]
            text = ", ".join(str(part) for part in parts if part)
            found.append((escape(address.get("label") or ""), escape(text)))
        return [pair for pair in found if pair[1]]
    text = ", ".join(str(row[key]) for key in _ADDRESS if row.get(key))
    return [("", escape(text))] if text else []


def _pair(label: str, text: str, width: int, draw) -> str:
    """`  label  text`, the text wrapped under itself when it is long."""
    pad = " " * max(width - measure(label), 0)
    indent = 2 + width + (2 if width else 0)
    lines = _block(text, None if draw.width is None else draw.width - indent)
    gap = "  " if width else ""
    first = f"  {draw.style(label, DIM)}{pad}{gap}{lines[0] if lines else ''}".rstrip()
    return "\n".join([first, *(" " * indent + line for line in lines[1:])])


def _block(text: str, width: int | None) -> list[str]:
    """Text with its own line breaks, each line wrapped to `width` (None: as it is)."""
    if width is None or width < 10 or "\x1b" in text:
        return text.split("\n")
    return [piece for line in text.split("\n") for piece, _ in wrap(line, width, None)]


class First(list):
    """The first rows of a section of `total` rows (an account's first contacts
    by name): the card says how many more there are, and that `rest` (a
    command) lists them all."""

    def __init__(self, rows, total: int, rest: str):
        super().__init__(rows)
        self.total, self.rest = max(total, len(self)), rest


def _section_title(name: str, rows: list[dict]) -> str:
    count = rows.total if isinstance(rows, First) else len(rows)
    title = f"{_TITLES.get(name, name.capitalize())} ({count})"
    if name == "deals" and all("amount" in deal for deal in rows):
        title += " · " + deal_totals(rows)
    return title


def deal_totals(rows: list[dict]) -> str:
    """'12,500 USD open, 3,200.50 USD won' from deals."""
    totals: dict[tuple[str, str], object] = {}
    for deal in rows:
        key = (deal.get("status") or "", deal.get("currency") or "")
        totals[key] = totals.get(key, 0) + (deal.get("amount") or 0)
    return ", ".join(
        " ".join(filter(None, (money(amount), escape(code), status)))
        for (status, code), amount in sorted(totals.items())
    )


def _own_columns(row: dict, rows: list[dict], columns: Sequence[str]) -> list[str]:
    """The section's columns but those that only repeat the card: the card's own
    name (an account's timeline naming the account), or a value the card shows
    (a contact's deals at the contact's account)."""
    name = row.get("name")

    def repeats(column: str) -> bool:
        value = rows[0].get(column)
        if value is None or any(other.get(column) != value for other in rows):
            return False
        return value == name or value == row.get(column)

    return [column for column in columns if column in ("id", "name") or not repeats(column)]


def _parts_make_name(row: dict) -> bool:
    """Whether the name parts only spell the name out (then the card skips them)."""
    parts = [row.get(part) for part in _PARTS if row.get(part)]
    return not parts or " ".join(parts) == row.get("name")


def _stamps(row: dict, draw) -> str:
    created, updated = row.get("created_at"), row.get("updated_at")
    if not created:
        return ""
    text = f"added {draw.value('created_at', created, row, plain=True)}"
    if updated and updated != created:
        text += f", changed {draw.value('updated_at', updated, row, plain=True)}"
    return text
