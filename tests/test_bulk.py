"""store.bulk: the runs of ids an import logs in place of a row each."""

import sqlite3

from crmcli.store import bulk


def test_runs_of_consecutive_ids():
    assert list(bulk._runs([])) == []
    assert list(bulk._runs([4])) == [(4, 4)]
    assert list(bulk._runs([1, 2, 3, 7, 8, 10])) == [(1, 3), (7, 8), (10, 10)]


def test_new_runs_found_above_a_mark_gaps_or_not(conn):
    conn.execute("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in (1, 2, 3, 4, 5, 9, 10)])
    assert list(bulk._new_runs(conn, "t", 10)) == []
    assert list(bulk._new_runs(conn, "t", 2)) == [(3, 5), (9, 10)]
    assert list(bulk._new_runs(conn, "t", 8)) == [(9, 10)]


def test_rows_many_a_statement_within_the_parameter_limit(conn):
    # A statement holds at most as many parameters as this SQLite takes (built
    # with a lower SQLITE_MAX_VARIABLE_NUMBER than 32,766, or lowered at run
    # time): wider rows, fewer a statement, every row written in order (ids,
    # values), the last part shorter.
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 7)
    conn.execute("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c INTEGER)")
    rows = [(f"a{i}", None if i % 2 else f"b{i}", i) for i in range(11)]
    bulk._insert_values(conn, "INSERT INTO t (a, b, c)", "(?, ?, ?)", rows, per_statement=5)
    assert conn.execute("SELECT id, a, b, c FROM t ORDER BY id").fetchall() == [
        (i + 1, *row) for i, row in enumerate(rows)
    ]
    bulk._insert_values(conn, "INSERT INTO t (a, b, c)", "(?, ?, ?)", [])  # nothing to write
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (11,)


def test_rows_a_statement_a_power_of_two(conn):
    # The statements a connection keeps prepared: a few sizes, not one a batch's rest.
    sizes: list[int] = []
    conn.set_trace_callback(  # the SQL as run, with its values: ('a0', 0), ('a1', 1)...
        lambda sql: sizes.append(sql.count("), (") + 1) if sql.startswith("INSERT") else None
    )
    conn.execute("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)")
    rows = [(f"a{i}", i) for i in range(45)]
    bulk._insert_values(conn, "INSERT INTO t (a, b)", "(?, ?)", rows, per_statement=8)
    conn.set_trace_callback(None)
    assert sizes[-7:] == [8, 8, 8, 8, 8, 4, 1]
    assert conn.execute("SELECT a, b FROM t ORDER BY id").fetchall() == rows
