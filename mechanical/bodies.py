"""Bodies that are not printed but must fit: node envelopes, carriers, connectors, the
backplane and the fans, all placed from Layout (mm, rack coordinates); and the clearance and
insertion measurements over the whole assembly.

Per slot n (`slot n.<body>`)::

    pi        the Pi board with its underside allowance (`bottom_height_mm`)
    ports     the front ports (width x height from nodes.toml, depth `front_port_depth_mm`)
    heatsink  on the SoC footprint, `node.heatsink_height_mm` tall (none when 0)
    header    the 2x20 header and socket between the Pi and the carrier
    standoffs the four M2.5 standoffs (those on the carrier)
    carrier   the carrier board
    parts     the carrier's component envelope on its outer face (`carrier_component_height_mm`)
    plug      the slot connector's pins past the carrier's rear edge (`engagement_mm` long)
    faceplate the printed sled faceplate (from mech.frame)
    socket    the backplane's slot socket (`body_depth_mm` deep)

The backplane and the carriers are the boards' STEP models from kicad-cli (`pcb.step`: outline,
holes and slots as fabricated) placed by the boards' coordinate mappings (`pcb.coords`); without
them (a frame-only build) they are outline solids, Layout's boxes. The STEP models carry no
component models, so the carrier's components stay an envelope (`parts`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cadquery as cq

from rackplane import catalogue

# mech.clearance: smallest gap between bodies that are not declared mates (mm): the FDM general
# tolerance of +/-0.2 mm (layer-one; jakemakes), so a printed part never closes a planned gap.
MIN_GAP_MM = 0.2
# Overlap volume below this (mm^3) is numerical contact, not interference.
OVERLAP_EPS_MM3 = 1e-3


@dataclass(frozen=True)
class Body:
    name: str
    shape: cq.Shape
    kind: str          # "printed", "node", "board", "connector", "fan"
    slot: int = 0      # 0: not part of a sled
    source: str = "layout"  # where the solid comes from: "layout", "mech.frame", "kicad-cli STEP"


STEP_SOURCE = "kicad-cli STEP"


def load_board_step(path) -> cq.Shape:
    """The board solid of a kicad-cli STEP file, in board coordinates (mm): x = u, y = -v, the
    back face at z = 0 and the F.Cu face at z = the modelled thickness."""
    shape = cq.importers.importStep(str(path)).val()
    if shape is None or shape.Volume() <= 0:
        raise ValueError(f"{path}: no solid in the board STEP")
    return shape


def _thickness_mm(board: cq.Shape) -> float:
    return board.BoundingBox().zmax


def _rigid(shape: cq.Shape, rows: list[list[float]]) -> cq.Shape:
    """shape moved by the rigid transform [R | t] given as three rows (R a rotation)."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_Transform
    from OCP.gp import gp_Trsf

    trsf = gp_Trsf()
    trsf.SetValues(*(float(v) for row in rows for v in row))
    return cq.Shape.cast(BRepBuilderAPI_Transform(shape.wrapped, trsf, True).Shape())


def place_backplane(layout, board: cq.Shape, module=None) -> cq.Shape:
    """The backplane STEP solid in rack position: board u along +X from the board's x0 (the
    module's, on a split backplane), v down from backplane.z1 (`pcb.coords.board_uv_mm`), its
    F.Cu face (toward the sleds) on backplane.y0."""
    bp = module.box if module is not None else layout.backplane
    t = _thickness_mm(board)
    return _rigid(board, [[1, 0, 0, bp.x0], [0, 0, -1, bp.y0 + t], [0, 1, 0, bp.z1]])


def place_carrier(layout, slot, board: cq.Shape) -> cq.Shape:
    """The carrier STEP solid in rack position at its slot: u along +Y from carrier_y0, v down
    from carrier_z1 (`pcb.coords.carrier_uv_mm`), its F.Cu face (+X, the components' side) on
    the carrier's outer face."""
    s = layout.sled
    t = _thickness_mm(board)
    x_f = slot.x_mm + s.carrier_thickness_mm / 2
    return _rigid(board, [[0, 0, 1, x_f - t], [1, 0, 0, s.carrier_y0_mm], [0, 1, 0, s.carrier_z1_mm]])


def _box(x0, x1, y0, y1, z0, z1) -> cq.Solid:
    return cq.Solid.makeBox(x1 - x0, y1 - y0, z1 - z0, pnt=cq.Vector(x0, y0, z0))


