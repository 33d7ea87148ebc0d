"""Start-up: what a command imports and defines before it runs (bench/startup.py times it)."""

import pytest

from crmcli.records import REQUIRED, FrozenRecord, Record
from crmcli.store.common import TagEdit
from crmcli.store.query import Query


class _Point(Record, fields={"x": REQUIRED, "tags": list, "label": None}):
    pass


def test_records_are_made_compared_and_shown_as_dataclasses_would_be():
    point = _Point(1, label="a")
    assert (point.x, point.tags, point.label) == (1, [], "a")
    assert point == _Point(x=1, tags=[], label="a") and point != _Point(2, label="a")
    assert repr(point) == "_Point(x=1, tags=[], label='a')"
    assert _Point(1).tags is not _Point(1).tags  # a new list for each record
    assert point.replace(x=3) == _Point(3, label="a") and point.x == 1
    point.x = 5  # a Record may change
    assert point.x == 5
    with pytest.raises(TypeError, match="missing the field 'x'"):
        _Point()
    with pytest.raises(TypeError, match="'y'"):
        _Point(1, y=2)
    with pytest.raises(TypeError, match="repeated field 'x'"):
        _Point(1, x=2)
    with pytest.raises(TypeError, match="takes 3 fields"):
        _Point(1, [], None, 4)
    with pytest.raises(TypeError):
        hash(point)


def test_frozen_records_cannot_change_and_hash_by_their_fields():
    query = Query(limit=5)
    assert query == Query(where=[], tags=[], sort=[], limit=5, offset=0)
    assert query != Query(limit=6) and query != TagEdit()
    assert repr(query) == "Query(where=[], tags=[], sort=[], limit=5, offset=0)"
    with pytest.raises(AttributeError):
        query.limit = 6
    with pytest.raises(AttributeError):
        del query.limit
    assert query.replace(offset=2).offset == 2 and query.offset == 0
    assert not TagEdit() and TagEdit(add_tags=["vip"])

    class Pair(FrozenRecord, fields={"a": 1, "b": 2}):
        pass

    assert hash(Pair()) == hash(Pair(1, 2)) and {Pair(), Pair(1, 2)} == {Pair()}


# What each command imports, run as the installed command runs it (a fresh process).
# Every command pays for every module it imports; these are not needed to run them.
_PROBE = """
import dataclasses, sys
from crmcli.start import main
sys.argv = ['crm', *sys.argv[1:]]
code = main()
ours = [name for name in sys.modules if name.startswith('crmcli') or name in ('json', 'shlex')]
defined = sorted(
    f"{name}.{key}" for name in ours for key, value in vars(sys.modules[name]).items()
    if isinstance(value, type) and dataclasses.is_dataclass(value)
    and value.__module__ == name
)
print(code, ' '.join(sorted(ours)), '|', ' '.join(defined), file=sys.stderr)
"""
_WRITES = [
    ["contact", "add", "Jim Roe", "-e", "jim@acme.example", "-q"],
    ["deal", "add", "Big deal", "-a", "Acme", "-q"],
    ["log", "Called", "-c", "jane@a.test", "-q"],
]
_READS = [
    ["contact", "show", "jane@a.test"],
    ["list"],
    ["search", "Roe"],
    ["due"],
    ["--help"],
]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    import subprocess
    import sys

    path = tmp_path_factory.mktemp("startup") / "crm.db"
    env = {"CRM_DB": str(path), "PATH": "/usr/bin:/bin", "COLUMNS": "100"}
    for args in (["account", "new", "Acme"], ["contact", "add", "Jane Roe", "-e", "jane@a.test"]):
        subprocess.run([sys.executable, "-c", _PROBE, *args], env=env, check=True,
                       capture_output=True)  # fmt: skip
    return env


