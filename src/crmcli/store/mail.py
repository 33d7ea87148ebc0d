"""E-mail messages logged as `email` activities (crm mail log).

A message is logged once: its Message-ID is kept in the activity's custom
field `message_id` (indexed by migration m015), and a message whose id is
already there is passed over.  It becomes one activity per known contact among
From, To and Cc (each linked to its account too), so that every one of them
shows it on their timeline and their last_contacted moves, as `crm log --kind
email` does: the same add_activity and the same triggers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from crmcli import models
from crmcli.errors import InvalidValue, Refused
from crmcli.formats.mail import Message, Unreadable, parse, raw_message_id
from crmcli.store import activities, contacts, refs

MESSAGE_ID = "json_extract(fields, '$.message_id')"  # the expression m015 indexes


@dataclass
class Outcome:
    """What a `mail log` did, message by message."""

    logged: list[dict] = field(default_factory=list)  # {"message_id", "subject", "activities"}
    already: list[dict] = field(default_factory=list)  # {"message_id", "subject", "activities"}
    no_contact: list[dict] = field(default_factory=list)  # {"message_id", "subject"}
    unreadable: list[str] = field(default_factory=list)  # the reasons
    unknown: dict[str, str] = field(default_factory=dict)  # address -> display name
    created: list[dict] = field(default_factory=list)  # {"id", "name", "email"}

    def as_json(self) -> dict:
        return {
            "logged": self.logged,
            "already_logged": self.already,
            "no_known_contact": self.no_contact,
            "unreadable": self.unreadable,
            "unknown_addresses": list(self.unknown),
            "created_contacts": self.created,
        }


def logged_activities(conn: sqlite3.Connection, message_id: str) -> list[int]:
    rows = conn.execute(f"SELECT id FROM activities WHERE {MESSAGE_ID} = ?", (message_id,))
    return [row_id for (row_id,) in rows]


def log_messages(
    conn: sqlite3.Connection,
    raw: Iterable[bytes | Unreadable],
    *,
    me: Iterable[str] = (),
    contact: str | None = None,
    deal: str | None = None,
    create: bool = False,
    single: bool = False,
    progress: Callable[[], None] | None = None,
) -> Outcome:
    """Log each message of `raw`.  `single`: one message that must be logged; one
    with no known address (and no `contact`) or that cannot be read is refused
    then, nothing written; in a mailbox it is passed over and reported."""
    mine = {models.email_key(address) for address in me}
    contact_id = refs.contact_id(conn, contact) if contact is not None else None
    deal_ref = str(refs.deal_id(conn, deal)) if deal is not None else None
    outcome = Outcome()
    for item in raw:
        if progress is not None:
            progress()
        if not single and not isinstance(item, Unreadable):
            message_id = raw_message_id(item)  # logged before: not even parsed
            known = logged_activities(conn, message_id) if message_id is not None else []
            if known:
                outcome.already.append(
                    {"message_id": message_id, "subject": None, "activities": known}
                )
                continue
        try:
            if isinstance(item, Unreadable):
                raise item
            message = parse(item)
        except Unreadable as exc:
            if single:
                raise Refused(f"the message cannot be logged: {exc}; nothing was written") from None
            outcome.unreadable.append(str(exc))
            continue
        if single:
            _log(conn, message, mine, contact_id, deal_ref, create, single, outcome)
            continue
        # One message's writes stand or fall together: a value crm refuses (which
        # the parser should never let through) passes that message over, not the box.
        conn.execute("SAVEPOINT crm_mail_message")
        mark = (len(outcome.logged), len(outcome.created), dict(outcome.unknown))
        try:
            _log(conn, message, mine, contact_id, deal_ref, create, single, outcome)
        except InvalidValue as exc:
            conn.execute("ROLLBACK TO crm_mail_message")
            del outcome.logged[mark[0] :], outcome.created[mark[1] :]
            outcome.unknown = mark[2]
            outcome.unreadable.append(f"{message.message_id}: {exc.message}")
        conn.execute("RELEASE crm_mail_message")
    return outcome


def _log(conn, message: Message, mine, contact_id, deal_ref, create, single, outcome) -> None:
    about = {"message_id": message.message_id, "subject": message.subject}
    known = logged_activities(conn, message.message_id)
    if known:
        outcome.already.append({**about, "activities": known})
        return
    sent = message.sender is not None and models.email_key(message.sender[1]) in mine
    people = [message.sender] if message.sender else []
    people += message.recipients
    ids: list[int] = [contact_id] if contact_id is not None else []
    unknown: dict[str, str] = {}
    seen = set(mine)
    for name, address in people:
        key = models.email_key(address)
        if key in seen:
            continue
        seen.add(key)
        owner = conn.execute(
            "SELECT contact_id FROM contact_emails WHERE value_key = ?", (key,)
        ).fetchone()
        if owner is None:
            unknown[address] = name
        elif owner[0] not in ids:
            ids.append(owner[0])
    if create:
        for address, name in list(unknown.items()):
            created = _create(conn, name, address)
            if created is not None:
                ids.append(created["id"])
                outcome.created.append(
                    {"id": created["id"], "name": created["name"], "email": address}
                )
                del unknown[address]
    for address, name in unknown.items():
        outcome.unknown.setdefault(address, name)
    if not ids:
        if single:
            listed = ", ".join(unknown) or "none"
            raise Refused(
                f"no known contact in the message (addresses: {listed}): give --contact REF,"
                " or --create to add them; nothing was written"
            )
        outcome.no_contact.append(about)
        return
    fields = {"message_id": message.message_id, "direction": "sent" if sent else "received"}
    made = []
    for person in ids:
        activity = activities.add_activity(
            conn,
            message.body,
            kind_name="email",
            subject=message.subject or ("(no subject)" if message.body is None else None),
            moment=message.at,
            contact=str(person),
            deal=deal_ref,
            fields=fields,
        )
        made.append(activity["id"])
    outcome.logged.append({**about, "activities": made})


def _create(conn, name: str, address: str) -> dict | None:
    """A new contact for an unknown address, named by its display name (or, with
    none, by the address itself); None if crm would not take the address."""
    try:
        models.email(address)
    except InvalidValue:
        return None
    display = name if name and models.email_key(name) != models.email_key(address) else None
    try:
        return contacts.add_contact(conn, full_name=display, emails=[address])
    except InvalidValue:
        return contacts.add_contact(conn, emails=[address])
