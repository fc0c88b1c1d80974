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


def section_area_mm2(solid: cq.Shape, axis: str, a: float, b: float, region=None) -> float:
    """Solid area of a part's cross-section between the planes axis = a and axis = b (mm^2):
    the volume of the part inside that slab (optionally also inside `region`) over (b - a)."""
    bb = exact_bbox(solid)
    pad = 1.0
    lo = [bb.xmin - pad, bb.ymin - pad, bb.zmin - pad]
    hi = [bb.xmax + pad, bb.ymax + pad, bb.zmax + pad]
    i = "xyz".index(axis)
    lo[i], hi[i] = a, b
    slab = cq.Solid.makeBox(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], pnt=cq.Vector(*lo))
    tool = slab.intersect(region) if region is not None else slab
    return solid.intersect(tool).Volume() / (b - a)


def circular_holes_xz(solid: cq.Shape) -> list[dict]:
    """Round through-holes of a plate normal to Y, read off its front face (lowest Y): centre
    [x, z] and diameter (mm), sorted. A hole is an inner wire made of one circle."""
    faces = [f for f in solid.Faces() if f.geomType() == "PLANE" and f.normalAt().toTuple()[1] < -0.999]
    if not faces:
        raise ValueError("no planar face pointing to -Y")
    front = min(faces, key=lambda f: (f.Center().y, -f.Area()))
    out = []
    for wire in front.innerWires():
        edges = wire.Edges()
        if len(edges) >= 1 and all(e.geomType() == "CIRCLE" for e in edges):
            bb = exact_bbox(wire)
            if abs(bb.xlen - bb.zlen) < 1e-3:
                out.append({"centre_xz_mm": [_r((bb.xmin + bb.xmax) / 2), _r((bb.zmin + bb.zmax) / 2)],
                            "d_mm": _r(bb.xlen)})
    return sorted(out, key=lambda h: h["centre_xz_mm"])


def fan_wall_facts(solid: cq.Shape, layout) -> list[dict]:
    """Per fan of `layout.fans`: the screw holes measured on the built fan wall near that fan
    (the holes nearest to that fan, centre within 0.75 x size), their X and Z spacing and diameters, and the guard's open
    fraction of the fan's swept circle (diameter = size): (circle area - solid section area in
    the circle) / circle area, the solid section taken at the wall's mid-thickness."""
    import math

    holes = circular_holes_xz(solid)
    bb = exact_bbox(solid)
    out = []
    for f in layout.fans:
        def nearest(h):
            return min(layout.fans, key=lambda g: (h["centre_xz_mm"][0] - g.x_mm) ** 2
                       + (h["centre_xz_mm"][1] - g.z_mm) ** 2).index
        near = [h for h in holes if nearest(h) == f.index and abs(h["centre_xz_mm"][0] - f.x_mm) < 0.75 * f.size_mm
                and abs(h["centre_xz_mm"][1] - f.z_mm) < 0.75 * f.size_mm]
        xs = sorted(h["centre_xz_mm"][0] for h in near)
        zs = sorted(h["centre_xz_mm"][1] for h in near)
        out.append({"index": f.index, "holes": len(near),
                    "spacing_x_mm": _r(xs[-1] - xs[0]) if xs else 0.0,
                    "spacing_z_mm": _r(zs[-1] - zs[0]) if zs else 0.0,
                    "centre_offset_mm": _r(max(abs((xs[0] + xs[-1]) / 2 - f.x_mm),
                                               abs((zs[0] + zs[-1]) / 2 - f.z_mm))) if xs else 0.0,
                    "hole_d_mm": sorted({h["d_mm"] for h in near}),
                    "open_fraction": _r(circle_open_fraction(solid, f, bb))})
    return out


def circle_open_fraction(solid: cq.Shape, fan, bb=None) -> float:
    """Open share of a fan's swept circle (diameter = fan size) in a plate normal to Y (mm)."""
    import math

    bb = bb or exact_bbox(solid)
    mid = (bb.ymin + bb.ymax) / 2
    disc = cq.Solid.makeCylinder(fan.size_mm / 2, bb.ylen + 2, cq.Vector(fan.x_mm, bb.ymin - 1, fan.z_mm),
                                 cq.Vector(0, 1, 0))
    area = math.pi / 4 * fan.size_mm ** 2
    return (area - section_area_mm2(solid, "y", mid - 0.25, mid + 0.25, disc)) / area


def faceplate_air_open_fraction(solid: cq.Shape, layout, node) -> dict:
    """Open area of a sled faceplate that air can use, as a share of the slot's frontal area
    (pitch x carrier height, the airflow model's reference area for the faceplate vents).

    open = plate outline area - solid section area (at the plate's mid-thickness) - the frontal
    area of the Pi's ports that sit behind the openings (they block the air)."""
    s = layout.sled
    slot = layout.slots[0]
    env = layout.slot_envelope(slot)
    outline = (env.x1 - env.x0) * (s.carrier_z1_mm - s.carrier_z0_mm)
    mid = (s.faceplate_y0_mm + s.faceplate_y1_mm) / 2
    solid_area = section_area_mm2(solid, "y", mid - 0.5, mid + 0.5)
    px0 = slot.x_mm + s.pi_top_face_dx_mm
    ports = sum((min(px0 + p.height_mm, env.x1) - px0) * p.width_mm for p in node.front_ports)
    open_mm2 = outline - solid_area - ports
    reference = layout.pitch_mm * (s.carrier_z1_mm - s.carrier_z0_mm)
    return {"outline_mm2": _r(outline), "solid_mm2": _r(solid_area), "ports_mm2": _r(ports),
            "open_mm2": _r(open_mm2), "reference_mm2": _r(reference),
            "open_fraction": _r(open_mm2 / reference)}
