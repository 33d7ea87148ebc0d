"""Two-way sync of crm's contacts with one remote (a CardDAV address book, a vdir).

The state table (sync_cards) says what each card looked like at the last sync,
on both sides: the remote's ETag and the hash of its text, and the hash of the
card crm would write for the contact.  A sync then finds:

- remote changes: sync-collection's since the stored token, else the remote's
  index against the stored ETags; a changed ETag whose text hashes the same is
  no change (a file touched);
- local changes: contacts without a state row (new), state rows without a
  contact (deleted), and contacts whose card, rendered now, hashes otherwise than
  last time; only contacts whose stamp (updated_at, photo, account) moved are
  rendered.  `crm undo` brings back older rows: their stamp differs too.

Both changed: a conflict, left alone and listed (`error`), or settled (`local`,
`remote`); the losing local version stays in the history.  Both sides the same
(a sync cut short after the remote took a card): no conflict, just recorded.
Cards come in through the one vCard mapping (formats.vcard) and the store's
write path (store.cards); what crm sends is `vcard.card` of the contact, so
what crm has no field for goes back as it came.

A RemoteError stops the sync where it is: what was done so far (each push
recorded in the state right after the remote took it) stays, and the next sync
goes on from there.  A card the remote holds that crm cannot read is reported
and left alone.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from crmcli import db
from crmcli.config import Config
from crmcli.errors import CrmError
from crmcli.formats import vcard
from crmcli.store import cards, history
from crmcli.store.common import now
from crmcli.sync import CardRefused, Conflict, Remote, RemoteError

CONFLICT_CHOICES = ("error", "local", "remote")
_REV = re.compile(r"(?im)^REV[;:][^\n]*\n?")
_VERSION = re.compile(r"(?im)^VERSION:[ \t]*([0-9.]+)")
_STATE = ("href", "etag", "contact_id", "uid", "version", "remote_hash", "local_hash", "stamp")
_COLUMNS = ", ".join("contact" if key == "contact_id" else key for key in _STATE)  # its columns


def digest(text: str) -> str:
    """A card's content hash: line ends and REV (a time stamp) do not count."""
    text = _REV.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def version_of(text: str) -> str:
    """The vCard version a card says, as crm writes it back: 4.0, else 3.0."""
    match = _VERSION.search(text)
    return "4.0" if match and match.group(1).startswith("4") else "3.0"


@dataclass
class Summary:
    remote: str
    dry_run: bool = False
    pulled: Counter = field(default_factory=Counter)  # created, updated, deleted
    pushed: Counter = field(default_factory=Counter)
    conflicts: list[dict] = field(default_factory=list)  # contact, name, href, why
    problems: list[str] = field(default_factory=list)  # cards left alone, and why
    error: str | None = None  # the RemoteError that stopped the sync
    refused: int = 0  # cards the remote refused (in problems too): the sync fails

    def as_dict(self) -> dict:
        def counts(counter: Counter) -> dict:
            return {key: counter[key] for key in ("created", "updated", "deleted")}

        return {"remote": self.remote, "dry_run": self.dry_run, "pulled": counts(self.pulled),
                "pushed": counts(self.pushed), "conflicts": self.conflicts,
                "problems": self.problems, "refused": self.refused,
                "error": self.error}  # fmt: skip

    @property
    def failed(self) -> bool:
        return bool(self.conflicts) or self.refused > 0 or self.error is not None


@dataclass
class _Card:
    """A card fetched from the remote."""

    href: str
    etag: str | None
    text: str
    hash: str
    record: dict
    version: str
    uid: str | None


@dataclass
class _Local:
    """A contact's card as crm would write it now."""

    contact_id: int
    record: dict
    text: str
    hash: str
    uid: str


