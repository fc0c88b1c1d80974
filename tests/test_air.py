"""Airflow model and the cooling checks: air.flow, print.heat, fan.fit, fan.coverage."""

from __future__ import annotations

import pytest

import rackplane.air_checks  # noqa: F401 - registers the checks
from rackplane.air_stage import air_model
from rackplane.airflow import fan_flow_m3h, operating_point, perforated_plate_zeta
from rackplane import catalogue
from rackplane.checks import REGISTRY, run_check
from rackplane.context import BuildContext
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from rackplane.stages import StageInput


def context(tmp_path, **changes) -> BuildContext:
    design = resolve_design(load_design().replace(**changes))
    layout = compute_layout(design)
    tmp_path.mkdir(parents=True, exist_ok=True)
    facts = air_model(StageInput(design=design, layout=layout, workdir=tmp_path))
    # fan.fit reads the hole pattern measured on the built fan wall (a mech.frame fact)
    from mechanical import measure, parts
    wall = {"fan_wall": measure.fan_wall_facts(parts.fan_wall(layout).solid, layout)}
    return BuildContext(design=design, layout=layout, facts={"air.model": facts, "mech.frame": wall},
                        stage_dirs={"air.model": tmp_path})


def run(check_id: str, ctx: BuildContext):
    return run_check(REGISTRY[check_id], ctx)


def test_default_design_is_cool_enough(tmp_path):
    ctx = context(tmp_path)
    for check_id in ("air.flow", "print.heat", "fan.fit", "fan.coverage"):
        result = run(check_id, ctx)
        assert result.status == "pass", result.message
    assert (tmp_path / "airflow.png").stat().st_size > 5000


def test_operating_point_lies_on_both_curves(tmp_path):
    design = resolve_design(load_design())
    layout = compute_layout(design)
    r = operating_point(design, layout)
    fan = catalogue.fan(design["cooling.fan_size_mm"])
    assert r.pressure_pa == pytest.approx(r.system_k_pa_per_m3h2 * r.flow_m3h ** 2)
    assert r.flow_m3h == pytest.approx(r.fan_count * float(fan_flow_m3h(fan, r.pressure_pa)), rel=1e-6)
    assert 0 < r.pressure_pa < fan.max_pressure_pa


def test_more_fans_move_more_air():
    flows = []
    for count in (1, 2, 4):
        design = resolve_design(load_design().replace(cooling__fan_count=count))
        flows.append(operating_point(design, compute_layout(design)).flow_m3h)
    assert flows == sorted(flows) and flows[0] < flows[-1]


def test_perforated_plate_loss_falls_as_the_plate_opens():
    zetas = [perforated_plate_zeta(f) for f in (0.2, 0.4, 0.6, 0.8, 0.95)]
    assert zetas == sorted(zetas, reverse=True)
    assert zetas[-1] < 0.1 < zetas[0]


def test_one_40mm_fan_for_ten_pi5_with_5k_rise_fails_air_flow(tmp_path):
    ctx = context(tmp_path, node__model="pi5", cooling__fan_size_mm=40, cooling__fan_count=1,
                  cooling__max_air_rise_c=5.0)
    r = run("air.flow", ctx)
    assert r.status == "fail"
    a = ctx.facts["air.model"]
    assert r.value == pytest.approx(a["rise_c"], rel=1e-4) and r.limit == 5.0
    assert "delivered" in r.message and "required" in r.message
    assert f"{a['flow_m3h']:.1f}" in r.message and f"{a['required_flow_m3h']:.1f}" in r.message


def test_auto_fan_count_picks_the_fewest_that_pass(tmp_path):
    ctx = context(tmp_path)
    assert run("air.flow", ctx).status == "pass"
    count = ctx.design["cooling.fan_count"]
    if count > 1:
        fewer = context(tmp_path / "fewer", cooling__fan_count=count - 1)
        assert run("air.flow", fewer).status == "fail" or run("fan.coverage", fewer).status == "fail"


def test_120mm_fan_in_2u_fails_fan_fit(tmp_path):
    ctx = context(tmp_path, cooling__fan_size_mm=120, rack__units=2)
    r = run("fan.fit", ctx)
    assert r.status == "fail"
    assert "roof" in r.parts and any("2U" in d["what"] and d["margin"] < 0 for d in r.details)


