"""The command-line contract: help with examples, exit 2 on bad input with nothing written."""

import subprocess
import sys

import pytest

from rackplane.cli import main
from tests.conftest import variant_table


@pytest.mark.parametrize("command", ["build", "check"])
def test_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"rackplane {command}" in out


def test_top_level_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "rackplane.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "build" in proc.stdout and "check" in proc.stdout and "examples:" in proc.stdout


BAD_INPUTS = [
    ("malformed", "name = 'x'\n[slots\ncount = 4\n", "not valid TOML"),
    ("unknown model", variant_table("x", node={"model": "pi6"}), "node.model"),
    ("misspelt key", variant_table("x", slots={"cuont": 4}), "slots.cuont"),
    ("out of range", variant_table("x", slots={"count": 99}), "slots.count"),
    ("wrong type", variant_table("x", cooling={"ambient_c": "warm"}), "cooling.ambient_c"),
]


@pytest.mark.parametrize("label, content, fragment", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
@pytest.mark.parametrize("command", ["build", "check"])
def test_bad_input_exits_2_names_the_key_and_writes_nothing(label, content, fragment, command,
                                                            write_design, tmp_path, capsys):
    path = write_design(content)
    out = tmp_path / "out" / "x"
    code = main([command, str(path), "--out", str(out), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err and "bad input" in err
    assert not (tmp_path / "out").exists()


def test_a_missing_design_file_exits_2(tmp_path, capsys):
    assert main(["build", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
