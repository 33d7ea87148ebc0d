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
    # In the stored case, escaped for bash: each candidate one word
    assert complete("crm contact add X --account acme")[:2] == [
        "Acme\\ Corporation", "Acme\\ Europe"
    ]  # fmt: skip
    assert complete("crm contact add X --account Ac")[:2] == [
        "Acme\\ Corporation", "Acme\\ Europe"
    ]  # fmt: skip
    fish = {"shell": "fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    assert complete("crm contact add X --account acme", **fish)[:2] == [
        "Acme Corporation", "Acme Europe"
    ]  # fmt: skip
    assert complete("crm account show Glo")[0] == "Globex"
    assert complete("crm contact show Ja")[0] == "Jane\\ Doe"
    assert complete("crm contact show jane@")[0] == "jane@acme.example"
    assert complete("crm log x --deal Sk")[0] == "Skates"


def test_stages_and_fields_complete(complete):
    assert complete("crm deal move Skates ne")[0] == "negotiation"
    assert complete("crm list deals --sort am")[0] == "amount"
    assert complete("crm deal list --where pro")[0] == "probability"
    assert complete("crm account list --columns name,ci")[0] == "name,city"
    assert complete("crm task list --where do", shell="zsh")[0] == "compadd -U -- done done_at"
    assert "_arguments" in complete("crm task li", shell="zsh")[0]  # commands: typer's way


def test_completion_is_silent_when_anything_is_wrong(complete, tmp_path):
    missing = tmp_path / "nowhere" / "crm.db"
    assert not any(complete("crm contact show Ja", CRM_DB=str(missing)))
    assert not missing.parent.exists()
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert not any(complete("crm contact show Ja", CRM_DB=str(junk)))
    assert junk.read_text() == "not a database"


def bash_script(installed_crm, home) -> str:
    """`crm --show-completion` as typed in bash.  Typer finds the shell from the
    processes above crm (a shell name given after the option is not read), so
    bash runs it: `; true` keeps bash from replacing itself by crm, which would
    leave the test runner as the parent, and the shell unknown."""
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", '"$0" --show-completion; true', installed_crm],
        capture_output=True, text=True, env={**os.environ, "HOME": str(home)}, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result
    return result.stdout


def test_completion_scripts_install(installed_crm, tmp_path):
    script = bash_script(installed_crm, tmp_path)
    assert "_CRM_COMPLETE" in script and "complete -o default -F _crm_completion crm" in script


@pytest.fixture
def names(crm):
    crm.ok("account", "new", "Acme")
    for name in ("Jane Q. Doe", "jane o'Neil", "José Díaz", "Ann $(touch x) *"):
        crm.ok("contact", "add", name, "--account", "Acme")
    return crm


def test_bash_completes_a_name_with_spaces_and_quotes_to_one_word(names, installed_crm, tmp_path):
    """Through bash itself: its completion function, then the word it would insert
    read back by bash as the command line would be."""
    driver = bash_script(installed_crm, tmp_path) + """
complete_line() {
    IFS='|' read -ra COMP_WORDS <<< "$1"  # the words as bash splits the line
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    _crm_completion crm
    # a quote begun stays: bash puts the word after it, and closes it
    quote=${COMP_WORDS[COMP_CWORD]:0:1}; case $quote in "'"|'"') ;; *) quote="" ;; esac
    for word in "${COMPREPLY[@]}"; do
        eval "set -- $quote$word$quote"   # as bash reads the word on the command line
        echo "$#:$1"
    done
}
complete_line "$LINE"
"""
    def bash(line):
        result = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c", driver], capture_output=True, text=True,
            cwd=tmp_path, env={**os.environ, "CRM_DB": str(tmp_path / "crm.db"), "LINE": line,
                               "PATH": f"{os.path.dirname(installed_crm)}:{os.environ['PATH']}"},
            timeout=30,
        )  # fmt: skip
        assert result.returncode == 0 and result.stderr == "", result
        return result.stdout.splitlines()

    assert bash("crm|contact|show|ja") == ["1:jane o'Neil", "1:Jane Q. Doe"]
    assert bash("crm|contact|show|JOSE") == ["1:José Díaz"]  # case and accents ignored
    assert bash("crm|log|hi|--contact|an") == ["1:Ann $(touch x) *"]
    assert not (tmp_path / "x").exists()
    assert bash("crm|contact|show|'Jane Q") == ["1:Jane Q. Doe"]  # a quote begun
    assert bash("crm|contact|show|Jane\\ Q") == ["1:Jane Q. Doe"]  # a space escaped
    assert bash("crm|contact|show|'jane o") == ["1:jane o'Neil"]
    assert bash('crm|contact|show|"jane o') == ["1:jane o'Neil"]
    assert bash('crm|log|hi|--contact|"an') == ["1:Ann $(touch x) *"]
    assert bash("crm|log|hi|--contact|'an") == ["1:Ann $(touch x) *"]
    assert not (tmp_path / "x").exists()


def test_zsh_and_fish_get_words_in_their_own_format(names, complete):
    import shlex

    zsh = complete("crm contact show JA", shell="zsh")[0]
    assert shlex.split(zsh) == ["compadd", "-U", "--", "Jane Doe", "jane o'Neil", "Jane Q. Doe"]
    fish = {"shell": "fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    assert complete("crm contact show ja", **fish)[:3] == ["Jane Doe", "jane o'Neil", "Jane Q. Doe"]
