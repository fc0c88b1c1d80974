"""Split wide parts into printable pieces and lay each piece in its print orientation.

A part is cut by the planes X = `layout.split_x_mm` (chosen by Layout between slots so that no
window or guide is cut) into pieces numbered left to right (`panel-1`, `panel-2`, ...). Each piece
is then rotated so that its part's `print_down` face lies on the bed (Z = 0), turned about Z so its
longer side runs along the bed's longer axis, and moved so its bounding box starts at the origin.
Cuts are straight in this slice; joints come later. Millimetres throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cadquery as cq

from mechanical.measure import exact_bbox
from mechanical.parts import Part

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


def cut_at_x(part: Part, split_x_mm: tuple[float, ...]) -> list[cq.Solid]:
    """The part cut by the planes X = split_x_mm, as solids ordered left to right.

    Each piece is the part's intersection with a slab between neighbouring cut planes (one
    boolean per piece). Raises ValueError when a piece is not exactly one valid solid.
    """
    bb = exact_bbox(part.solid)
    pad = 1.0
    inner = sorted(x for x in split_x_mm if bb.xmin < x < bb.xmax)
    edges = [bb.xmin - pad, *inner, bb.xmax + pad]
    pieces: list[cq.Solid] = []
    for x0, x1 in zip(edges, edges[1:]):
        slab = cq.Solid.makeBox(x1 - x0, bb.ylen + 2 * pad, bb.zlen + 2 * pad,
                                pnt=cq.Vector(x0, bb.ymin - pad, bb.zmin - pad))
        result = part.solid.intersect(slab).clean()
        solids = [s for s in result.Solids() if s.Volume() > _EMPTY_MM3]
        if not solids:
            continue
        if len(solids) != 1 or not solids[0].isValid():
            raise ValueError(f"{part.id}: the cut between X = {x0:.2f} and {x1:.2f} mm gives "
                             f"{len(solids)} solid(s) (valid: {[s.isValid() for s in solids]}); "
                             f"a printed piece must be one valid solid")
        pieces.append(solids[0])
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


def split_part(part: Part, split_x_mm: tuple[float, ...],
               bed_mm: tuple[float, float, float]) -> list[Piece]:
    """The part's printable pieces, numbered left to right, each in its print orientation."""
    pieces = []
    for n, rack_solid in enumerate(cut_at_x(part, split_x_mm), start=1):
        bb = exact_bbox(rack_solid)
        pieces.append(Piece(f"{part.id}-{n}", part.id, rack_solid,
                            orient_for_print(rack_solid, part.print_down, bed_mm),
                            (round(bb.xmin, 4), round(bb.xmax, 4))))
    return pieces
