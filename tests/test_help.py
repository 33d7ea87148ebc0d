"""Every command answers -h with real help text."""

import functools

import typer
from typer.testing import CliRunner

from crmcli.cli import app


def walk(command, path=()):
    yield path, command
    context = typer.Context(command)
    for name in getattr(command, "list_commands", lambda ctx: [])(context):
        yield from walk(command.get_command(context, name), (*path, name))


def test_every_command_has_help(crm):
    commands = list(walk(typer.main.get_command(app)))
    assert len(commands) > 12
    for path, command in commands:
        assert (command.help or "").strip(), f"crm {' '.join(path)} has no help text"
        result = crm.ok(*path, "-h")
        assert "Usage: crm" in result.stdout
        assert result.stderr == ""
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"crm {' '.join(path)} {param.opts} lacks help"


def test_root_help_lists_every_command(crm):
    text = crm.ok("--help").stdout
    for name in ("account", "contact", "list", "demo"):
        assert f"  {name} " in text


def leaves():
    """(path, command) of every command that runs (not a group), once each."""
    seen = set()
    for path, command in walk(typer.main.get_command(app)):
        if not hasattr(command, "list_commands") and command.callback not in seen:
            seen.add(command.callback)
            yield path, command


def test_no_library_wording_for_a_bad_value(crm):
    """Every choice option and number option given nonsense: crm's own words."""
    tried = 0
    for path, command in leaves():
        required = [p for p in command.params if p.required]
        filler = []  # the command's required arguments and options, given something
        for param in required:
            descriptor = getattr(param, "type_descriptor", None)
            value = descriptor.choices[0] if descriptor and descriptor.is_choice else "x"
            filler += [param.opts[0], value] if param.param_type_name == "option" else [value]
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if param.param_type_name != "option" or descriptor is None or param.is_flag:
                continue
            if not (descriptor.is_choice or descriptor.annotation in (int, int | None)):
                continue
            given = _without(filler, param.opts[0]) if param.required else filler
            result = crm(*path, *given, param.opts[0], "nonsense\x1b[31m")
            tried += 1
            assert result.exit_code == 2, (path, param.opts, result.stderr)
            message = result.stderr
            for words in ("Value error", "Input should", "pydantic", "valid integer", "\x1b"):
                assert words not in message, (path, param.opts, message)
            assert "'nonsense" in message, message
    assert tried > 40


def _without(args: list[str], option: str) -> list[str]:
    """`args` without `option` and its value."""
    at = args.index(option)
    return args[:at] + args[at + 2 :]


