"""Start-up benchmark: crm commands against the floor of this stack, in one run.

    .venv/bin/python bench/startup.py [--runs N]

Builds a 1,000-contact database, then times (median wall time of N runs) `crm
--help`, `crm contact add` and `crm list` beside a bare Typer app doing the same
kind of work (bench/bare_app.py), and prints each ratio.  Goal (issue 2): every
ratio at most 1.15.  Machines are noisy: compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import crmcli
from crmcli import db
from crmcli.store import accounts, contacts

HERE = Path(__file__).resolve().parent
GOAL = 1.15


def build(path: Path, count: int = 1000) -> None:
    with db.session(path, write=True) as conn:
        for i in range(count // 10):
            accounts.add_account(conn, {"name": f"Company {i}", "city": "Springfield"})
        for i in range(count):
            contacts.add_contact(
                conn,
                full_name=f"Person {i:04} Example",
                account=str(i % (count // 10) + 1),
                emails=[f"work:person{i}@example.com"],
                phones=["+1 555 0100"],
            )


def time_ms(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def compare(floor: list[str], crm: list[str], runs: int, env: dict) -> tuple[float, float]:
    """Median wall times, the two sides alternating so load drift hits both alike."""
    floor_times, crm_times = [], []
    for run in range(runs):
        fill = {"{n}": str(run)}
        floor_times.append(time_ms([_fill(a, fill) for a in floor], env))
        crm_times.append(time_ms([_fill(a, fill) for a in crm], env))
    return statistics.median(floor_times), statistics.median(crm_times)


def _fill(arg: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        arg = arg.replace(key, value)
    return arg


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    python = sys.executable
    crm = str(Path(python).parent / "crm")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        build(path)
        # Installed packages run from cached bytecode: make sure ours has it too,
        # even in an editable install under PYTHONDONTWRITEBYTECODE.
        compileall.compile_dir(Path(crmcli.__file__).parent, quiet=1)
        env = {**os.environ, "CRM_DB": str(path), "COLUMNS": "100"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        bare = [python, str(HERE / "bare_app.py")]
        cases = [
            ("--help", [*bare, "--help"], [crm, "--help"]),
            (
                "contact add",
                [*bare, "add", "--db", str(path), "New {n}"],
                [crm, "contact", "add", "New Person {n}", "--email", "new{n}@example.com", "-q"],
            ),
            ("list (1,000 contacts)", [*bare, "list", "--db", str(path)], [crm, "list"]),
            (
                "list --format json",
                [*bare, "list", "--db", str(path)],
                [crm, "list", "--format", "json"],
            ),
        ]
        print(f"{'command':<24}{'floor ms':>10}{'crm ms':>10}{'ratio':>8}  goal <= {GOAL}")
        worst = 0.0
        for label, floor_argv, crm_argv in cases:
            floor_ms, crm_ms = compare(floor_argv, crm_argv, options.runs, env)
            ratio = crm_ms / floor_ms
            worst = max(worst, ratio)
            print(f"{label:<24}{floor_ms:>10.1f}{crm_ms:>10.1f}{ratio:>8.2f}")
        print(f"worst ratio {worst:.2f} ({'meets' if worst <= GOAL else 'misses'} the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
