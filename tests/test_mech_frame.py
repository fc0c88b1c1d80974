"""The mechanical slice built with the real tools: parts, pieces, STL, STEP, and passing checks."""

from __future__ import annotations

import hashlib

import cadquery as cq
import pytest
import trimesh

from rackplane import catalogue
from rackplane.checks import PASS, REGISTRY, run_check
from rackplane.context import BuildContext
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from rackplane.stages import STAGES, StageInput, Upstream

import mechanical.checks  # noqa: F401  (registers the checks)
from mechanical import parts, split
from mechanical.measure import exact_bbox
from mechanical.stages import ASSEMBLY_FILE, FRAME_STAGE, SLICE_STAGE, build_frame, slice_frame


def _design(**changes):
    base = load_design()
    return resolve_design(base.replace(**changes) if changes else base)


def _build(design, workdir):
    layout = compute_layout(design)
    workdir.mkdir(parents=True, exist_ok=True)
    facts = build_frame(StageInput(design=design, layout=layout, workdir=workdir))
    return BuildContext(design, layout, facts={FRAME_STAGE: facts}, stage_dirs={FRAME_STAGE: workdir})


@pytest.fixture(scope="module")
def default_ctx(tmp_path_factory):
    return _build(_design(), tmp_path_factory.mktemp("frame256"))


@pytest.fixture(scope="module")
def small_bed_ctx(tmp_path_factory):
    return _build(_design(printer__bed_mm=(180.0, 180.0, 180.0)), tmp_path_factory.mktemp("frame180"))


def _flat(pairs):
    return [v for pair in pairs for v in pair]


def _stl_meshes(ctx):
    return {p["id"]: trimesh.load(str(ctx.path(FRAME_STAGE, p["file"])), file_type="stl", force="mesh")
            for p in ctx.facts[FRAME_STAGE]["pieces"]}


def test_stage_registration():
    spec = STAGES[FRAME_STAGE]
    assert spec.out_subdir == "mechanical"
    assert spec.depends_on("printer.bed_mm") and spec.depends_on("slots.count")
    assert not spec.depends_on("power.input_voltage_v")
    assert not spec.depends_on("pcb.fab")
    assert not spec.depends_on("printer.material")
    assert STAGES[SLICE_STAGE].needs == (FRAME_STAGE,)


def test_default_design_builds_every_part_split_and_labelled(default_ctx):
    facts = default_ctx.facts[FRAME_STAGE]
    n_cuts = len(default_ctx.layout.split_x_mm)
    assert set(facts["parts"]) == {"panel", "floor", "roof", "side-left", "side-right", "rearwall", "fanwall",
                                   "baffle-left", "baffle-right", "faceplate"}
    for part_id in ("panel", "floor", "roof", "rearwall", "fanwall"):  # wide parts are split
        ids = [p["id"] for p in facts["pieces"] if p["part"] == part_id]
        assert ids == [f"{part_id}-{i}" for i in range(1, n_cuts + 2)]
    for part_id in ("panel", "floor", "roof"):  # keyed across every cut (both pieces count the key)
        assert sum(p["keys"] for p in facts["pieces"] if p["part"] == part_id) >= 2 * n_cuts
    for piece in facts["pieces"]:
        assert default_ctx.path(FRAME_STAGE, piece["file"]).stat().st_size > 0
        assert piece["volume_mm3"] > 0 and piece["face_count"] >= 6
        assert piece["label"] is not None, piece["id"]  # every piece carries its engraved id
    # splitting loses only the dovetail sockets' clearance and the engraved labels
    for part_id, part in facts["parts"].items():
        total = sum(p["volume_mm3"] for p in facts["pieces"] if p["part"] == part_id)
        assert 0.98 * part["volume_mm3"] <= total <= part["volume_mm3"] + 1e-6
    assert facts["parts"]["faceplate"]["quantity"] == len(default_ctx.layout.slots)
    assert default_ctx.path(FRAME_STAGE, facts["hardware_bom"]).read_text().startswith("item,spec,quantity")


def test_every_stl_watertight_and_fits_256_bed(default_ctx):
    bed = default_ctx.design["printer.bed_mm"]
    assert tuple(bed) == (256.0, 256.0, 256.0)
    facts = {p["id"]: p for p in default_ctx.facts[FRAME_STAGE]["pieces"]}
    for piece_id, mesh in _stl_meshes(default_ctx).items():
        assert mesh.is_watertight, piece_id
        assert mesh.volume == pytest.approx(facts[piece_id]["volume_mm3"], rel=1e-3)
        size = mesh.bounds[1] - mesh.bounds[0]
        assert all(s <= b for s, b in zip(size, bed)), (piece_id, size)
        assert mesh.bounds[0] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)  # lies on the bed


def test_small_bed_gives_more_pieces_that_each_fit(default_ctx, small_bed_ctx):
    big = default_ctx.facts[FRAME_STAGE]["pieces"]
    small = small_bed_ctx.facts[FRAME_STAGE]["pieces"]
    assert len(small) > len(big)
    for piece_id, mesh in _stl_meshes(small_bed_ctx).items():
        assert mesh.is_watertight, piece_id
        size = mesh.bounds[1] - mesh.bounds[0]
        assert all(s <= 180.0 for s in size), (piece_id, size)
    result = run_check(REGISTRY["print.bed_fit"], small_bed_ctx)
    assert result.status == PASS, result.message