@functools.cache
def helps() -> dict:
    """Every command's -h text, read once for the tests below."""
    runner = CliRunner()
    texts = {}
    for path, command in walk(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        texts[path] = (command, result.stdout)
    return texts


def test_usage_lines_read_plainly(crm):
    for _, text in helps().values():
        usage = text.split("\n\n")[0]
        assert "{" not in usage and "[[" not in usage, usage
    assert "Usage: crm contact show [OPTIONS] CONTACT\n" in crm.ok("contact", "show", "-h").stdout
    assert "Usage: crm log [OPTIONS] [TEXT|-]\n" in crm.ok("log", "-h").stdout
    assert "Usage: crm contact add [OPTIONS] [NAME]\n" in crm.ok("contact", "add", "-h").stdout
    assert "crm contact merge [OPTIONS] KEEP OTHER...\n" in crm.ok("contact", "merge", "-h").stdout


def test_groups_list_commands_whole_and_only_crm_installs_completion(crm):
    assert "--install-completion" in crm.ok("-h").stdout
    for path, (command, text) in helps().items():
        if not path:
            continue
        assert "completion" not in text, path
        if hasattr(command, "list_commands"):
            commands = text.split("Commands:")[1]
            assert not any(line.rstrip().endswith("...") for line in commands.splitlines()), text
    assert "Delete a contact; its deals, activities and tasks stay, unlinked" in " ".join(
        crm.ok("contact", "-h").stdout.split()
    )


def test_mistyped_commands_get_a_suggestion(crm):
    assert "Did you mean 'contact'?" in crm.fails(2, "contcat", "list").stderr
    assert "Did you mean 'history'?" in crm.fails(2, "histroy").stderr
    assert "Did you mean 'list'?" in crm.fails(2, "contact", "lsit").stderr
    assert "Did you mean 'list'?" in crm.fails(2, "lst").stderr


def test_list_takes_the_singular(crm):
    crm.ok("contact", "add", "Jane Doe")
    crm.ok("account", "new", "Acme")
    assert [c["name"] for c in crm.json("list", "contact")] == ["Jane Doe"]
    assert [a["name"] for a in crm.json("list", "Account")] == ["Acme"]
    assert "did you mean 'contacts'?" in crm.fails(2, "list", "contcts").stderr


def test_every_command_ends_its_help_with_examples_that_parse(crm):
    """Two or three examples at the end of each command's help text, each one a command
    line crm's parser takes (options that exist, values of the right kind)."""
    import shlex

    root = typer.main.get_command(app)
    for path, command in leaves():
        text = command.help or ""
        assert "Examples:" in text, f"crm {' '.join(path)} has no examples"
        examples = [line.strip() for line in text.split("Examples:")[-1].splitlines()]
        examples = [line for line in examples if line and line != "\b"]
        assert 2 <= len(examples) <= 3 or path == ("task", "reopen"), (path, examples)
        assert all(line.startswith("crm ") or "| crm " in line for line in examples), examples
        shown = helps()[path][1]
        assert all(f"    {line}\n" in shown for line in examples), shown  # kept as written
        for line in examples:
            command_line = line.split("| ")[-1].split(" && ")[0].split(" || ")[0].split(" > ")[0]
            words = shlex.split(command_line)[1:]
            while words and words[0].startswith("--db"):
                words = words[2:]
            group, name = root, None
            context = typer.Context(root)
            while hasattr(group, "list_commands"):
                name, words = words[0], words[1:]
                group = group.get_command(context, name)
            group.make_context(name, list(words), parent=context)  # raises on a bad line


def test_root_help_has_examples(crm):
    assert "Examples:" in crm.ok("-h").stdout


def test_a_group_builds_only_the_command_it_runs(crm, monkeypatch):
    """`crm contact add` builds `add` with its options, not the group's other commands
    (start-up time: the `contact` group has ~140 options in all)."""
    built = []
    build = typer.main.get_command_from_info

    def counted(*args, **kwargs):
        command = build(*args, **kwargs)
        built.append(command.name)
        return command

    monkeypatch.setattr(typer.main, "get_command_from_info", counted)
    crm.ok("contact", "add", "Jane Doe", "-q")
    crm.ok("contact", "-h")  # the list of commands needs none of them built
    assert [name for name in built if name not in ("list", "demo")] == ["add"]


def test_a_group_lists_its_commands_as_built_ones_would():
    """The list in `crm GROUP -h` comes from how each command was registered: the same
    lines and the same hidden ones as the commands themselves, once built, give."""
    root = typer.main.get_command(app)
    context = typer.Context(root)
    groups = 0
    for name in root.list_commands(context):
        group = root.get_command(context, name)
        if not hasattr(group, "list_commands"):
            continue
        groups += 1
        for sub_name in group.list_commands(context):
            outline = group.commands.outline(sub_name)
            command = group.get_command(context, sub_name)
            assert (outline.hidden, outline.deprecated) == (command.hidden, command.deprecated)
            assert outline.get_short_help_str() == command.get_short_help_str(), sub_name
            assert outline.help == command.help
    assert groups >= 8


def test_typer_is_used_as_it_comes(crm):
    """crm's usage lines come from its own command class, not from replacing a private
    method of typer's (which any typer release may rename)."""
    from typer.core import TyperArgument

    crm.ok("contact", "show", "-h")
    assert TyperArgument._usage_display_name.__module__ == "typer.core"
