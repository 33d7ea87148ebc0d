"""crm contact ...: people, each optionally working for one account."""

from functools import partial
from typing import Annotated

import typer

from crmcli import models, render
from crmcli.cli import complete, pictures
from crmcli.cli import options as o
from crmcli.errors import InvalidValue
from crmcli.store import contacts as store
from crmcli.store import refs

app = typer.Typer(
    help="People, each optionally working for one account.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=o.CONTEXT,
)

Ref = Annotated[
    str,
    typer.Argument(
        metavar="CONTACT", help="Contact id, e-mail or full name.", autocompletion=complete.contacts
    ),
]
FirstOpt = Annotated[str | None, typer.Option("--first", help="First (given) name.")]
LastOpt = Annotated[str | None, typer.Option("--last", help="Last (family) name.")]
AccountOpt = o.AccountRefOpt
EmailOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--email",
        "-e",
        metavar="[LABEL:]ADDR",
        help="E-mail address, e.g. work:jane@acme.example (repeatable; the first is primary).",
    ),
]
PhoneOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--phone",
        "-p",
        metavar="[LABEL:]NUMBER",
        help="Phone number, e.g. mobile:+1 555 0100 (repeatable; the first is primary).",
    ),
]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Job title.")]
DepartmentOpt = Annotated[str | None, typer.Option("--department", help="Department.")]
BirthdayOpt = Annotated[
    str | None, typer.Option("--birthday", help="Birthday, YYYY-MM-DD (--MM-DD without a year).")
]
PrefixOpt = Annotated[str | None, typer.Option("--prefix", help="Name prefix: Dr., Ms.")]
MiddleOpt = Annotated[str | None, typer.Option("--middle", help="Middle (additional) name.")]
SuffixOpt = Annotated[str | None, typer.Option("--suffix", help="Name suffix: PhD, Jr.")]
NicknameOpt = Annotated[str | None, typer.Option("--nickname", help="Nickname.")]
GenderOpt = Annotated[
    str | None, typer.Option("--gender", help="Gender as you write it (vCard: F, M, O;non-binary).")
]
AnniversaryOpt = Annotated[
    str | None, typer.Option("--anniversary", help="Anniversary, YYYY-MM-DD or --MM-DD.")
]
AddressOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--address",
        metavar="[LABEL:]STREET;CITY;REGION;POSTAL;COUNTRY",
        help="A postal address, parts in that order, later ones may be left out, e.g."
        " 'home:1 Main St; Springfield; IL; 62701; USA' (repeatable; the first is primary,"
        " shown as --street ... --country; seven parts are vCard's PO box; extended;"
        " street; city; region; postal code; country).",
    ),
]
UrlOpt = Annotated[
    list[str] | None,
    typer.Option("--url", metavar="[LABEL:]URL", help="Web page, e.g. work:https://acme.example."),
]
ImppOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--impp",
        metavar="[LABEL:]URI",
        help="Chat or social handle as a URI, e.g. xmpp:jane@jabber.example or"
        " work:skype:jane.doe (repeatable).",
    ),
]
RelatedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--related",
        metavar="[LABEL:]NAME",
        help="A related person: name or URI, e.g. spouse:John Doe (repeatable).",
    ),
]
DateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--date",
        metavar="LABEL:DATE",
        help="Another date, e.g. 'first met:2020-05-01' or graduation:--06-30 (repeatable;"
        " YYYY-MM-DD or --MM-DD; one day may hold several labels: each is its own date).",
    ),
]


def _lists(url, impp, related, date) -> dict:
    return {"urls": url, "impps": impp, "related": related, "dates": date}


EveryOpt = Annotated[
    str | None,
    typer.Option(
        "--every",
        metavar="INTERVAL",
        help="Keep in touch this often: 30d, 2w, 3m (0 clears); see crm due.",
    ),
]