def test_overlapping_fans_fail_fan_fit(tmp_path):
    ctx = context(tmp_path, cooling__fan_size_mm=92, cooling__fan_count=6)
    r = run("fan.fit", ctx)
    assert r.status == "fail"


def test_one_fan_cannot_cover_ten_slots(tmp_path):
    ctx = context(tmp_path, cooling__fan_count=1)
    r = run("fan.coverage", ctx)
    assert r.status == "fail"
    assert "slot 1" in r.parts and "slot 10" in r.parts


def test_pla_in_hot_ambient_fails_print_heat(tmp_path):
    ctx = context(tmp_path, printer__material="PLA", cooling__ambient_c=45.0)
    r = run("print.heat", ctx)
    assert r.status == "fail"
    assert "PLA" in r.message and r.limit == pytest.approx(57.8 - 10.0)


def test_fan_fit_reads_the_built_hole_pattern(tmp_path):
    """A fan wall drilled to a wrong pattern (a 60 mm fan's holes 52 mm apart, not 50)
    fails fan.fit although Layout is right: the check measures the solid."""
    import dataclasses

    from mechanical import measure, parts

    ctx = context(tmp_path)
    wrong = dataclasses.replace(ctx.layout, fans=tuple(dataclasses.replace(f, hole_spacing_mm=52.0)
                                                       for f in ctx.layout.fans))
    ctx.facts["mech.frame"] = {"fan_wall": measure.fan_wall_facts(parts.fan_wall(wrong).solid, ctx.layout)}
    r = run("fan.fit", ctx)
    assert r.status == "fail" and "hole spacing" in r.message and "fan wall" in r.parts
    assert r.value == pytest.approx(2.0, abs=1e-3)


def test_fan_curves_pass_through_the_datasheet_end_points():
    """The curves of the fans with a maker's datasheet meet its free-air flow and shut-off
    pressure: CUI CFM-4010V-185-314 9.9 CFM / 0.25 inH2O, CROWN AGF06025-12J 17.1 CFM / 0.12 inH2O,
    San Ace 9GA0812P6G001 1.72 m^3/min / 110 Pa."""
    from rackplane.airflow import M3H_PER_CFM

    for size, flow_m3h, pressure_pa in ((40, 9.9 * M3H_PER_CFM, 0.25 * 249.1),
                                        (60, 17.1 * M3H_PER_CFM, 0.12 * 249.1), (80, 1.72 * 60, 110.0)):
        fan = catalogue.fan(size)
        assert float(fan_flow_m3h(fan, 0.0)) == pytest.approx(flow_m3h, abs=0.01)
        assert fan.max_pressure_pa == pytest.approx(pressure_pa, abs=0.05)
        assert float(fan_flow_m3h(fan, fan.max_pressure_pa)) == 0.0


def test_fan_flow_falls_monotonically_and_stops_beyond_shut_off():
    import numpy as np

    for size in catalogue.fan_sizes():
        fan = catalogue.fan(size)
        p = np.linspace(0.0, 1.5 * fan.max_pressure_pa, 301)
        q = fan_flow_m3h(fan, p)
        assert np.all(np.diff(q) <= 0) and q[0] == fan.max_flow_m3h
        assert np.all(q[p >= fan.max_pressure_pa] == 0.0)
        for qi, pi in zip(fan.curve_flow_m3h, fan.curve_pressure_pa):  # through every stored point
            assert float(fan_flow_m3h(fan, pi)) == pytest.approx(qi)
        assert fan.curve_basis


def test_a_curve_that_does_not_fall_is_refused(monkeypatch):
    raw = {"sizes": {"40": {**catalogue.load("fans")["sizes"]["40"], "curve_flow_m3h": [10.0, 12.0, 0.0],
                            "curve_pressure_pa": [0.0, 5.0, 10.0]}}}
    monkeypatch.setattr(catalogue, "load", lambda name: raw)
    with pytest.raises(ValueError, match="flow falling"):
        catalogue.fan(40)
