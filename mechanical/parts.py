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
    joint: "JointSpec | None" = None   # how the part is split at layout.split_x_mm (None: never split)
    quantity: int = 1                  # copies printed (one sled faceplate per slot)
    material_min_mm: dict = field(default_factory=dict)  # thinnest construction features (mm), by name
    code: str = ""                     # short code engraved on its pieces (`FW` -> `FW2`)


@dataclass(frozen=True)
class JointSpec:
    """Where a plate-like part may be keyed across a cut plane X = c.

    normal: 'y' or 'z', the plate's normal axis; plate_mm: the plate's extent along it (n0, n1);
    along_mm: candidate dovetail centres along the other in-plane axis (mm)."""

    normal: str
    plate_mm: tuple[float, float]
    along_mm: tuple[float, ...]


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

    spans: list[list[float]] = []  # windows that would overlap (a pitch too narrow) merge into one
    for slot in layout.slots:
        env = layout.slot_envelope(slot)
        a, b = env.x0 - clearance, env.x1 + clearance
        if spans and a <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    env0 = layout.slot_envelope(layout.slots[0])
    windows = [_box(a, b, -_THROUGH_MM, t + _THROUGH_MM, env0.z0 - clearance, env0.z1 + clearance)
               for a, b in spans]
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


def _cylinder_y(x: float, z: float, y0: float, y1: float, d: float) -> cq.Solid:
    """A cylinder of diameter d (mm) along +Y from y0 to y1, axis at (x, z)."""
    return cq.Solid.makeCylinder(d / 2, y1 - y0, cq.Vector(x, y0, z), cq.Vector(0, 1, 0))


