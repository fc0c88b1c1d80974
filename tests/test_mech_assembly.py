"""mech.clearance, mech.insertion, print.wall, print.overhang and air.openings, each with a
deliberately faulty design it catches (real CadQuery, OCCT distances, trimesh)."""

from __future__ import annotations

import copy
import dataclasses

import cadquery as cq
import pytest
import trimesh

import rackplane.air_checks  # noqa: F401  (registers the checks)
import rackplane.mounting_checks  # noqa: F401
from rackplane.checks import FAIL, PASS, REGISTRY, run_check
from rackplane.context import BuildContext
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from rackplane.stages import StageInput, Upstream

import mechanical.checks  # noqa: F401  (registers the checks)
from mechanical import bodies as B
from mechanical import parts
from mechanical.stages import ASSEMBLY_STAGE, FRAME_STAGE, build_assembly, build_frame


def _build(design, tmp):
    layout = compute_layout(design)
    (tmp / "f").mkdir(parents=True, exist_ok=True)
    (tmp / "a").mkdir(parents=True, exist_ok=True)
    frame = build_frame(StageInput(design, layout, tmp / "f"))
    assy = build_assembly(StageInput(design, layout, tmp / "a", {FRAME_STAGE: Upstream(frame, tmp / "f")}))
    return BuildContext(design, layout, facts={FRAME_STAGE: frame, ASSEMBLY_STAGE: assy},
                        stage_dirs={FRAME_STAGE: tmp / "f", ASSEMBLY_STAGE: tmp / "a"})


@pytest.fixture(scope="module")
def small_ctx(tmp_path_factory):
    """Three slots: every body kind, quick to build."""
    return _build(resolve_design(load_design().replace(slots__count=3)), tmp_path_factory.mktemp("small"))


def _run(check_id, ctx):
    return run_check(REGISTRY[check_id], ctx)


def test_small_design_passes_every_mechanical_check(small_ctx):
    for cid in ("mech.clearance", "mech.insertion", "print.wall", "print.overhang", "air.openings",
                "print.bed_fit", "print.solid", "rack.eia310"):
        r = _run(cid, small_ctx)
        assert r.status == PASS, r.message
    eng = small_ctx.facts[ASSEMBLY_STAGE]["engagement"]
    assert [e["engagement_mm"] for e in eng] == [6.0] * 3


@pytest.mark.slow
def test_too_narrow_pitch_fails_clearance_naming_both_bodies(tmp_path):
    design = resolve_design(load_design().replace(slots__count=3, slots__pitch_mm=20.0))
    r = _run("mech.clearance", _build(design, tmp_path))
    assert r.status == FAIL
    assert any(p.startswith("slot 1 ") for p in r.parts) and any(p.startswith("slot 2 ") for p in r.parts)
    assert "gap between slot" in r.message and "overlap" in r.message


def test_insertion_catches_a_window_too_small_for_the_sled(small_ctx):
    L, d = small_ctx.layout, small_ctx.design
    tight = parts.front_panel(L, window_clearance_mm=-0.5)
    every = [B.Body("frame panel", tight.solid, "printed")]
    fp = parts.sled_faceplate(L, d["node.model"]).solid
    for slot in L.slots:
        every += B.sled_bodies(L, d, slot, fp.translate(cq.Vector(slot.x_mm - L.slots[0].x_mm, 0, 0)))
    facts = copy.deepcopy(small_ctx.facts)
    facts[ASSEMBLY_STAGE]["sweeps"] = B.insertion_sweeps(L, every)
    r = _run("mech.insertion", BuildContext(d, L, facts=facts))
    assert r.status == FAIL and "frame panel" in r.parts
    assert "swept in from the front" in r.message


def test_insertion_catches_a_short_plug(small_ctx):
    facts = copy.deepcopy(small_ctx.facts)
    facts[ASSEMBLY_STAGE]["engagement"][1]["engagement_mm"] = 3.0
    r = _run("mech.insertion", BuildContext(small_ctx.design, small_ctx.layout, facts=facts))
    assert r.status == FAIL and r.parts == ["slot 2 connector"] and r.value == pytest.approx(3.0)


