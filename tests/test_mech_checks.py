"""Each mechanical check catches a deliberately faulty case (real CadQuery, real STL files)."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import numpy as np
import pytest
import trimesh

from rackplane.checks import ERROR, FAIL, PASS, REGISTRY, run_check
from rackplane.context import BuildContext
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from rackplane.stages import StageInput

import mechanical.checks  # noqa: F401  (registers the checks)
from mechanical import measure, parts
from mechanical.stages import FRAME_STAGE, build_frame


def _build(design, workdir, layout=None):
    layout = layout or compute_layout(design)
    workdir.mkdir(parents=True, exist_ok=True)
    facts = build_frame(StageInput(design=design, layout=layout, workdir=workdir))
    return BuildContext(design, layout, facts={FRAME_STAGE: facts}, stage_dirs={FRAME_STAGE: workdir})


@pytest.fixture(scope="module")
def design():
    return resolve_design(load_design())


@pytest.fixture(scope="module")
def good_ctx(design, tmp_path_factory):
    return _build(design, tmp_path_factory.mktemp("good"))


def _run(check_id, ctx):
    return run_check(REGISTRY[check_id], ctx)


def _with_copied_stage(ctx, tmp_path):
    """A context whose mech.frame folder is a private copy the test may corrupt."""
    folder = tmp_path / "frame"
    shutil.copytree(ctx.stage_dirs[FRAME_STAGE], folder)
    return BuildContext(ctx.design, ctx.layout, facts=copy.deepcopy(ctx.facts),
                        stage_dirs={FRAME_STAGE: folder})


# --- rack.eia310 --------------------------------------------------------------------------------

def _ctx_with_panel(ctx, panel_part):
    facts = copy.deepcopy(ctx.facts)
    facts[FRAME_STAGE]["panel"] = measure.measure_panel(panel_part.solid)
    return BuildContext(ctx.design, ctx.layout, facts=facts, stage_dirs=dict(ctx.stage_dirs))


def test_eia310_catches_wrong_ear_hole_spacing(good_ctx):
    left, right = good_ctx.layout.ear_hole_x_mm
    narrow = parts.front_panel(good_ctx.layout, ear_hole_x_mm=(left + 1.0, right - 1.0))
    result = _run("rack.eia310", _ctx_with_panel(good_ctx, narrow))
    assert result.status == FAIL
    assert "horizontal spacing" in result.message
    assert result.value == pytest.approx(2.0, abs=1e-3)
    assert result.parts == ["front panel"]


def test_eia310_catches_holes_off_the_vertical_pattern(good_ctx):
    # A Layout whose ear holes sit 1.5 mm too high: the check compares the solid with the standard,
    # not with Layout, so the shifted pattern fails.
    shifted = dataclasses.replace(good_ctx.layout,
                                  ear_hole_z_mm=tuple(z + 1.5 for z in good_ctx.layout.ear_hole_z_mm))
    result = _run("rack.eia310", _ctx_with_panel(good_ctx, parts.front_panel(shifted)))
    assert result.status == FAIL
    assert "EIA-310 hole position" in result.message or "ear hole at" in result.message
    assert result.value == pytest.approx(1.5, abs=1e-3)


def test_eia310_catches_a_missing_hole_and_wrong_panel_width(good_ctx):
    facts = copy.deepcopy(good_ctx.facts)
    facts[FRAME_STAGE]["panel"]["ear_holes_xz_mm"].pop(0)
    ctx = BuildContext(good_ctx.design, good_ctx.layout, facts=facts)
    assert _run("rack.eia310", ctx).status == FAIL

    wide = dataclasses.replace(good_ctx.layout, panel_width_mm=good_ctx.layout.panel_width_mm + 0.5)
    result = _run("rack.eia310", _ctx_with_panel(good_ctx, parts.front_panel(wide)))
    assert result.status == FAIL and "panel width" in result.message


# --- print.bed_fit ------------------------------------------------------------------------------

def test_bed_fit_catches_an_unsplit_panel(good_ctx, tmp_path):
    unsplit = dataclasses.replace(good_ctx.layout, split_x_mm=())
    ctx = _build(good_ctx.design, tmp_path, layout=unsplit)
    assert all(p["id"].endswith("-1") for p in ctx.facts[FRAME_STAGE]["pieces"])
    result = _run("print.bed_fit", ctx)
    assert result.status == FAIL
    assert {"panel-1", "floor-1", "roof-1", "rearwall-1", "fanwall-1"} <= set(result.parts)
    widest = max(p["bbox_mm"][0] for p in ctx.facts[FRAME_STAGE]["pieces"])
    assert result.value == pytest.approx(256.0 - widest)


@pytest.mark.slow
def test_bed_fit_catches_a_bed_too_small_for_the_floor_depth(tmp_path):
    # 60 mm bed: X cuts shrink the width, but nothing splits the floor's depth (161 mm).
    small = resolve_design(load_design().replace(printer__bed_mm=(60.0, 60.0, 60.0)))
    ctx = _build(small, tmp_path)
    result = _run("print.bed_fit", ctx)
    assert result.status == FAIL
    assert any(p.startswith("floor-") for p in result.parts)
    assert any(p.startswith("panel-") for p in result.parts)  # 88 mm tall face, 60 mm bed
    assert result.margin < 0


# --- print.solid --------------------------------------------------------------------------------

def test_print_solid_catches_a_non_watertight_stl(good_ctx, tmp_path):
    ctx = _with_copied_stage(good_ctx, tmp_path)
    victim = ctx.facts[FRAME_STAGE]["pieces"][1]
    path = ctx.path(FRAME_STAGE, victim["file"])
    mesh = trimesh.load(str(path), file_type="stl", force="mesh")
    mesh.update_faces(np.arange(len(mesh.faces)) >= 3)  # punch a hole: drop three triangles
    mesh.export(str(path), file_type="stl")
    result = _run("print.solid", ctx)
    assert result.status == FAIL
    assert result.parts == [victim["id"]]
    assert result.value == 1 and "not watertight" in result.message


def test_print_solid_catches_a_volume_mismatch(good_ctx, tmp_path):
    ctx = _with_copied_stage(good_ctx, tmp_path)
    victim = ctx.facts[FRAME_STAGE]["pieces"][-1]
    path = ctx.path(FRAME_STAGE, victim["file"])
    mesh = trimesh.load(str(path), file_type="stl", force="mesh")
    mesh.apply_scale([1.01, 1.0, 1.0])  # still watertight, 1 % too big
    mesh.export(str(path), file_type="stl")
    result = _run("print.solid", ctx)
    assert result.status == FAIL
    assert result.parts == [victim["id"]]
    assert result.value == pytest.approx(1.0, rel=1e-3)


def test_print_solid_is_an_error_when_an_stl_is_missing(good_ctx, tmp_path):
    ctx = _with_copied_stage(good_ctx, tmp_path)
    ctx.path(FRAME_STAGE, ctx.facts[FRAME_STAGE]["pieces"][0]["file"]).unlink()
    assert _run("print.solid", ctx).status == ERROR


def test_checks_are_errors_without_the_stage(design):
    ctx = BuildContext(design, compute_layout(design))
    for check_id in ("rack.eia310", "print.bed_fit", "print.solid", "print.slice"):
        assert _run(check_id, ctx).status == ERROR


def test_good_build_passes_the_same_checks(good_ctx):
    for check_id in ("rack.eia310", "print.bed_fit", "print.solid"):
        assert _run(check_id, good_ctx).status == PASS