def _along(v0: float, v1: float, step_mm: float = 20.0) -> tuple[float, ...]:
    """Candidate dovetail centres between v0 and v1, every step_mm, middle first (mm)."""
    n = max(1, int((v1 - v0) // step_mm))
    vals = [v0 + (k + 0.5) * (v1 - v0) / n for k in range(n)]
    mid = (v0 + v1) / 2
    return tuple(round(v, 4) for v in sorted(vals, key=lambda v: (abs(v - mid), v)))


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
    enc = catalogue.enclosure()
    m = layout.backplane_mount
    mount = _box(m.x0, m.x1, m.y0, m.y1, layout.floor_mm - 0.5, m.z1)  # sunk 0.5 mm into the plate
    sy0, sy1 = layout.backplane_standoffs_y_mm
    d_so = layout.backplane_standoff_d_mm
    standoffs = [_cylinder_y(x, z, sy0, m.y0 + 0.5, d_so) for x, z in layout.backplane_holes_xz_mm]
    inserts = [_cylinder_y(x, z, sy0 - _THROUGH_MM, sy0 + enc["insert_m3_depth_mm"], enc["insert_m3_hole_d_mm"])
               for x, z in layout.backplane_holes_xz_mm]
    body_solid = plate.fuse(*ribs, mount, *standoffs).clean()
    body_solid = body_solid.cut(cq.Compound.makeCompound(grooves + inserts)).clean()
    solid = _one_solid(body_solid, "floor")
    info = {"plate_mm": [body.x1 - body.x0, body.y1 - body.y0, layout.floor_mm],
            "guides": len(ribs), "groove_width_mm": groove_w, "groove_depth_mm": depth,
            "backplane_standoffs": len(standoffs), "insert_hole_d_mm": enc["insert_m3_hole_d_mm"],
            "insert_hole_depth_mm": enc["insert_m3_depth_mm"]}
    walls = {"floor plate": layout.floor_mm, "guide wall beside the groove": (layout.guides[0].x1 -
             layout.guides[0].x0 - groove_w) / 2 if layout.guides else layout.floor_mm,
             "backplane mount plate": m.y1 - m.y0,
             "standoff wall around the insert": (d_so - enc["insert_m3_hole_d_mm"]) / 2}
    hole_ys = [m.y0 - 12, m.y1 + 12]
    along = tuple(v for v in _along(body.y0 + 8, body.y1 - 8, 25.0) if not hole_ys[0] < v < hole_ys[1])
    # Printed flat: the underside (normal -Z) on the bed, ribs up.
    return Part("floor", solid, (0.0, 0.0, -1.0), info, code="F",
                joint=JointSpec("z", (0.0, layout.floor_mm), along), material_min_mm=walls)


def roof_with_guides(layout: Layout) -> Part:
    """The roof plate with the upper card-guide ribs hanging from it (`layout.upper_guides`).

    Plate: `layout.roof` (body footprint, from the interior's top to the body's top). Each rib has
    a groove on its slot's carrier plane, `guide_engagement_mm` deep from the rib's lower face,
    open at both ends, as in the floor. Printed top face down, ribs up.
    """
    r = layout.roof
    sled = catalogue.sled()
    groove_w = layout.sled.carrier_thickness_mm + 2 * sled["guide_clearance_mm"]
    depth = sled["guide_engagement_mm"]
    plate = _box(r.x0, r.x1, r.y0, r.y1, r.z0, r.z1)
    ribs = [_box(g.x0, g.x1, g.y0, g.y1, g.z0, g.z1 + 0.5) for g in layout.upper_guides]
    grooves = [_box(s.x_mm - groove_w / 2, s.x_mm + groove_w / 2, g.y0 - _THROUGH_MM, g.y1 + _THROUGH_MM,
                    g.z0 - _THROUGH_MM, g.z0 + depth) for s, g in zip(layout.slots, layout.upper_guides)]
    solid = plate.fuse(*ribs).clean() if ribs else plate
    if grooves:
        solid = solid.cut(cq.Compound.makeCompound(grooves)).clean()
    solid = _one_solid(solid, "roof")
    gw = layout.upper_guides[0].x1 - layout.upper_guides[0].x0 if layout.upper_guides else 0.0
    info = {"plate_mm": [r.x1 - r.x0, r.y1 - r.y0, r.z1 - r.z0], "guides": len(ribs),
            "groove_width_mm": groove_w, "groove_depth_mm": depth}
    walls = {"roof plate": r.z1 - r.z0, "guide wall beside the groove": (gw - groove_w) / 2 if gw else r.z1 - r.z0}
    return Part("roof", solid, (0.0, 0.0, 1.0), info, code="R",
                joint=JointSpec("z", (r.z0, r.z1), _along(r.y0 + 8, r.y1 - 8, 25.0)), material_min_mm=walls)


def side_wall(layout: Layout, side: str) -> Part:
    """A plain side wall (`layout.side_walls`, side 'left' or 'right'), printed outer face down."""
    b = layout.side_walls[0 if side == "left" else 1]
    solid = _box(b.x0, b.x1, b.y0, b.y1, b.z0, b.z1)
    down = (-1.0, 0.0, 0.0) if side == "left" else (1.0, 0.0, 0.0)
    return Part(f"side-{side}", solid, down, {"plate_mm": list(b.size)}, code="S" + side[0].upper(),
                material_min_mm={"side wall": b.x1 - b.x0})


def _fan_openings(layout: Layout, box, rim_mm: float) -> list[tuple[object, cq.Solid]]:
    """Per fan: the circular opening (diameter fan_opening_fraction x size), clipped to the wall
    less a rim, as a solid through the plate `box` along Y."""
    enc = catalogue.enclosure()
    out = []
    inner = _box(box.x0 + rim_mm, box.x1 - rim_mm, box.y0 - _THROUGH_MM, box.y1 + _THROUGH_MM,
                 box.z0 + rim_mm, box.z1 - rim_mm)
    for f in layout.fans:
        d = f.size_mm * enc["fan_opening_fraction"]
        disc = _cylinder_y(f.x_mm, f.z_mm, box.y0 - _THROUGH_MM, box.y1 + _THROUGH_MM, d)
        out.append((f, _one_solid(disc.intersect(inner), f"fan {f.index} opening")))
    return out


def _gaps_between_ribs(opening: cq.Solid, fan, rib_centres: list[float], rib_w: float,
                       split_x_mm: tuple[float, ...], wall) -> list[cq.Shape]:
    """The open parts of a fan opening between vertical ribs (rib_w wide at rib_centres), as
    separate disjoint tools (one boolean cut, robust). A split plane crossing the opening gets a
    land (two rib widths plus 1 mm each side; dovetail keys go only where the plate is solid), so each piece
    keeps its ribs tied to the plate."""
    half = fan.size_mm
    land = 2 * rib_w + 1.0
    solid_x = sorted([(c - rib_w / 2, c + rib_w / 2) for c in rib_centres]
                     + [(c - land, c + land) for c in split_x_mm])
    merged: list[list[float]] = []
    for a, b in solid_x:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = []
    for (_, a), (b, _) in zip(merged, merged[1:]):
        if b - a < 0.5:
            continue
        gap = _box(a, b, wall.y0 - 2, wall.y1 + 2, fan.z_mm - half, fan.z_mm + half)
        piece = opening.intersect(gap)
        if piece.Volume() > 1e-6:
            out.append(piece)
    return out


def fan_wall(layout: Layout, *, rib_width_mm: float | None = None) -> Part:
    """The fan wall: a plate across the interior (`layout.fan_wall`) the fans are screwed to.

    Per fan (`layout.fans`): a circular opening `fan_opening_fraction` x size across, crossed by
    vertical finger-guard ribs (`guard_rib_width_mm` at `guard_rib_pitch_mm`, one on the fan's
    axis), and four holes of the fan's hole diameter on the size's standard square
    (`Fan.hole_spacing_mm`, catalogue fans.toml). Printed flat, front face down.

        +----------------------------------------+
        |  o  |||||  o      o  |||||  o          |   o  fan screw hole
        |    |||||||          |||||||            |   |  guard rib
        |  o  |||||  o      o  |||||  o          |
        +----------------------------------------+

    Args:
        rib_width_mm: guard rib width; default frame.toml (tests pass a thin one for print.wall).
    """
    enc = catalogue.enclosure()
    w = layout.fan_wall
    rib_w = rib_width_mm if rib_width_mm is not None else enc["guard_rib_width_mm"]
    pitch = enc["guard_rib_pitch_mm"]
    plate = _box(w.x0, w.x1, w.y0, w.y1, w.z0, w.z1)
    tools = []
    holes = []
    for f, opening in _fan_openings(layout, w, 2.0):
        half = f.size_mm / 2
        tools += _gaps_between_ribs(opening, f, [f.x_mm + k * pitch for k in range(-int(half // pitch) - 1,
                                                                          int(half // pitch) + 2)],
                                    rib_w, layout.split_x_mm, w)
        s = f.hole_spacing_mm / 2
        d = catalogue.fan(f.size_mm).hole_d_mm
        for dx in (-s, s):
            for dz in (-s, s):
                x, z = f.x_mm + dx, f.z_mm + dz
                if w.x0 + d < x < w.x1 - d and w.z0 + d < z < w.z1 - d:
                    holes.append(_cylinder_y(x, z, w.y0 - _THROUGH_MM, w.y1 + _THROUGH_MM, d))
    solid = _one_solid(plate.cut(cq.Compound.makeCompound(tools + holes)).clean(), "fan wall")
    info = {"plate_mm": list(w.size), "fans": len(layout.fans), "guard_rib_width_mm": rib_w,
            "guard_rib_pitch_mm": pitch, "screw_holes": len(holes)}
    return Part("fanwall", solid, (0.0, -1.0, 0.0), info, code="FW",
                joint=JointSpec("y", (w.y0, w.y1), _along(w.z0 + 7, w.z1 - 7, 6.0)),
                material_min_mm={"fan wall plate": w.y1 - w.y0, "finger guard rib": rib_w})


def rear_wall(layout: Layout) -> Part:
    """The rear wall (`layout.rear_wall`) with an exhaust vent behind every fan: vertical slots
    `rear_vent_width_mm` wide with `rear_vent_rib_mm` ribs, inside the fan's opening circle.
    Printed rear face down."""
    enc = catalogue.enclosure()
    w = layout.rear_wall
    plate = _box(w.x0, w.x1, w.y0, w.y1, w.z0, w.z1)
    sw, rib = enc["rear_vent_width_mm"], enc["rear_vent_rib_mm"]
    tools = []
    for f, opening in _fan_openings(layout, w, 2.0):
        half = f.size_mm / 2
        n = int(half // (sw + rib)) + 1
        tools += _gaps_between_ribs(opening, f, [f.x_mm + (k + 0.5) * (sw + rib) for k in range(-n - 1, n + 1)],
                                    rib, layout.split_x_mm, w)
    solid = _one_solid(plate.cut(cq.Compound.makeCompound(tools)).clean(), "rear wall")
    return Part("rearwall", solid, (0.0, 1.0, 0.0), {"plate_mm": list(w.size), "vents": len(tools)}, code="RW",
                joint=JointSpec("y", (w.y0, w.y1), _along(w.z0 + 7, w.z1 - 7, 6.0)),
                material_min_mm={"rear wall plate": w.y1 - w.y0, "vent rib": rib})


def baffle(layout: Layout, side: str) -> Part:
    """An air baffle beside the outer sled (`layout.baffles`), floor to roof, panel to fan wall,
    notched around the backplane and its mount with `baffle_gap_mm` of play. It closes the
    bypass beside the sled row so that the fans draw only through the sled channels."""
    enc = catalogue.enclosure()
    b = layout.baffles[0 if side == "left" else 1]
    solid = _box(b.x0, b.x1, b.y0, b.y1, b.z0, b.z1)
    g = enc["baffle_gap_mm"]
    bp, m = layout.backplane, layout.backplane_mount
    notch = _box(min(bp.x0, m.x0) - g, max(bp.x1, m.x1) + g, bp.y0 - g, b.y1 + _THROUGH_MM,
                 b.z0 - _THROUGH_MM, max(bp.z1, m.z1) + g)
    cut = solid.cut(notch).clean()
    solid = _one_solid(cut, f"baffle {side}")
    down = (-1.0, 0.0, 0.0) if side == "left" else (1.0, 0.0, 0.0)
    return Part(f"baffle-{side}", solid, down, {"plate_mm": list(b.size)}, code="B" + side[0].upper(),
                material_min_mm={"baffle": b.x1 - b.x0})


def sled_faceplate(layout: Layout, node_model: str, slot_index: int = 1) -> Part:
    """The sled faceplate of one slot, in that slot's seated position.

    Seen from the front (Pi 4B)::

        +------+   <- pull tab (stands pull_tab_depth_mm proud, above the ports)
        |=====  |  <- vent slot
        |[rj45]    port openings run out through the carrier-side edge
        |[usb3]
        |[usb2]
        |=====  |
        +-arm---+  <- arm back along the carrier's outer face (two M2.5 screws)

    Plate: the slot envelope in X (`layout.slot_envelope`), the carrier's Z range,
    `faceplate_y0_mm`..`faceplate_y1_mm` in Y. Each front port of `catalogue.node(model)` gets an
    opening around its outline (port centre along the Pi edge -> rack Z; port height above the
    board -> rack X from the Pi's component face) grown by `faceplate_port_clearance_mm`, open
    through the carrier-side edge (a closed lip there would be under 2 nozzle widths). Vent slots
    fill the bands between the ports. Printed on its carrier-side face (+X down).
    """
    enc = catalogue.enclosure()
    node = catalogue.node(node_model)
    s = layout.sled
    slot = layout.slots[slot_index - 1]
    env = layout.slot_envelope(slot)
    x0, x1 = env.x0, env.x1
    z0, z1 = s.carrier_z0_mm, s.carrier_z1_mm
    y0, y1 = s.faceplate_y0_mm, s.faceplate_y1_mm
    c = enc["faceplate_port_clearance_mm"]
    border = enc["faceplate_border_mm"]
    plate = _box(x0, x1, y0, y1, z0, z1)
    px0 = slot.x_mm + s.pi_top_face_dx_mm - c
    port_boxes = []
    for port in node.front_ports:
        _, zc = s.pi_to_rack(s.pi_board_length_mm, port.y_mm)
        port_boxes.append((zc - port.width_mm / 2 - c, zc + port.width_mm / 2 + c))
    openings = [_box(px0, x1 + _THROUGH_MM, y0 - _THROUGH_MM, y1 + _THROUGH_MM, a, b) for a, b in port_boxes]
    # vent slots in the free bands between ports (and above/below them)
    arm_h, arm_w = enc["faceplate_arm_height_mm"], enc["faceplate_arm_width_mm"]
    tab_h = enc["pull_tab_height_mm"]
    vent, vrib = enc["faceplate_vent_mm"], enc["faceplate_vent_rib_mm"]
    edges = sorted(port_boxes)
    bands = [(z0 + border, edges[0][0] - vrib)] + [(a[1] + vrib, b[0] - vrib) for a, b in zip(edges, edges[1:])] \
        + [(edges[-1][1] + vrib, z1 - border)]
    vents = []
    for a, b in bands:
        k = int((b - a + vrib) // (vent + vrib))
        for i in range(k):
            va = a + i * (vent + vrib)
            vents.append(_box(x0 + border, x1 - border, y0 - _THROUGH_MM, y1 + _THROUGH_MM, va, va + vent))
    solid = plate.cut(cq.Compound.makeCompound(openings + vents)).clean()
    tab = _box(x0, x1, y0 - enc["pull_tab_depth_mm"], y0 + 0.5, z1 - tab_h, z1)
    arm_z0 = layout.guides[0].z1 + 0.4
    arm = _box(x1 - arm_w, x1, y1 - 0.5, y1 + enc["faceplate_arm_length_mm"], arm_z0, arm_z0 + arm_h)
    solid = _one_solid(solid.fuse(tab, arm).clean(), "sled faceplate")
    open_mm2 = sum((x1 - max(px0, x0)) * (b - a) for a, b in port_boxes) + \
        len(vents) * (x1 - x0 - 2 * border) * vent
    info = {"plate_mm": [x1 - x0, y1 - y0, z1 - z0], "ports": [p.name for p in node.front_ports],
            "vents": len(vents), "arm_z_mm": [arm_z0, arm_z0 + arm_h], "node_model": node_model,
            "opening_area_mm2": round(open_mm2, 3)}
    walls = {"faceplate": y1 - y0, "vent rib": vrib, "border": border,
             "rib between ports": min((b[0] - a[1] for a, b in zip(edges, edges[1:])), default=border),
             "pull tab": tab_h, "arm": min(arm_w, arm_h)}
    return Part("faceplate", solid, (1.0, 0.0, 0.0), info, quantity=len(layout.slots), material_min_mm=walls,
                code="SF")


def panel_joint(layout: Layout) -> JointSpec:
    """The front panel is keyed across a cut in the band above the sled windows."""
    top = max(layout.slot_envelope(s).z1 for s in layout.slots) + catalogue.sled()["guide_clearance_mm"]
    return JointSpec("y", (0.0, layout.panel_thickness_mm), _along(top + 5.5, layout.panel_height_mm - 5.5, 3.0))


def frame_parts(layout: Layout, node_model: str = "pi4b") -> list[Part]:
    """Every printed part, in rack position: panel, floor (with the backplane mount), roof,
    side walls, rear wall, fan wall, baffles, and one sled faceplate (printed once per slot)."""
    from dataclasses import replace

    panel = front_panel(layout)
    panel = replace(panel, joint=panel_joint(layout), code="P",
                    material_min_mm={"panel": layout.panel_thickness_mm,
                                     "web between windows": layout.pitch_mm - (layout.sled.envelope_width_mm
                                                                               + 2 * catalogue.sled()["guide_clearance_mm"])})
    return [panel, floor_with_guides(layout), roof_with_guides(layout), side_wall(layout, "left"),
            side_wall(layout, "right"), rear_wall(layout), fan_wall(layout), baffle(layout, "left"),
            baffle(layout, "right"), sled_faceplate(layout, node_model)]