def sled_bodies(layout, design, slot, faceplate: cq.Shape | None,
                carrier_step: cq.Shape | None = None) -> list[Body]:
    """The seated sled of one slot (see the module docstring); carrier_step is the carrier's
    STEP solid in board coordinates (`load_board_step`), None for the outline."""
    node = catalogue.node(design["node.model"])
    sled = catalogue.sled()
    enc = catalogue.enclosure()
    conn = catalogue.slot_connector()
    s = layout.sled
    x = slot.x_mm
    top = x + s.pi_top_face_dx_mm
    car0, car1 = x - s.carrier_thickness_mm / 2, x + s.carrier_thickness_mm / 2
    n = slot.index
    out = []

    def add(name, shape, kind="node", source="layout"):
        out.append(Body(f"slot {n} {name}", shape, kind, n, source))

    y_front = s.pi_front_y_mm
    (y_a, z_a), (y_b, z_b) = s.pi_to_rack(0.0, 0.0), s.pi_to_rack(*node.board_mm)
    add("pi", _box(top - s.pi_thickness_mm - node.bottom_height_mm, top, min(y_a, y_b), max(y_a, y_b),
                   min(z_a, z_b), max(z_a, z_b)))
    ports = []
    for p in node.front_ports:
        _, zc = s.pi_to_rack(node.board_mm[0], p.y_mm)
        ports.append(_box(top, top + p.height_mm, y_front - node.front_overhang_mm,
                          y_front - node.front_overhang_mm + enc["front_port_depth_mm"],
                          zc - p.width_mm / 2, zc + p.width_mm / 2))
    add("ports", cq.Compound.makeCompound(ports))
    hs = design["node.heatsink_height_mm"]
    if hs > 0:
        yc, zc = s.pi_to_rack(*node.soc_centre_mm)
        a, b = node.soc_size_mm[0] / 2, node.soc_size_mm[1] / 2
        add("heatsink", _box(top, top + hs, yc - a, yc + a, zc - b, zc + b))
    yc, zc = s.pi_to_rack(*node.header_centre_mm)
    add("header", _box(top, car0, yc - 25.4, yc + 25.4, zc - 2.54, zc + 2.54))
    stand = []
    for px, py in node.mounting_holes_mm:
        yy, zz = s.pi_to_rack(px, py)
        if s.carrier_y0_mm + 2.5 <= yy <= s.carrier_y1_mm - 2.5:
            stand.append(cq.Solid.makeCylinder(sled["standoff_d_mm"] / 2, car0 - top, cq.Vector(top, yy, zz),
                                               cq.Vector(1, 0, 0)))
    add("standoffs", cq.Compound.makeCompound(stand))
    if carrier_step is not None:
        add("carrier", place_carrier(layout, slot, carrier_step), "board", STEP_SOURCE)
    else:
        add("carrier", _box(car0, car1, s.carrier_y0_mm, s.carrier_y1_mm, s.carrier_z0_mm, s.carrier_z1_mm), "board")
    arm_top = layout.guides[0].z1 + 0.4 + enc["faceplate_arm_height_mm"]
    add("parts", _box(car1, car1 + sled["carrier_component_height_mm"], s.carrier_y0_mm, s.carrier_y1_mm - 3.0,
                      arm_top + 1.0, s.carrier_z1_mm - sled["guide_engagement_mm"] - 1.0))
    cx = x + s.connector_dx_mm
    half_z = conn["pins_per_row"] * conn["pitch_mm"] / 2
    half_x = conn["rows"] * conn["pitch_mm"] / 2
    add("plug", _box(cx - half_x, cx + half_x, s.carrier_y1_mm, s.carrier_y1_mm + conn["engagement_mm"],
                     s.connector_z_mm - half_z, s.connector_z_mm + half_z), "connector")
    if faceplate is not None:
        add("faceplate", faceplate, "printed", "mech.frame")
    add("socket", _box(cx - half_x, cx + half_x, layout.backplane.y0 - conn["body_depth_mm"], layout.backplane.y0,
                       s.connector_z_mm - half_z, s.connector_z_mm + half_z), "connector")
    return out


