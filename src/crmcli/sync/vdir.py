"""A vdir (khard, vdirsyncer): a folder with one vCard a file, `UID.vcf`, as a Remote.

An href is a file's name; its ETag is made of the file's mtime (ns), inode and
size, so a file another program rewrote, even to the same size in the same
second, has a new one (the engine compares content hashes on top).  Files are
written whole or not at all: a temporary file in the same folder, flushed to
disk, then renamed into place (a new card linked into place, so that a file
made meanwhile by another program is never overwritten: Conflict).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from crmcli.sync import Changes, Conflict, RemoteError

MAX_CARD = 16 << 20  # bytes: a bigger file is no card crm reads (reported, left alone)
_SAFE = re.compile(r"[A-Za-z0-9@+_-][A-Za-z0-9@+._-]{0,199}\Z")


def file_name(uid: str) -> str:
    """The file a card of this UID is written to: the UID itself when it is a safe
    file name (crm's own `urn:uuid:` prefix left out), else its safe characters
    and a hash of the whole, so two UIDs never share a file."""
    bare = uid.removeprefix("urn:uuid:")
    if _SAFE.match(bare):
        return f"{bare}.vcf"
    safe = re.sub(r"[^A-Za-z0-9@+_-]+", "_", bare)[:80].strip("_") or "card"
    return f"{safe}-{hashlib.sha256(uid.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}.vcf"


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _etag(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns}-{st.st_ino}-{st.st_size}"


class Vdir:
    """A folder of .vcf files (hidden files and others left alone)."""

    supports_sync = False

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.url = str(self.folder)
        if not self.folder.is_dir():
            raise RemoteError(f"the vdir {self.url} is not a folder (or cannot be read)")

    def _path(self, href: str) -> Path:
        if "/" in href or "\0" in href or href.startswith(".") or not href.endswith(".vcf"):
            raise RemoteError(f"not a card of the vdir {self.url}: {href!r}")
        return self.folder / href

    def index(self) -> dict[str, str]:
        found = {}
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.name.endswith(".vcf"):
                        continue
                    if not entry.name.isprintable() or not _utf8(entry.name):
                        continue  # a name no href can be (bytes that are not UTF-8)
                    try:
                        if entry.is_file():
                            found[entry.name] = _etag(entry.stat())
                    except FileNotFoundError:  # removed meanwhile
                        continue
        except OSError as exc:
            raise RemoteError(f"cannot read the vdir {self.url}: {exc.strerror}") from None
        return found

    def changes(self, token: str | None) -> Changes | None:
        return None  # a folder has no sync token: the engine compares index() with its state

    def fetch(self, hrefs: Sequence[str]) -> Iterator[tuple[str, str, str]]:
        for href in hrefs:
            try:
                with open(self._path(href), "rb") as file:
                    etag = _etag(os.fstat(file.fileno()))
                    data = file.read(MAX_CARD + 1)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise RemoteError(f"cannot read {href} in {self.url}: {exc.strerror}") from None
            try:
                text = data.decode("utf-8") if len(data) <= MAX_CARD else ""
            except UnicodeDecodeError:
                text = ""
            yield href, etag, text

    def _current(self, href: str) -> str | None:
        try:
            return _etag(os.stat(self._path(href)))
        except FileNotFoundError:
            return None

    def _written(self, text: str) -> Path:
        """The text in a new temporary file of the folder, on disk."""
        import tempfile

        try:
            fd, name = tempfile.mkstemp(dir=self.folder, prefix=".crm-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(text.encode("utf-8"))
                    file.flush()
                    os.fsync(file.fileno())
            except BaseException:
                os.unlink(name)
                raise
        except OSError as exc:
            raise RemoteError(f"cannot write to the vdir {self.url}: {exc.strerror}") from None
        return Path(name)

    def _sync_folder(self) -> None:
        try:
            fd = os.open(self.folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def create(self, uid: str, text: str) -> tuple[str, str | None]:
        href = file_name(uid)
        target = self._path(href)
        if target.exists():
            raise Conflict(href)
        temp = self._written(text)
        try:
            try:
                os.link(temp, target)  # never over a file made meanwhile
            except FileExistsError:
                raise Conflict(href) from None
            except OSError:  # a file system without hard links: checked, then renamed
                if target.exists():
                    raise Conflict(href) from None
                os.rename(temp, target)
        except OSError as exc:
            raise RemoteError(f"cannot write {href} in {self.url}: {exc.strerror}") from None
        finally:
            temp.unlink(missing_ok=True)
        self._sync_folder()
        return href, self._current(href)

    def update(self, href: str, etag: str, text: str) -> str | None:
        if self._current(href) != etag:
            raise Conflict(href)
        temp = self._written(text)
        try:
            os.replace(temp, self._path(href))
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise RemoteError(f"cannot write {href} in {self.url}: {exc.strerror}") from None
        self._sync_folder()
        return self._current(href)

    def delete(self, href: str, etag: str) -> None:
        current = self._current(href)
        if current is None:
            return
        if current != etag:
            raise Conflict(href)
        try:
            self._path(href).unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise RemoteError(f"cannot delete {href} in {self.url}: {exc.strerror}") from None
        self._sync_folder()

    def close(self) -> None:
        pass
