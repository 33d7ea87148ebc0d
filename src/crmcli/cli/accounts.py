"""crm account ...: companies and organisations (or persons treated as customers)."""

import sys
from functools import partial
from typing import Annotated, Literal

import typer

from crmcli import models, render
from crmcli.cli import complete, pictures
from crmcli.cli import contacts as people
from crmcli.cli import options as o
from crmcli.errors import InvalidValue, Refused
from crmcli.store import accounts as store
from crmcli.store import contacts as contact_store
from crmcli.store import refs
from crmcli.words import counted

app = typer.Typer(
    help="Companies and organisations you do business with.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=o.CONTEXT,
)

CONTACT_COLUMNS = ("id", "name", "title", "email", "phone")
PERSON_COLUMNS = ("id", "name", "first_name", "last_name", "emails", "phones", "birthday",
                  "addresses", "every")  # fmt: skip

Ref = Annotated[
    str,
    typer.Argument(metavar="ACCOUNT", help="Account id or name.", autocompletion=complete.accounts),
]
KindOpt = Annotated[
    Literal["business", "person"] | None,
    typer.Option("--kind", help="business (default) or person."),
]
TypeOpt = Annotated[
    Literal["customer", "prospect", "partner", "vendor", "competitor", "other"] | None,
    typer.Option("--type", help="customer, prospect, partner, vendor, competitor or other."),
]
IndustryOpt = Annotated[str | None, typer.Option("--industry", help="Industry.")]
WebsiteOpt = Annotated[str | None, typer.Option("--website", help="Web site.")]
EmailOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--email",
        metavar="[LABEL:]ADDR",
        help="General e-mail address; a person account's person's, labelled and repeatable"
        " (the first is primary).",
    ),
]
PhoneOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--phone",
        metavar="[LABEL:]NUMBER",
        help="Main phone number; a person account's person's, labelled and repeatable.",
    ),
]
ParentOpt = Annotated[
    str | None,
    typer.Option(
        "--parent",
        metavar="ACCOUNT",
        help="Parent account (id or name).",
        autocompletion=complete.accounts,
    ),
]


def _person(
    first=None, last=None, prefix=None, middle=None, suffix=None, nickname=None,
    birthday=None, every=None, address=None, emails=None, phones=None,
) -> dict:  # fmt: skip
    """A person account's person's options, as contacts.add_contact/edit_contact take them."""
    values = o.given(nickname=nickname, birthday=birthday, every=every)
    return {
        "first": first,
        "last": last,
        "parts": {"prefix": prefix, "middle_name": middle, "suffix": suffix},
        "values": values,
        "addresses": address,
        "emails": emails,
        "phones": phones,
    }


def _one(option: str, given: list[str] | None) -> str | None:
    """A business account's one e-mail or phone."""
    if given and len(given) > 1:
        raise InvalidValue(f"a business account has one {option}: only a person account's"
                           " person has several")  # fmt: skip
    return given[0] if given else None


def _with_person(conn, account: dict, fmt: str) -> dict:
    """A person account's record in JSON holds its person (as crm contact show gives it)."""
    if account["person_contact_id"] is None or fmt not in ("json", "jsonl"):
        return account
    return {**account, "person": contact_store.get_contact(conn, account["person_contact_id"])}


# The contacts an account's card shows (the first by name); JSON holds them all.
SHOWN = 20