def other_bodies(layout, backplane_step: cq.Shape | None = None) -> list[Body]:
    """The backplane (its STEP solid in board coordinates, or None for the outline; one body per
    module on a split backplane, `backplane module <j>`) and the fans."""
    out = []
    for m in layout.backplane_modules:
        name = f"backplane module {m.index}" if layout.is_split else "backplane"
        if backplane_step is not None:
            out.append(Body(name, place_backplane(layout, backplane_step, m), "board", 0, STEP_SOURCE))
        else:
            b = m.box
            out.append(Body(name, _box(b.x0, b.x1, b.y0, b.y1, b.z0, b.z1), "board"))
    for f in layout.fans:
        h = f.size_mm / 2
        out.append(Body(f"fan {f.index}", _box(f.x_mm - h, f.x_mm + h, layout.fan_wall.y1,
                                               layout.fan_wall.y1 + f.thickness_mm, f.z_mm - h, f.z_mm + h), "fan"))
    return out


# Declared mates: pairs that touch by design (contact allowed, no interference), and pairs that
# interpenetrate by design (a plug in its socket). Names are patterns: "slot n X" pairs within a
# slot; frame parts are "frame <part>".
_SLOT_MATES = {("pi", "ports"), ("pi", "heatsink"), ("pi", "header"), ("pi", "standoffs"),
               ("carrier", "header"), ("carrier", "standoffs"), ("carrier", "parts"), ("carrier", "plug"),
               ("carrier", "socket"), ("carrier", "faceplate"), ("plug", "socket")}
_ENGAGED = {("plug", "socket")}
_FRAME_MATES_WITH = {"carrier": {"floor", "roof"}, "socket": set(), "fan": {"fanwall"},
                     "backplane": {"floor"}}


def _role(body: Body) -> str:
    if body.slot:
        return body.name.split(" ", 2)[2]
    if body.name.startswith("frame "):
        return body.name[6:]
    return body.name.split(" ")[0]


def mate_kind(a: Body, b: Body) -> str | None:
    """'contact' (touching allowed), 'engaged' (overlap allowed) or None (must keep MIN_GAP_MM)."""
    ra, rb = _role(a), _role(b)
    if a.slot and b.slot and a.slot == b.slot:
        pair = tuple(sorted((ra, rb)))
        if pair in _ENGAGED:
            return "engaged"
        return "contact" if pair in {tuple(sorted(p)) for p in _SLOT_MATES} else None
    if a.kind == "printed" and b.kind == "printed" and not a.slot and not b.slot:
        return "contact"  # frame parts are joined to each other
    for x, y in ((a, b), (b, a)):
        rx, ry = _role(x), _role(y)
        if not y.slot and y.kind == "printed" and ry in _FRAME_MATES_WITH.get(rx, ()):
            return "contact"
        if rx == "socket" and ry == "backplane":
            return "contact"
    return None


def _bbox(shape):
    from mechanical.measure import exact_bbox
    return exact_bbox(shape)


def _bbox_gap(a, b) -> float:
    dx = max(0.0, a.xmin - b.xmax, b.xmin - a.xmax)
    dy = max(0.0, a.ymin - b.ymax, b.ymin - a.ymax)
    dz = max(0.0, a.zmin - b.zmax, b.zmin - a.zmax)
    return math.sqrt(dx * dx + dy * dy + dz * dz)


_FACE_BOXES: dict[int, object] = {}


def _face_boxes(shape: cq.Shape):
    import numpy as np

    key = id(shape)
    if key not in _FACE_BOXES:
        rows = []
        for f in shape.Faces():
            fb = _bbox(f)
            rows.append((fb.xmin, fb.xmax, fb.ymin, fb.ymax, fb.zmin, fb.zmax))
        _FACE_BOXES[key] = (shape, np.array(rows))
    return _FACE_BOXES[key][1]


def clear_by_face_boxes(a: cq.Shape, b: cq.Shape, limit: float) -> bool:
    """True when a and b are certainly more than `limit` apart: no face box of one comes within
    `limit` of the other's box, and neither lies inside the other (a point test each way)."""
    import numpy as np

    ba, bb_ = _bbox(a), _bbox(b)
    for shape, other in ((a, bb_), (b, ba)):
        fb = _face_boxes(shape)
        dx = np.maximum(0.0, np.maximum(fb[:, 0] - other.xmax, other.xmin - fb[:, 1]))
        dy = np.maximum(0.0, np.maximum(fb[:, 2] - other.ymax, other.ymin - fb[:, 3]))
        dz = np.maximum(0.0, np.maximum(fb[:, 4] - other.zmax, other.zmin - fb[:, 5]))
        if np.any(np.sqrt(dx * dx + dy * dy + dz * dz) <= limit):
            return False
    for inner, outer in ((a, b), (b, a)):
        v = inner.Vertices()[0]
        if outer.isInside(cq.Vector(v.X, v.Y, v.Z), 1e-6):
            return False
    return True


