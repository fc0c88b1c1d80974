"""Mechanical build stages.

`mech.frame`: builds the printed parts from Layout, splits them into bed-sized pieces, writes
`stl/<piece>.stl` (print orientation) and `assembly.step` (rack position), and returns facts:
every piece's size, volume and face count, and the panel geometry measured from the solid.

`mech.slice`: slices every STL of `mech.frame` with PrusaSlicer on the design's bed and returns
filament and print time per piece.

CadQuery is imported inside the stage functions: loading the stage registry (which `rackplane
check` does) must stay cheap when the stage comes from the cache.
"""

from __future__ import annotations

from pcb.stages import STEP_STAGE as BOARD_STEP_STAGE
from rackplane.stages import StageInput, stage

FRAME_STAGE = "mech.frame"
ASSEMBLY_STAGE = "mech.assembly"
RENDER_STAGE = "mech.render"
SLICE_STAGE = "mech.slice"
STL_DIR = "stl"
GCODE_DIR = "gcode"
ASSEMBLY_FILE = "frame.step"
PARTS_DIR = "parts"
FULL_ASSEMBLY_FILE = "assembly.step"
HARDWARE_BOM = "hardware_bom.csv"
RENDER_MESH_DIR = "render"
PRINT_BOM = "print_bom.csv"

# Design values the frame depends on: everything that moves a slot, sizes the chassis or sets the
# split planes. Power, PCB and the printer's nozzle/material do not change the solids.
FRAME_DESIGN_KEYS = ("name", "rack", "node", "slots", "cooling", "printer.bed_mm")
SLICE_DESIGN_KEYS = ("printer",)


@stage(FRAME_STAGE, title="printed frame: parts, print pieces, STL and STEP",
       out_subdir="mechanical", design_keys=FRAME_DESIGN_KEYS)
def build_frame(inp: StageInput) -> dict:
    """Write the frame's STL pieces, per-part BREP files (rack position, for `mech.assembly`), the
    hardware BOM and the STEP of the printed parts into `inp.workdir`; return their facts.

    Facts (mm, mm^3):
      pieces: [{id, part, file, quantity, bbox_mm (print orientation), volume_mm3 (CadQuery),
                face_count, rack_x_mm, print_down, keys (dovetails), label}], part then left to right;
      parts: {part id: construction info + measured bbox_mm, volume_mm3, quantity, brep file,
              material_min_mm (thinnest construction features)};
      panel: the front panel measured from its solid (`mechanical.measure.measure_panel`);
      fan_wall: per fan, the screw holes and guard open fraction measured on the fan wall;
      rear_vents: per fan, the open fraction of the rear wall's vents;
      faceplate: the sled faceplate's air-open area (`measure.faceplate_air_open_fraction`);
      hardware: the hardware BOM rows (also `hardware_bom.csv`).
    """
    from rackplane import catalogue
    from mechanical import bom, export, measure, parts, split

    layout = inp.layout
    bed_mm = tuple(inp.design["printer.bed_mm"])
    built = parts.frame_parts(layout, inp.design["node.model"])
    pieces_facts: list[dict] = []
    part_facts: dict[str, dict] = {}
    for part in built:
        brep = f"{PARTS_DIR}/{part.id}.brep"
        (inp.workdir / PARTS_DIR).mkdir(parents=True, exist_ok=True)
        part.solid.exportBrep(str(inp.workdir / brep))
        part_facts[part.id] = {**part.info, **measure.solid_facts(part.solid), "quantity": part.quantity,
                               "brep": brep, "material_min_mm": part.material_min_mm,
                               "print_down": list(part.print_down)}
        for piece in split.split_part(part, layout.split_x_mm, bed_mm):
            rel = f"{STL_DIR}/{piece.id}.stl"
            export.write_stl(piece.solid, inp.workdir / rel)
            facts = measure.solid_facts(piece.solid)
            pieces_facts.append({"id": piece.id, "part": part.id, "file": rel, "quantity": part.quantity,
                                 "bbox_mm": facts["bbox_mm"], "volume_mm3": facts["volume_mm3"],
                                 "face_count": facts["face_count"],
                                 "rack_x_mm": list(piece.rack_x_mm),
                                 "print_down": list(part.print_down), "keys": piece.keys,
                                 "label": piece.label})
    export.write_step_assembly(built, inp.workdir / ASSEMBLY_FILE, name=f"{inp.design['name']}-frame")
    by_id = {p.id: p for p in built}
    hardware = bom.hardware_rows(layout, inp.design, part_facts)
    bom.write_csv(inp.workdir / HARDWARE_BOM, hardware)
    return {
        "pieces": pieces_facts,
        "parts": part_facts,
        "panel": measure.measure_panel(by_id["panel"].solid),
        "fan_wall": measure.fan_wall_facts(by_id["fanwall"].solid, layout),
        "rear_vents": [{"index": f.index, "open_fraction": round(measure.circle_open_fraction(
            by_id["rearwall"].solid, f), 4)} for f in layout.fans],
        "faceplate": measure.faceplate_air_open_fraction(by_id["faceplate"].solid, layout,
                                                         catalogue.node(inp.design["node.model"])),
        "hardware": hardware,
        "hardware_bom": HARDWARE_BOM,
        "assembly": ASSEMBLY_FILE,
        "bed_mm": list(bed_mm),
        "split_x_mm": list(layout.split_x_mm),
        "stl_tolerance_mm": export.STL_LINEAR_TOLERANCE_MM,
        "stl_angular_tolerance_rad": export.STL_ANGULAR_TOLERANCE_RAD,
    }


