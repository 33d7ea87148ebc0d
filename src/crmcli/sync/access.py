"""Reaching a remote: its password (a command run each time, a variable, or a
prompt on a terminal; never stored) and the Remote object for it."""

from __future__ import annotations

import os
import subprocess
import sys

from crmcli.sync import Remote, RemoteError


def password(remote: dict) -> str | None:
    """The remote's password now, or None when it has no user."""
    name = remote["name"]
    if remote.get("password_command"):
        try:
            done = subprocess.run(remote["password_command"], shell=True, capture_output=True,
                                  stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RemoteError(f"remote {name}: the password command failed: {exc}") from None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RemoteError(
                f"remote {name}: the password command failed (exit {done.returncode})"
                + (f": {said[0][:200]}" if said else "")
            )
        lines = done.stdout.decode("utf-8", "replace").splitlines()
        if not lines or not lines[0]:
            raise RemoteError(f"remote {name}: the password command printed no password")
        return lines[0]
    if remote.get("password_env"):
        value = os.environ.get(remote["password_env"])
        if not value:
            raise RemoteError(f"remote {name}: ${remote['password_env']} is not set")
        return value
    if not remote.get("user"):
        return None
    if not sys.stdin.isatty():
        raise RemoteError(
            f"remote {name}: no password: not on a terminal to ask for it (crm remote add"
            " --password-command or --password-env)"
        )
    import getpass

    return getpass.getpass(f"password for {remote['user']} at {remote['name']}: ")


def open_remote(remote: dict) -> Remote:
    """The Remote a stored remote is: a Vdir, or a CardDAV address book (connected)."""
    if remote["kind"] == "vdir":
        from crmcli.sync.vdir import Vdir

        return Vdir(remote["url"])
    from crmcli.sync import carddav

    return carddav.connect(remote["url"], user=remote.get("user"), password=password(remote),
                           synced=bool(remote.get("sync_token")))  # fmt: skip
