"""The backplane's KiCad board: footprints from the netlist, placed from Layout, routed, poured.

Placement (board coordinates from `pcb.coords`; nothing here computes a rack position):

* Edge.Cuts: the Layout's backplane box.
* Mounting holes ``H<k>`` at Layout's `backplane_holes_xz_mm[k - 1]`.
* Slot socket ``J<n>`` with its pin-field centre at slot n's connector (x, z) from Layout, pin 1
  in the top row, on the front (F.Cu) side that faces the sleds.
* Each slot's cell (the parts of group ``slot:<n>``) in the two columns either side of its
  socket: slot 1's parts are placed where their pads come nearest the pads they join, and every
  other slot gets the same placement, shifted by the pitch.
* The management bus: one straight F.Cu lane per bus net in the corridor under the sockets'
  pads; the bus headers and the master jumpers in the strip below it.
* The DC input (or a module's link terminals) on the rear (B.Cu) side, its pins in the power
  band: between the carriers' tails and the board there is only the socket's body depth, while
  the supply cable comes from the rear. It goes nearest the board's middle, which halves the rail
  length to the farthest slot.

Routing (`pcb.route`, a grid maze router): the lanes; slot 1's cell once, in an order that is
retried with a failing net moved first, then copied to every slot with its nets renamed; each
slot's address straps; the rest. Copper: VIN is a pour in a band along the top edge of F.Cu, GND
a pour over the whole B.Cu layer and over F.Cu below the band, the two ground pours joined by
stitching vias on a 5 mm grid wherever one fits. The fab house's rules
(`catalogue.fab(design["pcb.fab"])`) are the board's design rules, and the two that KiCad's
board settings cannot hold (minimum via drill, maximum drill) go into a custom rules file next to
the board, so that `kicad-cli pcb drc` enforces all of them.

Determinism: KiCad's UUID generator is seeded before the board is made, and every item is added
in a fixed order, so the same parameters give a byte-identical .kicad_pcb.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from pcb import coords, place, route, stitch
from pcb import netlist as netlist_mod
from rackplane import catalogue

BOARD_FILE = "backplane.kicad_pcb"
RULES_SUFFIX = ".kicad_dru"
UUID_SEED = 0x52AC  # any fixed number: fixes the UUIDs KiCad gives board items

EDGE_LINE_WIDTH_MM = 0.1
ZONE_CLEARANCE_MM = 0.3          # pour to other nets: above the fab minimum, easy to etch
ZONE_MIN_WIDTH_MM = 0.25         # thinnest pour neck kept by the filler
THERMAL_GAP_MM = 0.5
THERMAL_SPOKE_MM = 0.5
SILK_TEXT_MM = 1.5               # slot number height
SILK_TEXT_LINE_MM = 0.2          # stroke, above the fab's minimum silk line width
PLACEMENT_CLEARANCE_MM = 1.0     # courtyard to courtyard when the input terminal is placed
TITLE_TEXT_MM = 1.2               # board name, version and design hash
PLAN_FILE = "backplane_plan.json"

# Rear terminals in the power band and where along the board (fraction of its width) each goes:
# the DC input nearest the middle (half the rail length to the farthest slot); on a module of a
# split backplane the link terminals nearest its ends, where the next module's cable arrives.
TERMINAL_TARGETS = {netlist_mod.INPUT_REF: 0.5, netlist_mod.LINK_IN_REF: 0.0, netlist_mod.LINK_OUT_REF: 1.0}

# Groups of the netlist's parts (the pcb.netlist stage's facts name them).
GROUP_SLOT, GROUP_MGMT, GROUP_POWER_IN, GROUP_MOUNT = "slot:", "mgmt", "power_in", "mount"

# Power distribution: the 12 V rail (VIN) is a solid F.Cu pour in a band along the top edge,
# above the slot sockets; ground (GND) is a solid B.Cu pour over the whole board, kept unbroken
# in the same band. No other net may enter the band, so both pours are continuous along the
# board; every VIN and GND pad is joined to the band by its own track (the pours are not
# trusted for connectivity elsewhere). The band's height is what is left above the sockets.
BAND_NET_F, BAND_NET_B = "VIN", "GND"
BAND_NETS = {BAND_NET_F: route.F_LAYER, BAND_NET_B: route.B_LAYER}
BAND_EDGE_INSET_MM = 0.2          # band starts this far inside the copper-to-edge clearance
BAND_GAP_MM = 0.6                 # band to the top of the sockets' courtyards
MIN_BAND_HEIGHT_MM = 4.0
BAND_TARGET_INSET_MM = 0.5        # a track must end this far inside the band
BAND_TARGET_HALF_WIDTH_MM = 6.0   # stretch of band a pad may reach, either side of the pad

# Routing (mm). The grid and its clearance margins are in pcb.route.
GRID_MM = 0.1
SIGNAL_TRACK_MM = 0.2            # leaves a 0.65 mm pitch pin with room for its track and clearance
SIGNAL_CLEARANCE_MM = 0.15        # above the fab's 0.127 mm, room for the grid
MGMT_POWER_TRACK_MM = 0.5         # management parts' supply pins (tens of mA)
VIA_MARGIN_MM = 0.05             # vias this much above the fab's minimum drill and diameter
HOLE_CLEARANCE_MM = 0.5           # copper to unplated mounting holes

STITCH_PITCH_MM = 5.0             # ground stitching via grid below the band
PLANE_REACH_MM = 3.0              # a surface-mount ground pad's via into the B.Cu pour goes within this
STITCH_EDGE_MM = 3.0              # no stitching via nearer the board edge than this (the title runs along it)

# Placement (mm).
PART_GAP_MM = 1.5                 # courtyard to courtyard: room for a track and its clearances between parts
SOCKET_GAP_MM = 0.05              # cell part to socket courtyard: the socket's courtyard is ~1 mm beyond its pads
CELL_PART_GAP_MM = 1.0            # inside a slot cell: one signal track (0.25 + 2 x 0.2 mm) between courtyards,
                                  # which already keep 0.25 mm beyond the pads

# The management bus runs along the board as straight F.Cu lanes, one per net, in the corridor
# between the sockets' pads and the lower mounting holes; every cell and header joins its lanes.
LANE_NETS = ("+3V3", "MGMT_SDA", "MGMT_SCL", "MGMT_INT_N")
LANE_EDGE_INSET_MM = 1.0          # lanes end this far inside the copper-to-edge clearance
CELL_MARGIN_MM = 0.5
CELL_EDGE_MM = 0.1                # a cell's window inside its slot's pitch: copper keeps its own inset
TEMPLATE_ATTEMPTS = 12           # routing orders tried for a slot cell before it is given up
CELL_CHANNEL_MM = 1.3             # free along a cell's outer edges: tracks leave the outer pins there


def assign_nets(board, spec: "BoardSpec", footprints: dict) -> dict:
    """Add the netlist's nets to the board and join each listed pad to its net; returns the
    board's net items by name."""
    pcbnew = _pcbnew()
    nets = {}
    for name in sorted(spec.nets):
        info = pcbnew.NETINFO_ITEM(board, name)
        board.Add(info)
        nets[name] = info
        for ref, number in spec.nets[name]:
            for pad in footprints[ref].Pads():
                if pad.GetNumber() == str(number):
                    pad.SetNet(info)
    return nets


def meet_annular_ring(fp, ring_mm: float) -> None:
    """Grow a library footprint's plated mechanical pads (no pad number: a connector's mounting
    pegs, drawn with less ring than some fabs make) to the fab's minimum annular ring."""
    pcbnew = _pcbnew()
    for pad in fp.Pads():
        if pad.GetAttribute() != pcbnew.PAD_ATTRIB_PTH or not pad.HasHole() or pad.GetNumber():
            continue
        drill, size = pad.GetDrillSize(), pad.GetSize()
        need = pcbnew.VECTOR2I(max(size.x, drill.x + mm(2 * ring_mm)), max(size.y, drill.y + mm(2 * ring_mm)))
        if (need.x, need.y) != (size.x, size.y):
            pad.SetSize(need)


def _pcbnew():
    import pcbnew
    return pcbnew


def mm(value_mm: float) -> int:
    """KiCad internal units (nm) of a length in mm."""
    return _pcbnew().FromMM(value_mm)


def point(u_mm: float, v_mm: float):
    return _pcbnew().VECTOR2I(mm(u_mm), mm(v_mm))


@dataclass(frozen=True)
class Interval:
    lo_mm: float
    hi_mm: float

    @property
    def width_mm(self) -> float:
        return self.hi_mm - self.lo_mm


def free_intervals(span: Interval, blocked: list[Interval]) -> list[Interval]:
    """Parts of `span` not covered by any of `blocked` (all along one axis, mm)."""
    free: list[Interval] = []
    cursor = span.lo_mm
    for b in sorted(blocked, key=lambda i: i.lo_mm):
        if b.lo_mm > cursor:
            free.append(Interval(cursor, min(b.lo_mm, span.hi_mm)))
        cursor = max(cursor, b.hi_mm)
    if cursor < span.hi_mm:
        free.append(Interval(cursor, span.hi_mm))
    return [f for f in free if f.width_mm > 0]


def place_nearest(free: list[Interval], width_mm: float, target_mm: float) -> float | None:
    """Centre (mm) of a `width_mm` item inside one of `free`, as near to `target_mm` as possible."""
    best: float | None = None
    for f in free:
        if f.width_mm < width_mm:
            continue
        centre = min(max(target_mm, f.lo_mm + width_mm / 2), f.hi_mm - width_mm / 2)
        if best is None or abs(centre - target_mm) < abs(best - target_mm):
            best = centre
    return best


