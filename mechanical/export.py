"""Files out of solids: a binary STL per printed piece and one STEP assembly in rack position.

Both are deterministic: the same parameters give byte-identical files. STL meshing uses the
explicit tolerances below on a copy of the shape (no triangulation left from earlier meshing can
leak in) and runs single-threaded. In the STEP file the header's time stamp is replaced by a fixed
one, assembly occurrence ids are renumbered from 1, and parts carry no colour: OCCT 7.9 writes colour STYLED_ITEMs in an order that changes from
run to run (seen here), the rest of the file is stable.
"""

from __future__ import annotations

import re
from pathlib import Path

import cadquery as cq

from mechanical.parts import Part
from rackplane.stepfile import fixed_time_stamp

# Chordal deviation of the STL mesh from the true surface (mm): a tenth of the 0.1 mm layer of a
# fine FDM print, so the mesh is never the coarsest step between CAD and part.
STL_LINEAR_TOLERANCE_MM = 0.01
# Largest angle between neighbouring facets on a curved surface (radians, about 5.7 degrees).
STL_ANGULAR_TOLERANCE_RAD = 0.1

# OCCT numbers assembly occurrences ('1', '2', ...) with a per-process counter, so a second export
# in one process gets other ids; they are labels only and are renumbered from 1 in file order.
_STEP_OCCURRENCE_ENTITY = re.compile(r"NEXT_ASSEMBLY_USAGE_OCCURRENCE\([^;]*;")
_STEP_OCCURRENCE_ID = re.compile(r"(NEXT_ASSEMBLY_USAGE_OCCURRENCE\(')\d+(')")


def write_stl(solid: cq.Shape, path: Path) -> Path:
    """Write a binary STL of the solid (mm) with the module's explicit tolerances."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = solid.copy()  # mesh a copy: the caller's shape keeps no triangulation
    ok = fresh.exportStl(str(path), tolerance=STL_LINEAR_TOLERANCE_MM,
                         angularTolerance=STL_ANGULAR_TOLERANCE_RAD, ascii=False,
                         relative=False, parallel=False)
    if not ok or not path.exists():
        raise RuntimeError(f"STL export failed: {path}")
    return path


def write_step_assembly(parts: list[Part], path: Path, name: str = "rackplane-frame") -> Path:
    """Write one STEP file holding every part in rack position (mm), one named node per part
    (no colours: see the module docstring)."""
    return write_step_bodies([(p.id, p.solid) for p in parts], path, name)


def write_step_bodies(bodies: list[tuple[str, cq.Shape]], path: Path, name: str) -> Path:
    """Write named shapes (rack position, mm) as one deterministic STEP assembly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assy = cq.Assembly(name=name)
    for body_name, shape in bodies:
        assy.add(shape, name=body_name.replace(" ", "_"))
    assy.export(str(path), exportType="STEP")
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    text = fixed_time_stamp(text)
    # OCCT wraps long entity lines; the wrap point moves with the id's length, so unwrap these
    text = _STEP_OCCURRENCE_ENTITY.sub(lambda m: re.sub(r"\n\s*", "", m.group(0)), text)
    counter = iter(range(1, 1 << 30))
    text = _STEP_OCCURRENCE_ID.sub(lambda m: f"{m.group(1)}{next(counter)}{m.group(2)}", text)
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return path