@pytest.mark.parametrize("args", _WRITES + _READS, ids=" ".join)
def test_a_command_imports_only_what_it_uses_and_defines_no_dataclass(filled, args):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _PROBE, *args], env=filled,
                            capture_output=True, text=True)  # fmt: skip
    line = result.stderr.splitlines()[-1]
    status, rest = line.split(" ", 1)
    modules, defined = rest.split("|")
    assert status == "0", result.stderr
    imported = set(modules.split())
    assert "crmcli.migrations" not in imported  # a current database opens without it
    assert "shlex" not in imported  # the history's command line is quoted without it
    if args in _WRITES:
        assert not {"crmcli.cli.listing", "crmcli.store.search"} & imported
        # nothing to decode or encode: no tags, fields or lists given (~5M instructions)
        assert "json" not in imported
    assert defined.split() == []  # a dataclass costs ~1 ms of start-up to define


def test_what_opening_needs_of_the_schema_agrees_with_the_migrations():
    """db.py keeps the schema's version and names so that no command imports the
    migrations to open a current database; migrations.py refuses to load otherwise."""
    from crmcli import db, migrations
    from crmcli.store import search

    assert db.SCHEMA_VERSION == migrations.SCHEMA_VERSION == len(migrations.MIGRATIONS)
    assert (migrations.NAMED, migrations.SEARCH_KINDS) == (db.NAMED, db.SEARCH_KINDS)
    assert search.ADDRESS_PARTS == migrations.ADDRESS_PARTS


def test_empty_lists_and_fields_are_stored_and_read_as_json_writes_them():
    """common.dump/load skip json for [] and {} (most records'): the text is the same."""
    import json

    from crmcli.store import common

    for value in ([], {}, [1, "é"], {"a": [], "b": "\x00"}, [[]], [{}], ""):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        assert common.dump(value) == text
        assert common.load(text) == value and type(common.load(text)) is type(value)
    assert common.load("[]") is not common.load("[]")  # a new list each time: callers change it


def test_the_history_command_line_is_quoted_as_shlex_quotes_it():
    import random
    import shlex

    from crmcli.cli import _summary

    words = ["", "a", "it's", "a b", "é", "-q", "--x=1", "a$b", "x\ny", "a\"b", "''", "中",
             "a_b@c%d+e=f:g,h.i/j-k", "~", "*", "[bold]", "\x1b[31m"]  # fmt: skip
    rnd = random.Random(17)
    words += ["".join(rnd.choice("ab_@%+=:,./-' \"$é\t") for _ in range(4)) for _ in range(500)]
    assert _summary(["--db", "x.db", "contact", *words]) == shlex.join(["contact", *words])[:200]
    for word in words:
        assert _summary(["log", word]) == shlex.join(["log", word])


@pytest.mark.parametrize("args", [["--help"], ["contact", "add", "Jim Roe", "-q"]], ids=" ".join)
def test_a_command_builds_only_itself_not_the_roots_list_and_demo(crm, monkeypatch, args):
    """typer builds every command registered on a group with all their options when the
    group is built: list's nine cost every command ~4.5M instructions."""
    import typer.main

    built = []
    build = typer.main.get_command_from_info

    def recording(info, **kwargs):
        built.append(info.name)
        return build(info, **kwargs)

    monkeypatch.setattr(typer.main, "get_command_from_info", recording)
    crm.ok(*args)
    assert not {"list", "demo"} & set(built)
    built.clear()
    crm.ok("list")
    assert built == ["list"]  # built when run


