"""Property: any parameter set either builds, or fails with a check failure or an input error,
never a traceback. A design that breaks a Layout rule stops at pre-flight with a report saying
which; every other design runs every stage without an error."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rackplane.rack_checks  # noqa: F401 - registers mech.slot_fit
from rackplane import catalogue
from rackplane.checks import REGISTRY, run_check
from rackplane.cli import main
from rackplane.context import BuildContext
from rackplane.design import DesignError, design_from_table
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from tests.conftest import toml_dumps

auto_or = lambda strategy: st.one_of(st.just("auto"), strategy)  # noqa: E731

valid_tables = st.fixed_dictionaries({
    "name": st.just("prop"),
    "rack": st.fixed_dictionaries({"units": auto_or(st.integers(1, 8))}),
    "node": st.fixed_dictionaries({"model": st.sampled_from(catalogue.node_models()),
                                   "heatsink_height_mm": st.floats(0, 40)}),
    "slots": st.fixed_dictionaries({"count": st.integers(1, 32),
                                    "pitch_mm": auto_or(st.floats(5, 60))}),
    "cooling": st.fixed_dictionaries({"fan_size_mm": st.sampled_from(catalogue.fan_sizes()),
                                      "fan_count": auto_or(st.integers(1, 16))}),
    "printer": st.fixed_dictionaries({"bed_mm": st.lists(st.floats(50, 600), min_size=3, max_size=3),
                                      "material": st.sampled_from(catalogue.material_names())}),
})

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                 st.text(max_size=8), st.lists(st.integers(), max_size=4))


@st.composite
def maybe_broken_tables(draw):
    table = draw(valid_tables)
    if draw(st.booleans()):
        section = draw(st.sampled_from(["rack", "node", "slots", "cooling", "printer"]))
        key = draw(st.sampled_from(sorted(table[section]) + ["typo_key"]))
        table[section][key] = draw(junk)
    return table


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(maybe_broken_tables())
def test_any_table_is_an_input_error_or_a_layout_with_a_verdict(table):
    try:
        design = design_from_table(table)
    except DesignError as exc:
        assert exc.key and str(exc)
        return
    design = resolve_design(design)
    layout = compute_layout(design)
    result = run_check(REGISTRY["mech.slot_fit"], BuildContext(design=design, layout=layout))
    assert result.status in ("pass", "fail"), result.message


def smaller(table: dict) -> dict:
    """Keep the real-tool runs to a size the suite can afford (the fast property covers the rest)."""
    slots = table["slots"]
    if isinstance(slots.get("count"), int) and not isinstance(slots["count"], bool):
        slots["count"] = min(slots["count"], 12)
    return table



@pytest.mark.slow
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(table=maybe_broken_tables().map(smaller))
def test_any_design_runs_through_the_real_pipeline(table, tmp_path_factory):
    folder = tmp_path_factory.mktemp("prop")
    path = folder / "design.toml"
    try:
        path.write_text(toml_dumps(table))
    except (TypeError, ValueError):
        return
    out = folder / "out" / "prop"
    code = main(["check", str(path), "--out", str(out), "--quiet"])
    if code == 2:
        assert not (folder / "out").exists()
        return
    complete = (out / "report.json").exists()
    data = json.loads((out / ("report.json" if complete else "report.failed.json")).read_text())
    assert [s for s in data["stages"] if s["error"]] == []  # no generator crashes on any design
    assert complete == data["complete"]
    if not complete:  # stopped at pre-flight: a Layout rule is broken and says so
        assert code == 1 and data["stages"] == []
        assert any(c["status"] == "fail" for c in data["checks"])
    assert (code == 0) == all(c["status"] == "pass" for c in data["checks"])
