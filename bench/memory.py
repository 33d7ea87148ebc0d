"""Import memory benchmark (issue 17): peak memory of `crm import` per format.

    .venv/bin/python bench/memory.py [--contacts 200000] [--work DIR] [--crm PATH]

Writes a CSV of N contacts at N/10 companies (bench/transfer.py's), imports it
once, exports that as a JSON backup, JSONL and vCard, then imports each file
(and the CSV) into an empty database and prints its size, contacts per second
and peak memory (the importing process's maximum resident set).  Goal: every
import under 300 MB whatever the file's size (a 635 MB JSON backup peaked at
1.3 GB when its text was held whole), at the speed of issue 5.  --crm times
another install (e.g. main's, for a before/after in one run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from transfer import peak_mb, write_csv  # noqa: E402

GOAL_MB = 300
FORMATS = (("json", "backup.json"), ("jsonl", "contacts.jsonl"), ("vcf", "contacts.vcf"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=None, help="folder for the files (a tmp)")
    parser.add_argument("--crm", action="append", help="crm to measure (again for several)")
    options = parser.parse_args()
    crms = options.crm or [str(Path(sys.executable).parent / "crm")]
    with tempfile.TemporaryDirectory(dir=options.work) as tmp:
        folder = Path(tmp)
        files = {"csv": folder / "contacts.csv"}
        write_csv(files["csv"], options.contacts)
        env = {**os.environ, "CRM_DB": str(folder / "crm.db")}
        subprocess.run([crms[-1], "import", str(files["csv"])], env=env, check=True,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        for fmt, name in FORMATS:
            files[fmt] = folder / name
            subprocess.run([crms[-1], "export", "-f", fmt, "-o", str(files[fmt])], env=env,
                           check=True, stderr=subprocess.DEVNULL)  # fmt: skip
        print(f"{'import':<8}{'MB':>8}  " + "".join(f"{'rows/s':>10}{'peak MB':>9}" for _ in crms))
        for fmt, path in files.items():
            cells = []
            for number, crm in enumerate(crms):
                target = folder / f"restored-{fmt}-{number}.db"
                restored = {**env, "CRM_DB": str(target)}
                seconds, memory = peak_mb([crm, "import", str(path)], restored)
                cells.append(f"{options.contacts / seconds:>10,.0f}{memory:>9.0f}")
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
            size = path.stat().st_size / 2**20
            print(f"{fmt:<8}{size:>8,.0f}  " + "".join(cells))
        print(f"goal: peak < {GOAL_MB} MB in every format" + (
            "; columns: " + ", ".join(crms) if len(crms) > 1 else ""))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