def _show(conn, account: dict, fmt: str) -> None:
    """The account card with its contacts, child accounts, deals, open tasks and timeline."""
    from crmcli import cards
    from crmcli.cli import listing
    from crmcli.store import activities, deals, tasks
    from crmcli.store.query import Query

    own = account["id"]
    deal_rows = list(deals.list_deals(conn, account_id=own))
    if fmt in ("json", "jsonl"):  # every contact
        people = list(contact_store.list_contacts(conn, account_id=own))
    else:  # the card: the first by name, and how many there are
        first = contact_store.list_contacts(conn, account_id=own, filters=Query(limit=SHOWN))
        people = cards.First(first, 0, f"crm contact list --account {own}")
        if len(people) == SHOWN:
            people.total = first.total()
    sections = {
        "contacts": (people, CONTACT_COLUMNS),
        "children": (list(store.list_accounts(conn, parent_id=own)), listing.ACCOUNT_COLUMNS),
        "deals": (deal_rows, listing.DEAL_COLUMNS),
        "tasks": (list(tasks.list_tasks(conn, account_id=own)), listing.TASK_COLUMNS),
        "activities": (
            list(activities.list_activities(conn, timeline_of=own, filters=Query(limit=10))),
            listing.ACTIVITY_COLUMNS,
        ),
    }
    if account["person_contact_id"] is not None:  # the same person as crm contact show
        person = contact_store.get_contact(conn, account["person_contact_id"])
        del sections["contacts"], sections["children"]
        account = _with_person(conn, account, fmt)
        if fmt not in ("json", "jsonl"):
            sections = {"person": ([person], PERSON_COLUMNS), **sections}
    render.record(account, fmt, fields=models.ACCOUNT_FIELDS, sections=sections)


@app.command("new")
@app.command("add", hidden=True)
def new(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            help="The account's name (unique, ignoring case); on a terminal, asked for"
            " when not given."
        ),
    ] = None,
    kind: KindOpt = None,
    type_: TypeOpt = None,
    industry: IndustryOpt = None,
    website: WebsiteOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    street: o.StreetOpt = None,
    city: o.CityOpt = None,
    region: o.RegionOpt = None,
    postal_code: o.PostalOpt = None,
    country: o.CountryOpt = None,
    parent: ParentOpt = None,
    description: o.DescriptionOpt = None,
    tag: o.TagOpt = None,
    set_: o.SetOpt = None,
    logo: pictures.LogoOpt = None,
    first: people.FirstOpt = None,
    last: people.LastOpt = None,
    prefix: people.PrefixOpt = None,
    middle: people.MiddleOpt = None,
    suffix: people.SuffixOpt = None,
    nickname: people.NicknameOpt = None,
    birthday: people.BirthdayOpt = None,
    every: people.EveryOpt = None,
    address: people.AddressOpt = None,
    quiet: o.QuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Create an account (also: crm account add). Without NAME on a terminal, the name,
    web site, phone and city are asked for.

    --kind person makes a person account: one customer who is both an account and a
    contact, its person (crm contact show finds it too). NAME is the person's name,
    split into first and last name unless --first or --last is given; --email and
    --phone are the person's (labelled, repeatable), and --first, --last, --prefix,
    --middle, --suffix, --nickname, --birthday, --every and --address are for a
    person account only.

    Examples:

    \b
      crm account new Acme --type customer --website acme.example
      crm account new 'Jane Solo' --kind person --email jane@solo.example
      crm account new
    """
    picture = pictures.read(logo, "logo")
    if name is None:
        if not o.on_terminal():
            raise InvalidValue("give the account's NAME")
        name = o.ask("Name", required=True)
        website = website or o.ask("Web site (empty: none)") or None
        if not phone:
            asked = o.ask("Phone (empty: none)", check=o.phone)
            phone = [asked] if asked else None
        city = city or o.ask("City (empty: none)") or None
    person = _person(first, last, prefix, middle, suffix, nickname, birthday, every, address)
    if kind != "person":
        personal = [first, last, prefix, middle, suffix, nickname, birthday, every, address]
        if o.anything(personal):
            raise InvalidValue("--first, --last, --birthday ... are a person's: add --kind person")
        email, phone = _one("e-mail", email), _one("phone", phone)
    values = o.given(
        name=name,
        kind=kind,
        type=type_,
        industry=industry,
        website=website,
        email=None if kind == "person" else email,
        phone=None if kind == "person" else phone,
        street=street,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        description=description,
    )
    with o.session(ctx, write=True) as conn:
        if kind == "person":
            from crmcli.store import persons

            models.name("name", name)  # given, as a business account's is
            own = {key: values.pop(key) for key in models.ADDRESS_FIELDS if key in values}
            del values["name"]
            person["values"] = {**person["values"], **own}
            account = persons.add_person_account(
                conn, values, parent=parent, account_tags=tag,
                account_fields=models.assignments(set_), full_name=name,
                **{**person, "emails": email, "phones": phone},
            )  # fmt: skip
        else:
            account = store.add_account(
                conn, values, parent=parent, tags=tag, fields=models.assignments(set_)
            )
        if picture is not None:
            pictures.apply(conn, "accounts", account["id"], picture, False, touch=False)
            account = store.get_account(conn, account["id"])
        account = _with_person(conn, account, o.output(fmt, as_json))
    o.created(account, quiet, fmt, as_json, models.ACCOUNT_FIELDS)


@app.command("list")
def list_(
    ctx: typer.Context,
    where: o.WhereOpt = None,
    tag: o.HasTagOpt = None,
    sort: o.SortOpt = None,
    limit: o.LimitOpt = None,
    offset: o.OffsetOpt = 0,
    columns: o.ColumnsOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """List accounts, by name.

    Examples:

    \b
      crm account list
      crm account list --where type=customer --sort city
      crm account list --tag partner --format csv
    """
    from crmcli.cli import listing

    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        rows = partial(store.list_accounts, conn)
        listing.show("accounts", rows, o.output(fmt, as_json), filters, columns)


@app.command("show")
def show(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Show one account with its contacts.

    The card lists its first 20 contacts by name and says how many more there
    are (`crm contact list --account ACCOUNT` lists them all); --json and
    --format jsonl hold every contact.

    Examples:

    \b
      crm account show Acme
      crm account show 3 --json
    """
    with o.session(ctx, write=False) as conn:
        account = store.get_account(conn, refs.account_id(conn, ref))
        _show(conn, account, o.output(fmt, as_json))