# The installed command's start-up, watched: whether the garbage collector runs while
# typer builds the options' adapters, while the command works, and after it.
_GC_PROBE = """
import gc, sys
import typer.core as core  # typer's name for the step that builds an option's adapter
from crmcli import start
from crmcli.cli import CrmCommand

seen = []
build = core.build_runtime_param
def spied_build(descriptor):
    seen.append(("adapters", gc.isenabled()))
    return build(descriptor)
core.build_runtime_param = spied_build
from crmcli.store import history
listed = history.list_operations
def spied_list(*args, **kwargs):  # `crm history`: a group whose callback is the command
    seen.append(("command", gc.isenabled()))
    return listed(*args, **kwargs)
history.list_operations = spied_list
invoke = CrmCommand.invoke
def spied_invoke(self, ctx):
    callback = self.callback
    def work(*args, **kwargs):
        seen.append(("command", gc.isenabled()))
        return callback(*args, **kwargs)
    self.callback = work
    return invoke(self, ctx)
CrmCommand.invoke = spied_invoke
if sys.argv[1] == "paused-by-caller":
    gc.disable()
sys.argv = ["crm", *sys.argv[2:]]
code = start.main()
print(code, sorted(set(seen)), gc.isenabled(), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize(
    "args", [["contact", "add", "Gc Probe", "-q"], _READS[0], ["history"]], ids=" ".join
)
def test_start_up_runs_with_the_collector_paused_and_the_command_with_it_on(filled, args):
    """crm's entry point pauses Python's cyclic garbage collector while typer and
    pydantic build the command (~10% of a short command's instructions) and turns it
    back on, start-up's objects frozen, when the command's own work begins."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _GC_PROBE, "ours", *args], env=filled,
                         capture_output=True, text=True, check=True)  # fmt: skip
    line = run.stdout.splitlines()[-1]
    assert line == "0 [('adapters', False), ('command', True)] True True", run.stderr


def test_a_caller_keeps_its_collector_as_it_set_it(filled):
    """A process that paused the collector itself (or CliRunner's, where it is on) gets
    it back as it was: start.main turns on only what it turned off."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _GC_PROBE, "paused-by-caller", *_READS[0]],
                         env=filled, capture_output=True, text=True, check=True)  # fmt: skip
    line = run.stdout.splitlines()[-1]
    assert line == "0 [('adapters', False), ('command', False)] False False", run.stderr


def test_the_installed_command_starts_through_start_main():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "crm"]
    assert script.value == "crmcli.start:main"


def test_every_command_resumes_the_collector():
    """Each command crm can run is a CrmCommand (whose invoke turns the collector back
    on) or a group that is a command itself only where it says so (crm history)."""
    import typer

    from crmcli.cli import CrmCommand, app

    root = typer.main.get_command(app)
    ctx = root.make_context("crm", ["list"], resilient_parsing=True)
    seen, groups = [], []
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        if isinstance(command, typer.core.TyperGroup):
            groups.append(name)
            commands = [command.get_command(ctx, sub) for sub in command.list_commands(ctx)]
        else:
            commands = [command]
        seen += [(name, type(c).__name__) for c in commands if not isinstance(c, CrmCommand)]
    assert seen == [] and len(groups) > 5


_AGAIN_PROBE = """
import gc, io, sys
from crmcli import start
frozen = []
for _ in range(3):
    sys.argv = ["crm", *sys.argv[1:4]]
    sys.stdout = io.StringIO()
    start.main()
    sys.stdout = sys.__stdout__
    frozen.append(gc.get_freeze_count())
print(frozen[0] > 0, max(frozen[1:]) <= frozen[0], gc.isenabled(), frozen)
"""


def test_start_main_run_again_in_one_process_freezes_no_more(filled):
    """A process that runs start.main again (a script calling it in a loop): its
    start-up was the first run's; pausing and freezing again would set each run's
    garbage aside for good (~260 objects a run, never collected)."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _AGAIN_PROBE, *_READS[0]], env=filled,
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert run.stdout.split()[:3] == ["True", "True", "True"], run.stdout + run.stderr


_INTERRUPTED_PROBE = """
import gc, sys
from crmcli import start

class Interrupting:  # Ctrl-C while crm's modules are imported (typer, pydantic)
    def find_spec(self, name, path=None, target=None):
        if name == "crmcli.cli":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupting())
sys.argv = ["crm", "list"]
code = start.main()
print(code, gc.isenabled())
"""


def test_ctrl_c_during_start_up_is_an_interruption_not_a_traceback(filled):
    """Ctrl-C in start-up's first tenth of a second (importing typer and pydantic,
    before the command's own handling of it) printed Python's traceback."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _INTERRUPTED_PROBE], env=filled,
                         capture_output=True, text=True)  # fmt: skip
    assert (run.stdout, run.stderr) == ("130 True\n", "Error: interrupted; nothing was written\n")
