"""Tasks: follow-ups with an optional due date."""

from __future__ import annotations

import sqlite3

from crmcli import models, when
from crmcli.errors import Refused
from crmcli.store import common, query, refs

# Open before done; then by due date (so the overdue come first), undated last.
_ORDER = "t.done, t.due IS NULL, t.due, t.id"


def add_task(
    conn: sqlite3.Connection,
    title: str,
    *,
    due: str | None = None,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
    tags: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> dict:
    row = {
        "title": models.name("title", title),
        "due": when.day(due),
        "tags": common.dump(models.tags(tags)),
        "fields": common.dump(models.custom_fields(fields)),
        **common.links(conn, contact=contact, account=account, deal=deal),
    }
    return get_task(conn, common.insert(conn, "tasks", row))


def task_id(conn: sqlite3.Connection, ref: str) -> int:
    return refs.id_only(conn, "tasks", "task", ref, "crm task list --all")


def get_task(conn: sqlite3.Connection, row_id: int) -> dict:
    cursor = conn.execute(SCHEMA.select() + " WHERE t.id = ?", (row_id,))
    return _typed(common.record(cursor, cursor.fetchone()))


SCHEMA = query.schema(
    "tasks",
    "t",
    "tasks t LEFT JOIN accounts a ON a.id = t.account_id"
    " LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN deals d ON d.id = t.deal_id",
    models.TASK_FIELDS,
    {"account": "a.name", "contact": "c.name", "deal": "d.name"},
    flat={
        "tags": query.flat_list("t.tags"),
        "done": "CASE t.done WHEN 1 THEN 'true' ELSE 'false' END",
    },
    kinds={
        "id": "number",
        "account_id": "number",
        "contact_id": "number",
        "deal_id": "number",
        "done": "bool",
        "due": "date",
        "done_at": "date",
        "created_at": "date",
        "updated_at": "date",
    },
    lists={"tags": "json_each(t.tags) WHERE 1"},
    sort_keys={"id": "t.id"},
)


def list_tasks(
    conn: sqlite3.Connection,
    *,
    include_done: bool = False,
    due_by: str | None = None,
    contact_id: int | None = None,
    account_id: int | None = None,
    deal_id: int | None = None,
    filters: query.Query | None = None,
) -> query.Rows:
    """Open tasks (all with include_done): overdue first, then by due date, undated last."""
    fixed, params = query.equals(
        ("t.done", None if include_done else 0),
        ("t.contact_id", contact_id),
        ("t.account_id", account_id),
        ("t.deal_id", deal_id),
    )
    if due_by is not None:
        fixed += ("t.due <= ?",)
        params += (due_by,)
    compiled = query.compile_query(conn, SCHEMA, filters)
    return compiled.rows(conn, SCHEMA, _ORDER, fixed, params, _typed)


def set_done(conn: sqlite3.Connection, ref: str, done: bool) -> dict:
    row_id = task_id(conn, ref)
    task = get_task(conn, row_id)
    if task["done"] == done:
        raise Refused(f"task {row_id} is already {'done' if done else 'open'}")
    common.update(
        conn, "tasks", row_id, {"done": int(done), "done_at": common.now() if done else None}
    )
    return get_task(conn, row_id)


def edit_task(
    conn: sqlite3.Connection,
    ref: str,
    *,
    title: str | None = None,
    due: str | None = None,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
    tag_edit: common.TagEdit = common.TagEdit(),
) -> dict:
    row_id = task_id(conn, ref)
    current = get_task(conn, row_id)
    row = common.links(conn, contact=contact, account=account, deal=deal)
    if title is not None:
        row["title"] = models.name("title", title)
    if due is not None:
        row["due"] = when.day(due)  # '' clears
    row.update(tag_edit.columns(current))
    common.update(conn, "tasks", row_id, row)
    return get_task(conn, row_id)


def delete_task(conn: sqlite3.Connection, ref: str) -> dict:
    task = get_task(conn, task_id(conn, ref))
    conn.execute("DELETE FROM tasks WHERE id = ?", (task["id"],))
    return task


def _typed(task: dict) -> dict:
    if "done" in task:  # a listing of other fields (Rows.only)
        task["done"] = bool(task["done"])
    return task