def _near_faces(shape: cq.Shape, other, limit: float) -> cq.Shape:
    """The faces of shape whose boxes come within limit of the box `other`, as one compound."""
    import numpy as np

    fb = _face_boxes(shape)
    dx = np.maximum(0.0, np.maximum(fb[:, 0] - other.xmax, other.xmin - fb[:, 1]))
    dy = np.maximum(0.0, np.maximum(fb[:, 2] - other.ymax, other.ymin - fb[:, 3]))
    dz = np.maximum(0.0, np.maximum(fb[:, 4] - other.zmax, other.zmin - fb[:, 5]))
    near = np.nonzero(np.sqrt(dx * dx + dy * dy + dz * dz) <= limit)[0]
    faces = shape.Faces()
    return cq.Compound.makeCompound([faces[i] for i in near])


def distance_and_overlap(a: cq.Shape, b: cq.Shape, limit: float | None = None) -> tuple[float, float]:
    """(minimum B-rep distance in mm, common volume in mm^3) of two shapes. With `limit`, the
    distance is taken between the faces of each that lie within limit of the other's box (the
    same minimum whenever it is below limit, much faster on large parts)."""
    from OCP.BRepExtrema import BRepExtrema_DistShapeShape

    sa, sb = a, b
    if limit is not None:
        sa, sb = _near_faces(a, _bbox(b), limit), _near_faces(b, _bbox(a), limit)
        if not sa.Faces() or not sb.Faces():  # no face of one near the other: apart, or nested
            for inner, outer in ((a, b), (b, a)):
                v = inner.Vertices()[0]
                if outer.isInside(cq.Vector(v.X, v.Y, v.Z), 1e-6):
                    return 0.0, a.intersect(b).Volume()
            return limit, 0.0
    dist = BRepExtrema_DistShapeShape(sa.wrapped, sb.wrapped)
    dist.Perform()
    if not dist.IsDone():
        raise RuntimeError("BRepExtrema_DistShapeShape failed")
    d = dist.Value()
    overlap = 0.0
    if d < 1e-6:
        overlap = a.intersect(b).Volume()
    return d, overlap


def _is_box(shape: cq.Shape) -> bool:
    return isinstance(shape, cq.Solid) and len(shape.Faces()) == 6 and all(
        f.geomType() == "PLANE" for f in shape.Faces())


def _box_pair(a, b) -> tuple[float, float]:
    """(gap, overlap volume) of two axis-aligned boxes, exactly."""
    gap = _bbox_gap(a, b)
    ox = min(a.xmax, b.xmax) - max(a.xmin, b.xmin)
    oy = min(a.ymax, b.ymax) - max(a.ymin, b.ymin)
    oz = min(a.zmax, b.zmax) - max(a.zmin, b.zmin)
    return gap, (ox * oy * oz if min(ox, oy, oz) > 0 else 0.0)


def clearance_pairs(bodies: list[Body], reach_mm: float = MIN_GAP_MM) -> list[dict]:
    """Every pair of bodies whose bounding boxes lie within reach_mm (the prefilter) and that is
    not a declared mate (mates are exempt and listed with gap None), with the B-rep gap and the
    overlap volume. Two boxes are measured exactly from their corners; anything else with
    OCCT's BRepExtrema_DistShapeShape and, on contact, the boolean common volume."""
    boxes = [_bbox(b.shape) for b in bodies]
    simple = [_is_box(b.shape) for b in bodies]
    out = []
    for (i, a), (j, b) in itertools.combinations(enumerate(bodies), 2):
        if _bbox_gap(boxes[i], boxes[j]) > reach_mm:
            continue
        mate = mate_kind(a, b)
        if mate is not None:
            out.append({"a": a.name, "b": b.name, "gap_mm": None, "overlap_mm3": None, "mate": mate})
            continue
        if simple[i] and simple[j]:
            gap, overlap = _box_pair(boxes[i], boxes[j])
        elif clear_by_face_boxes(a.shape, b.shape, MIN_GAP_MM):
            continue  # clear by more than MIN_GAP_MM: nothing to report
        else:
            gap, overlap = distance_and_overlap(a.shape, b.shape, reach_mm + 1.0)
        out.append({"a": a.name, "b": b.name, "gap_mm": round(gap, 4), "overlap_mm3": round(overlap, 4),
                    "mate": mate_kind(a, b)})
    return out


