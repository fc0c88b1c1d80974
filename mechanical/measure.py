"""Measurements taken from built solids (never from the numbers they were built from).

`solid_facts` gives what `print.bed_fit` and `print.solid` compare; `measure_panel` reads the
panel's outline and its ear holes off the front face for `rack.eia310`. Millimetres throughout.
"""

from __future__ import annotations

import cadquery as cq
from OCP.Bnd import Bnd_Box
from OCP.BRepBndLib import BRepBndLib

# Measured figures are rounded to this many decimals (well below any tolerance checked, 0.1 mm),
# so facts are stable across runs and platforms.
_DECIMALS = 4


def _r(value: float) -> float:
    return round(float(value), _DECIMALS)


def exact_bbox(shape: cq.Shape) -> cq.BoundBox:
    """Tight axis-aligned bounding box from the exact geometry (mm).

    Ignores any triangulation the shape carries (an STL export leaves one), so the result does
    not depend on whether the shape was meshed before.
    """
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape.wrapped, box, False, False)
    return cq.BoundBox(box)


def bbox_size_mm(shape: cq.Shape) -> list[float]:
    """Tight axis-aligned bounding box size [x, y, z] of a shape (mm)."""
    bb = exact_bbox(shape)
    return [_r(bb.xlen), _r(bb.ylen), _r(bb.zlen)]


def solid_facts(shape: cq.Shape) -> dict:
    """Bounding box size (mm), volume (mm^3), B-rep face count and solid count of a shape."""
    return {"bbox_mm": bbox_size_mm(shape), "volume_mm3": round(shape.Volume(), 3),
            "face_count": len(shape.Faces()), "solid_count": len(shape.Solids()),
            "valid": bool(shape.isValid())}


def measure_panel(solid: cq.Shape) -> dict:
    """Outline and holes of a front panel in rack position, read from its front face.

    The front face is the planar face with the lowest Y (normal -Y). Its outer wire's bounding box
    gives the panel's width and height; each inner wire is a hole through the panel. A hole whose
    boundary has circular edges is a (slotted) ear hole; one made of straight edges only is a sled
    window. A hole's centre is the centre of its wire's bounding box (exact for slots and
    rectangles).

    Returns (mm): width_mm, height_mm, thickness_mm, x0_mm, z0_mm (the panel's lower left corner),
    ear_holes_xz_mm (sorted [x, z] centres), ear_hole_size_mm ([length, width] per hole, same
    order), windows_xz_mm (sorted [x, z] centres of the windows).
    """
    faces = [f for f in solid.Faces() if f.geomType() == "PLANE"
             and f.normalAt().toTuple()[1] < -0.999]
    if not faces:
        raise ValueError("panel has no planar face pointing to -Y (the front face)")
    front = min(faces, key=lambda f: (f.Center().y, -f.Area()))
    outer = exact_bbox(front.outerWire())
    ear_holes: list[tuple[list[float], list[float]]] = []
    windows: list[list[float]] = []
    for wire in front.innerWires():
        bb = exact_bbox(wire)
        centre = [_r((bb.xmin + bb.xmax) / 2), _r((bb.zmin + bb.zmax) / 2)]
        if any(e.geomType() == "CIRCLE" for e in wire.Edges()):
            ear_holes.append((centre, [_r(bb.xlen), _r(bb.zlen)]))
        else:
            windows.append(centre)
    ear_holes.sort()
    whole = exact_bbox(solid)
    return {
        "width_mm": _r(outer.xlen), "height_mm": _r(outer.zlen), "thickness_mm": _r(whole.ylen),
        "x0_mm": _r(outer.xmin), "z0_mm": _r(outer.zmin),
        "ear_holes_xz_mm": [c for c, _ in ear_holes],
        "ear_hole_size_mm": [s for _, s in ear_holes],
        "windows_xz_mm": sorted(windows),
    }
