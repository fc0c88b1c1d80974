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

from rackplane.stages import StageInput, stage

FRAME_STAGE = "mech.frame"
SLICE_STAGE = "mech.slice"
STL_DIR = "stl"
GCODE_DIR = "gcode"
ASSEMBLY_FILE = "assembly.step"

# Design values the frame depends on: everything that moves a slot, sizes the chassis or sets the
# split planes. Power, PCB and the printer's nozzle/material do not change the solids.
FRAME_DESIGN_KEYS = ("name", "rack", "node", "slots", "cooling", "printer.bed_mm")
SLICE_DESIGN_KEYS = ("printer",)


@stage(FRAME_STAGE, title="printed frame: parts, print pieces, STL and STEP",
       out_subdir="mechanical", design_keys=FRAME_DESIGN_KEYS)
def build_frame(inp: StageInput) -> dict:
    """Write the frame's STL pieces and STEP assembly into `inp.workdir`; return their facts.

    Facts (mm, mm^3):
      pieces: [{id, part, file, bbox_mm (print orientation), volume_mm3 (CadQuery), face_count,
                rack_x_mm, print_down (rack direction lying on the bed)}], in part then
                left-to-right order;
      parts: {part id: construction info + measured bbox_mm and volume_mm3 in rack position};
      panel: the front panel measured from its solid (`mechanical.measure.measure_panel`);
      assembly: the STEP file; stl_tolerance_mm / stl_angular_tolerance_rad: meshing tolerances.
    """
    from mechanical import export, measure, parts, split

    layout = inp.layout
    bed_mm = tuple(inp.design["printer.bed_mm"])
    built = parts.frame_parts(layout)
    pieces_facts: list[dict] = []
    part_facts: dict[str, dict] = {}
    for part in built:
        part_facts[part.id] = {**part.info, **measure.solid_facts(part.solid)}
        for piece in split.split_part(part, layout.split_x_mm, bed_mm):
            rel = f"{STL_DIR}/{piece.id}.stl"
            export.write_stl(piece.solid, inp.workdir / rel)
            facts = measure.solid_facts(piece.solid)
            pieces_facts.append({"id": piece.id, "part": part.id, "file": rel,
                                 "bbox_mm": facts["bbox_mm"], "volume_mm3": facts["volume_mm3"],
                                 "face_count": facts["face_count"],
                                 "rack_x_mm": list(piece.rack_x_mm),
                                 "print_down": list(part.print_down)})
    export.write_step_assembly(built, inp.workdir / ASSEMBLY_FILE, name=f"{inp.design['name']}-frame")
    panel = next(p for p in built if p.id == "panel")
    return {
        "pieces": pieces_facts,
        "parts": part_facts,
        "panel": measure.measure_panel(panel.solid),
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

    frame = inp.upstream[FRAME_STAGE]
    material = catalogue.material(inp.design["printer.material"])
    out: list[dict] = []
    for piece in frame.facts["pieces"]:
        gcode = inp.workdir / GCODE_DIR / f"{piece['id']}.gcode"
        gcode.parent.mkdir(parents=True, exist_ok=True)
        result = slicer.slice_stl(frame.path(piece["file"]), gcode, tuple(inp.design["printer.bed_mm"]),
                                  inp.design["printer.nozzle_mm"], material["slicer_type"],
                                  material["density_g_cm3"])
        out.append({"id": piece["id"], **result, "gcode": f"{GCODE_DIR}/{result['gcode']}"})
    return {
        "pieces": out,
        "filament_g": round(sum(p["filament_g"] for p in out), 2),
        "print_time_s": sum(p["print_time_s"] for p in out),
        "material": inp.design["printer.material"],
        "slicer": "prusa-slicer",
    }
