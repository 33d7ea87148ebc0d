"""The floor of this stack: a bare Typer app that does one SQLite thing and prints.

`list` runs one query and prints a 20-row Rich table; `add` inserts one row;
`--help` is Typer's own.  bench/startup.py times crm against it.
"""

import sqlite3
import sys
from typing import Annotated

import typer

app = typer.Typer(rich_markup_mode=None, add_completion=False)


@app.command("list")
def list_(db: Annotated[str, typer.Option()]) -> None:
    """Print 20 contacts."""
    from rich.console import Console
    from rich.table import Table

    rows = sqlite3.connect(db).execute("SELECT id, name FROM contacts LIMIT 20").fetchall()
    table = Table("id", "name")
    for row_id, name in rows:
        table.add_row(str(row_id), name)
    Console().print(table)


@app.command("add")
def add(db: Annotated[str, typer.Option()], name: str) -> None:
    """Insert one row."""
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE IF NOT EXISTS bare (id INTEGER PRIMARY KEY, name TEXT)")
    cursor = conn.execute("INSERT INTO bare (name) VALUES (?)", (name,))
    conn.commit()
    print(cursor.lastrowid)


if __name__ == "__main__":
    sys.exit(app())
