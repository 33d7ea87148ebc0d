"""crm search: one ranked list over accounts, contacts, deals and activities."""

from typing import Annotated, Literal

import typer

from crmcli import render
from crmcli.cli import options as o
from crmcli.errors import InvalidValue
from crmcli.store import search as store

app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

FIELDS = ("kind", "id", "name", "snippet", "rank")


@app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to find; each matches as a prefix.")],
    kind: Annotated[
        Literal["accounts", "contacts", "deals", "activities"] | None,
        typer.Option("--kind", "-k", help="Only accounts, contacts, deals or activities."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many hits.")] = 20,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Find records by any word in them: names, e-mails, phones, notes, tags.

    Words match as prefixes (cyber finds Cyberdyne), accents do not matter (zoe
    finds Zoë), and all words must match. Quotes, AND, *, - are plain text.
    Best matches first: a word in the name weighs most. Words found whole in
    5,000 records or more are not also read as prefixes, and the first 5,000
    such records rank cheaply: those with the words in their name first, then
    the others, each by id.

    Examples:

    \b
      crm search acme
      crm search 'renewal quote' --kind activities
      crm search jane -n 5 --json
    """
    fmt = o.output(fmt, as_json)
    if fmt == "ids" and kind is None:
        raise InvalidValue(
            "crm search mixes kinds, whose ids overlap: add --kind for ids, or use --format csv"
        )
    with o.session(ctx, write=False) as conn:
        hits = store.search(conn, query, kind=kind, limit=limit)
    if fmt != "table":
        for hit in hits:
            hit["snippet"] = hit["snippet"].replace(store.HIT_START, "").replace(store.HIT_END, "")
    render.records(
        hits,
        fmt,
        fields=FIELDS,
        columns=FIELDS,
        empty="no matches",
        marked=(store.HIT_START, store.HIT_END),
    )
