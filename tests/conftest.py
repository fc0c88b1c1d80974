"""Shared fixtures: designs as files, and the resolved design and Layout of a variant."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TOML = ROOT / "designs" / "default.toml"

os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / ".hypothesis"))
# One stage cache for every test and every test process: each distinct stage is built once.
os.environ.setdefault("RACKPLANE_CACHE_DIR", str(ROOT / ".test-cache"))


def default_table() -> dict:
    return tomllib.loads(DEFAULT_TOML.read_text())


def toml_dumps(table: dict) -> str:
    """A small TOML writer for the design tables the tests make (tables of scalars and lists)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    top = [f"{k} = {value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    sections = [f"\n[{k}]\n" + "\n".join(f"{kk} = {value(vv)}" for kk, vv in v.items())
                for k, v in table.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n" + "\n".join(sections) + "\n"


def variant_table(name: str, **sections) -> dict:
    """The default design with some keys changed: variant_table("x", slots={"count": 4})."""
    table = default_table()
    table["name"] = name
    for section, changes in sections.items():
        table.setdefault(section, {}).update(changes)
    return table


@pytest.fixture
def write_design(tmp_path):
    """Write a design table (or raw text) to a file and return its path."""
    def write(table_or_text, filename: str = "design.toml") -> Path:
        path = tmp_path / filename
        text = table_or_text if isinstance(table_or_text, str) else toml_dumps(table_or_text)
        path.write_text(text)
        return path
    return write


@pytest.fixture(scope="session")
def management_default(tmp_path_factory):
    """The default design's netlist and management board stages, built once per session."""
    from tests.pcb_helpers import MANAGEMENT_STAGES, run_stages, variant

    design, layout = variant()
    return run_stages(design, layout, tmp_path_factory.mktemp("management_default"),
                      ("pcb.netlist", *MANAGEMENT_STAGES))
