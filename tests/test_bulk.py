"""store.bulk: the runs of ids an import logs in place of a row each."""

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