@app.command("add")
@app.command("new", hidden=True)
def add(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="Full name: 'Jane Q. Doe' is first 'Jane Q.', last 'Doe'."),
    ] = None,
    first: FirstOpt = None,
    last: LastOpt = None,
    prefix: PrefixOpt = None,
    middle: MiddleOpt = None,
    suffix: SuffixOpt = None,
    nickname: NicknameOpt = None,
    account: AccountOpt = None,
    email: EmailOpt = None,
    phone: PhoneOpt = None,
    title: TitleOpt = None,
    department: DepartmentOpt = None,
    birthday: BirthdayOpt = None,
    anniversary: AnniversaryOpt = None,
    gender: GenderOpt = None,
    every: EveryOpt = None,
    address: AddressOpt = None,
    street: o.StreetOpt = None,
    city: o.CityOpt = None,
    region: o.RegionOpt = None,
    postal_code: o.PostalOpt = None,
    country: o.CountryOpt = None,
    url: UrlOpt = None,
    impp: ImppOpt = None,
    related: RelatedOpt = None,
    date: DateOpt = None,
    description: o.DescriptionOpt = None,
    tag: o.TagOpt = None,
    set_: o.SetOpt = None,
    photo: pictures.PhotoOpt = None,
    person_account: Annotated[
        bool,
        typer.Option(
            "--person-account",
            help="Make it a person account too: an account of kind person named as the"
            " contact, bound to it (as crm account new NAME --kind person; --tag and --set"
            " are the person's).",
        ),
    ] = False,
    quiet: o.QuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Add a contact (also: crm contact new).

    NAME is the name as shown, kept as given; it is split into first and last
    name unless --first or --last is given. Without NAME the name is made of
    --prefix --first --middle --last --suffix, or is the nickname, the first
    e-mail, the account's name or the first phone. --street ... --country edit
    the first --address. With none of these on a terminal, the name, e-mail,
    phone, account and title are asked for.

    Examples:

    \b
      crm contact add 'Jane Doe' -e work:jane@acme.example -a Acme --title CTO
      crm contact add --first Jane --last Doe -p 'mobile:+1 555 0100' -t vip
      crm contact add
    """
    picture = pictures.read(photo, "photo")
    named = [name, first, last, prefix, middle, suffix, nickname, email, phone, account]
    if not o.anything(named) and o.on_terminal():
        # `crm contact add` alone on a terminal: ask for the main fields.
        name = o.ask("Name", required=True)
        email = [answer] if (answer := o.ask("E-mail (empty: none)", check=o.email)) else None
        phone = [answer] if (answer := o.ask("Phone (empty: none)", check=o.phone)) else None
        account = o.ask("Account (empty: none)", check=o.account(ctx)) or None
        title = title or o.ask("Title (empty: none)") or None
    values = o.given(
        nickname=nickname,
        anniversary=anniversary,
        gender=gender,
        title=title,
        department=department,
        birthday=birthday,
        street=street,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        description=description,
        every=every,
    )
    if person_account and account is not None:
        raise InvalidValue("--person-account and --account cannot be used together")
    with o.session(ctx, write=True) as conn:
        add = store.add_contact
        if person_account:
            from crmcli.store import persons

            def add(conn, **person):
                account = persons.add_person_account(conn, {}, **person)
                return store.get_contact(conn, account["person_contact_id"])

        contact = add(
            conn,
            full_name=name,
            first=first,
            last=last,
            parts={"prefix": prefix, "middle_name": middle, "suffix": suffix},
            values=values,
            account=account,
            emails=email,
            phones=phone,
            addresses=address,
            lists=_lists(url, impp, related, date),
            tags=tag,
            fields=models.assignments(set_),
        )
        if picture is not None:
            pictures.apply(conn, "contacts", contact["id"], picture, False, touch=False)
            contact = store.get_contact(conn, contact["id"])
    o.created(contact, quiet, fmt, as_json, models.CONTACT_FIELDS)


@app.command("list")
def list_(
    ctx: typer.Context,
    account: AccountOpt = None,
    where: o.WhereOpt = None,
    tag: o.HasTagOpt = None,
    sort: o.SortOpt = None,
    limit: o.LimitOpt = None,
    offset: o.OffsetOpt = 0,
    columns: o.ColumnsOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """List contacts by name, optionally only those of one account.

    Examples:

    \b
      crm contact list
      crm contact list --account Acme --sort -last_contacted
      crm contact list --where birthday=--04-23 --format json
    """
    from crmcli.cli import listing

    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        account_id = refs.account_id(conn, account) if account is not None else None
        rows = partial(store.list_contacts, conn, account_id=account_id)
        listing.show("contacts", rows, o.output(fmt, as_json), filters, columns)


@app.command("show")
def show(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Show one contact with its deals, open tasks and latest activities.

    Examples:

    \b
      crm contact show 'Jane Doe'
      crm contact show jane@acme.example --json
    """
    from crmcli.cli import listing
    from crmcli.store import activities, deals, tasks
    from crmcli.store.query import Query

    with o.session(ctx, write=False) as conn:
        contact = store.get_contact(conn, refs.contact_id(conn, ref))
        sections = {
            "deals": (list(deals.list_deals(conn, contact_id=contact["id"])), listing.DEAL_COLUMNS),
            "tasks": (list(tasks.list_tasks(conn, contact_id=contact["id"])), listing.TASK_COLUMNS),
            "activities": (
                list(
                    activities.list_activities(
                        conn, contact_id=contact["id"], filters=Query(limit=10)
                    )
                ),
                listing.ACTIVITY_COLUMNS,
            ),
        }
    render.record(contact, o.output(fmt, as_json), fields=models.CONTACT_FIELDS, sections=sections)