def _find(conn, ref: str) -> dict:
    return store.get_account(conn, refs.account_id(conn, ref))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str | None, typer.Option("--name", help="Rename the account.")] = None,
    kind: KindOpt = None,
    type_: TypeOpt = None,
    industry: IndustryOpt = None,
    website: WebsiteOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    street: o.StreetOpt = None,
    city: o.CityOpt = None,
    region: o.RegionOpt = None,
    postal_code: o.PostalOpt = None,
    country: o.CountryOpt = None,
    parent: ParentOpt = None,
    no_parent: Annotated[bool, typer.Option("--no-parent", help="Remove the parent.")] = False,
    description: o.DescriptionOpt = None,
    tag: o.TagOpt = None,
    add_tag: o.AddTagOpt = None,
    remove_tag: o.RemoveTagOpt = None,
    set_: o.SetOpt = None,
    unset: o.UnsetOpt = None,
    logo: pictures.LogoOpt = None,
    no_logo: pictures.NoLogoOpt = False,
    first: people.FirstOpt = None,
    last: people.LastOpt = None,
    prefix: people.PrefixOpt = None,
    middle: people.MiddleOpt = None,
    suffix: people.SuffixOpt = None,
    nickname: people.NicknameOpt = None,
    birthday: people.BirthdayOpt = None,
    every: people.EveryOpt = None,
    address: people.AddressOpt = None,
    editor: o.EditorOpt = False,
    quiet: o.EditQuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Change an account. An empty value (--city '') clears a field; --tag adds like --add-tag.

    A person account's --name, --email, --phone (which add, labelled), --street ...
    --country and the person's options (--first ... --address) change its person,
    whose name it keeps; crm contact edit changes the person with every option.

    --logo FILE sets or replaces the logo, --no-logo removes it (with no logo and nothing
    else to change, nothing changes).

    Examples:

    \b
      crm account edit Acme --type customer --add-tag key
      crm account edit Acme --city '' --set tier=gold
      crm account edit Acme --editor
    """
    picture, remove_logo = pictures.change(logo, no_logo, "logo")
    person = _person(first, last, prefix, middle, suffix, nickname, birthday, every, address)
    several = {"emails": email[1:] if email else None, "phones": phone[1:] if phone else None}
    values = o.given(
        name=name,
        kind=kind,
        type=type_,
        industry=industry,
        website=website,
        email=email[0] if email else None,
        phone=phone[0] if phone else None,
        street=street,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        description=description,
    )
    tags = o.tag_edit(tag, add_tag, remove_tag, set_, unset)
    personal = [first, last, prefix, middle, suffix, nickname, birthday, every, address]
    given = o.anything([values, parent, no_parent, tags, picture, remove_logo, *personal])
    if editor or (not given and o.on_terminal()):
        find = partial(_find, ref=ref)
        again = partial(edit, ctx, ref, quiet=quiet, fmt=fmt, as_json=as_json)
        return o.in_editor(ctx, "account", find, again, given)
    if not given:
        raise InvalidValue("nothing to change: give at least one option (see -h)")
    person = {**person, **several}
    if remove_logo and not o.anything([values, parent, no_parent, tags, picture, *personal]):
        unchanged = pictures.none_to_remove(ctx, "accounts", ref)
        if unchanged is not None:
            return render.record(unchanged, o.output(fmt, as_json), fields=models.ACCOUNT_FIELDS)
    with o.session(ctx, write=True) as conn:
        account = store.edit_account(
            conn, ref, values, parent=parent, no_parent=no_parent, tag_edit=tags, person=person
        )
        if picture is not None or remove_logo:
            pictures.apply(conn, "accounts", account["id"], picture, remove_logo)
            account = store.get_account(conn, account["id"])
        account = _with_person(conn, account, o.output(fmt, as_json))
    o.created(account, quiet, fmt, as_json, models.ACCOUNT_FIELDS)


@app.command("logo")
def logo(ctx: typer.Context, ref: Ref, output: o.OutputOpt = None) -> None:
    """Write the account's logo, its bytes exactly: to FILE with -o, else to stdout
    (a pipe or a file; refused on a terminal). No logo: exit 1.

    Examples:

    \b
      crm account logo Acme -o acme.png
      crm account logo Acme > acme.png
    """
    pictures.write_out(ctx, "accounts", ref, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Ref,
    detach: Annotated[
        bool, typer.Option("--detach", help="Keep its contacts and deals, unlinked.")
    ] = False,
    cascade: Annotated[
        bool, typer.Option("--cascade", help="Delete its contacts and deals too.")
    ] = False,
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Delete an account. While it has contacts or deals, --detach or --cascade says what
    becomes of them: on a terminal crm asks (detach, cascade or cancel), elsewhere it
    refuses.

    A person account goes with its person (--detach does not apply); its deals
    still need --cascade.

    Examples:

    \b
      crm account delete Acme
      crm account delete Acme --detach --yes
      crm account delete 3 --cascade --yes
    """
    if detach and cascade:
        raise InvalidValue("--detach and --cascade cannot be used together")
    mode = "cascade" if cascade else "detach" if detach else "refuse"
    # Ask before taking the write lock, so a slow answer blocks no other writer.
    with o.session(ctx, write=False) as conn:
        account = store.get_account(conn, refs.account_id(conn, ref))
        counts = store.dependants(conn, account["id"])
    label = o.describe("account", account)
    if account["person_contact_id"] is not None:
        if detach:
            from crmcli.store import persons

            persons.refuse_detach(account)
        label = f"person {label} and its person (contact id {account['person_contact_id']})"
    if mode == "refuse" and any(counts.values()) and not yes and o.on_terminal():
        linked = f"{counted(counts['contacts'], 'contact')} and {counted(counts['deals'], 'deal')}"
        print(f"{label[0].upper()}{label[1:]} has {linked}.", file=sys.stderr)
        answer = o.ask("Detach them (keep them, unlinked), cascade (delete them too) or cancel?",
                       choices=("detach", "cascade", "cancel"))  # fmt: skip
        if answer == "cancel":
            raise Refused("declined; nothing was deleted")
        mode, cascade = answer, answer == "cascade"
    elif mode == "refuse" and any(counts.values()):
        pass  # the store refuses below, with the reason
    elif any(counts.values()):
        verb = "deleting" if cascade else "unlinking"
        o.confirm(
            f"Delete {label}, {verb} {counted(counts['contacts'], 'contact')} "
            f"and {counted(counts['deals'], 'deal')}?",
            yes,
        )
    else:
        o.confirm(f"Delete {label}?", yes)
    with o.session(ctx, write=True) as conn:
        account, counts = store.delete_account(conn, str(account["id"]), mode)
    note = ""
    if account["person_contact_id"] is not None:
        note = f" and its person (contact id {account['person_contact_id']})"
    if any(counts.values()):
        verb = "deleted" if cascade else "unlinked"
        note = f"; {verb} {counted(counts['contacts'], 'contact')}"
        note += f" and {counted(counts['deals'], 'deal')}"
    o.deleted("account", account, fmt, as_json, models.ACCOUNT_FIELDS, note)


