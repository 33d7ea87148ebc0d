"""Activities: the timeline of notes, calls, meetings and e-mails."""

from __future__ import annotations

import sqlite3

from crmcli import models, when
from crmcli.errors import InvalidValue
from crmcli.store import common, query, refs

KINDS = ("note", "call", "meeting", "email")


def kind(value: str) -> str:
    folded = value.strip().lower()
    if folded not in KINDS:
        raise InvalidValue(f"kind must be one of {', '.join(KINDS)} (got {value!r})")
    return folded


def add_activity(
    conn: sqlite3.Connection,
    body: str | None,
    *,
    kind_name: str = "note",
    subject: str | None = None,
    at: str | None = None,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
    tags: list[str] | None = None,
    fields: dict[str, str] | None = None,
    moment: str | None = None,
) -> dict:
    """Log an activity; a contact or a deal also links its account.  `moment`: an
    exact UTC timestamp (`...Z`, as stored) instead of a WHEN (`at`)."""
    row = {
        "kind": kind(kind_name),
        "subject": models.line("subject", subject),
        "body": models.text("body", body),
        "at": moment or when.moment(at) or when.stamp(when.now()),
        "tags": common.dump(models.tags(tags)),
        "fields": common.dump(models.custom_fields(fields)),
    }
    if row["subject"] is None and row["body"] is None:
        raise InvalidValue("an activity needs a text or a --subject")
    row.update(common.links(conn, contact=contact, account=account, deal=deal))
    return get_activity(conn, common.insert(conn, "activities", row))


def activity_id(conn: sqlite3.Connection, ref: str) -> int:
    return refs.id_only(conn, "activities", "activity", ref, "crm activity list")


def get_activity(conn: sqlite3.Connection, row_id: int) -> dict:
    cursor = conn.execute(SCHEMA.select() + " WHERE t.id = ?", (row_id,))
    return common.record(cursor, cursor.fetchone())


_FIRST_LINE = "substr(t.body, 1, instr(t.body || char(10), char(10)) - 1)"
SCHEMA = query.schema(
    "activities",
    "t",
    "activities t LEFT JOIN accounts a ON a.id = t.account_id"
    " LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN deals d ON d.id = t.deal_id",
    models.ACTIVITY_FIELDS,
    {
        "summary": f"coalesce(t.subject, {_FIRST_LINE})",
        "account": "a.name",
        "contact": "c.name",
        "deal": "d.name",
    },
    flat={"tags": query.flat_list("t.tags")},
    kinds={
        "id": "number",
        "account_id": "number",
        "contact_id": "number",
        "deal_id": "number",
        "at": "date",
        "created_at": "date",
        "updated_at": "date",
    },
    lists={"tags": "json_each(t.tags) WHERE 1"},
    sort_keys={"id": "t.id"},
)


def list_activities(
    conn: sqlite3.Connection,
    *,
    contact_id: int | None = None,
    account_id: int | None = None,
    deal_id: int | None = None,
    kind_name: str | None = None,
    since: str | None = None,
    timeline_of: int | None = None,
    filters: query.Query | None = None,
) -> query.Rows:
    """Newest first. `timeline_of` an account: its own and all its contacts' activities."""
    fixed, params = query.equals(
        ("t.contact_id", contact_id),
        ("t.account_id", account_id),
        ("t.deal_id", deal_id),
        ("t.kind", kind(kind_name) if kind_name else None),
    )
    if since is not None:
        fixed += ("t.at >= ?",)
        params += (when.moment(since, start_of_day=True),)
    newest = None
    first_page = filters is not None and filters == query.Query(limit=filters.limit)
    if timeline_of is not None and first_page and not fixed:
        newest = _newest_of(conn, timeline_of, filters.limit)
    if newest is not None:
        fixed += ("t.id IN (SELECT value FROM json_each(?))",)
        params += (common.dump(newest),)
    elif timeline_of is not None:
        fixed += (
            "(t.account_id = ? OR t.contact_id IN (SELECT id FROM contacts WHERE account_id = ?))",
        )
        params += (timeline_of, timeline_of)
    compiled = query.compile_query(conn, SCHEMA, filters)
    return compiled.rows(conn, SCHEMA, "t.at DESC, t.id DESC", fixed, params)


# The newest activities a timeline's first page is looked for in, for an account
# with MANY contacts or more (see _newest_of).
NEWEST, MANY = 2_000, 200


def _newest_of(conn: sqlite3.Connection, account_id: int, count: int | None) -> list[int] | None:
    """The ids of an account's `count` newest activities (its own and its contacts')
    if they are among the NEWEST newest of all (read in order from the index
    activities_at, m018, until they are found), else None.  An account with many
    contacts has them there, and is spared sorting all their activities for a page."""
    many = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM contacts WHERE account_id = ? LIMIT ?)",
        (account_id, MANY),
    ).fetchone()[0]
    if not count or count < 0 or many < MANY:
        return None  # few contacts: their activities are soon sorted
    newest = conn.execute(
        "SELECT t.id, t.account_id, c.account_id FROM activities t"
        " LEFT JOIN contacts c ON c.id = t.contact_id ORDER BY t.at DESC, t.id DESC LIMIT ?",
        (NEWEST,),
    )
    ids = []
    for row_id, own, via in newest:
        if account_id in (own, via):
            ids.append(row_id)
            if len(ids) == count:
                return ids
    return None


def edit_activity(
    conn: sqlite3.Connection,
    ref: str,
    *,
    body: str | None = None,
    kind_name: str | None = None,
    subject: str | None = None,
    at: str | None = None,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
    tag_edit: common.TagEdit = common.TagEdit(),
) -> dict:
    row_id = activity_id(conn, ref)
    current = get_activity(conn, row_id)
    row: dict = {}
    if body is not None:
        row["body"] = models.text("body", body)
    if subject is not None:
        row["subject"] = models.line("subject", subject)
    if kind_name is not None:
        row["kind"] = kind(kind_name)
    if at is not None:
        row["at"] = when.moment(at) or current["at"]
    if row.get("subject", current["subject"]) is None and row.get("body", current["body"]) is None:
        raise InvalidValue("an activity needs a text or a subject")
    row.update(common.links(conn, contact=contact, account=account, deal=deal))
    row.update(tag_edit.columns(current))
    common.update(conn, "activities", row_id, row)
    return get_activity(conn, row_id)


def delete_activity(conn: sqlite3.Connection, ref: str) -> dict:
    activity = get_activity(conn, activity_id(conn, ref))
    conn.execute("DELETE FROM activities WHERE id = ?", (activity["id"],))
    return activity