def apply_fab_rules(board, fab: dict) -> None:
    """Set the board's design-rule minimums from a fab house's rules (fabs.toml figures, mm)."""
    ds = board.GetDesignSettings()
    ds.m_TrackMinWidth = mm(fab["min_track_mm"])
    ds.m_MinClearance = mm(fab["min_clearance_mm"])
    ds.m_ViasMinSize = mm(fab["min_via_diameter_mm"])
    ds.m_ViasMinAnnularWidth = mm(fab["min_annular_ring_mm"])
    ds.m_MinThroughDrill = mm(fab["min_hole_mm"])
    ds.m_CopperEdgeClearance = mm(fab["min_copper_edge_clearance_mm"])
    ds.m_HoleToHoleMin = mm(fab["min_hole_to_hole_mm"])
    ds.m_MinSilkTextThickness = mm(fab["min_silk_width_mm"])
    ds.m_MinSilkTextHeight = mm(fab["min_silk_text_height_mm"])
    ds.SetBoardThickness(mm(fab["board_thickness_mm"]))
    ds.SetCopperLayerCount(2)
    board.SetCopperLayerCount(2)


def fab_rules_text(fab: dict) -> str:
    """KiCad custom rules for the fab limits that board settings cannot express."""
    return (
        "(version 1)\n"
        f"(rule \"fab: minimum via drill\"\n  (condition \"A.Type == 'Via'\")\n"
        f"  (constraint hole_size (min {fab['min_via_drill_mm']:g}mm)))\n"
        f"(rule \"fab: largest drill\"\n  (constraint hole_size (max {fab['max_hole_mm']:g}mm)))\n"
    )


def _load_footprint(fpid: str):
    pcbnew = _pcbnew()
    lib, name = fpid.split(":", 1)
    fp = pcbnew.FootprintLoad(str(netlist_mod.FOOTPRINT_DIR / f"{lib}.pretty"), name)
    if fp is None:
        raise ValueError(f"footprint {fpid} not found in {netlist_mod.FOOTPRINT_DIR}")
    fp.SetFPID(pcbnew.LIB_ID(lib, name))
    return fp


def _pad_centroid_mm(fp) -> tuple[float, float]:
    """Mean of the footprint's pad positions relative to its origin (mm), before placement."""
    pcbnew = _pcbnew()
    pads = list(fp.Pads())
    origin = fp.GetPosition()
    us = [pcbnew.ToMM(p.GetPosition().x - origin.x) for p in pads]
    vs = [pcbnew.ToMM(p.GetPosition().y - origin.y) for p in pads]
    return (sum(us) / len(us), sum(vs) / len(vs))


def _add_rect(board, layer, u0: float, v0: float, u1: float, v1: float, width_mm: float) -> None:
    pcbnew = _pcbnew()
    shape = pcbnew.PCB_SHAPE(board)
    shape.SetShape(pcbnew.SHAPE_T_RECT)
    shape.SetStart(point(u0, v0))
    shape.SetEnd(point(u1, v1))
    shape.SetLayer(layer)
    shape.SetWidth(mm(width_mm))
    board.Add(shape)


def _outline_mm(rects: list[place.Rect]) -> list[tuple[float, float]]:
    """The corners (board mm) of one rectangle, or of the single outline the rectangles join into."""
    if len(rects) == 1:
        r = rects[0]
        return [(r.u0, r.v0), (r.u1, r.v0), (r.u1, r.v1), (r.u0, r.v1)]
    pcbnew = _pcbnew()
    union = None
    for r in rects:
        one = pcbnew.SHAPE_POLY_SET()
        one.NewOutline()
        for u, v in ((r.u0, r.v0), (r.u1, r.v0), (r.u1, r.v1), (r.u0, r.v1)):
            one.Append(mm(u), mm(v))
        if union is None:
            union = one
        else:
            union.BooleanAdd(one)
    union.Simplify()
    if union.OutlineCount() != 1 or union.HoleCount(0):
        raise ValueError(f"the rectangles {rects} do not make one outline")
    ring = union.Outline(0)
    return [(pcbnew.ToMM(ring.CPoint(k).x), pcbnew.ToMM(ring.CPoint(k).y)) for k in range(ring.PointCount())]


def _add_zone(board, net, layer, rects: place.Rect | list[place.Rect], name: str, solid: bool = False,
              priority: int = 0) -> None:
    """A copper zone of `net` over `rects` (one rectangle, or several that join into one outline;
    board mm); `solid` joins pads fully (power), else through-hole pads by thermal spokes (easy to
    solder) and surface-mount pads fully; a higher `priority` fills first where zones overlap.
    Islands without a pad or via of the net are removed."""
    pcbnew = _pcbnew()
    zone = pcbnew.ZONE(board)
    zone.SetLayer(layer)
    zone.SetNet(net)
    zone.SetZoneName(name)
    outline = zone.Outline()
    outline.NewOutline()
    for u, v in _outline_mm(rects if isinstance(rects, list) else [rects]):
        outline.Append(mm(u), mm(v))
    zone.SetLocalClearance(mm(ZONE_CLEARANCE_MM))
    zone.SetMinThickness(mm(ZONE_MIN_WIDTH_MM))
    zone.SetPadConnection(pcbnew.ZONE_CONNECTION_FULL if solid else pcbnew.ZONE_CONNECTION_THT_THERMAL)
    zone.SetThermalReliefGap(mm(THERMAL_GAP_MM))
    zone.SetThermalReliefSpokeWidth(mm(THERMAL_SPOKE_MM))
    zone.SetIslandRemovalMode(pcbnew.ISLAND_REMOVAL_MODE_ALWAYS)
    if priority:
        zone.SetAssignedPriority(priority)
    board.Add(zone)


def _add_text(board, layer, text: str, u_mm: float, v_mm: float, mirrored: bool = False,
              size_mm: float = SILK_TEXT_MM):
    pcbnew = _pcbnew()
    item = pcbnew.PCB_TEXT(board)
    item.SetText(text)
    item.SetLayer(layer)
    item.SetTextSize(pcbnew.VECTOR2I(mm(size_mm), mm(size_mm)))
    item.SetTextThickness(mm(SILK_TEXT_LINE_MM))
    item.SetMirrored(mirrored)
    item.SetPosition(point(u_mm, v_mm))
    board.Add(item)
    return item


@dataclass(frozen=True)
class PartSpec:
    """One part of a board's netlist: reference, value, footprint ("Lib:Name") and group
    (``slot:<n>``, ``mgmt``, ``power_in``, ``mount``)."""

    ref: str
    value: str
    footprint: str
    group: str


@dataclass(frozen=True)
class BoardSpec:
    """What a board is made from: its parts, its nets (name -> ((ref, pad), ...)) and the pads
    that a slot's supply current passes through (an eFuse's input and output pins)."""

    parts: tuple[PartSpec, ...]
    nets: dict
    power_pads: frozenset = frozenset()


def infer_group(ref: str) -> str:
    """Group of a part of the slice-1 backplane netlist, which records none: J<n> are slot n's
    sockets, the input terminal is power_in, H<k> mounting holes."""
    if ref in TERMINAL_TARGETS:
        return GROUP_POWER_IN
    if ref.startswith("H"):
        return GROUP_MOUNT
    if ref.startswith("J") and ref[1:].isdigit():
        return f"{GROUP_SLOT}{int(ref[1:])}"
    return GROUP_MGMT


def spec_from_netlist(netlist_path: Path, part_facts=None, pass_through=None) -> BoardSpec:
    """The board spec of a netlist file; groups from the netlist stage's per-part facts when it
    records them (a list of {ref, group, ...}), else inferred from the references; power pads
    from its pass-through declarations ([{ref, in, out}], `pcb.parts.Builder.through`)."""
    parts, nets = netlist_mod.read_netlist(netlist_path)
    groups = {}
    if isinstance(part_facts, list):
        groups = {p["ref"]: p["group"] for p in part_facts if isinstance(p, dict) and "group" in p}
    specs = tuple(PartSpec(p.ref, p.value, p.footprint, groups.get(p.ref, infer_group(p.ref))) for p in parts)
    power = frozenset((d["ref"], str(pin)) for d in pass_through or () for pin in (*d["in"], *d["out"]))
    return BoardSpec(specs, {n.name: tuple(n.pins) for n in nets}, power)


def _natural(ref: str) -> tuple:
    head = ref.rstrip("0123456789")
    tail = ref[len(head):]
    return (head, int(tail) if tail else 0)


def slot_of(group: str) -> int | None:
    return int(group[len(GROUP_SLOT):]) if group.startswith(GROUP_SLOT) else None