@stage(SLICE_STAGE, title="slice every printed piece with PrusaSlicer", needs=(FRAME_STAGE,),
       out_subdir="mechanical", design_keys=SLICE_DESIGN_KEYS)
def slice_frame(inp: StageInput) -> dict:
    """Slice each `mech.frame` STL on the design's bed, nozzle and material.

    Facts: pieces: [{id, gcode, filament_mm, filament_g, print_time_s}]; totals filament_g and
    print_time_s; slicer: the program sliced with.
    """
    from rackplane import catalogue
    from mechanical import slicer

    from concurrent.futures import ThreadPoolExecutor

    from mechanical import bom

    frame = inp.upstream[FRAME_STAGE]
    material = catalogue.material(inp.design["printer.material"])
    (inp.workdir / GCODE_DIR).mkdir(parents=True, exist_ok=True)

    def one(piece: dict) -> dict:
        gcode = inp.workdir / GCODE_DIR / f"{piece['id']}.gcode"
        result = slicer.slice_stl(frame.path(piece["file"]), gcode, tuple(inp.design["printer.bed_mm"]),
                                  inp.design["printer.nozzle_mm"], material["slicer_type"],
                                  material["density_g_cm3"])
        return {"id": piece["id"], "part": piece["part"], "quantity": piece.get("quantity", 1),
                **result, "gcode": f"{GCODE_DIR}/{result['gcode']}"}

    with ThreadPoolExecutor(max_workers=2) as pool:  # two slicer processes: one per core
        out = list(pool.map(one, frame.facts["pieces"]))
    bom.write_print_bom(inp.workdir / PRINT_BOM, out, inp.design["printer.material"])
    return {
        "print_bom": PRINT_BOM,
        "pieces": out,
        "filament_g": round(sum(p["filament_g"] * p["quantity"] for p in out), 2),
        "print_time_s": sum(p["print_time_s"] * p["quantity"] for p in out),
        "material": inp.design["printer.material"],
        "slicer": "prusa-slicer",
    }


