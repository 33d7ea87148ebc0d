"""A real CardDAV server for tests and benchmarks: Radicale in a subprocess on 127.0.0.1.

No pytest in here, so that bench/ can use it too:

    server = start_radicale(tmp_folder, {"ann": "secret"})
    book = server.make_book("ann", "contacts")   # the address book's URL
    ...
    server.stop()

Users are an htpasswd file with plain passwords (Radicale reads it again on every login, so
`add_user` works while it runs); the storage is a folder of the caller's. `stop()` and
`start()` again bring the same server back on the same port, as a server that was down.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

READY_TIMEOUT = 30.0  # seconds: a loaded machine starts Radicale in well under one

_CONFIG = """\
[server]
hosts = 127.0.0.1:{port}
max_connections = 20
delay_on_error = 0.001

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
delay = 0.001

[rights]
type = owner_only

[storage]
filesystem_folder = {storage}

[logging]
level = warning
mask_passwords = True
"""


# Radicale without fsync (no config file may set its private `_filesystem_fsync`)
_NO_FSYNC = (
    "import radicale.pathutils as paths; paths.fsync = lambda fd: None;"
    " from radicale.__main__ import run; run()"
)


def _die_with_parent() -> None:
    """In the child: Linux stops it when the test process dies (no server left running)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One Radicale: `.url` is its root, `http://127.0.0.1:PORT/`."""

    def __init__(self, folder: Path, users: dict[str, str], *, fsync: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.users: dict[str, str] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._users_file = self.folder / "users"
        self._users_file.write_text("")
        self._config = self.folder / "radicale.conf"
        self._config.write_text(
            _CONFIG.format(
                port=self.port,
                users=self._users_file,
                storage=self.folder / "collections",
            )
        )
        self._fsync = fsync
        self._log = self.folder / "radicale.log"
        self._process: subprocess.Popen | None = None
        for user, password in users.items():
            self.add_user(user, password)

    def add_user(self, user: str, password: str) -> None:
        if ":" in user or "\n" in user + password:
            raise ValueError(f"not an htpasswd user: {user!r}")
        self.users[user] = password
        text = "".join(f"{name}:{secret}\n" for name, secret in self.users.items())
        temporary = self._users_file.with_suffix(".tmp")
        temporary.write_text(text)
        os.replace(temporary, self._users_file)

    def start(self) -> None:
        """Start Radicale (again, on the same port) and wait until it answers."""
        if self._process is not None:
            return
        with open(self._log, "ab") as log:
            how = ("-m", "radicale") if self._fsync else ("-c", _NO_FSYNC)
            self._process = subprocess.Popen(
                [sys.executable, *how, "--config", str(self._config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"Radicale stopped at once: {self._log.read_text()[-2000:]}")
            try:
                httpx.get(self.url, timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"Radicale did not answer on {self.url} within {READY_TIMEOUT} s")

    def stop(self) -> None:
        """Stop Radicale; connections to its port are then refused."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def book_url(self, user: str, name: str) -> str:
        return f"{self.url}{quote(user)}/{quote(name)}/"

    def client(self, user: str) -> httpx.Client:
        """A plain HTTP client logged in as `user`: the third party (a phone) in tests."""
        return httpx.Client(auth=(user, self.users[user]), timeout=10.0)

    def make_book(self, user: str, name: str, displayname: str | None = None) -> str:
        """Make address book `name` of `user` (extended MKCOL, RFC 5689); returns its URL."""
        url = self.book_url(user, name)
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
            "<D:set><D:prop>"
            "<D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>"
            f"<D:displayname>{_xml_text(displayname or name)}</D:displayname>"
            "</D:prop></D:set></D:mkcol>"
        )
        with self.client(user) as client:
            response = client.request("MKCOL", url, content=body.encode())
        if response.status_code != 201:
            raise RuntimeError(f"MKCOL {url}: {response.status_code} {response.text[:200]}")
        return url

    def remove(self) -> None:
        """Stop and delete the storage folder (the caller's folder stays)."""
        self.stop()
        shutil.rmtree(self.folder / "collections", ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def start_radicale(
    folder: Path, users: dict[str, str] | None = None, *, fsync: bool = False
) -> Server:
    """A running Radicale storing in `folder`; `users` maps user names to passwords.

    fsync: Radicale's own default, each write flushed to disk (a PUT then costs tens of
    milliseconds); tests on a temporary folder go without (no power cut to survive)."""
    server = Server(folder, {"user": "password"} if users is None else users, fsync=fsync)
    server.start()
    return server