def design_hash(design) -> str:
    """Short hash (8 hex digits) of the resolved design values: printed on the silkscreen so a
    board in hand can be matched with the parameters that made it."""
    blob = json.dumps(design.values, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def net_rules(design, fab: dict) -> dict:
    """Track rules per current class (mm): signal, slot supply and management supply.

    The slot supply width is IPC-2221's external-layer width for the slot current at the
    allowed rise (`pcb.copper`), rounded up to 0.05 mm."""
    from pcb import copper, pinout

    via_drill = fab["min_via_drill_mm"] + VIA_MARGIN_MM
    via_d = max(fab["min_via_diameter_mm"], via_drill + 2 * fab["min_annular_ring_mm"]) + VIA_MARGIN_MM
    clearance = max(fab["min_clearance_mm"], SIGNAL_CLEARANCE_MM)
    slot_w = copper.ipc2221_width_mm(pinout.slot_supply_current_a(design), copper.ALLOWED_RISE_K,
                                     fab["copper_oz"], external=True)
    slot_w = math.ceil(slot_w / 0.05) * 0.05
    return {
        "signal": route.NetRule(max(SIGNAL_TRACK_MM, fab["min_track_mm"]), clearance, via_d, via_drill),
        "slot_power": route.NetRule(max(slot_w, SIGNAL_TRACK_MM), clearance, via_d, via_drill),
        "mgmt_power": route.NetRule(MGMT_POWER_TRACK_MM, clearance, via_d, via_drill),
    }


def _footprint_box(fp) -> place.Rect:
    """The footprint's courtyard box (else its body box) relative to its origin, mm."""
    pcbnew = _pcbnew()
    fp.BuildCourtyardCaches()
    box = None
    for layer in (pcbnew.F_CrtYd, pcbnew.B_CrtYd):
        cy = fp.GetCourtyard(layer)
        if cy.OutlineCount():
            b = cy.BBox()
            box = (b.GetLeft(), b.GetTop(), b.GetRight(), b.GetBottom()) if box is None else \
                (min(box[0], b.GetLeft()), min(box[1], b.GetTop()), max(box[2], b.GetRight()), max(box[3], b.GetBottom()))
    if box is None:
        b = fp.GetBoundingBox(False)
        box = (b.GetLeft(), b.GetTop(), b.GetRight(), b.GetBottom())
    o = fp.GetPosition()
    return place.Rect(pcbnew.ToMM(box[0] - o.x), pcbnew.ToMM(box[1] - o.y),
                      pcbnew.ToMM(box[2] - o.x), pcbnew.ToMM(box[3] - o.y))


def _pad_terminal(pad, exclude=frozenset()) -> route.Terminal:
    """The routing terminal of a pad: cells within a quarter of its smaller size of its centre
    (always inside the copper, whatever the pad's shape). A pad in a row of fine-pitch pads of
    its own net (an eFuse's stacked input pins) stands for the row: the terminal is the row's
    middle, where a track as wide as the row's current needs clears the neighbouring pins."""
    pcbnew = _pcbnew()
    row = _same_net_row(pad, exclude)
    boxes = [p.GetBoundingBox() for p in row]
    u0, v0 = min(pcbnew.ToMM(b.GetLeft()) for b in boxes), min(pcbnew.ToMM(b.GetTop()) for b in boxes)
    u1, v1 = max(pcbnew.ToMM(b.GetRight()) for b in boxes), max(pcbnew.ToMM(b.GetBottom()) for b in boxes)
    half = min(u1 - u0, v1 - v0) / 4
    layers = tuple(layer for layer, kic in ((route.F_LAYER, pcbnew.F_Cu), (route.B_LAYER, pcbnew.B_Cu))
                   if pad.IsOnLayer(kic))
    return route.Terminal((u0 + u1) / 2, (v0 + v1) / 2, half, half, layers)


ROW_PITCH_MM = 1.0  # pads of one net closer than this (centre to centre) form a row


def _same_net_row(pad, exclude=frozenset()) -> list:
    """The pad and every pad of its footprint and net chained to it at less than ROW_PITCH_MM;
    `exclude` ((ref, number) pairs) never joins a row, nor makes one."""
    pcbnew = _pcbnew()
    net = pad.GetNetname()
    ref = pad.GetParentFootprint().GetReference()
    if not net or (ref, pad.GetNumber()) in exclude:
        return [pad]
    mates = [p for p in pad.GetParentFootprint().Pads() if p.GetNetname() == net and p.IsOnLayer(pcbnew.F_Cu)
             == pad.IsOnLayer(pcbnew.F_Cu) and (ref, p.GetNumber()) not in exclude]
    row, frontier = [pad], [pad]
    while frontier:
        a = frontier.pop()
        for b in mates:
            if b not in row and pcbnew.ToMM((a.GetPosition() - b.GetPosition()).EuclideanNorm()) < ROW_PITCH_MM:
                row.append(b)
                frontier.append(b)
    return row


def _mark_pad(grid: route.Grid, pad, net_id: int, via_keepout_mm: float = 0.0) -> None:
    """Mark a pad's copper for its net on its layers; an unplated hole blocks both layers; no
    via centre within `via_keepout_mm` of any drilled hole's edge (the fab's hole-to-hole
    distance plus half a via drill)."""
    pcbnew = _pcbnew()
    for layer, kic in ((route.F_LAYER, pcbnew.F_Cu), (route.B_LAYER, pcbnew.B_Cu)):
        if pad.IsOnLayer(kic):
            bb = pad.GetBoundingBox()
            grid.mark_box(net_id, (layer,), pcbnew.ToMM(bb.GetLeft()), pcbnew.ToMM(bb.GetTop()),
                          pcbnew.ToMM(bb.GetRight()), pcbnew.ToMM(bb.GetBottom()))
    if pad.GetAttribute() == pcbnew.PAD_ATTRIB_NPTH or pad.HasHole():
        pos = pad.GetPosition()
        r = pcbnew.ToMM(max(pad.GetDrillSize().x, pad.GetDrillSize().y)) / 2
        if pad.GetAttribute() == pcbnew.PAD_ATTRIB_NPTH:
            grid.mark_disc(route.BLOCKED, (route.F_LAYER, route.B_LAYER), pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y),
                           r + HOLE_CLEARANCE_MM)
        if via_keepout_mm > 0:
            grid.block_vias(pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y), r + via_keepout_mm)


def via_keepout_mm(fab: dict, rule: route.NetRule) -> float:
    """How far (mm) a via's centre keeps from a drilled hole's edge: the fab's hole-to-hole
    distance plus half the via drill."""
    return fab["min_hole_to_hole_mm"] + rule.via_drill_mm / 2


@dataclass
class Plan:
    """Where things went on the backplane (board mm): the facts the stages report."""

    band: place.Rect
    cells: dict = field(default_factory=dict)       # slot index -> Rect
    lanes_v: dict = field(default_factory=dict)     # bus net -> v (mm) of its lane
    routed_nets: int = 0
    template_nets: int = 0
    segments: int = 0
    vias: int = 0
    stitching_vias: int = 0


def build_board(design, layout, netlist_path: Path, workdir: Path, spec: BoardSpec | None = None,
                part_facts=None, chained: bool = False, pass_through=None) -> Path:
    """Make `workdir/backplane.kicad_pcb` (with its .kicad_pro and .kicad_dru), placed and routed.
    `layout` is the board's (`Layout.module_board()`); `chained` marks a module of a split
    backplane, whose sockets are labelled by position (A, B, ...) as every module is the same board.

    `spec` overrides the netlist file (tests use it for synthetic netlists). Raises ValueError
    when parts find no room and route.RouteError when a net cannot be routed.
    """
    pcbnew = _pcbnew()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    board_path = workdir / BOARD_FILE
    for stale in workdir.glob("backplane.kicad_p*"):
        stale.unlink()
    spec = spec or spec_from_netlist(netlist_path, part_facts, pass_through)
    fab = catalogue.fab(design["pcb.fab"])
    width_mm, height_mm = coords.board_size_mm(layout)
    rules = net_rules(design, fab)

    # library footprints first: parsing a library the first time in a process draws UUIDs, a
    # cached one does not, so the seeded UUIDs of the board start after every load
    templates = {fpid: _load_footprint(fpid) for fpid in sorted({p.footprint for p in spec.parts})}
    pcbnew.KIID.SeedGenerator(UUID_SEED)
    board = pcbnew.NewBoard(str(board_path))
    apply_fab_rules(board, fab)
    _add_rect(board, pcbnew.Edge_Cuts, 0.0, 0.0, width_mm, height_mm, EDGE_LINE_WIDTH_MM)

    footprints = {}
    part_by_ref = {p.ref: p for p in spec.parts}
    for part in sorted(spec.parts, key=lambda p: _natural(p.ref)):
        fp = templates[part.footprint].Duplicate()
        fp.SetReference(part.ref)
        fp.SetValue(part.value)
        board.Add(fp)
        footprints[part.ref] = fp

    nets = assign_nets(board, spec, footprints)
    for fp in footprints.values():
        meet_annular_ring(fp, fab["min_annular_ring_mm"])
    # a rear terminal's plated pegs sit in the power band: on its net they carry current rather
    # than cut the pour
    for ref in TERMINAL_TARGETS:
        if ref in footprints and BAND_NET_F in nets:
            for pad in footprints[ref].Pads():
                if pad.GetAttribute() == pcbnew.PAD_ATTRIB_PTH and not pad.GetNetname():
                    pad.SetNet(nets[BAND_NET_F])

    plan = _place(design, layout, board, spec, footprints, fab, rules)
    routed = _route(layout, board, spec, footprints, part_by_ref, plan, rules, fab)
    for seg in routed.segments:
        _add_track(board, nets[seg.net], seg)
    for via in routed.vias:
        _add_via(board, nets[via.net], via)
    plan.segments, plan.vias = len(routed.segments), len(routed.vias)

    if BAND_NET_F in nets:
        _add_zone(board, nets[BAND_NET_F], pcbnew.F_Cu, plan.band, BAND_NET_F, solid=True)
    if BAND_NET_B in nets:
        _add_zone(board, nets[BAND_NET_B], pcbnew.B_Cu, place.Rect(0.0, 0.0, width_mm, height_mm), BAND_NET_B,
                  solid=True)
        # F.Cu below the band: a ground pour (thermal spokes to pads), stitched to the plane
        _add_zone(board, nets[BAND_NET_B], pcbnew.F_Cu,
                  place.Rect(0.0, plan.band.v1 + ZONE_CLEARANCE_MM, width_mm, height_mm), "GND front")
    _add_board_labels(design, layout, board, plan, fab, chained)
    pcbnew.SaveBoard(str(board_path), board)
    board_path.with_suffix(RULES_SUFFIX).write_text(fab_rules_text(fab))
    fill_zones(board_path)  # saving the filled board rewrites the project: its rules go in after
    write_project(board_path, fab, rules)
    (workdir / PLAN_FILE).write_text(json.dumps(_plan_facts(plan), indent=1, sort_keys=True) + "\n")
    return board_path


def _plan_facts(plan: Plan) -> dict:
    r = lambda x: round(x, 4)  # noqa: E731
    return {
        "power_band_mm": [r(plan.band.u0), r(plan.band.v0), r(plan.band.u1), r(plan.band.v1)],
        "cells_mm": {str(k): [r(c.u0), r(c.v0), r(c.u1), r(c.v1)] for k, c in sorted(plan.cells.items())},
        "bus_lanes_v_mm": {net: r(v) for net, v in sorted(plan.lanes_v.items())},
        "routed_nets": plan.routed_nets,
        "template_nets": plan.template_nets,
        "segments": plan.segments,
        "vias": plan.vias,
        "stitching_vias": plan.stitching_vias,
    }


