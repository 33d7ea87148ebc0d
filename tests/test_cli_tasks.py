"""crm task ..., keep-in-touch and crm due through CliRunner."""

import datetime as dt

from crmcli import when


def day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


def test_add_with_when_forms_and_links(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme")
    task = crm.json("task", "add", "Call Jane", "--due", "tomorrow", "--contact", "Jane Doe")
    assert task["due"] == day(1) and task["done"] is False and task["done_at"] is None
    assert (task["contact"], task["account"]) == ("Jane Doe", "Acme")
    assert crm.json("task", "add", "Plan", "--due", "+1m")["due"] == when.day("+1m")
    assert crm.json("task", "add", "Weekly", "--due", "fri")["due"] == when.day("fri")
    assert crm.json("task", "add", "Someday")["due"] is None
    assert "accepted" not in crm.fails(2, "task", "add", "X", "--due", "soon").stderr
    assert "+3d" in crm.fails(2, "task", "add", "X", "--due", "soon").stderr
    crm.fails(2, "task", "add", "")


def test_list_orders_overdue_first_undated_last_done_hidden(crm):
    for title, due in (
        ("undated", None),
        ("next week", "+7d"),
        ("overdue", "-3d"),
        ("today", "today"),
        ("very overdue", "-30d"),
    ):
        crm.ok("task", "add", title, *(["--due", due] if due else []))
    crm.ok("task", "add", "finished", "--due", "-40d")
    crm.ok("task", "done", "6")
    titles = [t["title"] for t in crm.json("task", "list")]
    assert titles == ["very overdue", "overdue", "today", "next week", "undated"]
    every = [t["title"] for t in crm.json("task", "list", "--all")]
    assert every == [*titles, "finished"]
    assert crm.json("list", "tasks") == crm.json("task", "list")


def test_done_reopen_edit_delete(crm):
    crm.ok("task", "add", "Call", "--due", "today")
    done = crm.json("task", "done", "1")
    assert done["done"] is True and done["done_at"].endswith("Z")
    assert "already done" in crm.fails(1, "task", "done", "1").stderr
    reopened = crm.json("task", "reopen", "1")
    assert reopened["done"] is False and reopened["done_at"] is None
    edited = crm.json("task", "edit", "1", "--title", "Call back", "--due", "")
    assert (edited["title"], edited["due"]) == ("Call back", None)
    crm.fails(2, "task", "edit", "1")
    crm.fails(3, "task", "done", "42")
    crm.fails(3, "task", "done", "Call back")
    crm.ok("task", "delete", "1", "--yes")
    assert crm.json("task", "list", "--all") == []


def test_every_sets_and_clears_the_cadence(crm):
    assert crm.json("contact", "add", "Jane", "--every", "2w")["every"] == "2w"
    assert crm.json("contact", "edit", "Jane", "--every", "30D")["every"] == "30d"
    assert crm.json("contact", "edit", "Jane", "--every", "0")["every"] is None
    assert "interval" in crm.fails(2, "contact", "edit", "Jane", "--every", "weekly").stderr


def test_due_lists_tasks_and_people_most_overdue_first(crm):
    crm.ok("task", "add", "Late", "--due", "-2d")
    crm.ok("task", "add", "Today", "--due", "today")
    crm.ok("task", "add", "Very late", "--due", "-9d")
    crm.ok("task", "add", "Tomorrow", "--due", "tomorrow")
    crm.ok("task", "add", "Undated")
    crm.ok("task", "add", "Late but done", "--due", "-5d")
    crm.ok("task", "done", "6")
    crm.ok("contact", "add", "Never Called", "--every", "1m")
    crm.ok("contact", "add", "Long Ago", "--every", "1w")
    crm.ok("log", "hi", "--kind", "call", "--contact", "Long Ago", "--at", "-30d")
    crm.ok("contact", "add", "Slightly Late", "--every", "2w")
    crm.ok("log", "hi", "--kind", "meeting", "--contact", "Slightly Late", "--at", "-15d")
    crm.ok("contact", "add", "Recent", "--every", "2w")
    crm.ok("log", "hi", "--kind", "email", "--contact", "Recent", "--at", "-3d")
    crm.ok("contact", "add", "Only Notes", "--every", "1w")
    crm.ok("note", "no contact made", "--contact", "Only Notes", "--at", "-1d")
    crm.ok("contact", "add", "No Cadence")
    due = crm.json("due")
    assert [t["title"] for t in due["tasks"]] == ["Very late", "Late", "Today"]
    assert [c["name"] for c in due["contacts"]] == [
        "Never Called",
        "Only Notes",
        "Long Ago",
        "Slightly Late",
    ]
    assert due["contacts"][0]["due"] is None
    assert due["contacts"][2]["due"] == day(-23)
    table = crm.ok("due").stdout
    assert "Tasks due (3)" in table and "Get in touch (4)" in table
    lines = crm.ok("due", "--format", "csv").stdout.splitlines()
    assert lines[0] == "kind,id,name,due,account,contact,email,phone"
    assert [line.split(",")[0] for line in lines[1:]] == ["task"] * 3 + ["contact"] * 4
    assert lines[1].startswith(f"task,3,Very late,{day(-9)},")
    assert len(crm.ok("due", "--format", "jsonl").stdout.splitlines()) == 7
    crm.fails(2, "due", "--format", "ids")


def test_due_with_nothing_due(crm):
    result = crm.ok("due")
    assert result.stdout == "" and "nothing is due" in result.stderr
    assert crm.json("due") == {"tasks": [], "contacts": []}
