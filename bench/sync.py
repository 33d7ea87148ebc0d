"""CardDAV sync benchmark (issue 14), against a real Radicale, ratios measured in one run.

    .venv/bin/python bench/sync.py [--contacts 5000] [--runs 5] [--no-fsync]

Imports N contacts (at N/10 companies) into a new crm database, then times, each as
the installed `crm` in a subprocess (its start-up counts: that is what a user waits
for): the first `crm sync` to an empty address book on Radicale (contacts per second),
and a `crm sync` with nothing new on either side (best and median of --runs). Against
that no-change sync stands a plain PROPFIND (Depth 1, getetag) of the same collection
by httpx in this process (best and median of --runs): the least any client must do to
learn that nothing changed (goal: the no-change sync within 2x of it). `crm --version`
is timed too, to show how much of the no-change sync is Python starting crm.

Radicale answers HTTP/1.0 and closes every connection: each request crm makes pays a
TCP connect (cheap on 127.0.0.1), and the first sync's PUTs, one a card, cannot share a
connection. Radicale also checks a new card's UID against every card of the book (its
has_uid loads them all), so a PUT costs more as the book grows and the first sync is
quadratic on its side: the first sync's CPU time of crm alone is printed beside it.
Radicale runs with its default fsync, as a real one, unless --no-fsync.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from davserver import start_radicale  # noqa: E402
from transfer import write_csv  # noqa: E402

PROPFIND = b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'


def timed(argv: list[str], env: dict) -> float:
    return cpu_timed(argv, env)[0]


def cpu_timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(seconds, CPU seconds of the command itself: the rest is waiting for the server)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed: {done.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu


def propfind(url: str, auth: tuple[str, str]) -> tuple[float, int]:
    """Seconds of one PROPFIND of the collection (a new client, as a new process has),
    and the number of cards it listed."""
    import httpx

    start = time.perf_counter()
    with httpx.Client(auth=auth, timeout=60) as client:
        answer = client.request("PROPFIND", url, headers={"Depth": "1"}, content=PROPFIND)
        answer.raise_for_status()
        cards = answer.text.count(".vcf</href>")
    return time.perf_counter() - start, cards


def spread(values: list[float]) -> str:
    return f"best {min(values):.3f} s, median {statistics.median(values):.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-fsync", action="store_true",
                        help="Radicale without fsync (a faster first sync)")  # fmt: skip
    options = parser.parse_args()
    crm = str(Path(sys.executable).parent / "crm")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = start_radicale(folder / "radicale", {"bench": "secret"},
                                fsync=not options.no_fsync)  # fmt: skip
        try:
            book = server.make_book("bench", "contacts")
            env = {**os.environ, "CRM_DB": str(folder / "crm.db"), "BENCH_DAV": "secret"}
            source = folder / "contacts.csv"
            write_csv(source, options.contacts)
            timed([crm, "import", str(source)], env)
            timed([crm, "remote", "add", "dav", book, "--user", "bench",
                   "--password-env", "BENCH_DAV"], env)  # fmt: skip
            first, first_cpu = cpu_timed([crm, "sync"], env)
            listing = [propfind(book, ("bench", "secret")) for _ in range(options.runs)]
            if listing[0][1] != options.contacts:
                raise SystemExit(f"the book holds {listing[0][1]} cards, not {options.contacts}")
            again = [timed([crm, "sync"], env) for _ in range(options.runs)]
            bare = [timed([crm, "--version"], env) for _ in range(options.runs)]
        finally:
            server.stop()
    plain = [seconds for seconds, _ in listing]
    print(f"first sync of {options.contacts:,} contacts: {first:.1f} s,"
          f" {options.contacts / first:,.0f} contacts/s; crm's own CPU {first_cpu:.1f} s"
          f" ({options.contacts / first_cpu:,.0f} contacts/s), the rest is Radicale's")  # fmt: skip
    print(f"no-change sync: {spread(again)}")
    print(f"plain PROPFIND (Depth 1, getetag): {spread(plain)}")
    print(f"crm --version (start-up alone): {spread(bare)}")
    sync, listed, start = (statistics.median(values) for values in (again, plain, bare))
    print(f"ratio no-change sync / PROPFIND (medians): {sync / listed:.2f} (goal <= 2);"
          f" without crm's start-up: {(sync - start) / listed:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