class _Sync:
    def __init__(self, conn: sqlite3.Connection, remote_row: dict, remote: Remote,
                 dry_run: bool, conflict: str, config: Config):  # fmt: skip
        if conflict not in CONFLICT_CHOICES:
            raise ValueError(conflict)
        self.conn, self.row, self.remote = conn, remote_row, remote
        self.dry_run, self.policy, self.config = dry_run, conflict, config
        self.id = remote_row["id"]
        self.summary = Summary(remote_row["name"], dry_run)
        found = conn.execute(f"SELECT {_COLUMNS} FROM sync_cards WHERE remote_id = ?", (self.id,))
        self.state: dict[str, dict] = {row[0]: dict(zip(_STATE, row, strict=True))
                                       for row in found}  # fmt: skip
        self.by_contact = {row["contact_id"]: row for row in self.state.values()}
        self.versions: Counter = Counter()

    # -- finding what changed ---------------------------------------------------------
    def remote_changes(self) -> tuple[dict[str, str], set[str], str | None]:
        token = self.row.get("sync_token")
        changes = self.remote.changes(token)
        if changes is None and token is not None:
            # the token refused: a new one, with the whole listing (the index would leave
            # the refused token stored, refused again at every sync)
            token, changes = None, self.remote.changes(None)
        if changes is not None:
            changed = {href: etag for href, etag in changes.changed.items()
                       if href not in self.state or self.state[href]["etag"] != etag}  # fmt: skip
            if token is None:  # a whole listing: what it lacks is gone (state of a sync
                # cut short before its token was stored, or of a refused token)
                return changed, set(self.state) - set(changes.changed), changes.token
            return changed, changes.deleted & set(self.state), changes.token
        index = self.remote.index()
        changed = {href: etag for href, etag in index.items()
                   if href not in self.state or self.state[href]["etag"] != etag}  # fmt: skip
        return changed, set(self.state) - set(index), None

    def local_changes(self) -> tuple[dict[int, _Local], dict[int, None], set[int]]:
        """(changed contacts, new contact ids, ids deleted here)."""
        stamps = cards.stamps(self.conn)
        changed, new = {}, {}
        for contact_id, stamp in stamps.items():
            state = self.by_contact.get(contact_id)
            if state is None:
                new[contact_id] = None
            elif state["stamp"] != stamp:
                local = self.render(contact_id, state["version"], state["uid"])
                if local.hash != state["local_hash"]:
                    changed[contact_id] = local
                elif not self.dry_run:  # the same card: only the stamp moves on
                    self.conn.execute(
                        "UPDATE sync_cards SET stamp = ? WHERE remote_id = ? AND href = ?",
                        (stamp, self.id, state["href"]),
                    )
        deleted = {contact_id for contact_id in self.by_contact if contact_id not in stamps}
        return changed, new, deleted

    def render(self, contact_id: int, version: str, uid: str | None = None) -> _Local:
        record = cards.record(self.conn, contact_id)
        if uid and not (record.get("fields") or {}).get("uid"):
            record["fields"] = {**(record.get("fields") or {}), "uid": uid}
        text = vcard.card(record, version)
        return _Local(contact_id, record, text, digest(text), vcard.uid(record))

    def fetched(self, changed: dict[str, str]) -> dict[str, _Card]:
        """The changed cards crm can read; the others reported and left alone."""
        found = {}
        for href, etag, text in self.remote.fetch(sorted(changed)):
            state = self.state.get(href)
            if not text:
                self.problem(href, "not text, or too big")
                continue
            text_hash = digest(text)
            if state is not None and text_hash == state["remote_hash"]:
                self.write_state({**state, "etag": etag})  # touched, not changed
                continue
            record = self.read(href, text)
            if record is not None:
                version = version_of(text)
                self.versions[version] += 1
                uid = (record.get("fields") or {}).get("uid") or None
                found[href] = _Card(href, etag, text, text_hash, record, version, uid)
        return found

    def read(self, href: str, text: str) -> dict | None:
        try:
            read = list(vcard.read_vcf(text))
        except CrmError as exc:
            self.problem(href, exc.message)
            return None
        if len(read) != 1:
            self.problem(href, f"holds {len(read)} cards, not one")
            return None
        _, kind, record = read[0]
        if isinstance(record, str):
            self.problem(href, record)
            return None
        if kind != "contacts":  # accounts travel as their contacts' ORG
            self.problem(href, "a KIND:org card (crm sends and reads accounts as ORG)")
            return None
        return record

    def problem(self, href: str, why: str) -> None:
        self.summary.problems.append(f"{href}: {why}: left alone")

    # -- the state ----------------------------------------------------------------
    def write_state(self, row: dict) -> None:
        if self.dry_run:
            return
        self.conn.execute(
            f"INSERT OR REPLACE INTO sync_cards (remote_id, {_COLUMNS})"
            f" VALUES (?, {', '.join('?' for _ in _STATE)})",
            (self.id, *(row[key] for key in _STATE)),
        )
        old = self.by_contact.get(row["contact_id"])
        if old is not None and old["href"] != row["href"]:
            self.drop_state(old["href"])
        self.state[row["href"]] = row
        self.by_contact[row["contact_id"]] = row

    def drop_state(self, href: str) -> None:
        if self.dry_run:
            return
        self.conn.execute(
            "DELETE FROM sync_cards WHERE remote_id = ? AND href = ?", (self.id, href)
        )
        row = self.state.pop(href, None)
        if row is not None and self.by_contact.get(row["contact_id"]) is row:
            del self.by_contact[row["contact_id"]]

    def _stamp(self, contact_id: int) -> str:
        return cards.stamps(self.conn, contact_id)[contact_id]

    def recorded(self, card: _Card, contact_id: int, uid: str) -> None:
        """State after a card came in: what crm now writes for the contact."""
        local = self.render(contact_id, card.version, uid)
        self.write_state({"href": card.href, "etag": card.etag, "contact_id": contact_id,
                          "uid": uid, "version": card.version, "remote_hash": card.hash,
                          "local_hash": local.hash, "stamp": self._stamp(contact_id)})  # fmt: skip

    # -- pulling ------------------------------------------------------------------
    def pull(self, card: _Card, contact_id: int | None) -> None:
        """The remote's card into crm: the contact replaced, or a new one."""
        self.summary.pulled["updated" if contact_id is not None else "created"] += 1
        if self.dry_run:
            return
        try:
            if contact_id is None:
                contact_id = cards.add(self.conn, card.record, self.config, card.href)
            else:
                cards.replace(self.conn, contact_id, card.record, self.config)
        except CrmError as exc:
            self.summary.pulled["updated" if contact_id is not None else "created"] -= 1
            self.problem(card.href, exc.message.replace("\n", " "))
            return
        uid = card.uid or vcard.uid(cards.record(self.conn, contact_id))
        self.recorded(card, contact_id, uid)

    def pull_new(self, new_cards: list[_Card]) -> None:
        """New cards as new contacts: those with a UID in one import, found by it after."""
        with_uid = {card.uid: card for card in new_cards if card.uid}
        for card in new_cards:
            if self.dry_run or not card.uid or with_uid.get(card.uid) is not card:
                self.pull(card, None)  # (a second card of one UID: refused as a repeat)
        if self.dry_run or not with_uid:
            return
        batch = [(card.href, card.record) for card in with_uid.values()]
        refused = cards.add_many(self.conn, batch, self.config)
        for card in with_uid.values():
            if card.href in refused:
                self.problem(card.href, refused[card.href].replace("\n", " "))
                continue
            contact_id = cards.by_uid(self.conn, card.uid)
            if contact_id is None:  # not as written: no state, so the next sync tries again
                self.problem(card.href, "not found by its UID once written")
                continue
            self.summary.pulled["created"] += 1
            self.recorded(card, contact_id, card.uid)

    def pull_delete(self, state: dict) -> None:
        exists = self.conn.execute(
            "SELECT 1 FROM contacts WHERE id = ?", (state["contact_id"],)
        ).fetchone()
        if exists:
            self.summary.pulled["deleted"] += 1
            if not self.dry_run:
                cards.delete(self.conn, state["contact_id"])
        self.drop_state(state["href"])

    # -- pushing ------------------------------------------------------------------
    def push_new(self, contact_id: int, version: str) -> None:
        local = self.render(contact_id, version)
        if self.dry_run:
            self.summary.pushed["created"] += 1
            return
        try:
            href, etag = self.remote.create(local.uid, local.text)
        except Conflict:
            self.conflict(local.record, None, "a card with its UID appeared on the remote")
            return
        except CardRefused as exc:
            self.refused(local, None, exc)
            return
        self.summary.pushed["created"] += 1  # counted once the remote took it
        cards.keep_uid(self.conn, contact_id, local.uid)
        self.write_state({"href": href, "etag": etag, "contact_id": contact_id,
                          "uid": local.uid, "version": version, "remote_hash": local.hash,
                          "local_hash": local.hash, "stamp": self._stamp(contact_id)})  # fmt: skip

    def push_update(self, state: dict, local: _Local, etag: str | None) -> None:
        if self.dry_run:
            self.summary.pushed["updated"] += 1
            return
        try:
            new_etag = self.remote.update(state["href"], etag, local.text)
        except Conflict:
            self.conflict(local.record, state["href"], "changed on the remote meanwhile")
            return
        except CardRefused as exc:
            self.refused(local, state["href"], exc)
            return
        self.summary.pushed["updated"] += 1
        self.write_state({**state, "etag": new_etag, "remote_hash": local.hash,
                          "local_hash": local.hash,
                          "stamp": self._stamp(local.contact_id)})  # fmt: skip

    def push_delete(self, state: dict, etag: str | None) -> None:
        if self.dry_run:
            self.summary.pushed["deleted"] += 1
            return
        try:
            self.remote.delete(state["href"], etag)
        except Conflict:
            self.conflict({"id": state["contact_id"]}, state["href"],
                          "deleted here, changed on the remote meanwhile")  # fmt: skip
            return
        self.summary.pushed["deleted"] += 1
        self.drop_state(state["href"])

    def refused(self, local: _Local, href: str | None, exc: CardRefused) -> None:
        """The remote refused this card: reported, left as it was, sent again next time."""
        self.summary.refused += 1
        name = local.record.get("name")
        who = f"contact {local.contact_id}" + (f" {name!r}" if name else "")
        self.problem(href or who, f"{who} refused: {exc.message}" if href else exc.message)

    def conflict(self, record: dict, href: str | None, why: str) -> None:
        self.summary.conflicts.append({"contact": record.get("id"), "name": record.get("name"),
                                       "href": href, "why": why})  # fmt: skip

    # -- the sync -----------------------------------------------------------------
    def run(self) -> Summary:
        try:
            self._run()
        except RemoteError as exc:
            self.summary.error = exc.message
        if not self.dry_run and self.summary.error is None:
            self.conn.execute("UPDATE remotes SET synced_at = ? WHERE id = ?", (now(), self.id))
        if self.versions and not self.dry_run and self.row.get("version") is None:
            self.conn.execute(
                "UPDATE remotes SET version = ? WHERE id = ?",
                (self.versions.most_common(1)[0][0], self.id),
            )
        return self.summary

    def _run(self) -> None:
        changed, deleted, token = self.remote_changes()
        local_changed, local_new, local_deleted = self.local_changes()
        remote_cards = self.fetched(changed) if changed else {}
        if self.policy == "local" and not self.dry_run:
            self.keep_theirs(remote_cards, local_changed)
        version = self.row.get("version") or (
            self.versions.most_common(1)[0][0] if self.versions else "3.0"
        )
        # A new contact whose UID a new card has: the same one (a sync cut short after
        # the remote took it, or made on both sides from one export).
        waiting = cards.uids(self.conn, local_new) if remote_cards else {}
        # A card gone from one href and come back under another (a file renamed): moved.
        gone = {self.state[href]["uid"]: href for href in deleted}
        new_cards: list[_Card] = []  # made here together, after the loop
        for href, card in remote_cards.items():
            state = self.state.get(href)
            if state is None and card.uid in gone:
                state = {**self.state[gone[card.uid]], "href": href}
                deleted.discard(gone.pop(card.uid))
                if card.hash == state["remote_hash"]:  # the same card: only the href is new
                    self.write_state({**state, "etag": card.etag})
                    continue
            if state is None:
                contact_id = waiting.pop(card.uid, None) if card.uid else None
                if contact_id is None and card.uid and (found := cards.by_uid(self.conn, card.uid)):
                    contact_id = found if found not in self.by_contact else None
                if contact_id is None:
                    new_cards.append(card)
                    continue
                local_new.pop(contact_id, None)
                local = self.render(contact_id, card.version, card.uid)
                self.both_changed(card, None, local, "new on both sides")
            elif state["contact_id"] in local_deleted:
                local_deleted.discard(state["contact_id"])
                self.deleted_here(card, state)
            elif state["contact_id"] in local_changed:
                local = local_changed.pop(state["contact_id"])
                self.both_changed(card, state, local, "changed on both sides")
            else:
                self.pull(card, state["contact_id"])
        self.pull_new(new_cards)
        for href in sorted(deleted):
            state = self.state[href]
            contact_id = state["contact_id"]
            if contact_id in local_deleted:
                local_deleted.discard(contact_id)
                self.drop_state(href)  # gone on both sides
            elif contact_id in local_changed:
                self.deleted_there(state, local_changed.pop(contact_id))
            else:
                self.pull_delete(state)
        for contact_id, local in local_changed.items():
            state = self.by_contact[contact_id]
            self.push_update(state, local, state["etag"])
        for contact_id in sorted(local_deleted):
            state = self.by_contact[contact_id]
            self.push_delete(state, state["etag"])
        for contact_id in local_new:
            self.push_new(contact_id, version)
        # A conflict left alone keeps the old token: the remote's side of it must be
        # seen again by the next sync (one after the new token would not list it).
        stored = self.row.get("sync_token")
        if token not in (None, stored) and not self.dry_run and not self.summary.conflicts:
            self.conn.execute("UPDATE remotes SET sync_token = ? WHERE id = ?", (token, self.id))

    def keep_theirs(self, remote_cards: dict[str, _Card], local_changed: dict[int, _Local]):
        """Conflicts crm's side wins: the remote's side is written here first, in an
        operation of its own, then crm's put back in the sync's, so that undoing the
        sync brings the remote's side back (and the next sync sends it)."""
        losing = []
        for href, card in remote_cards.items():
            state = self.state.get(href)
            local = local_changed.get(state["contact_id"]) if state else None
            if local is None or card.hash == local.hash:
                continue
            taken = cards.snapshot(self.conn, local.contact_id)
            try:
                cards.replace(self.conn, local.contact_id, card.record, self.config)
            except CrmError:
                continue  # not a version crm can hold: nothing of it to keep
            losing.append((local.contact_id, taken))
        if losing:
            history.describe(self.conn, f"{self.row['name']}: the remote's side of"
                             f" {len(losing)} conflict(s) that crm's side won")  # fmt: skip
            db.next_operation(self.conn)
            for contact_id, taken in losing:
                cards.put_back(self.conn, contact_id, taken)

    def both_changed(self, card: _Card, state: dict | None, local: _Local, why: str) -> None:
        uid = card.uid or local.uid
        if card.hash == local.hash:
            if not self.dry_run:  # the same on both sides: only recorded
                self.recorded(card, local.contact_id, uid)
            return
        if self.policy == "remote":
            self.pull(card, local.contact_id)
        elif self.policy == "local":
            base = state or {"href": card.href, "contact_id": local.contact_id, "uid": uid,
                             "version": card.version}  # fmt: skip
            self.push_update({**base, "version": card.version}, local, card.etag)
        else:
            self.conflict(local.record, card.href, why)

    def deleted_here(self, card: _Card, state: dict) -> None:
        """Changed on the remote, deleted here."""
        if self.policy == "remote":
            self.drop_state(state["href"])
            self.pull(card, None)
        elif self.policy == "local":
            self.push_delete(state, card.etag)
        else:
            self.conflict({"id": state["contact_id"]}, card.href,
                          "deleted here, changed on the remote")  # fmt: skip

    def deleted_there(self, state: dict, local: _Local) -> None:
        """Deleted on the remote, changed here."""
        if self.policy == "remote":
            self.pull_delete(state)
        elif self.policy == "local":
            self.drop_state(state["href"])
            self.push_new(local.contact_id, state["version"])
        else:
            self.conflict(local.record, state["href"], "deleted on the remote, changed here")


def sync(conn: sqlite3.Connection, remote_row: dict, remote: Remote, *, dry_run: bool = False,
         conflict: str = "error", config: Config | None = None) -> Summary:  # fmt: skip
    """Sync the contacts with one remote inside the caller's transaction (its one
    operation in the history); see the module's text.  With dry_run nothing is
    written on either side: the summary says what would be."""
    if config is None:
        from crmcli import config as settings

        config = settings.load()
    return _Sync(conn, remote_row, remote, dry_run, conflict, config).run()