def _find(conn, ref: str) -> dict:
    return store.get_contact(conn, refs.contact_id(conn, ref))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="New name as shown, kept as given. Alone it is also split into first/last"
            " as in add (prefix, middle and suffix cleared); with --first, --last, --prefix,"
            " --middle or --suffix those parts are set instead. '' makes it from the parts.",
        ),
    ] = None,
    first: FirstOpt = None,
    last: LastOpt = None,
    prefix: PrefixOpt = None,
    middle: MiddleOpt = None,
    suffix: SuffixOpt = None,
    nickname: NicknameOpt = None,
    account: AccountOpt = None,
    no_account: Annotated[
        bool, typer.Option("--no-account", help="Unlink from its account.")
    ] = False,
    email: EmailOpt = None,
    remove_email: Annotated[
        list[str] | None,
        typer.Option("--remove-email", metavar="ADDR", help="Remove an e-mail (repeatable)."),
    ] = None,
    phone: PhoneOpt = None,
    remove_phone: Annotated[
        list[str] | None,
        typer.Option("--remove-phone", metavar="NUMBER", help="Remove a phone (repeatable)."),
    ] = None,
    address: AddressOpt = None,
    remove_address: Annotated[
        list[str] | None,
        typer.Option(
            "--remove-address",
            metavar="N|LABEL",
            help="Remove the Nth address (1 is the primary) or those with this label.",
        ),
    ] = None,
    url: UrlOpt = None,
    remove_url: Annotated[
        list[str] | None, typer.Option("--remove-url", metavar="URL", help="Remove a URL.")
    ] = None,
    impp: ImppOpt = None,
    remove_impp: Annotated[
        list[str] | None,
        typer.Option("--remove-impp", metavar="URI", help="Remove a chat handle."),
    ] = None,
    related: RelatedOpt = None,
    remove_related: Annotated[
        list[str] | None,
        typer.Option("--remove-related", metavar="NAME", help="Remove a related person."),
    ] = None,
    date: DateOpt = None,
    remove_date: Annotated[
        list[str] | None,
        typer.Option("--remove-date", metavar="LABEL|DATE", help="Remove a date."),
    ] = None,
    title: TitleOpt = None,
    department: DepartmentOpt = None,
    birthday: BirthdayOpt = None,
    anniversary: AnniversaryOpt = None,
    gender: GenderOpt = None,
    every: EveryOpt = None,
    street: o.StreetOpt = None,
    city: o.CityOpt = None,
    region: o.RegionOpt = None,
    postal_code: o.PostalOpt = None,
    country: o.CountryOpt = None,
    description: o.DescriptionOpt = None,
    tag: o.TagOpt = None,
    add_tag: o.AddTagOpt = None,
    remove_tag: o.RemoveTagOpt = None,
    set_: o.SetOpt = None,
    unset: o.UnsetOpt = None,
    photo: pictures.PhotoOpt = None,
    no_photo: pictures.NoPhotoOpt = False,
    editor: o.EditorOpt = False,
    quiet: o.EditQuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Change a contact.

    --email, --phone, --url, --impp, --related and --date add (or relabel) values;
    --remove-... drop them. --address adds one (one with the label of an address
    the contact has replaces it); --street ... --country edit the primary one.
    A name crm made (from the parts, nickname, first e-mail, account or first phone)
    is made again when any of them changes; a name given with NAME/--name is kept.
    An empty value (--title '') clears a field; --tag adds like --add-tag.
    --photo FILE sets or replaces the photo, --no-photo removes it (with no photo and
    nothing else to change, nothing changes).

    Examples:

    \b
      crm contact edit jane@acme.example --title CTO --add-tag vip
      crm contact edit 'Jane Doe' --email home:jane@home.example --remove-phone '555 0100'
      crm contact edit 'Jane Doe' --editor
    """
    picture, remove_photo = pictures.change(photo, no_photo, "photo")
    values = o.given(
        nickname=nickname,
        anniversary=anniversary,
        gender=gender,
        title=title,
        department=department,
        birthday=birthday,
        street=street,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        description=description,
        every=every,
    )
    tags = o.tag_edit(tag, add_tag, remove_tag, set_, unset)
    parts = {"prefix": prefix, "middle_name": middle, "suffix": suffix}
    lists = _lists(url, impp, related, date)
    removals = _lists(remove_url, remove_impp, remove_related, remove_date)
    changes = [
        name,
        first,
        last,
        *parts.values(),
        address,
        remove_address,
        *lists.values(),
        *removals.values(),
        account,
        no_account,
        email,
        remove_email,
        phone,
        remove_phone,
        values,
        tags,
        picture,
        remove_photo,
    ]
    if editor or (not o.anything(changes) and o.on_terminal()):
        find = partial(_find, ref=ref)
        again = partial(edit, ctx, ref, quiet=quiet, fmt=fmt, as_json=as_json)
        return o.in_editor(ctx, "contact", find, again, o.anything(changes))
    if not o.anything(changes):
        raise InvalidValue("nothing to change: give at least one option (see -h)")
    if remove_photo and not o.anything(changes[:-1]):
        unchanged = pictures.none_to_remove(ctx, "contacts", ref)
        if unchanged is not None:
            return render.record(unchanged, o.output(fmt, as_json), fields=models.CONTACT_FIELDS)
    with o.session(ctx, write=True) as conn:
        contact = store.edit_contact(
            conn,
            ref,
            full_name=name,
            first=first,
            last=last,
            parts=parts,
            values=values,
            account=account,
            no_account=no_account,
            emails=email,
            remove_emails=remove_email,
            phones=phone,
            remove_phones=remove_phone,
            addresses=address,
            remove_addresses=remove_address,
            lists=lists,
            removals=removals,
            tag_edit=tags,
        )
        if picture is not None or remove_photo:
            pictures.apply(conn, "contacts", contact["id"], picture, remove_photo)
            contact = store.get_contact(conn, contact["id"])
    o.created(contact, quiet, fmt, as_json, models.CONTACT_FIELDS)


@app.command("photo")
def photo(ctx: typer.Context, ref: Ref, output: o.OutputOpt = None) -> None:
    """Write the contact's photo, its bytes exactly: to FILE with -o, else to stdout
    (a pipe or a file; refused on a terminal). No photo: exit 1.

    Examples:

    \b
      crm contact photo 'Jane Doe' -o jane.jpg
      crm contact photo 12 > jane.jpg
    """
    pictures.write_out(ctx, "contacts", ref, output)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Ref,
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Delete a contact; its deals, activities and tasks stay, unlinked from it.

    Examples:

    \b
      crm contact delete 'Jane Doe'
      crm contact delete 12 --yes
    """
    o.delete(
        ctx,
        "contact",
        lambda conn: store.get_contact(conn, refs.contact_id(conn, ref)),
        store.delete_contact,
        yes,
        fmt,
        as_json,
        models.CONTACT_FIELDS,
    )


