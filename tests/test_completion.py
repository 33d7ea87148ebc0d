"""Shell completion from the database, through the installed crm as a shell calls it."""

import os
import subprocess

import pytest


@pytest.fixture
def complete(installed_crm, tmp_path, crm):
    crm.ok("account", "new", "Acme Corporation")
    crm.ok("account", "new", "Acme Europe")
    crm.ok("account", "new", "Globex")
    crm.ok("contact", "add", "Jane Doe", "--email", "jane@acme.example")
    crm.ok("deal", "new", "Skates", "--account", "Globex")

    def complete(line: str, shell: str = "bash", **env) -> list[str]:
        words = line.split(" ")
        variables = {**os.environ, "CRM_DB": str(tmp_path / "crm.db"), **env}
        if shell == "bash":
            variables |= {"_CRM_COMPLETE": "complete_bash", "COMP_WORDS": line,
                          "COMP_CWORD": str(len(words) - 1)}  # fmt: skip
        else:
            variables |= {"_CRM_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
        result = subprocess.run(
            [installed_crm], env=variables, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0 and result.stderr == "", result
        return result.stdout.split("\n")

    return complete


def test_references_complete_from_the_database(complete):
    # Offered as typed so far: the shell keeps only words that begin that way.
    assert complete("crm contact add X --account acme")[:2] == ["acme Corporation", "acme Europe"]
    assert complete("crm contact add X --account Ac")[:2] == ["Acme Corporation", "Acme Europe"]
    assert complete("crm account show Glo")[0] == "Globex"
    assert complete("crm contact show Ja")[0] == "Jane Doe"
    assert complete("crm contact show jane@")[0] == "jane@acme.example"
    assert complete("crm log x --deal Sk")[0] == "Skates"


def test_stages_and_fields_complete(complete):
    assert complete("crm deal move Skates ne")[0] == "negotiation"
    assert complete("crm list deals --sort am")[0] == "amount"
    assert complete("crm deal list --where pro")[0] == "probability"
    assert complete("crm account list --columns name,ci")[0] == "name,city"
    assert "_arguments" in complete("crm task list --where do", shell="zsh")[0]


def test_completion_is_silent_when_anything_is_wrong(complete, tmp_path):
    missing = tmp_path / "nowhere" / "crm.db"
    assert not any(complete("crm contact show Ja", CRM_DB=str(missing)))
    assert not missing.parent.exists()
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert not any(complete("crm contact show Ja", CRM_DB=str(junk)))
    assert junk.read_text() == "not a database"


def test_completion_scripts_install(installed_crm, tmp_path):
    for shell in ("bash", "zsh", "fish"):
        result = subprocess.run(
            [installed_crm, "--show-completion", shell], capture_output=True, text=True,
            env={**os.environ, "HOME": str(tmp_path)},
        )  # fmt: skip
        assert result.returncode == 0 and "_CRM_COMPLETE" in result.stdout, shell