def _place(design, layout, board, spec: BoardSpec, footprints: dict, fab: dict, rules: dict) -> Plan:
    """Holes and sockets at Layout's numbers; the power band above the sockets; the bus lanes'
    corridor below them; each slot's parts in one cell template either side of its socket,
    repeated identically; the rear terminals in the band; the bus headers and jumpers in the strip
    below the corridor."""
    pcbnew = _pcbnew()
    width_mm, height_mm = coords.board_size_mm(layout)
    edge = fab["min_copper_edge_clearance_mm"]
    for k, (x, z) in enumerate(layout.backplane_holes_xz_mm, start=1):
        hole = footprints[netlist_mod.hole_ref(k)]
        hole.SetPosition(point(*coords.board_uv_mm(layout, x, z)))
        hole.Reference().SetVisible(False)
    socket_boxes = {}
    for slot in layout.slots:
        fp = footprints[netlist_mod.slot_ref(slot.index)]
        du, dv = _pad_centroid_mm(fp)
        u, v = coords.slot_connector_uv_mm(layout, slot)
        fp.SetPosition(point(u - du, v - dv))
        fp.Reference().SetVisible(False)
        socket_boxes[slot.index] = _footprint_box(fp).shifted(u - du, v - dv)
    top_socket_v = min(b.v0 for b in socket_boxes.values())
    band = place.Rect(0.0, edge + BAND_EDGE_INSET_MM, width_mm, top_socket_v - BAND_GAP_MM)
    if band.height_mm < MIN_BAND_HEIGHT_MM:
        raise ValueError(f"the power band above the slot sockets is {band.height_mm:.1f} mm high, less than "
                         f"{MIN_BAND_HEIGHT_MM} mm: grow frame.toml chassis.backplane_height_mm")
    plan = Plan(band=band)
    hole_r = layout.backplane_hole_d_mm / 2 + HOLE_CLEARANCE_MM
    hole_uvs = [coords.board_uv_mm(layout, x, z) for x, z in layout.backplane_holes_xz_mm]
    hole_keepouts = [place.Rect(u - hole_r, v - hole_r, u + hole_r, v + hole_r) for u, v in hole_uvs]

    # --- the bus corridor: lanes below the sockets' pads, above the lower holes ------------------
    lane_nets = [n for n in LANE_NETS if n in spec.nets]
    signal = rules["signal"]
    pads_bottom = max(pcbnew.ToMM(pad.GetBoundingBox().GetBottom())
                      for slot in layout.slots for pad in footprints[netlist_mod.slot_ref(slot.index)].Pads())
    socket_mid_v = (socket_boxes[layout.slots[0].index].v0 + socket_boxes[layout.slots[0].index].v1) / 2
    lower_holes = [v - hole_r for _, v in hole_uvs if v > socket_mid_v]
    corridor_floor = min(lower_holes, default=height_mm - edge)
    # a via may land on any lane between its neighbours: a track from above crosses the upper
    # lanes on B.Cu
    lane_pitch = signal.via_diameter_mm / 2 + signal.clearance_mm + signal.track_mm / 2 + 2 * GRID_MM
    first_v = pads_bottom + signal.clearance_mm + signal.track_mm / 2 + 2 * GRID_MM
    for k, net in enumerate(lane_nets):
        plan.lanes_v[net] = round(first_v + k * lane_pitch, 1)
    corridor_v1 = (max(plan.lanes_v.values()) + signal.track_mm / 2 + signal.clearance_mm) if lane_nets \
        else pads_bottom
    if corridor_v1 > corridor_floor:
        raise ValueError(f"the management bus needs {len(lane_nets)} lanes ({corridor_v1 - pads_bottom:.2f} mm) between "
                         f"the sockets' pads (v {pads_bottom:.2f} mm) and the lower mounting holes' keep-out "
                         f"(v {corridor_floor:.2f} mm): the sockets sit too low on the board")

    # --- slot cells: one template from the first slot, copied at every slot's socket ----------
    by_slot: dict[int, list[PartSpec]] = {}
    for p in spec.parts:
        n = slot_of(p.group)
        if n is not None and p.ref != netlist_mod.slot_ref(n):
            by_slot.setdefault(n, []).append(p)
    first = layout.slots[0]
    s0 = socket_boxes[first.index]
    pitch = layout.pitch_mm
    body_v1 = height_mm - edge - CELL_MARGIN_MM
    # keep-outs every cell must respect: the holes that may sit at either side of any slot
    s0_mid = coords.slot_connector_uv_mm(layout, first)[0]
    cell_keepouts = [s0] + [place.Rect(u - hole_r, v - hole_r, u + hole_r, v + hole_r)
                            for u, v in _flanking_holes_uv(layout)]
    cell_parts = sorted(by_slot.get(first.index, []), key=lambda p: (_natural(p.ref)))
    signature = [(p.footprint, p.value) for p in cell_parts]
    for slot in layout.slots[1:]:
        theirs = sorted(by_slot.get(slot.index, []), key=lambda p: _natural(p.ref))
        if [p.footprint for p in theirs] != [f for f, _ in signature]:
            raise ValueError(f"slot {slot.index}'s parts differ from slot {first.index}'s: the slot cell "
                             "must be identical in every slot")
    # the cell's columns: either side of the socket, within the slot's pitch, down to the corridor
    cell_v0 = band.v1 + PART_GAP_MM
    # (above the lanes a row of vias: a track from a cell crosses the upper lanes on B.Cu)
    cell_v1 = (min(plan.lanes_v.values()) - signal.track_mm / 2 - 2 * signal.clearance_mm - signal.via_diameter_mm
               - 2 * GRID_MM) if lane_nets else body_v1
    window_u0, window_u1 = s0_mid - pitch / 2 + CELL_EDGE_MM, s0_mid + pitch / 2 - CELL_EDGE_MM
    # (a part's courtyard may meet the socket's, whose own margin leaves a routing channel between
    # their pads; the cell keeps the routing channel at its outer edge)
    columns = [place.Rect(s0.u1 + SOCKET_GAP_MM, cell_v0, window_u1 - CELL_CHANNEL_MM, cell_v1),
               place.Rect(window_u0 + CELL_CHANNEL_MM, cell_v0, s0.u0 - SOCKET_GAP_MM, cell_v1)]
    offsets: dict[str, tuple[float, float]] = {}
    if cell_parts:
        socket_fp = footprints[netlist_mod.slot_ref(first.index)]
        offsets = _place_cell(cell_parts, footprints, columns, cell_keepouts, socket_fp,
                              {BAND_NET_B} | set(lane_nets), plan.lanes_v)
    cell_bottom = corridor_v1 if lane_nets else body_v1
    for slot in layout.slots:
        du = socket_boxes[slot.index].u0 - s0.u0
        theirs = sorted(by_slot.get(slot.index, []), key=lambda p: _natural(p.ref))
        for mine, part in zip(cell_parts, theirs):
            u, v = offsets[mine.ref]
            footprints[part.ref].SetOrientation(footprints[mine.ref].GetOrientation())
            footprints[part.ref].SetPosition(point(u + du, v))
            footprints[part.ref].Reference().SetVisible(False)  # packed tight: references in the placement file
        plan.cells[slot.index] = place.Rect(window_u0 + du, band.v1, window_u1 + du, cell_bottom)

    # --- rear terminals in the band; bus headers and jumpers in the strip below the corridor ----
    others = [p for p in spec.parts if p.group in (GROUP_MGMT, GROUP_POWER_IN)]
    terminal_spots: list[place.Rect] = []
    for ref, fraction in TERMINAL_TARGETS.items():
        terminal = footprints.get(ref)
        if terminal is None:
            continue
        # on the rear, in the band: only the holes and the other terminals are in its way
        spot = _place_rear_terminal(terminal, band, hole_keepouts + terminal_spots, width_mm, height_mm, edge,
                                    fraction * width_mm)
        terminal_spots.append(spot)
        terminal.Reference().SetVisible(False)  # the title beside it names the board
        others = [p for p in others if p.ref != ref]
    if others:
        strip = place.Rect(edge + CELL_MARGIN_MM, cell_bottom + PART_GAP_MM, width_mm - edge - CELL_MARGIN_MM, body_v1)
        items = []
        # the master jumpers first: the first slot's I2C reaches them inside its own stretch of board
        for p in sorted(others, key=lambda p: (not p.ref.startswith("JP"), _natural(p.ref))):
            fp = footprints[p.ref]
            box = _footprint_box(fp)
            if box.height_mm > strip.height_mm >= box.width_mm:
                fp.SetOrientationDegrees(90)  # a header lies along the strip
                box = _footprint_box(fp)
            items.append(place.Item(p.ref, box))
        items_by = {i.key: i for i in items}
        hole_boxes = [_footprint_box(footprints[netlist_mod.hole_ref(k)]).shifted(u, v)
                      for k, (u, v) in enumerate(hole_uvs, start=1)]
        first_cell = plan.cells[first.index]
        near_first = place.Rect(max(strip.u0, first_cell.u0 + CELL_CHANNEL_MM), strip.v0,
                                min(strip.u1, first_cell.u1 - CELL_CHANNEL_MM), strip.v1)
        try:
            spots = place.pack([i for i in items if i.key.startswith("JP")], [near_first, strip],
                               hole_keepouts + hole_boxes, PART_GAP_MM)
            taken = [items_by[k].box.shifted(*spot) for k, spot in spots.items()] if spots else []
            spots.update(place.pack([i for i in items if not i.key.startswith("JP")], [strip],
                                    hole_keepouts + hole_boxes + [r.grown(PART_GAP_MM) for r in taken], PART_GAP_MM))
        except ValueError as exc:
            raise ValueError(f"the bus headers and jumpers do not fit the {strip.height_mm:.1f} mm strip below the "
                             f"bus lanes: {exc}") from None
        for ref, (u, v) in spots.items():
            footprints[ref].SetPosition(point(u, v))
            footprints[ref].Reference().SetVisible(False)
    return plan


