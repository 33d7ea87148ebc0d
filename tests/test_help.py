"""Every command answers -h with real help text."""

import typer

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