def write_render_meshes(bodies: list, workdir) -> dict[str, str]:
    """One coarse binary STL per body kind (rack position, mm) for `mech.render`: {kind: file}."""
    import cadquery as cq

    from mechanical.render import RENDER_ANGULAR_TOLERANCE_RAD, RENDER_LINEAR_TOLERANCE_MM

    (workdir / RENDER_MESH_DIR).mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    for kind in sorted({b.kind for b in bodies}):
        rel = f"{RENDER_MESH_DIR}/{kind}.stl"
        # mesh copies: the shapes may carry a finer triangulation from earlier measurements
        shape = cq.Compound.makeCompound([b.shape.copy() for b in bodies if b.kind == kind])
        if not shape.exportStl(str(workdir / rel), tolerance=RENDER_LINEAR_TOLERANCE_MM,
                               angularTolerance=RENDER_ANGULAR_TOLERANCE_RAD, ascii=False,
                               relative=False, parallel=False):
            raise RuntimeError(f"render mesh export failed: {rel}")
        out[kind] = rel
    return out




@stage(ASSEMBLY_STAGE, title="assembly: node, board and fan bodies; clearances and insertion sweeps",
       needs=(FRAME_STAGE, BOARD_STEP_STAGE), out_subdir="mechanical", design_keys=FRAME_DESIGN_KEYS)
def build_assembly(inp: StageInput) -> dict:
    """Place every body (frame parts from mech.frame's BREP files, sleds, the boards' STEP models
    from pcb.step, fans), write `assembly.step`, and measure: clearance pairs (B-rep distance,
    overlap, mate kind), each sled's insertion sweep and each plug's engagement in its socket
    (see `mechanical.bodies`). Without pcb.step upstream the boards are outline solids."""
    import cadquery as cq

    from mechanical import bodies as B
    from mechanical.export import write_step_bodies

    frame = inp.upstream[FRAME_STAGE]
    layout = inp.layout
    every: list = []
    faceplate = None
    for pid, facts in sorted(frame.facts["parts"].items()):
        shape = cq.Shape.importBrep(str(frame.path(facts["brep"])))
        if pid == "faceplate":
            faceplate = shape
            continue
        every.append(B.Body(f"frame {pid}", shape, "printed", 0, FRAME_STAGE))
    steps = {}
    if BOARD_STEP_STAGE in inp.upstream:
        up = inp.upstream[BOARD_STEP_STAGE]
        steps = {board: B.load_board_step(up.path(f["step"])) for board, f in up.facts["boards"].items()}
    x1 = layout.slots[0].x_mm
    for slot in layout.slots:
        fp = faceplate.translate(cq.Vector(slot.x_mm - x1, 0, 0)) if faceplate is not None else None
        every += B.sled_bodies(layout, inp.design, slot, fp, steps.get("carrier"))
    every += B.other_bodies(layout, steps.get("backplane"))
    write_step_bodies([(b.name, b.shape) for b in every], inp.workdir / FULL_ASSEMBLY_FILE,
                      name=f"{inp.design['name']}-assembly")
    render_meshes = write_render_meshes(every, inp.workdir)
    return {
        "render_meshes": render_meshes,
        "bodies": [{"name": b.name, "kind": b.kind, "slot": b.slot, "source": b.source} for b in every],
        "pairs": B.clearance_pairs(every),
        "sweeps": B.insertion_sweeps(layout, every),
        "engagement": B.engagement(every),
        "min_gap_mm": B.MIN_GAP_MM,
        "assembly": FULL_ASSEMBLY_FILE,
    }


@stage(RENDER_STAGE, title="PNG renders of the assembly: isometric, front, top", needs=(ASSEMBLY_STAGE,),
       out_subdir="mechanical", design_keys=FRAME_DESIGN_KEYS, for_checks=False)
def render_assembly(inp: StageInput) -> dict:
    """Draw the meshes `mech.assembly` wrote (printed parts and the other bodies, one colour per
    kind) into `render_iso.png`, `render_front.png` and `render_top.png` (`mechanical.render`)."""
    from mechanical import render

    assembly = inp.upstream[ASSEMBLY_STAGE]
    meshes = render.load_meshes(assembly.dir, assembly.facts["render_meshes"])
    written = render.render_views(meshes, inp.workdir, title=f"rackplane {inp.design['name']}")
    return {"renders": written, "triangles": {kind: int(len(t)) for kind, t in meshes}}