def _flanking_holes_uv(layout) -> list[tuple[float, float]]:
    """Board (u, v) mm of the holes that may flank any slot: at the first slot's two pitch
    boundaries, at every height a backplane hole has. The slot cell is made for the first slot
    and copied, so it keeps clear of all of them."""
    s0_mid = coords.slot_connector_uv_mm(layout, layout.slots[0])[0]
    hole_vs = sorted({round(coords.board_uv_mm(layout, x, z)[1], 4) for x, z in layout.backplane_holes_xz_mm})
    return [(s0_mid + side * layout.pitch_mm, v) for side in (-0.5, 0.5) for v in hole_vs]


def _place_cell(cell_parts: list[PartSpec], footprints: dict, columns: list[place.Rect], keepouts: list[place.Rect],
                socket_fp, rail_nets: set, lanes_v: dict) -> dict[str, tuple[float, float]]:
    """Place the first slot's cell parts in `columns`, largest first, each where its pads land
    nearest the pads already placed on the same nets (the socket's first): wire length in the
    cell is what decides whether it routes; a bus pin looks to its lane (`lanes_v`). Parts may
    turn in steps of 90 degrees. Ground does not pull: it is reached from anywhere. Returns ref -> origin
    and leaves every footprint turned as chosen."""
    pcbnew = _pcbnew()

    def pads_rel(fp) -> list[tuple[str, float, float]]:
        o = fp.GetPosition()
        return [(p.GetNetname(), pcbnew.ToMM(p.GetPosition().x - o.x), pcbnew.ToMM(p.GetPosition().y - o.y))
                for p in fp.Pads() if p.GetNetname() and (p.GetNetname() not in rail_nets or p.GetNetname() in lanes_v)]

    placed_pads: dict[str, list[tuple[float, float]]] = {}
    for net, du, dv in pads_rel(socket_fp):
        o = socket_fp.GetPosition()
        placed_pads.setdefault(net, []).append((pcbnew.ToMM(o.x) + du, pcbnew.ToMM(o.y) + dv))
    options: dict[str, list[tuple[place.Item, float, list]]] = {}
    for part in cell_parts:
        fp = footprints[part.ref]
        turns = (0.0, 90.0) if len(list(fp.Pads())) == 2 else (0.0, 90.0, 180.0, 270.0)
        options[part.ref] = []
        for degrees in turns:
            fp.SetOrientationDegrees(degrees)
            options[part.ref].append((place.Item(part.ref, _footprint_box(fp)), degrees, pads_rel(fp)))
        fp.SetOrientationDegrees(0.0)
    order = sorted(cell_parts, key=lambda p: (-options[p.ref][0][0].box.width_mm * options[p.ref][0][0].box.height_mm,
                                              _natural(p.ref)))
    occupied = list(keepouts)
    out: dict[str, tuple[float, float]] = {}
    for part in order:
        by_box = {id(item): (degrees, pads) for item, degrees, pads in options[part.ref]}

        def cost(item, spot, by_box=by_box):
            total = 0.0
            for net, du, dv in by_box[id(item)][1]:
                if net in lanes_v:
                    total += abs(spot[1] + dv - lanes_v[net])  # a bus pin looks down to its lane
                    continue
                others = placed_pads.get(net)
                if others:
                    u, v = spot[0] + du, spot[1] + dv
                    total += min(math.hypot(u - a, v - b) for a, b in others)
            return total

        if part is order[0]:
            # the largest part (the eFuse) takes the top of the first column as drawn: its
            # control pins face the socket's channel, its output the top
            item = options[part.ref][0][0]
            spot = place.pack([item], columns[:1], occupied, CELL_PART_GAP_MM)[part.ref]
            chosen = {part.ref: (item, spot)}
            occupied.append(item.box.shifted(*spot).grown(CELL_PART_GAP_MM))
        else:
            chosen = place.best_fit([tuple(item for item, _, _ in options[part.ref])], columns, occupied,
                                    CELL_PART_GAP_MM, cost, step_mm=0.5)
        item, spot = chosen[part.ref]
        degrees, pads = by_box[id(item)]
        footprints[part.ref].SetOrientationDegrees(degrees)
        out[part.ref] = spot
        for net, du, dv in pads:
            placed_pads.setdefault(net, []).append((spot[0] + du, spot[1] + dv))
    return out


def _place_rear_terminal(terminal, band: place.Rect, keepouts: list, width_mm: float, height_mm: float,
                         edge_mm: float, target_u_mm: float) -> place.Rect:
    """Put a power terminal on the rear (B.Cu) side with its pins in the power band and its body
    no lower than the band (below it the sockets' pins come through), at the free spot nearest
    target_u_mm (0.5 mm steps) clear of the keep-outs. A body taller than the band reaches past
    the board's top edge, its mating face up: of the turns that keep the pins in the band, one
    with the pins side by side, then the one that reaches out least. Returns its courtyard box."""
    pcbnew = _pcbnew()
    terminal.SetPosition(point(0, 0))
    terminal.Flip(terminal.GetPosition(), pcbnew.FLIP_DIRECTION_LEFT_RIGHT)
    margin = BAND_TARGET_INSET_MM
    best = None
    for degrees in (0.0, 180.0, 90.0, 270.0):
        terminal.SetOrientationDegrees(degrees)
        tbox = _footprint_box(terminal)
        boxes = [p.GetBoundingBox() for p in terminal.Pads()]
        pad_v0, pad_v1 = min(pcbnew.ToMM(b.GetTop()) for b in boxes), max(pcbnew.ToMM(b.GetBottom()) for b in boxes)
        dv = min(band.v1 - margin - pad_v1, band.v1 - tbox.v1)  # as low as the band allows
        dv = min(dv, max(dv, band.v0 - tbox.v0))                 # but no higher than needed
        if pad_v0 + dv < band.v0 + margin:
            continue
        overhang = max(0.0, -(tbox.v0 + dv))
        # pins side by side along the band leave it most of its height (the return pin is a hole
        # in the 12 V pour); then the least overhang
        pad_us = [pcbnew.ToMM(b.GetCenter().x) for b in boxes]
        pad_vs = [pcbnew.ToMM(b.GetCenter().y) for b in boxes]
        across = (max(pad_vs) - min(pad_vs)) > (max(pad_us) - min(pad_us))
        if best is None or (across, overhang) < (best[0], best[1] - 1e-9):
            best = (across, overhang, degrees, tbox, dv)
    if best is None:
        raise ValueError(f"{terminal.GetReference()}'s pins do not fit the {band.height_mm:.1f} mm power band")
    _, _, degrees, tbox, dv = best
    terminal.SetOrientationDegrees(degrees)
    for i in range(int(width_mm / 0.5) + 1):
        for sign in (1, -1):
            u = target_u_mm + sign * i * 0.5
            cand = tbox.shifted(u - (tbox.u0 + tbox.u1) / 2, dv)
            if edge_mm <= cand.u0 and cand.u1 <= width_mm - edge_mm and \
                    not any(cand.overlaps(k.grown(PART_GAP_MM)) for k in keepouts):
                terminal.SetPosition(point(cand.u0 - tbox.u0, dv))
                board_box = place.Rect(0.0, 0.0, width_mm, height_mm)
                for item in list(terminal.GraphicalItems()):  # silk past the board's edge is not printed
                    bb = item.GetBoundingBox()
                    drawn = place.Rect(pcbnew.ToMM(bb.GetLeft()), pcbnew.ToMM(bb.GetTop()),
                                       pcbnew.ToMM(bb.GetRight()), pcbnew.ToMM(bb.GetBottom()))
                    if item.GetLayer() in (pcbnew.F_SilkS, pcbnew.B_SilkS) and not board_box.contains(drawn):
                        terminal.Remove(item)
                return cand
    raise ValueError(f"no room for {terminal.GetReference()} in the power band")