def test_print_wall_catches_thin_guard_ribs(small_ctx):
    thin = parts.fan_wall(small_ctx.layout, rib_width_mm=0.6)
    facts = copy.deepcopy(small_ctx.facts)
    facts[FRAME_STAGE]["parts"]["fanwall"]["material_min_mm"] = thin.material_min_mm
    r = _run("print.wall", BuildContext(small_ctx.design, small_ctx.layout, facts=facts))
    assert r.status == FAIL and r.parts == ["fanwall"] and r.value == pytest.approx(0.6)


def test_print_overhang_catches_a_wide_unsupported_shelf(small_ctx, tmp_path):
    shelf = trimesh.util.concatenate([trimesh.creation.box((5, 5, 20), trimesh.transformations.translation_matrix((2.5, 2.5, 10))),
                                      trimesh.creation.box((30, 30, 3), trimesh.transformations.translation_matrix((15, 15, 21.5)))])
    # one watertight T: a post under a 30 x 30 mm shelf
    t = (cq.Workplane().box(5, 5, 20, centered=False).union(
        cq.Workplane().box(30, 30, 3, centered=False).translate((-12.5, -12.5, 20))))
    path = tmp_path / "shelf.stl"
    cq.exporters.export(t.translate((12.5, 12.5, 0)), str(path))
    assert shelf.volume > 0
    facts = copy.deepcopy(small_ctx.facts)
    facts[FRAME_STAGE]["pieces"] = [{"id": "shelf-1", "file": str(path)}]
    r = _run("print.overhang", BuildContext(small_ctx.design, small_ctx.layout, facts=facts,
                                            stage_dirs={FRAME_STAGE: tmp_path}))
    assert r.status == FAIL and r.parts == ["shelf-1"]
    assert r.value == pytest.approx(30 * 30 - 25, rel=0.01)


def test_air_openings_catch_a_model_more_open_than_the_build(small_ctx):
    facts = copy.deepcopy(small_ctx.facts)
    facts[FRAME_STAGE]["faceplate"]["open_fraction"] = 0.05  # ports fill the faceplate
    r = _run("air.openings", BuildContext(small_ctx.design, small_ctx.layout, facts=facts))
    assert r.status == FAIL and "sled faceplate" in r.parts


@pytest.mark.slow
def test_assembly_uses_the_board_steps_and_still_clears(tmp_path):
    """Built by the pipeline, the assembly's backplane and carriers are kicad-cli's board STEP
    models (pcb.step), and every mechanical check passes with them."""
    from rackplane.pipeline import Progress, run_stages

    design = resolve_design(load_design().replace(slots__count=2))
    ctx, runs = run_stages(design, tmp_path / "cache", {ASSEMBLY_STAGE}, Progress(enabled=False))
    assert not [r.error for r in runs if r.error]
    boards = [b for b in ctx.facts[ASSEMBLY_STAGE]["bodies"] if b["kind"] == "board"]
    assert [b["name"] for b in boards] == ["slot 1 carrier", "slot 2 carrier", "backplane"]
    assert {b["source"] for b in boards} == {B.STEP_SOURCE}
    for cid in ("mech.clearance", "mech.insertion"):
        r = _run(cid, ctx)
        assert r.status == PASS, r.message


@pytest.mark.slow
def test_a_split_backplane_places_one_board_step_per_module(tmp_path):
    """Four slots on 60 mm boards: two module boards, each the same STEP at its module's place,
    clear of the frame and the sleds."""
    from rackplane.pipeline import Progress, run_stages

    design = resolve_design(load_design().replace(slots__count=4, pcb__max_board_length_mm=60.0))
    ctx, runs = run_stages(design, tmp_path / "cache", {ASSEMBLY_STAGE}, Progress(enabled=False))
    assert not [r.error for r in runs if r.error]
    modules = [b for b in ctx.facts[ASSEMBLY_STAGE]["bodies"] if b["name"].startswith("backplane")]
    assert [b["name"] for b in modules] == ["backplane module 1", "backplane module 2"]
    assert {b["source"] for b in modules} == {B.STEP_SOURCE}
    for cid in ("mech.clearance", "mech.insertion", "mech.mounting"):
        r = _run(cid, ctx)
        assert r.status == PASS, r.message
