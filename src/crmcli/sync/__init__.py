"""Remotes crm syncs with: a CardDAV address book or a vdir folder, seen alike."""
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from crmcli import errors


class RemoteError(errors.CrmError):
    """The remote failed (down, DNS, TLS, 401/403, timeout, dropped, nonsense): exit 1."""
    # exit code 1: errors.CrmError's default (ExitCode.FAILED)


class CardRefused(RemoteError):
    """The remote refused one card it was sent (400, 413, 415, 507): that card is
    reported and skipped, the rest syncs, and the sync exits 1 at the end."""


class Conflict(Exception):
    """The card changed on the remote since its ETag was read (HTTP 412, or exists on create)."""


@dataclass
class Changes:
    token: str                                       # the new sync token to store
    changed: dict[str, str] = field(default_factory=dict)  # href -> etag (new or changed)
    deleted: set[str] = field(default_factory=set)          # hrefs gone


class Remote(Protocol):
    def index(self) -> dict[str, str]: ...                 # every card: href -> etag
    def changes(self, token: str | None) -> Changes | None: ...  # None: unsupported or token
                                                           # refused (caller falls back to index)
    def fetch(self, hrefs: Sequence[str]) -> Iterator[tuple[str, str, str]]: ...
        # (href, etag, text) in batches (multiget); hrefs gone meanwhile are skipped; a body
        # that is not text or over the size cap is yielded as text "" (caller reports, skips)
    def create(self, uid: str, text: str) -> tuple[str, str | None]: ...  # (href, etag or None)
        # If-None-Match: *; Conflict if it exists
    def update(self, href: str, etag: str, text: str) -> str | None: ...  # new etag or None
        # If-Match: etag; Conflict on 412
    def delete(self, href: str, etag: str) -> None: ...   # If-Match; Conflict on 412; 404 = done
    def close(self) -> None: ...