def _sweep(body: Body, travel: float, cache: dict) -> cq.Shape:
    """Swept volume of a sled body moved travel mm toward -Y from seated: the bounding box of
    each Y-slab of the body (slabs between the Y positions of its vertices) stretched toward -Y.
    Exact for boxes; for the faceplate it keeps plate, tab and arm apart."""
    bb = _bbox(body.shape)
    if body.kind != "printed":
        return _box(bb.xmin, bb.xmax, bb.ymin - travel, bb.ymax, bb.zmin, bb.zmax)
    key = _role(body)
    if key not in cache:
        ys = sorted({round(v.Y, 4) for v in body.shape.Vertices()})
        boxes = []
        for y0, y1 in zip(ys, ys[1:]):
            slab = _box(bb.xmin - 1, bb.xmax + 1, y0, y1, bb.zmin - 1, bb.zmax + 1)
            part = body.shape.intersect(slab)
            if part.Volume() > 1e-6:
                boxes.append((_bbox(part), bb.xmin))
        cache[key] = boxes
    dx = bb.xmin - cache[key][0][1]
    return cq.Compound.makeCompound([_box(b.xmin + dx, b.xmax + dx, b.ymin - travel, b.ymax, b.zmin, b.zmax)
                                     for b, _ in cache[key]])


def insertion_sweeps(layout, bodies: list[Body]) -> list[dict]:
    """Each sled swept from outside the panel to seated, along +Y.

    A sled body's sweep is its bounding box stretched toward -Y by the travel (the sled's depth
    plus 10 mm): exact for the boxes a sled is made of, and on the safe side for the standoffs'
    cylinders and the faceplate's tab and arm (all inside the faceplate's outline seen from the
    front). The plug's sweep stops where it meets its socket. Returns, per slot, every fixed
    body (frame parts, backplane, fans, other slots' sockets) the sweep reaches, with the B-rep
    gap; the carrier's contact with the floor and roof (its guides) is expected."""
    s = layout.sled
    travel = s.carrier_y1_mm - s.faceplate_y0_mm + 10.0
    fixed = [b for b in bodies if not b.slot or _role(b) == "socket"]
    out = []
    slab_cache: dict[str, list] = {}
    for n in sorted({b.slot for b in bodies if b.slot}):
        moving = [b for b in bodies if b.slot == n and _role(b) != "socket"]
        for m in moving:
            sweep = _sweep(m, travel, slab_cache)
            for f in fixed:
                if _role(m) == "plug" and f.slot == n:
                    continue  # the plug ends in its own socket: engagement, measured separately
                fb = _bbox(f.shape)
                if _bbox_gap(_bbox(sweep), fb) > MIN_GAP_MM or clear_by_face_boxes(sweep, f.shape, MIN_GAP_MM):
                    continue
                gap, overlap = distance_and_overlap(sweep, f.shape, MIN_GAP_MM + 1.0)
                allowed = (_role(m) == "carrier" and (_role(f) in ("floor", "roof")
                                                      or (_role(f) == "socket" and f.slot == n)))
                out.append({"slot": n, "moving": m.name, "fixed": f.name, "gap_mm": round(gap, 4),
                            "overlap_mm3": round(overlap, 4), "guide": allowed})
    return out


def engagement(bodies: list[Body]) -> list[dict]:
    """Per slot: depth (mm, along Y) of the plug inside its socket, measured from their common volume."""
    out = []
    for n in sorted({b.slot for b in bodies if b.slot}):
        plug = next(b for b in bodies if b.slot == n and _role(b) == "plug")
        sock = next(b for b in bodies if b.slot == n and _role(b) == "socket")
        common = plug.shape.intersect(sock.shape)
        depth = _bbox(common).ylen if common.Volume() > 0 else 0.0
        out.append({"slot": n, "engagement_mm": round(depth, 4)})
    return out