def _route(layout, board, spec: BoardSpec, footprints: dict, part_by_ref: dict, plan: Plan, rules: dict,
           fab: dict) -> route.Routed:
    """Route every net: the bus lanes; the first slot's cell once, copied to every slot; each
    slot's address straps; then the rest."""
    pcbnew = _pcbnew()
    width_mm, height_mm = coords.board_size_mm(layout)
    grid = route.Grid(0.0, 0.0, width_mm, height_mm, GRID_MM)
    edge = fab["min_copper_edge_clearance_mm"]
    grid.block_outside(edge, edge, width_mm - edge, height_mm - edge)
    band = plan.band
    pads_of: dict[str, list] = {}
    for ref in sorted(footprints, key=_natural):
        for pad in footprints[ref].Pads():
            net = pad.GetNetname()
            key = net if net else f"__nc_{ref}_{pad.GetNumber()}"
            _mark_pad(grid, pad, grid.net_id(key), via_keepout_mm(fab, rules["signal"]))
            if net:
                pads_of.setdefault(net, []).append((ref, pad))

    def mark_band():
        """The band's pours, after the pads (a pad of the other rail in the band, the input's
        ground pin, keeps its net on the grid) and the template's stand-ins."""
        for net, layer in ((BAND_NET_F, route.F_LAYER), (BAND_NET_B, route.B_LAYER)):
            if net in spec.nets:
                grid.mark_box(grid.net_id(net), (layer,), band.u0, band.v0, band.u1, band.v1, grow_mm=0.0)
    first = layout.slots[0].index
    # the holes that may sit at either side of any slot keep the template's copper out, as in placement
    hole_r = layout.backplane_hole_d_mm / 2 + HOLE_CLEARANCE_MM
    # (a stand-in net while the template is routed: where no hole is, the copies may use the place)
    phantom = grid.net_id("__hole_of_some_slot")
    phantom_boxes = []
    for u, v in _flanking_holes_uv(layout):
        if hole_r <= u <= width_mm - hole_r:
            grid.mark_disc(phantom, (route.F_LAYER, route.B_LAYER), u, v, hole_r)
            phantom_boxes.append((u - hole_r, v - hole_r, u + hole_r, v + hole_r))
    # so do a rear terminal's pins of the other rail (its ground pin in the band), wherever they
    # fall relative to any slot: a copy of the cell must not end its band tracks in one
    slot_us = [coords.slot_connector_uv_mm(layout, s)[0] for s in layout.slots]
    for ref in TERMINAL_TARGETS:
        for pad in (footprints[ref].Pads() if ref in footprints else ()):
            if not pad.GetNetname() or pad.GetNetname() == BAND_NET_F:
                continue
            bb = pad.GetBoundingBox()
            u0, v0, u1, v1 = (pcbnew.ToMM(c) for c in (bb.GetLeft(), bb.GetTop(), bb.GetRight(), bb.GetBottom()))
            for us in slot_us:
                du = slot_us[0] - us
                if abs((u0 + u1) / 2 - us) <= layout.pitch_mm and 0.0 <= u0 + du and u1 + du <= width_mm:
                    grid.mark_box(phantom, (route.F_LAYER,), u0 + du, v0, u1 + du, v1)
                    phantom_boxes.append((u0 + du, v0, u1 + du, v1))
    mark_band()

    def rule_for(net: str, ref: str | None = None, pad=None) -> route.NetRule:
        """Slot power where a slot's current flows (its socket's supply and return pins, the
        pads its supply passes through), management power width for other rail pads (signal
        width where the pad is narrower than that), else signal."""
        if net in BAND_NETS:
            number = pad.GetNumber() if pad is not None else ""
            if _is_slot_supply(ref, number, part_by_ref) or (ref, number) in spec.power_pads:
                return rules["slot_power"]
            if net == BAND_NET_F and slot_of(part_by_ref[ref].group) is not None:
                return rules["signal"]  # a cell's 12 V pad that no slot current passes (a divider)
            bb = pad.GetBoundingBox() if pad is not None else None
            if bb is not None and pcbnew.ToMM(min(bb.GetWidth(), bb.GetHeight())) < rules["mgmt_power"].track_mm:
                return rules["signal"]
            return rules["mgmt_power"]
        if any(_is_slot_supply(r, p.GetNumber(), part_by_ref) for r, p in pads_of[net]):
            return rules["slot_power"]
        return rules["signal"]

    def band_terminal(net: str, pad) -> route.Terminal:
        """The stretch of the power band facing a pad: where its rail's pour is solid."""
        u = pcbnew.ToMM(pad.GetPosition().x)
        inset = BAND_TARGET_INSET_MM
        half_u = BAND_TARGET_HALF_WIDTH_MM
        u = min(max(u, band.u0 + half_u + inset), band.u1 - half_u - inset)
        return route.Terminal(u, band.centre[1], half_u, band.height_mm / 2 - inset,
                              (BAND_NETS[net],))

    def rail_terminal(net: str, pad) -> route.Terminal:
        """Where a rail pad joins its rail: a surface-mount ground pad drops a via into the B.Cu
        ground pour within PLANE_REACH_MM; every other rail pad reaches the band."""
        if net == BAND_NET_B and not pad.IsOnLayer(pcbnew.B_Cu):
            return plane_drop(pad)
        return band_terminal(net, pad)

    def plane_drop(pad) -> route.Terminal:
        """B.Cu within PLANE_REACH_MM of a surface-mount pad: reached, the route drops a via there."""
        t = _pad_terminal(pad, every_strap)
        return route.Terminal(t.u_mm, t.v_mm, PLANE_REACH_MM, PLANE_REACH_MM, (route.B_LAYER,))

    def lane_terminal(net: str, pad) -> route.Terminal:
        """The stretch of a bus net's lane below a pad."""
        u = min(max(pcbnew.ToMM(pad.GetPosition().x), lane_u0 + BAND_TARGET_HALF_WIDTH_MM),
                lane_u1 - BAND_TARGET_HALF_WIDTH_MM)
        return route.Terminal(u, plan.lanes_v[net], BAND_TARGET_HALF_WIDTH_MM, GRID_MM, (route.F_LAYER,))

    def join(net: str, ref: str, pad, window=None) -> route.Routed:
        """Route one pad to its rail, or to its lane (or the net's copper already there)."""
        target = lane_terminal(net, pad) if net in plan.lanes_v else rail_terminal(net, pad)
        return _route_net(grid, net, [_pad_terminal(pad, every_strap), target], rule_for(net, ref, pad),
                          join_existing=True, window_mm=window)

    total = route.Routed()
    # 0. the bus lanes, edge to edge
    lane_u0, lane_u1 = edge + LANE_EDGE_INSET_MM, width_mm - edge - LANE_EDGE_INSET_MM
    lanes = route.Routed([route.Segment(net, route.F_LAYER, lane_u0, v, lane_u1, v, rules["signal"].track_mm)
                          for net, v in sorted(plan.lanes_v.items(), key=lambda kv: kv[1])])
    grid.add_routed(lanes)
    total.segments += lanes.segments

    group_of = {ref: part_by_ref[ref].group for ref in part_by_ref}
    template_refs = {ref for ref, g in group_of.items() if slot_of(g) == first}
    ref_map = _slot_ref_maps(spec, layout)
    shared = set(BAND_NETS) | set(plan.lanes_v)
    straps = _strap_pads(spec, ref_map, shared)
    every_strap = frozenset((ref_map[s.index].get(mine, mine), number) for s in layout.slots for mine, number in straps)
    done_nets: set[str] = set()
    # rows of fine-pitch pads of one net (an eFuse's stacked pins) are joined along the row first
    bridges = route.Routed()
    for ref in sorted(footprints, key=_natural):
        seen = set()
        for pad in footprints[ref].Pads():
            row = _same_net_row(pad, every_strap)
            key = frozenset(p.GetNumber() for p in row)
            if len(row) < 2 or key in seen or pad.HasHole():
                continue
            seen.add(key)
            # as wide as the row's current needs (within the pads' length), its round ends kept
            # inside the end pads
            pts = sorted((pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y)) for p in row)
            short = min(min(pcbnew.ToMM(p.GetSize().x), pcbnew.ToMM(p.GetSize().y)) for p in row)
            long = min(max(pcbnew.ToMM(p.GetSize().x), pcbnew.ToMM(p.GetSize().y)) for p in row)
            width = min(max(rule_for(pad.GetNetname(), ref, pad).track_mm, short), long)
            (u0, v0), (u1, v1) = pts[0], pts[-1]
            length = math.hypot(u1 - u0, v1 - v0)
            inset = min(max(0.0, (width - short) / 2), length / 2)
            du, dv = (u1 - u0) / length * inset, (v1 - v0) / length * inset
            bridges.segments.append(route.Segment(pad.GetNetname(), route.F_LAYER, round(u0 + du, 4), round(v0 + dv, 4),
                                                  round(u1 - du, 4), round(v1 - dv, 4), round(width, 4)))
    grid.add_routed(bridges, anchors=False)  # a row is not yet joined to anything
    total.segments += bridges.segments

    # 1. the template: rail and lane connections and nets wholly inside slot 1's cell; the address
    # straps count as foreign pads meanwhile, whose net the template's copper must not touch
    strap_cells = []
    for ref, number in sorted(straps):
        pad = footprints[ref].FindPadByNumber(number)
        bb = pad.GetBoundingBox()
        box = (pcbnew.ToMM(bb.GetLeft()), pcbnew.ToMM(bb.GetTop()), pcbnew.ToMM(bb.GetRight()), pcbnew.ToMM(bb.GetBottom()))
        real, stand_in = grid.net_id(pad.GetNetname()), grid.net_id(_strap_net(ref, number))
        grid.relabel_box(real, stand_in, (route.F_LAYER, route.B_LAYER), *box)
        strap_cells.append((stand_in, real, box))
    template = route.Routed()
    cell = plan.cells.get(first)
    # the template's copper keeps its clearance inside the cell, whatever sits outside it in a copy
    # (and from the board's edge, where the first and the last slot's cells meet it)
    inset = max(rules["slot_power"].track_mm / 2 + rules["slot_power"].clearance_mm,
                edge + rules["signal"].via_diameter_mm / 2 - CELL_EDGE_MM)
    window = (cell.u0 + inset, band.v0, cell.u1 - inset, cell.v1) if cell else None
    # in phases (see `tasks`): the 12 V pads climb to the band while the cell is empty; the
    # address straps and surface-mount ground pads drop their vias right beside them; then the
    # cell's own nets, shortest first, and its bus pads; last the socket's ground pins
    def add(r: route.Routed) -> None:
        template.segments += r.segments
        template.vias += r.vias

    def template_pads(net: str, smd: bool | None):
        """The template's pads of a rail or lane net, those carrying slot current first, then
        nearest their target: later pads may join the copper of earlier ones."""
        pads = [(ref, pad) for ref, pad in pads_of.get(net, []) if ref in template_refs
                and (ref, pad.GetNumber()) not in straps
                and (smd is None or smd != pad.IsOnLayer(pcbnew.B_Cu))]
        target_v = plan.lanes_v.get(net, band.v1)
        return sorted(pads, key=lambda rp: (rule_for(net, *rp) is not rules["slot_power"],
                                            round(abs(pcbnew.ToMM(rp[1].GetPosition().y) - target_v), 3), rp[0]))

    # the template's routing tasks in order: (kind, what); a task that fails moves to the front
    # and the template is routed again from the empty cell, up to TEMPLATE_ATTEMPTS times
    inside = [n for n in pads_of if n not in shared and {r for r, _ in pads_of[n]} <= template_refs]
    tasks = [("rail", rp) for rp in template_pads(BAND_NET_F, None)]
    tasks += [("strap", key) for key in sorted(straps)]
    tasks += [("rail", rp) for rp in template_pads(BAND_NET_B, True)]
    tasks += [("net", n) for n in sorted(inside, key=lambda n: (_net_span_mm(pads_of[n]), n))]
    tasks += [("rail", rp) for net in sorted(plan.lanes_v) for rp in template_pads(net, None)]
    tasks += [("rail", rp) for rp in template_pads(BAND_NET_B, False)]
    strap_vias: dict[tuple[str, str], tuple[float, float]] = {}

    def run(kind, what) -> route.Routed:
        if kind == "rail":
            ref, pad = what
            return join(pad.GetNetname(), ref, pad, window)
        if kind == "strap":
            # the strap drops a via beside its pin: in a slot whose strap is GND the via meets the
            # B.Cu plane, in one whose strap is +3V3 a B.Cu track goes on from it (step 3)
            ref, number = what
            pad = footprints[ref].FindPadByNumber(number)
            r = _route_net(grid, _strap_net(ref, number), [_pad_terminal(pad, every_strap), plane_drop(pad)],
                           rules["signal"], window_mm=window)
            if not r.vias:
                raise route.RouteError(f"address strap {ref} pad {number}: no via beside it")
            strap_vias[what] = (r.vias[-1].u_mm, r.vias[-1].v_mm)
            return r
        return _route_net(grid, what, [_pad_terminal(p, every_strap) for _, p in pads_of[what]], rule_for(what),
                          window_mm=window)

    # nets from the first slot's cell to the rest of the board (its I2C to the master jumpers) go
    # first, inside the first slot's stretch of board; the template routes around them
    outward = sorted(n for n in pads_of if n not in shared and len(pads_of[n]) > 1 and n not in inside
                     and any(r in template_refs for r, _ in pads_of[n]))
    for net in outward:
        r = _route_net(grid, net, [_pad_terminal(p, every_strap) for _, p in pads_of[net]], rule_for(net),
                       window_mm=(window[0], band.v0, window[2], height_mm))
        total.segments += r.segments
        total.vias += r.vias
        done_nets.add(net)
    empty = copy.deepcopy(grid)
    for attempt in range(TEMPLATE_ATTEMPTS):
        try:
            for k, (kind, what) in enumerate(tasks):
                add(run(kind, what))
            break
        except route.RouteError:
            if attempt == TEMPLATE_ATTEMPTS - 1:
                raise
            tasks.insert(0, tasks.pop(k))
            grid = copy.deepcopy(empty)
            template = route.Routed()
            strap_vias.clear()
    done_nets.update(inside)
    plan.template_nets = len(inside)
    for stand_in, real, box in strap_cells:
        grid.relabel_box(stand_in, real, (route.F_LAYER, route.B_LAYER), *box)
    for box in phantom_boxes:
        grid.relabel_box(phantom, 0, (route.F_LAYER, route.B_LAYER), *box)
    mark_band()
    # 2. the copies: same copper, shifted by the slot pitch, on the slot's own nets (slot 1's
    # own copy takes its strap nets)
    s0_u = pcbnew.ToMM(footprints[netlist_mod.slot_ref(first)].GetPosition().x)
    for slot in layout.slots:
        du = pcbnew.ToMM(footprints[netlist_mod.slot_ref(slot.index)].GetPosition().x) - s0_u
        net_map = _net_map(spec, ref_map[slot.index], straps)
        for mine, number in straps:
            net_map[_strap_net(mine, number)] = footprints[ref_map[slot.index].get(mine, mine)] \
                .FindPadByNumber(number).GetNetname()
        copied = route.Routed([s.shifted(du, net_map.get(s.net, s.net)) for s in template.segments],
                              [v.shifted(du, net_map.get(v.net, v.net)) for v in template.vias])
        if slot.index != first:
            grid.add_routed(copied)
            done_nets.update([net_map[n] for n in done_nets if n in net_map])
        total.segments += copied.segments
        total.vias += copied.vias
        # 3. the slot's +3V3 straps: from their via on to the +3V3 copper (GND ones sit in the plane)
        for (mine, number), (u, v) in sorted(strap_vias.items()):
            net = net_map[_strap_net(mine, number)]
            if net == BAND_NET_B:
                continue
            pad = footprints[ref_map[slot.index].get(mine, mine)].FindPadByNumber(number)
            r = _route_net(grid, net, [route.Terminal(u + du, v, GRID_MM, GRID_MM, (route.B_LAYER,)),
                                       lane_terminal(net, pad)], rules["signal"])
            total.segments += r.segments
            total.vias += r.vias
    # 4. everything else, shortest first: rail and lane pads outside the cells, then the other nets
    all_cell_refs = {ref for ref, g in group_of.items() if slot_of(g) is not None}
    for net in sorted(shared):
        for ref, pad in pads_of.get(net, []):
            if ref in all_cell_refs:
                continue
            if net == BAND_NET_B and pad.IsOnLayer(pcbnew.B_Cu) and net not in plan.lanes_v \
                    and pcbnew.ToMM(pad.GetPosition().y) > band.v1:
                continue  # a through-hole ground pin below the band sits in the B.Cu plane
            r = join(net, ref, pad)
            total.segments += r.segments
            total.vias += r.vias
    rest = [n for n in pads_of if n not in done_nets and n not in shared and len(pads_of[n]) > 1]

    def span(net):
        us = [pcbnew.ToMM(p.GetPosition().x) for _, p in pads_of[net]]
        vs = [pcbnew.ToMM(p.GetPosition().y) for _, p in pads_of[net]]
        return (max(us) - min(us) + max(vs) - min(vs), net)

    for net in sorted(rest, key=span):
        r = _route_net(grid, net, [_pad_terminal(p, every_strap) for _, p in pads_of[net]], rule_for(net))
        total.segments += r.segments
        total.vias += r.vias
    plan.routed_nets = len([n for n in pads_of if len(pads_of[n]) > 1 or n in shared])
    # the lanes end at their outermost joins
    lane_segments = {s.net: s for s in lanes.segments}
    for net, lane in lane_segments.items():
        v, half = lane.v0_mm, lane.width_mm / 2 + GRID_MM
        us = [u for s in total.segments if s.net == net and s is not lane
              for u, vv in ((s.u0_mm, s.v0_mm), (s.u1_mm, s.v1_mm)) if abs(vv - v) <= half]
        us += [via.u_mm for via in total.vias if via.net == net and abs(via.v_mm - v) <= half]
        if us:
            k = total.segments.index(lane)
            total.segments[k] = route.Segment(net, lane.layer, min(us), v, max(us), v, lane.width_mm)
    # 5. ground stitching: the F.Cu ground pour below the band joined to the B.Cu plane
    if BAND_NET_B in spec.nets:
        rule = rules["signal"]
        drilled = [(v.u_mm, v.v_mm, v.drill_mm / 2) for v in total.vias]
        drilled += [(pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y),
                     pcbnew.ToMM(p.GetDrillSize().x) / 2)
                    for fp in footprints.values() for p in fp.Pads() if p.HasHole()]
        inset = max(2 * edge, STITCH_EDGE_MM)
        points = [(inset + i * STITCH_PITCH_MM, band.v1 + STITCH_PITCH_MM / 2 + j * STITCH_PITCH_MM)
                  for j in range(int((height_mm - inset - band.v1) / STITCH_PITCH_MM) + 1)
                  for i in range(int((width_mm - 2 * inset) / STITCH_PITCH_MM) + 1)]
        points = [(u, v) for u, v in points if v <= height_mm - inset]
        stitches = stitch.stitching_vias(grid, BAND_NET_B, points, rule, drilled, fab["min_hole_to_hole_mm"])
        total.vias += stitches
        plan.stitching_vias = len(stitches)
    return total


