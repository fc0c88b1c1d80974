"""Printed frame parts as CadQuery solids, each a pure function of a `Layout`.

Every part is built in its assembled position in rack coordinates (mm): X across the rack with 0
on the centreline, Y depth with 0 at the panel's front face, Z up with 0 under the floor. Nothing
here computes a position of its own: slot planes, guide ribs, ear holes and panel size come from
`Layout`, clearances and standard sizes from the catalogue.

A part carries `print_down`: the direction (in rack coordinates) that faces the print bed, which
`mechanical.split` uses to orient each piece, and `info`: construction data (mm) for the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cadquery as cq

from rackplane import catalogue
from rackplane.layout import Layout

# A through-cut tool reaches this far beyond the faces it cuts (mm), so that no cut leaves a
# zero-thickness skin where tool and part faces coincide.
_THROUGH_MM = 1.0


@dataclass(frozen=True)
class Part:
    """A printed part in rack position.

    id: short name (`panel`, `floor`) that piece ids extend (`panel-1`).
    solid: one valid CadQuery solid, rack coordinates, mm.
    print_down: unit vector (rack coordinates) of the face that lies on the print bed.
    info: construction data in mm (what the part was asked to be; the checks measure the solid).
    """

    id: str
    solid: cq.Solid
    print_down: tuple[float, float, float]
    info: dict = field(default_factory=dict)


def _box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> cq.Solid:
    return cq.Solid.makeBox(x1 - x0, y1 - y0, z1 - z0, pnt=cq.Vector(x0, y0, z0))


def _one_solid(shape: cq.Shape, what: str) -> cq.Solid:
    """The single valid solid of a boolean result, or a clear error naming the part."""
    solids = shape.Solids()
    if len(solids) != 1 or not solids[0].isValid():
        raise ValueError(f"{what}: boolean result has {len(solids)} solid(s), valid="
                         f"{[s.isValid() for s in solids]}; expected one valid solid")
    return solids[0]


def front_panel(layout: Layout, *, ear_hole_x_mm: tuple[float, float] | None = None,
                window_clearance_mm: float | None = None) -> Part:
    """The 19-inch front panel with its EIA-310 ears, one window per sled.

    Shape (seen from the front, 2U shown)::

        +-o------------------------------------------------------o-+   o  slotted ear hole
        | o  |#| |#| |#| |#| |#| |#| |#| |#| |#| |#|             o |   #  sled window
        +-o------------------------------------------------------o-+

    Size: `layout.panel_width_mm` (482.6) across X, centred on X = 0; `layout.panel_height_mm`
    (n * 44.45 - 0.79) from Z = 0; `layout.panel_thickness_mm` from the front face Y = 0 toward +Y.

    Args:
        layout: the design's Layout (mm).
        ear_hole_x_mm: X of the left and right ear-hole columns (mm); default
            `layout.ear_hole_x_mm` (465.1 apart). Tests pass a wrong spacing to prove `rack.eia310`.
        window_clearance_mm: play per side between the sled faceplate and its window (mm);
            default the FDM slip fit of the sled (`guide_clearance_mm` in frame.toml).

    Ear holes are horizontal slots (catalogue `eia310`: `ear_hole_slot_width_mm` wide,
    `ear_hole_slot_length_mm` long, across X) centred at every (ear_hole_x, `layout.ear_hole_z_mm`).
    Each window spans the slot's sled envelope in X (`layout.slot_envelope`) and the carrier's
    Z range, grown by the clearance on every side; it goes through the panel.
    """
    eia = catalogue.eia310()
    hole_xs = ear_hole_x_mm if ear_hole_x_mm is not None else layout.ear_hole_x_mm
    clearance = (window_clearance_mm if window_clearance_mm is not None
                 else catalogue.sled()["guide_clearance_mm"])
    w, h, t = layout.panel_width_mm, layout.panel_height_mm, layout.panel_thickness_mm
    plate = _box(-w / 2, w / 2, 0.0, t, 0.0, h)

    # Ear holes: the "XZ" workplane has local x = rack X, local y = rack Z, normal -Y; a symmetric
    # extrusion reaches through the plate from both faces.
    hole_centres = [(x, z) for x in hole_xs for z in layout.ear_hole_z_mm]
    ear_slots = (cq.Workplane("XZ")
             .pushPoints(hole_centres)
             .slot2D(eia["ear_hole_slot_length_mm"], eia["ear_hole_slot_width_mm"], 0)
             .extrude(t + _THROUGH_MM, both=True)
             .val())

    windows = []
    for slot in layout.slots:
        env = layout.slot_envelope(slot)
        windows.append(_box(env.x0 - clearance, env.x1 + clearance, -_THROUGH_MM, t + _THROUGH_MM,
                            env.z0 - clearance, env.z1 + clearance))
    tools = cq.Compound.makeCompound([ear_slots, *windows])
    solid = _one_solid(plate.cut(tools).clean(), "front panel")
    info = {
        "width_mm": w, "height_mm": h, "thickness_mm": t,
        "ear_hole_x_mm": list(hole_xs), "ear_hole_z_mm": list(layout.ear_hole_z_mm),
        "ear_hole_slot_mm": [eia["ear_hole_slot_length_mm"], eia["ear_hole_slot_width_mm"]],
        "window_clearance_mm": clearance, "windows": len(windows),
    }
    # Printed face down: the front face (normal -Y) lies on the bed and gets the bed's finish.
    return Part("panel", solid, (0.0, -1.0, 0.0), info)


def floor_with_guides(layout: Layout) -> Part:
    """The chassis floor plate with one lower card-guide rib per slot.

    Section through one guide (looking from the front)::

              |<- guide width ->|
              +------+   +------+  <- rib top (guide.z1)
              |      |   |      |
              |      +---+      |  <- groove bottom: rib top - guide_engagement_mm
        ======+      groove     +=====  <- floor top (layout.floor_mm)
        ===============================  <- Z = 0

    Plate: the body footprint (`layout.body` X and Y extents), `layout.floor_mm` thick from Z = 0.
    Ribs: the boxes `layout.guides` (one per slot). Groove: centred on the slot's carrier plane
    (`layout.slots[i].x_mm`), `carrier_thickness_mm + 2 * guide_clearance_mm` wide,
    `guide_engagement_mm` deep from the rib top, open at both ends of the rib (frame.toml [sled]).
    The rear edge and the backplane area stay plain in this slice.
    """
    body = layout.body
    sled = catalogue.sled()
    groove_w = layout.sled.carrier_thickness_mm + 2 * sled["guide_clearance_mm"]
    depth = sled["guide_engagement_mm"]
    plate = _box(body.x0, body.x1, body.y0, body.y1, 0.0, layout.floor_mm)
    ribs = [_box(g.x0, g.x1, g.y0, g.y1, g.z0, g.z1) for g in layout.guides]
    grooves = [_box(slot.x_mm - groove_w / 2, slot.x_mm + groove_w / 2,
                    g.y0 - _THROUGH_MM, g.y1 + _THROUGH_MM, g.z1 - depth, g.z1 + _THROUGH_MM)
               for slot, g in zip(layout.slots, layout.guides)]
    body_solid = plate.fuse(*ribs).clean() if ribs else plate
    if grooves:
        body_solid = body_solid.cut(cq.Compound.makeCompound(grooves)).clean()
    solid = _one_solid(body_solid, "floor")
    info = {"plate_mm": [body.x1 - body.x0, body.y1 - body.y0, layout.floor_mm],
            "guides": len(ribs), "groove_width_mm": groove_w, "groove_depth_mm": depth}
    # Printed flat: the underside (normal -Z) on the bed, ribs up.
    return Part("floor", solid, (0.0, 0.0, -1.0), info)


def frame_parts(layout: Layout) -> list[Part]:
    """Every printed part of this slice, in rack position (panel, floor)."""
    return [front_panel(layout), floor_with_guides(layout)]
