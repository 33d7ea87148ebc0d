"""stage_totals (m018): `crm pipeline`'s figures kept by triggers, exact as Decimal
sums of the deals would be, down to their trailing zeros."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli import db
from crmcli.config import Config
from crmcli.store import accounts, care, deals

CONFIG = Config()
FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("schema-*.db"))


def shown(totals) -> list[tuple]:
    """The totals as crm prints them (Decimal's == would not see 5.0 against 5)."""
    return sorted((key, t["count"], f"{t['amount']:f}", f"{t['weighted']:f}")
                  for key, t in totals.items())  # fmt: skip


def assert_kept(conn):
    kept = deals.kept_totals(conn)
    assert kept is not None, "stage_totals cannot be read exactly"
    assert shown(kept) == shown(deals.summed_totals(conn))
    assert care.check(conn) == []


def not_reading_deals(conn):
    """The pipeline reads stage_totals, never a deal (an authorizer refuses them)."""

    def refuse_deals(action, table, *_):
        return sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_READ and table == "deals" else 0

    conn.set_authorizer(refuse_deals)
    try:
        return deals.pipeline(conn, CONFIG)
    finally:
        conn.set_authorizer(None)


AMOUNTS = st.one_of(
    st.none(),
    st.sampled_from(["0", "0.0001", "1", "10", "12500.5", "999999999999999", "0.1", "33.33"]),
    st.decimals(min_value=0, max_value=10**11, places=4).map(str),
)
STAGES = st.sampled_from([*CONFIG.stages, "Proposal"])
STEP = st.tuples(
    st.sampled_from(["add", "edit", "move", "delete", "raw"]),
    st.integers(0, 30),
    AMOUNTS,
    STAGES,
    st.one_of(st.none(), st.integers(0, 100)),
    st.sampled_from(["USD", "eur", None]),
)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("totals") / "crm.db"
    db.create(path)
    with db.session(path, write=True) as conn:
        accounts.add_account(conn, {"name": "Acme"})
    return path


def _step(conn, step):
    what, pick, amount, stage, chance, code = step
    ids = [row[0] for row in conn.execute("SELECT id FROM deals ORDER BY id")]
    ref = str(ids[pick % len(ids)]) if ids else None
    stage = stage if stage in CONFIG.stages else None
    if what == "add" or ref is None:
        deals.add_deal(conn, CONFIG, f"D{pick}", account="Acme", amount_text=amount,
                       currency_code=code, stage=stage, chance=chance)  # fmt: skip
    elif what == "edit":
        deals.edit_deal(conn, CONFIG, ref, amount_text=amount or "", currency_code=code,
                        chance=chance)  # fmt: skip
    elif what == "move":
        deals.move_deal(conn, CONFIG, ref, stage or "won", chance)
    elif what == "delete":
        deals.delete_deal(conn, ref)
    else:  # a raw change by another program, as undo writes rows back
        conn.execute("UPDATE deals SET stage = ?, probability = ? WHERE id = ?",
                     (step[3], chance, ref))  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_the_totals_follow_every_change_of_the_deals(book, steps):
    with db.session(book, write=True) as conn:
        conn.execute("SAVEPOINT example")
        try:
            for step in steps:
                _step(conn, step)
                assert_kept(conn)
            assert shown({(r["stage"], r["currency"] or ""): r for r in not_reading_deals(conn)
                          if r["count"]}) == shown(deals.summed_totals(conn))  # fmt: skip
        finally:
            conn.execute("ROLLBACK TO example")
            conn.execute("RELEASE example")


def test_undo_import_merge_and_cascade_keep_the_totals(crm, tmp_path):
    env = {"CRM_DB": str(tmp_path / "crm.db")}
    crm.ok("account", "new", "Acme", env=env)
    crm.ok("account", "new", "Bolt", env=env)
    crm.ok("deal", "new", "A", "--account", "Acme", "--amount", "10.50", "--stage",
           "proposal", env=env)  # fmt: skip
    crm.ok("deal", "new", "B", "--account", "Bolt", "--amount", "3", env=env)
    crm.ok("deal", "edit", "A", "--amount", "7.125", env=env)
    backup = crm.ok("export", env=env).stdout
    crm.ok("undo", env=env)
    crm.ok("account", "merge", "Acme", "Bolt", "--yes", env=env)
    crm.ok("import", "-", "--format", "json", "--on-conflict", "update", input=backup, env=env)
    crm.ok("deal", "move", "B", "won", env=env)
    crm.ok("account", "delete", "Acme", "--cascade", "--yes", env=env)
    crm.ok("undo", env=env)
    with db.session(tmp_path / "crm.db", write=False) as conn:
        assert deals.summed_totals(conn)  # something to keep
        assert_kept(conn)
        assert not_reading_deals(conn) == deals.pipeline(conn, CONFIG)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_an_older_database_gets_its_totals(tmp_path, fixture):
    path = tmp_path / "old.db"
    shutil.copy(fixture, path)
    with db.session(path, write=True) as conn:  # migrated
        conn.execute("INSERT INTO deals (name, name_key, name_order, amount, currency, stage,"
                     " probability, created_at, updated_at) SELECT name, name_key, name_order,"
                     " '0.50', 'EUR', stage, 33, created_at, updated_at FROM deals")  # fmt: skip
        assert len(deals.summed_totals(conn)) == 2
        assert_kept(conn)


@pytest.mark.parametrize(
    "odd",
    [
        "UPDATE deals SET amount = '1e3'",  # not written by crm
        "UPDATE deals SET amount = ' 12'",
        # more than 64 bits: 9,300 x 999,999,999,999,999
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9300)"
        " INSERT INTO deals (name, name_key, amount, created_at, updated_at)"
        " SELECT 'big', 'big', '999999999999999', 'x', 'x' FROM n",
    ],
)
def test_a_total_that_cannot_be_exact_is_summed_from_the_deals(conn, odd):
    accounts.add_account(conn, {"name": "Acme"})
    deals.add_deal(conn, CONFIG, "A", amount_text="12.5", stage="proposal")
    conn.execute(odd)
    assert deals.kept_totals(conn) is None
    totals = {(r["stage"], r["currency"] or ""): r for r in deals.pipeline(conn, CONFIG)}
    assert shown({key: t for key, t in totals.items() if t["count"]}) == shown(
        deals.summed_totals(conn)
    )
    assert not [line for line in care.check(conn) if line.startswith("pipeline")]


def test_db_check_names_totals_out_of_step(conn):
    deals.add_deal(conn, CONFIG, "A", amount_text="12.5")
    conn.execute("UPDATE stage_totals SET units = units + 1")
    assert care.check(conn) == [
        "pipeline totals: 'lead' 'USD': 1 deals, 13.5, weighted 1.25 kept, the deals make"
        " 1 deals, 12.5, weighted 1.25"
    ]