def _route_net(*args, **kwargs) -> route.Routed:
    """`route.route_net` with the costs of a crowded board (`route.CROWDED`)."""
    return route.route_net(*args, costs=route.CROWDED, **kwargs)


def _strap_net(ref: str, number: str) -> str:
    """The stand-in net of an address strap while the template is routed."""
    return f"__strap_{ref}_{number}"


def _net_span_mm(pads) -> float:
    """Half-perimeter (mm) of the box around a net's pads: short nets route first."""
    pcbnew = _pcbnew()
    us = [pcbnew.ToMM(p.GetPosition().x) for _, p in pads]
    vs = [pcbnew.ToMM(p.GetPosition().y) for _, p in pads]
    return max(us) - min(us) + max(vs) - min(vs)


def _strap_pads(spec: BoardSpec, ref_maps: dict[int, dict[str, str]], shared: set) -> set[tuple[str, str]]:
    """The first slot's (ref, pad) whose net differs from slot to slot although the pad joins a
    net shared by the whole board (an expander's address pin: +3V3 in one slot, GND in the next).
    The template leaves them; every slot routes its own."""
    pad_net = {(ref, str(pad)): name for name, pins in spec.nets.items() for ref, pad in pins}
    straps = set()
    for ref_map in ref_maps.values():
        for (ref, pad), name in pad_net.items():
            if ref in ref_map and ref_map[ref] != ref:
                other = pad_net.get((ref_map[ref], pad))
                if other is not None and other != name and name in shared:
                    straps.add((ref, pad))
    return straps


def _is_slot_supply(ref: str, pad_number: str, part_by_ref: dict) -> bool:
    """Whether (ref, pad) is a slot socket's supply or return contact."""
    from pcb import pinout

    part = part_by_ref.get(ref)
    n = slot_of(part.group) if part is not None else None
    if n is None or ref != netlist_mod.slot_ref(n):
        return False
    kinds = {str(p.number): p.kind for p in pinout.SLOT_PINOUT}
    return kinds.get(pad_number) in (pinout.SUPPLY, pinout.RETURN)


def _slot_ref_maps(spec: BoardSpec, layout) -> dict[int, dict[str, str]]:
    """For every slot, slot 1's references -> that slot's (by sorted order, socket to socket)."""
    by_slot: dict[int, list[str]] = {}
    for p in spec.parts:
        n = slot_of(p.group)
        if n is not None and p.ref != netlist_mod.slot_ref(n):
            by_slot.setdefault(n, []).append(p.ref)
    first = layout.slots[0].index
    mine = sorted(by_slot.get(first, []), key=_natural)
    out = {}
    for slot in layout.slots:
        theirs = sorted(by_slot.get(slot.index, []), key=_natural)
        out[slot.index] = dict(zip(mine, theirs))
        out[slot.index][netlist_mod.slot_ref(first)] = netlist_mod.slot_ref(slot.index)
    return out