def test_step_assembly_holds_parts_in_rack_position(default_ctx):
    facts = default_ctx.facts[FRAME_STAGE]
    shape = cq.importers.importStep(str(default_ctx.path(FRAME_STAGE, ASSEMBLY_FILE))).val()
    solids = shape.Solids() if hasattr(shape, "Solids") else [shape]
    volumes = sorted(round(s.Volume(), 1) for s in solids)
    assert volumes == sorted(round(p["volume_mm3"], 1) for p in facts["parts"].values())
    L = default_ctx.layout
    bb = exact_bbox(cq.Compound.makeCompound(solids))
    assert bb.xmin == pytest.approx(-L.panel_width_mm / 2) and bb.xmax == pytest.approx(L.panel_width_mm / 2)
    tab = catalogue.enclosure()["pull_tab_depth_mm"]  # the sled faceplate's pull tab stands proud
    assert bb.ymin == pytest.approx(-tab) and bb.ymax == pytest.approx(L.body.y1)
    assert bb.zmin == pytest.approx(0.0) and bb.zmax == pytest.approx(L.panel_height_mm)


def test_panel_measured_geometry_matches_layout(default_ctx):
    L = default_ctx.layout
    panel = default_ctx.facts[FRAME_STAGE]["panel"]
    assert panel["width_mm"] == pytest.approx(L.panel_width_mm)
    assert panel["height_mm"] == pytest.approx(L.panel_height_mm)
    expected = sorted((x, z) for x in L.ear_hole_x_mm for z in L.ear_hole_z_mm)
    assert _flat(panel["ear_holes_xz_mm"]) == pytest.approx(_flat(expected))
    # one window per slot, centred on the sled envelope
    centres = [((e.x0 + e.x1) / 2, (e.z0 + e.z1) / 2) for e in map(L.slot_envelope, L.slots)]
    assert _flat(panel["windows_xz_mm"]) == pytest.approx(_flat(sorted(centres)))


def test_floor_guides_have_a_groove_on_each_carrier_plane():
    design = _design(slots__count=4)
    L = compute_layout(design)
    floor = parts.floor_with_guides(L).solid
    for slot, guide in zip(L.slots, L.guides):
        y = (guide.y0 + guide.y1) / 2
        z_groove = guide.z1 - 1.0  # inside the groove's depth
        assert not floor.isInside(cq.Vector(slot.x_mm, y, z_groove)), slot.label()
        assert floor.isInside(cq.Vector(guide.x0 + 0.5, y, z_groove)), slot.label()
        assert floor.isInside(cq.Vector(guide.x1 - 0.5, y, z_groove)), slot.label()
        below = guide.z1 - catalogue.sled()["guide_engagement_mm"] - 0.5  # under the groove
        assert floor.isInside(cq.Vector(slot.x_mm, y, below)), slot.label()


@pytest.mark.parametrize("down", [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)])
def test_orientation_puts_the_down_face_on_the_bed(down):
    size = (10.0, 20.0, 30.0)
    box = cq.Solid.makeBox(*size, pnt=cq.Vector(5, -7, 3))
    oriented = split.orient_for_print(box, down, (300.0, 300.0, 300.0))
    bb = exact_bbox(oriented)
    axis = [abs(c) for c in down].index(1)
    assert bb.zlen == pytest.approx(size[axis])
    assert (bb.xmin, bb.ymin, bb.zmin) == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert oriented.Volume() == pytest.approx(box.Volume())


def test_default_checks_pass(default_ctx):
    for check_id in ("rack.eia310", "print.bed_fit", "print.solid"):
        result = run_check(REGISTRY[check_id], default_ctx)
        assert result.status == PASS, result.message


@pytest.mark.slow
def test_output_is_byte_identical_on_rebuild(default_ctx, tmp_path):
    again = _build(default_ctx.design, tmp_path / "again")
    assert again.facts[FRAME_STAGE] == default_ctx.facts[FRAME_STAGE]
    files = [p["file"] for p in default_ctx.facts[FRAME_STAGE]["pieces"]] + [ASSEMBLY_FILE]
    for rel in files:
        a = hashlib.sha256(default_ctx.path(FRAME_STAGE, rel).read_bytes()).hexdigest()
        b = hashlib.sha256(again.path(FRAME_STAGE, rel).read_bytes()).hexdigest()
        assert a == b, rel


@pytest.mark.slow
def test_prusaslicer_slices_every_piece(default_ctx, tmp_path):
    frame = default_ctx.facts[FRAME_STAGE]
    inp = StageInput(design=default_ctx.design, layout=default_ctx.layout, workdir=tmp_path,
                     upstream={FRAME_STAGE: Upstream(frame, default_ctx.stage_dirs[FRAME_STAGE])})
    facts = slice_frame(inp)
    assert [p["id"] for p in facts["pieces"]] == [p["id"] for p in frame["pieces"]]
    for piece in facts["pieces"]:
        assert piece["filament_g"] > 0 and piece["filament_mm"] > 0 and piece["print_time_s"] > 0
    ctx = BuildContext(default_ctx.design, default_ctx.layout,
                       facts={**default_ctx.facts, SLICE_STAGE: facts},
                       stage_dirs={**default_ctx.stage_dirs, SLICE_STAGE: tmp_path})
    result = run_check(REGISTRY["print.slice"], ctx)
    assert result.status == PASS, result.message
    # a piece the slicer never saw fails the check and is named
    dropped = {**facts, "pieces": facts["pieces"][1:]}
    ctx.facts[SLICE_STAGE] = dropped
    result = run_check(REGISTRY["print.slice"], ctx)
    assert result.status == "fail" and result.parts == [frame["pieces"][0]["id"]]
