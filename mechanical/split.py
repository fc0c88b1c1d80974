r"""Split wide parts into printable pieces and lay each piece in its print orientation.

A part with a `JointSpec` is cut by the planes X = `layout.split_x_mm` (chosen by Layout between
slots so that no window or guide is cut) into pieces numbered left to right (`panel-1`,
`panel-2`, ...). Across each cut the left piece carries dovetail keys into the right piece
(seen along the plate's normal)::

          left piece  |  right piece
                      |__
                      |  \___      key: neck `dovetail_neck_mm` at the cut, head
                      |   ___|     `dovetail_head_mm` at `dovetail_depth_mm`; the right
                      |__/         piece's socket is `dovetail_clearance_mm` larger per side
                      |

Keys are placed where the plate is solid across the key (checked by point classification at
the plate's mid-thickness), at most `MAX_KEYS` per cut; where none fits the cut stays straight.
The pieces slide together along the plate's normal and are held by the neighbouring parts.

Each piece is then rotated so that its part's `print_down` face lies on the bed (Z = 0), turned
about Z so its longer side runs along the bed's longer axis, moved so its bounding box starts at
the origin, and its id is engraved (mirrored, `label_depth_mm` deep) into its bed face, or into
its top face when the bed face has no room. Millimetres throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cadquery as cq

from rackplane import catalogue
from mechanical.measure import exact_bbox
from mechanical.parts import JointSpec, Part

MAX_KEYS = 3

# A piece whose volume is below this (mm^3) is the empty result of a cut plane that misses the
# part; it is dropped rather than numbered.
_EMPTY_MM3 = 1e-6


@dataclass(frozen=True)
class Piece:
    """One printable piece.

    id: `<part id>-<n>`, n counted from 1 left to right (rack X).
    part_id: the part it was cut from.
    rack_solid: the piece in rack position (mm).
    solid: the piece in print orientation, bounding box from the origin into +X, +Y, +Z (mm).
    rack_x_mm: [x0, x1] of the piece in rack coordinates (mm).
    """

    id: str
    part_id: str
    rack_solid: cq.Solid
    solid: cq.Solid
    rack_x_mm: tuple[float, float]
    keys: int = 0              # dovetail keys on this piece's cut edges
    label: dict | None = None  # engraved id: face, height_mm, centre_mm (print frame)


def _left_region(joint: JointSpec, c: float, bb, solid: cq.Solid, grow_mm: float) -> tuple[cq.Solid, int]:
    """The region left of the cut X = c with its dovetail keys, as a prism along the plate's
    normal through the whole part; grown by grow_mm (the socket). Returns (prism, key count)."""
    enc = catalogue.enclosure()
    depth, neck, head = enc["dovetail_depth_mm"], enc["dovetail_neck_mm"], enc["dovetail_head_mm"]
    pad = 2.0
    n0, n1 = (bb.ymin, bb.ymax) if joint.normal == "y" else (bb.zmin, bb.zmax)
    v_lo, v_hi = (bb.zmin, bb.zmax) if joint.normal == "y" else (bb.ymin, bb.ymax)
    mid_n = (joint.plate_mm[0] + joint.plate_mm[1]) / 2
    keys: list[float] = []
    for v in joint.along_mm:
        if len(keys) >= MAX_KEYS:
            break
        if any(abs(v - k) < 3 * head for k in keys) or not (v_lo + head / 2 + 1 < v < v_hi - head / 2 - 1):
            continue
        # the key's box (1 mm beyond it all round, through the plate) must be solid material
        p0, p1 = joint.plate_mm
        u0, u1, w0, w1 = c - 1.0, c + depth + 1.0, v - head / 2 - 1.0, v + head / 2 + 1.0
        box = (cq.Solid.makeBox(u1 - u0, p1 - p0, w1 - w0, pnt=cq.Vector(u0, p0, w0)) if joint.normal == "y"
               else cq.Solid.makeBox(u1 - u0, w1 - w0, p1 - p0, pnt=cq.Vector(u0, w0, p0)))
        ok = solid.isInside(box.Center(), 1e-4) and abs(solid.intersect(box).Volume() - box.Volume()) < 1e-3
        if ok:
            keys.append(v)
    uv = [(bb.xmin - pad, v_lo - pad), (c, v_lo - pad)]
    for v in sorted(keys):
        uv += [(c, v - neck / 2), (c + depth, v - head / 2), (c + depth, v + head / 2), (c, v + neck / 2)]
    uv += [(c, v_hi + pad), (bb.xmin - pad, v_hi + pad)]

    def point(u: float, v: float, n: float) -> cq.Vector:
        return cq.Vector(u, n, v) if joint.normal == "y" else cq.Vector(u, v, n)

    wire = cq.Wire.makePolygon([point(u, v, n0 - pad) for u, v in uv], close=True)
    if grow_mm > 0:
        wire = wire.offset2D(grow_mm, "intersection")[0]
    face = cq.Face.makeFromWires(wire)
    direction = cq.Vector(0, n1 - n0 + 2 * pad, 0) if joint.normal == "y" else cq.Vector(0, 0, n1 - n0 + 2 * pad)
    return cq.Solid.extrudeLinear(face, direction), len(keys)


def cut_at_x(part: Part, split_x_mm: tuple[float, ...]) -> list[tuple[cq.Solid, int]]:
    """The part cut by the planes X = split_x_mm, as (solid, dovetail keys on its edges) ordered
    left to right. A part without a JointSpec is returned whole. Raises ValueError when a piece
    is not exactly one valid solid."""
    if part.joint is None:
        return [(part.solid, 0)]
    bb = exact_bbox(part.solid)
    inner = sorted(x for x in split_x_mm if bb.xmin + 1.0 < x < bb.xmax - 1.0)
    if not inner:
        return [(part.solid, 0)]
    clearance = catalogue.enclosure()["dovetail_clearance_mm"]
    regions = [_left_region(part.joint, c, bb, part.solid, 0.0) for c in inner]
    sockets = [_left_region(part.joint, c, bb, part.solid, clearance)[0] for c in inner]
    pieces: list[tuple[cq.Solid, int]] = []
    for i in range(len(inner) + 1):
        shape: cq.Shape = part.solid
        keys = 0
        if i < len(inner):
            shape = shape.intersect(regions[i][0])
            keys += regions[i][1]
        if i > 0:
            shape = shape.cut(sockets[i - 1])
            keys += regions[i - 1][1]
        solids = [s for s in shape.clean().Solids() if s.Volume() > _EMPTY_MM3]
        if len(solids) != 1 or not solids[0].isValid():
            raise ValueError(f"{part.id}: piece {i + 1} of the cuts at X = {inner} mm gives "
                             f"{len(solids)} solid(s) (valid: {[s.isValid() for s in solids]}); "
                             f"a printed piece must be one valid solid")
        pieces.append((solids[0], keys))
    return pieces


def _rotation_onto_bed(down: tuple[float, float, float]) -> tuple[tuple[float, float, float], float]:
    """Axis and angle (degrees) of the rotation that turns the unit vector `down` into -Z."""
    dx, dy, dz = down
    norm = math.sqrt(dx * dx + dy * dy + dz * dz)
    dx, dy, dz = dx / norm, dy / norm, dz / norm
    # axis = down x (-Z) = (-dy, dx, 0); angle = acos(down . -Z)
    axis = (-dy, dx, 0.0)
    angle = math.degrees(math.acos(max(-1.0, min(1.0, -dz))))
    if math.hypot(*axis) < 1e-12:
        return ((1.0, 0.0, 0.0), 0.0 if dz < 0 else 180.0)
    return (axis, angle)


def orient_for_print(solid: cq.Solid, down: tuple[float, float, float],
                     bed_mm: tuple[float, float, float]) -> cq.Solid:
    """The solid with its `down` face on the bed, longer side along the bed's longer axis,
    bounding box starting at the origin (mm)."""
    axis, angle = _rotation_onto_bed(down)
    out = solid.rotate(cq.Vector(0, 0, 0), cq.Vector(*axis), angle) if angle else solid
    bb = exact_bbox(out)
    if (bb.xlen - bb.ylen) * (bed_mm[0] - bed_mm[1]) < 0:
        out = out.rotate(cq.Vector(0, 0, 0), cq.Vector(0, 0, 1), 90.0)
        bb = exact_bbox(out)
    return out.translate(cq.Vector(-bb.xmin, -bb.ymin, -bb.zmin))


def engrave_label(solid: cq.Solid, text: str) -> tuple[cq.Solid, dict | None]:
    """Engrave `text` into the bed face (mirrored, so it reads from outside) or, failing room
    there, the top face of a piece in print orientation. Candidate spots lie on a grid over each
    planar bed (top) face, largest face first; the label's rectangle (plus 0.5 mm) must be solid
    under the face (point classification). Returns the piece and where the label went (None
    when no face has room: reported, not hidden)."""
    enc = catalogue.enclosure()
    depth = enc["label_depth_mm"]
    bb = exact_bbox(solid)
    faces = {"bed": [], "top": []}
    for f in solid.Faces():
        if f.geomType() != "PLANE":
            continue
        nz = f.normalAt().z
        fb = exact_bbox(f)
        if nz < -0.999 and abs(fb.zmin) < 1e-6:
            faces["bed"].append(f)
        elif nz > 0.999 and abs(fb.zmax - bb.zmax) < 1e-6:
            faces["top"].append(f)
    for height in (enc["label_height_mm"], 3.0, 2.5):
        width = 0.7 * height * len(text)
        for where, z in (("bed", 0.0), ("top", bb.zmax)):
            zc = 0.2 if where == "bed" else bb.zmax - 0.2
            for f in sorted(faces[where], key=lambda f: -f.Area()):
                fb = exact_bbox(f)
                if min(fb.xlen, fb.ylen) < height + 1.0 or max(fb.xlen, fb.ylen) < width + 1.0:
                    continue
                cands = [(fb.xmin + fx * fb.xlen, fb.ymin + fy * fb.ylen)
                         for fx in (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9) for fy in (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9)]
                for cx, cy in cands:
                    rot = fb.ylen > fb.xlen  # run the text along the face's longer side
                    hw, hh = (height / 2 + 0.5, width / 2 + 0.5) if rot else (width / 2 + 0.5, height / 2 + 0.5)
                    pts = [(cx + dx * hw, cy + dy * hh) for dx in (-1, -0.5, 0, 0.5, 1) for dy in (-1, 0, 1)]
                    if not all(solid.isInside(cq.Vector(px, py, zc), 1e-4) for px, py in pts):
                        continue
                    glyphs = cq.Workplane("XY").text(text, height, depth + 1.0, combine=False,
                                                     halign="center", valign="center").val()
                    if rot:
                        glyphs = glyphs.rotate(cq.Vector(0, 0, 0), cq.Vector(0, 0, 1), 90)
                    if where == "bed":
                        glyphs = glyphs.mirror("YZ").translate(cq.Vector(cx, cy, depth - depth - 1.0))
                    else:
                        glyphs = glyphs.translate(cq.Vector(cx, cy, z - depth))
                    solids = solid.cut(glyphs).clean().Solids()
                    if len(solids) == 1 and solids[0].isValid():
                        return solids[0], {"text": text, "face": where, "height_mm": height,
                                           "centre_mm": [round(cx, 3), round(cy, 3)], "depth_mm": depth}
    return solid, None


def split_part(part: Part, split_x_mm: tuple[float, ...],
               bed_mm: tuple[float, float, float], label: bool = True) -> list[Piece]:
    """The part's printable pieces, numbered left to right, each in its print orientation with
    its id engraved."""
    pieces = []
    for n, (rack_solid, keys) in enumerate(cut_at_x(part, split_x_mm), start=1):
        bb = exact_bbox(rack_solid)
        pid = f"{part.id}-{n}"
        oriented = orient_for_print(rack_solid, part.print_down, bed_mm)
        where = None
        if label:
            oriented, where = engrave_label(oriented, f"{part.code or part.id}{n}")
        pieces.append(Piece(pid, part.id, rack_solid, oriented,
                            (round(bb.xmin, 4), round(bb.xmax, 4)), keys, where))
    return pieces