def _net_map(spec: BoardSpec, ref_map: dict[str, str], straps: set = frozenset()) -> dict[str, str]:
    """Slot 1's net names -> another slot's, through the pads the reference map pairs (but the
    address straps, which differ from slot to slot)."""
    pad_net = {(ref, str(pad)): name for name, pins in spec.nets.items() for ref, pad in pins}
    out = {}
    for (ref, pad), name in pad_net.items():
        if ref in ref_map and (ref, pad) not in straps:
            other = pad_net.get((ref_map[ref], pad))
            if other is not None:
                if out.get(name, other) != other:
                    raise ValueError(f"net {name} maps to both {out[name]} and {other} in another slot")
                out[name] = other
    for band_net in BAND_NETS:
        out.setdefault(band_net, band_net)
    return out


def _add_track(board, net, seg: route.Segment) -> None:
    pcbnew = _pcbnew()
    t = pcbnew.PCB_TRACK(board)
    t.SetStart(point(seg.u0_mm, seg.v0_mm))
    t.SetEnd(point(seg.u1_mm, seg.v1_mm))
    t.SetWidth(mm(seg.width_mm))
    t.SetLayer(pcbnew.F_Cu if seg.layer == route.F_LAYER else pcbnew.B_Cu)
    t.SetNet(net)
    board.Add(t)


def _add_via(board, net, via: route.Via) -> None:
    pcbnew = _pcbnew()
    v = pcbnew.PCB_VIA(board)
    v.SetPosition(point(via.u_mm, via.v_mm))
    v.SetWidth(mm(via.diameter_mm))
    v.SetDrill(mm(via.drill_mm))
    v.SetViaType(pcbnew.VIATYPE_THROUGH)
    v.SetLayerPair(pcbnew.F_Cu, pcbnew.B_Cu)
    v.SetNet(net)
    board.Add(v)


def socket_label(slot_index: int, chained: bool) -> str:
    """Silkscreen label of a socket: the slot number, or on a chained module its position letter."""
    return chr(ord("A") + slot_index - 1) if chained else str(slot_index)


def _add_board_labels(design, layout, board, plan: Plan, fab: dict, chained: bool = False) -> None:
    """Silkscreen: every socket's label (`socket_label`) above its pin 1 side, and the board's
    name, version and design hash in the widest free stretch of the band's rear side."""
    import rackplane

    pcbnew = _pcbnew()
    pad_boxes = []
    for fp in board.GetFootprints():
        for pad in fp.Pads():
            bb = pad.GetBoundingBox()
            bb.Inflate(mm(0.5))
            pad_boxes.append(bb)
    for slot in layout.slots:
        u, v = coords.slot_connector_uv_mm(layout, slot)
        # in the power band above the socket, clear of any pad there (a rear terminal's pins)
        label = _add_text(board, pcbnew.F_SilkS, socket_label(slot.index, chained), u, plan.band.v1 - SILK_TEXT_MM)
        v = plan.band.v1 - SILK_TEXT_MM
        while v > plan.band.v0 + SILK_TEXT_MM and any(label.GetBoundingBox().Intersects(bb) for bb in pad_boxes):
            v -= SILK_TEXT_MM / 2
            label.SetPosition(point(u, v))
    width_mm, height_mm = coords.board_size_mm(layout)
    kind = f"backplane module ({len(layout.slots)} slots)" if chained else "backplane"
    name = f"{design['name']} v{rackplane.__version__} #{design_hash(design)}"
    titles = (f"rackplane {kind} {name}", name)  # the short one on a board too small for the long
    # the title goes to a stretch clear of every rear pad, hole and part: along the bottom edge,
    # else along the foot or the top of the power band; smaller, down to the fab's least text
    # height, or shorter where no stretch is long enough
    rear = [pad.GetBoundingBox() for fp in board.GetFootprints() for pad in fp.Pads()
            if pad.IsOnLayer(pcbnew.B_Cu) or pad.GetAttribute() == pcbnew.PAD_ATTRIB_NPTH]
    rear += [fp.GetBoundingBox(False) for fp in board.GetFootprints() if fp.IsFlipped()]
    rows = (height_mm - SILK_TEXT_MM, plan.band.v1 - 2 * SILK_TEXT_MM, plan.band.v0 + 2 * SILK_TEXT_MM)
    text = _add_text(board, pcbnew.B_SilkS, titles[0], width_mm / 2, rows[0], mirrored=True, size_mm=TITLE_TEXT_MM)
    for title in titles:
        text.SetText(title)
        size = TITLE_TEXT_MM
        while size >= fab["min_silk_text_height_mm"] - 1e-9:
            text.SetTextSize(pcbnew.VECTOR2I(mm(size), mm(size)))
            half = pcbnew.ToMM(text.GetBoundingBox().GetWidth()) / 2 + 0.5
            for v in rows:
                lo, hi = v - size, v + size
                blocked = [Interval(pcbnew.ToMM(bb.GetLeft()) - 0.5, pcbnew.ToMM(bb.GetRight()) + 0.5) for bb in rear
                           if pcbnew.ToMM(bb.GetBottom()) > lo - 0.5 and pcbnew.ToMM(bb.GetTop()) < hi + 0.5]
                centre = place_nearest(free_intervals(Interval(1.0, width_mm - 1.0), blocked), 2 * half,
                                       width_mm / 2)
                if centre is not None:
                    text.SetPosition(point(centre, v))
                    return
            size = round(size - 0.1, 2)
    raise ValueError(f"no stretch of the board's rear is free for its title ({titles[-1]})")


def fill_zones(board_path: Path) -> None:
    """Fill every zone of a saved board and save it again.

    The board is reloaded first: on a board still being built in memory the filler ignored the
    unplated mounting holes (no clearance around them), while a loaded board has its rules and
    connectivity set up as KiCad's editor would."""
    pcbnew = _pcbnew()
    pcbnew.KIID.SeedGenerator(UUID_SEED + 1)
    board = pcbnew.LoadBoard(str(board_path))
    pcbnew.ZONE_FILLER(board).Fill(board.Zones())
    pcbnew.SaveBoard(str(board_path), board)


def read_board_facts(layout, board_path: Path) -> dict:
    """Facts read back from the saved board: its size, the holes and connectors in rack mm."""
    pcbnew = _pcbnew()
    board = pcbnew.LoadBoard(str(board_path))
    corners = [(pcbnew.ToMM(pt.x), pcbnew.ToMM(pt.y)) for d in board.GetDrawings()
               if d.GetLayer() == pcbnew.Edge_Cuts for pt in (d.GetStart(), d.GetEnd())]
    us, vs = [c[0] for c in corners], [c[1] for c in corners]
    holes, connectors = [], []
    for fp in sorted(board.GetFootprints(), key=lambda f: f.GetReference()):
        ref = fp.GetReference()
        pos = fp.GetPosition()
        u, v = pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y)
        if ref.startswith("H"):
            pad = next(iter(fp.Pads()))
            x, z = coords.rack_xz_mm(layout, u, v)
            holes.append({"ref": ref, "x_mm": round(x, 4), "z_mm": round(z, 4),
                          "d_mm": round(pcbnew.ToMM(pad.GetDrillSize().x), 4)})
        elif ref.startswith("J"):
            pads = list(fp.Pads())
            cu = sum(pcbnew.ToMM(p.GetPosition().x) for p in pads) / len(pads)
            cv = sum(pcbnew.ToMM(p.GetPosition().y) for p in pads) / len(pads)
            x, z = coords.rack_xz_mm(layout, cu, cv)
            connectors.append({"ref": ref, "value": fp.GetValue(), "x_mm": round(x, 4), "z_mm": round(z, 4),
                               "side": "rear" if fp.IsFlipped() else "front",
                               "footprint": fp.GetFPIDAsString()})
    holes.sort(key=lambda h: int(h["ref"][1:]))
    return {
        "board_size_mm": [round(max(us) - min(us), 4), round(max(vs) - min(vs), 4)],
        "outline_xz_mm": [list(coords.rack_xz_mm(layout, min(us), max(vs))),
                          list(coords.rack_xz_mm(layout, max(us), min(vs)))],
        "holes": holes,
        "connectors": connectors,
        "zones": sorted(f"{z.GetNetname()}@{board.GetLayerName(z.GetLayer())}" for z in board.Zones()),
        "footprint_count": len(board.GetFootprints()),
    }


def write_project(board_path: Path, fab: dict, rules: dict) -> None:
    """Set the project's (.kicad_pro) design rules and default net class from the fab house's
    rules and the router's signal rule, so that KiCad's editor and `kicad-cli pcb drc` check the
    board against the same numbers the generator used."""
    pro_path = board_path.with_suffix(".kicad_pro")
    project = json.loads(pro_path.read_text()) if pro_path.exists() else {}
    ds = project.setdefault("board", {}).setdefault("design_settings", {})
    r = ds.setdefault("rules", {})
    r.update({
        "min_clearance": fab["min_clearance_mm"],
        "min_track_width": fab["min_track_mm"],
        "min_via_diameter": fab["min_via_diameter_mm"],
        "min_via_annular_width": fab["min_annular_ring_mm"],
        "min_through_hole_diameter": fab["min_hole_mm"],
        "min_copper_edge_clearance": fab["min_copper_edge_clearance_mm"],
        "min_hole_to_hole": fab["min_hole_to_hole_mm"],
        "min_text_thickness": fab["min_silk_width_mm"],
        "min_text_height": fab["min_silk_text_height_mm"],
    })
    signal = rules["signal"]
    classes = project.setdefault("net_settings", {}).setdefault("classes", [{"name": "Default"}])
    for c in classes:
        if c.get("name") == "Default":
            c.update({"clearance": signal.clearance_mm, "track_width": signal.track_mm,
                      "via_diameter": signal.via_diameter_mm, "via_drill": signal.via_drill_mm})
    # the generator adapts library footprints to the fab (pegs grown to the annular ring, silk
    # past the board's edge dropped): they differ from the library on purpose
    ds.setdefault("rule_severities", {})["lib_footprint_mismatch"] = "ignore"
    project.setdefault("meta", {})["filename"] = pro_path.name
    pro_path.write_text(json.dumps(project, indent=2, sort_keys=True) + "\n")