@app.command("dupes")
def dupes(ctx: typer.Context, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False) -> None:
    """Groups of contacts that are likely the same person, one group per person, with
    the reasons.

    Same e-mail (ignoring +tags), same phone (the last 10 digits), or the same or a
    similar name at the same account: spelt nearly alike, or the same but for
    initials and middle names (Jane Doe, Jane Q. Doe and Jane D.); the same name also
    counts between contacts of no account. Contacts linked through others are one
    group. JSON: [{"reason", "contacts": [...]}].

    Examples:

    \b
      crm contact dupes
      crm contact dupes --json
    """
    from crmcli.store import merge

    with o.session(ctx, write=False) as conn:
        groups = merge.dupes(conn)
    o.dupes(groups, "contacts", ("id", "name", "email", "phone", "account"), fmt, as_json)


@app.command("merge")
def merge(
    ctx: typer.Context,
    keep: Annotated[
        str,
        typer.Argument(
            metavar="KEEP", help="The contact that stays.", autocompletion=complete.contacts
        ),
    ],
    others: Annotated[
        list[str],
        typer.Argument(
            metavar="OTHER...", help="Contacts merged into it.", autocompletion=complete.contacts
        ),
    ],
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Merge contacts into KEEP: their e-mails, phones, tags, custom fields (KEEP wins),
    deals, activities and tasks move to it; its empty fields are filled; they are deleted.
    A merge that would give a list more than 100 items (vcard: 1,000 lines) is refused.

    Examples:

    \b
      crm contact merge 'Jane Doe' 'Jane D.'
      crm contact merge jane@acme.example 17 23 --yes
    """
    contact = o.merge(ctx, "contact", keep, others, yes)
    render.record(contact, o.output(fmt, as_json), fields=models.CONTACT_FIELDS)