@app.command("convert")
def convert(
    ctx: typer.Context,
    ref: Ref,
    to: Annotated[
        Literal["person", "business"],
        typer.Option("--to", help="person or business.", show_default=False),
    ],
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Turn a business account into a person account or back; undoable (crm undo).

    --to person: a business account with at most one contact and no child accounts;
    its contact becomes its person (gaining the account's e-mail, phone and address
    if it has none), else a person is made from the account's name, e-mail, phone and
    address; the account takes the person's name. --to business: the person stays,
    a contact of the account. Deals, activities and tasks stay as they are.

    Examples:

    \b
      crm account convert 'Jane Solo' --to business
      crm account convert 7 --to person
    """
    from crmcli.store import persons

    with o.session(ctx, write=True) as conn:
        account = persons.convert(conn, ref, to)
        _show(conn, account, o.output(fmt, as_json))


@app.command("dupes")
def dupes(ctx: typer.Context, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False) -> None:
    """Groups of accounts that are likely one company, with the reasons.

    The same name ignoring case, punctuation and legal suffixes (Acme, ACME Inc.,
    Acme GmbH; also Ltd, LLC, SA, AG, Corp ...), or the same web site domain
    (https://www.acme.example/ and acme.example). Accounts linked through others
    are one group. JSON: [{"reason", "accounts": [...]}]; `crm account merge`
    joins them.

    Examples:

    \b
      crm account dupes
      crm account dupes --json
    """
    from crmcli.store import merge

    with o.session(ctx, write=False) as conn:
        groups = merge.account_dupes(conn)
    o.dupes(groups, "accounts", ("id", "name", "website", "city", "country"), fmt, as_json)


@app.command("merge")
def merge(
    ctx: typer.Context,
    keep: Annotated[
        str,
        typer.Argument(
            metavar="KEEP", help="The account that stays.", autocompletion=complete.accounts
        ),
    ],
    others: Annotated[
        list[str],
        typer.Argument(
            metavar="OTHER...", help="Accounts merged into it.", autocompletion=complete.accounts
        ),
    ],
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Merge accounts into KEEP: their contacts, deals, activities, tasks, child accounts,
    tags and custom fields (KEEP wins) move to it; its empty fields are filled.
    A merge that would give vcard more than 1,000 lines (1 MB) is refused.

    Examples:

    \b
      crm account merge Acme 'ACME Inc.'
      crm account merge 3 7 9 --yes
    """
    account = o.merge(ctx, "account", keep, others, yes)
    render.record(account, o.output(fmt, as_json), fields=models.ACCOUNT_FIELDS)
