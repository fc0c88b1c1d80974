"""The management board's KiCad board: the rack's 12 V path from the supply connector through
the ideal diode to the backplane connector, poured for the rack's whole current, and the
management parts (3.3 V buck, fan controllers, sensor, pull-ups) below it, routed with
`pcb.route`.

Board coordinates: u right, v down, origin at the top-left corner, seen from the top (F.Cu, the
parts' side). The board is drawn from its circuit (`pcb.management`):

    +----------------------------------------------------------------+
    |       D1-  H1    title                  H2 [J2 -]   ground strip |
    |[J1 +] ====== VIN_RAW ======= |Q1| ===== VIN ======== [   +]      |  <- the power band
    |[   -]  U1 C1                 |Q2|   C2 C3 C4                     |
    |  U2 + L1, U30, pull-ups;  each fan controller above its headers  |
    |  H3  J4 host   J3 bus   J201 J202 ... fan headers            H4  |
    +----------------------------------------------------------------+

* J1, the supply input, mates from the left edge; J2, to the backplane's input, from the right
  edge. Both are the input connector the power budget picks (`pcb.parts.input_connector_for`).
  Two connectors of one polarised type facing out of one board put their pins in the same
  turning order, so the two power nets must cross somewhere: here the 12 V path has F.Cu and the
  ground return has B.Cu, a plane under the whole board that no other net crosses in the band.
  Each connector's 12 V pin is inside the band and its ground pin outside, above the band or
  below it as the connector's polarity has it; a ground pin's land stays clear of the edge.
* The power band: F.Cu pours of VIN_RAW (J1 -> the FETs' sources) and VIN (the FETs' drains ->
  J2 and the bulk capacitors), as high as IPC-2221 asks for the rack's current at the allowed
  rise (`pcb.copper.ipc2221_width_mm`) plus BAND_MARGIN_MM, or as the FET column needs.
* The ideal diode's FETs Q1.. (`pcb.management.power_fet_count`) stand in a column across the
  band, sources left, drains right. Their gate pins join a spine drawn in the gap between the
  source leads and the drain pads, on the border of the two pours, which leaves the band at its
  lower edge toward the controller U1.
* Parts with one pad on a power net and one on ground (TVS D1, C2-C4) straddle a band edge.
* Each fan controller stands CONTROLLER_RISE_MM above the middle of its fan headers, turned so
  that its pins land nearest theirs. The other management parts are placed below the band, each
  where its pads land nearest the pads they join (`_place_by_wires`); the headers stand in a row
  along the bottom edge.
* Copper: the band's pours (above the ground pours in priority), ground pours on both layers
  over the whole board, a via in each exposed pad, ground vias from the other surface-mount
  ground pads, stitching vias, every other net routed on the grid router (crossings by vias,
  long B.Cu runs avoided so that the plane stays whole); power pads outside their pour reach it
  by stub tracks.

`pcb.management_copper` measures the band and the return as saved.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pcb import board as bm
from pcb import copper, place, route
from pcb import management as mgmt
from pcb import netlist as netlist_mod
from pcb import stitch as stitching
from pcb.carrier_copper import land_reach_mm
from rackplane import catalogue

BOARD_FILE = "management.kicad_pcb"
PLAN_FILE = "management_plan.json"
UUID_SEED = 0x3A6E
GND = "GND"
GATE = "RP_GATE"               # the ideal-diode controller's gate drive (pcb.management's "RP" prefix)
POUR_NETS = ("VIN_RAW", "VIN")
POUR_PRIORITY = {"VIN_RAW": 2, "VIN": 1}   # above the ground pours (0); VIN clears VIN_RAW at Q1

EDGE_MARGIN_MM = 0.3           # a connector's courtyard this far inside the board edge
BAND_MARGIN_MM = 1.5           # band height above IPC-2221's width: the pour's clearance to pads it passes
POUR_GAP_MM = 0.35             # band edge to a foreign pad beside it
LAND_RING_MM = 2.0             # copper all round a connector's ground land, inside the board edge
PIN_INSET_MM = 0.5             # a connector pin inside the band: its pad this far inside the band's edge
HOLE_EDGE_MM = 4.0             # mounting hole centre from the board edges
HOLE_KEEPOUT_MM = 3.5          # mounting hole centre to any part's courtyard or the band
PART_GAP_MM = 2.5              # courtyard to courtyard for the management parts: a track each way
FANOUT_MM = 2.5                # more around a part of FANOUT_PADS pads or more, for its pins' tracks
FANOUT_PADS = 8
CONTROLLER_RISE_MM = 12.0       # a fan controller's centre above the top of its fan headers
ESCAPE_MM = 1.5                # a fine-pitch pin's way out kept for its net
HEADER_GAP_MM = 2.0            # between the headers along the bottom edge
HEADER_EDGE_MM = 1.0           # header courtyard to the bottom edge
HEADER_ROW_END_MM = 9.0        # the header row keeps the bottom corners (mounting holes) free
PARTS_AREA_MIN_MM = 24.0       # height of the management parts' area between the band and the headers
FET_FROM_J1_MM = 10.0          # the FETs' source pins this far right of J1's courtyard (D1 sits between)
FET_GAP_MM = 1.0               # between the courtyards of stacked FETs
COLUMN_MARGIN_MM = 2.0         # the FET column to the band's edges: the pour passes above and below
SPINE_EXIT_MM = 1.5            # the gate spine reaches this far below the band
BULK_FROM_FET_MM = 14.0        # first bulk capacitor's left edge right of the FETs' origin
BULK_PITCH_MM = 4.0            # between bulk capacitor courtyards
PLACE_STEP_MM = 1.0            # raster of the management parts' placement
RAILS = ("+3V3",)              # supply nets: they pull parts together less than signals do
RAIL_PULL = 0.3
POINT_TO_POINT_PADS = 3        # a connector pin, a controller pin and a pull-up
GND_VIA_REACH_MM = 3.0         # a ground pad's via goes within this of the pad (u and v)
STITCH_PITCH_MM = 5.0
STUB_TRACK_MM = 0.5            # a power pad outside its pour joins it by this track, or wider for the fans
POUR_TARGET_INSET_MM = 0.4
THERMAL_VIA_MAX_DRILL_MM = 0.6
ROUTE_ATTEMPTS = 12
CROSSINGS = route.Costs(b_step=route.B_LAYER_STEP_COST, via=10)   # a crossing is cheap, a B.Cu run is not:
                                                                  # the ground plane stays whole
TITLE_BOX_MM = 2.5             # height kept free of stitching vias around the board title


def band_height_mm(design, current_a: float) -> float:
    """Height (mm) of the power band: IPC-2221's external-layer width for `current_a` at the
    allowed rise, in the fab's copper, plus BAND_MARGIN_MM, rounded up to 0.5 mm."""
    fab = catalogue.fab(design["pcb.fab"])
    width = copper.ipc2221_width_mm(current_a, copper.ALLOWED_RISE_K, fab["copper_oz"], external=True)
    return math.ceil((width + BAND_MARGIN_MM) / 0.5) * 0.5


def rack_current_a(budget: dict) -> float:
    """The current (A) the management board's power path carries: the rack's full load."""
    return budget["total_current_a"]


def build_management(design, layout, netlist_path: Path, workdir: Path, budget: dict, part_facts=None) -> Path:
    """Make `workdir/management.kicad_pcb` (+ .kicad_pro, .kicad_dru, plan), placed, routed and
    poured. `budget` is `pcb.electrical.power_budget`'s. Raises ValueError when a part finds no
    room and route.RouteError when a net cannot be routed."""
    pcbnew = bm._pcbnew()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    board_path = workdir / BOARD_FILE
    for stale in workdir.glob("management.kicad_p*"):
        stale.unlink()
    spec = bm.spec_from_netlist(netlist_path, part_facts)
    fab = catalogue.fab(design["pcb.fab"])
    rules = bm.net_rules(design, fab)
    hole_fp = netlist_mod.mounting_hole_footprint(layout.backplane_hole_d_mm)
    templates = {fpid: bm._load_footprint(fpid) for fpid in sorted({p.footprint for p in spec.parts} | {hole_fp})}
    pcbnew.KIID.SeedGenerator(UUID_SEED)
    board = pcbnew.NewBoard(str(board_path))
    bm.apply_fab_rules(board, fab)

    footprints = {}
    for part in sorted(spec.parts, key=lambda p: bm._natural(p.ref)):
        fp = templates[part.footprint].Duplicate()
        fp.SetReference(part.ref)
        fp.SetValue(part.value)
        board.Add(fp)
        footprints[part.ref] = fp
    nets = bm.assign_nets(board, spec, footprints)
    for fp in footprints.values():
        bm.meet_annular_ring(fp, fab["min_annular_ring_mm"])

    current_a = rack_current_a(budget)
    plan = _place(design, footprints, fab, band_height_mm(design, current_a))
    width_mm, height_mm = plan["board_size_mm"]
    # the connectors' plated pegs join the net of their nearest pin: in the band they carry
    # current rather than cut the pour
    for ref in (mgmt.SUPPLY_IN_REF, mgmt.BACKPLANE_POWER_REF):
        pins = [p for p in footprints[ref].Pads() if p.GetNumber()]
        for pad in footprints[ref].Pads():
            if pad.GetAttribute() == pcbnew.PAD_ATTRIB_PTH and not pad.GetNumber():
                nearest = min(pins, key=lambda p: (p.GetPosition() - pad.GetPosition()).EuclideanNorm())
                pad.SetNet(nets[nearest.GetNetname()])
    holes = []
    for k, (u, v) in enumerate(plan["holes_mm"], start=1):
        fp = templates[hole_fp].Duplicate()
        fp.SetReference(f"H{k}")
        fp.SetValue("M3")
        board.Add(fp)
        fp.SetPosition(bm.point(u, v))
        holes.append(fp)
    bm._add_rect(board, pcbnew.Edge_Cuts, 0.0, 0.0, width_mm, height_mm, bm.EDGE_LINE_WIDTH_MM)

    pours = {net: [place.Rect(*r)] for net, r in plan["pours_mm"].items()}
    band = place.Rect(*plan["band_mm"])
    stub_mm = max(STUB_TRACK_MM, math.ceil(copper.ipc2221_width_mm(
        budget["fans_current_a"], copper.ALLOWED_RISE_K, fab["copper_oz"], external=True) / 0.05) * 0.05)
    spine = [route.Segment(GATE, route.F_LAYER, *seg, rules["signal"].track_mm) for seg in plan["gate_spine_mm"]]
    routed, stitch = _route(footprints, holes, rules, fab, pours, band, (width_mm, height_mm), stub_mm,
                            place.Rect(*plan["title_mm"]), spine)
    for seg in routed.segments:
        bm._add_track(board, nets[seg.net], seg)
    for via in routed.vias + stitch:
        bm._add_via(board, nets[via.net], via)
    for net, rects in pours.items():
        bm._add_zone(board, nets[net], pcbnew.F_Cu, rects, f"{net}_F", solid=True, priority=POUR_PRIORITY[net])
    whole = place.Rect(0.0, 0.0, width_mm, height_mm)
    bm._add_zone(board, nets[GND], pcbnew.B_Cu, whole, "GND_B", solid=True)
    bm._add_zone(board, nets[GND], pcbnew.F_Cu, whole, "GND_F", solid=True)
    import rackplane
    name = f"{design['name']} v{rackplane.__version__} #{bm.design_hash(design)}"
    _add_title(board, (f"rackplane management {name}", f"management {name}"), place.Rect(*plan["title_mm"]),
               fab["min_silk_text_height_mm"])
    for fp in footprints.values():
        fp.Reference().SetVisible(False)
    for fp in holes:
        fp.Reference().SetVisible(False)
    pcbnew.SaveBoard(str(board_path), board)
    board_path.with_suffix(bm.RULES_SUFFIX).write_text(bm.fab_rules_text(fab))
    bm.fill_zones(board_path)  # saving the filled board rewrites the project: its rules go in after
    bm.write_project(board_path, fab, rules)
    plan.update({"current_a": round(current_a, 4), "stub_track_mm": stub_mm, "segments": len(routed.segments),
                 "vias": len(routed.vias), "stitching_vias": len(stitch)})
    (workdir / PLAN_FILE).write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
    return board_path


def _add_title(board, titles: tuple[str, ...], box: place.Rect, min_height_mm: float) -> None:
    """The board's title on F.Silkscreen, centred in `box`: the first of `titles` that fits its
    width at TITLE_TEXT_MM, else smaller down to `min_height_mm`, else the next (shorter) one."""
    pcbnew = bm._pcbnew()
    text = bm._add_text(board, pcbnew.F_SilkS, titles[0], *box.centre, size_mm=bm.TITLE_TEXT_MM)
    for title in titles:
        text.SetText(title)
        size = bm.TITLE_TEXT_MM
        while size >= min_height_mm - 1e-9:
            text.SetTextSize(pcbnew.VECTOR2I(bm.mm(size), bm.mm(size)))
            if pcbnew.ToMM(text.GetBoundingBox().GetWidth()) <= box.width_mm:
                return
            size = round(size - 0.1, 2)
    raise ValueError(f"the board title ({titles[-1]}) does not fit the {box.width_mm:.1f} mm free for it")


# -- placement -------------------------------------------------------------------------------------

def _pads_mm(fp, net: str | None = None) -> place.Rect:
    pcbnew = bm._pcbnew()
    boxes = [p.GetBoundingBox() for p in fp.Pads() if net is None or p.GetNetname() == net]
    if not boxes:
        raise ValueError(f"{fp.GetReference()} has no pad on {net}")
    return place.Rect(min(pcbnew.ToMM(b.GetLeft()) for b in boxes), min(pcbnew.ToMM(b.GetTop()) for b in boxes),
                      max(pcbnew.ToMM(b.GetRight()) for b in boxes), max(pcbnew.ToMM(b.GetBottom()) for b in boxes))


def _put(fp, degrees: float, u: float, v: float) -> place.Rect:
    """Turn `fp`, put its origin at (u, v) mm; returns its courtyard box on the board."""
    fp.SetOrientationDegrees(degrees)
    fp.SetPosition(bm.point(u, v))
    return bm._footprint_box(fp).shifted(u, v)


def _pin(fp, number: str) -> tuple[float, float]:
    pcbnew = bm._pcbnew()
    pos = fp.FindPadByNumber(number).GetPosition()
    return pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y)


def _mating_side(fp, degrees: float) -> str:
    """Which side ('left', 'right', 'up', 'down') the connector's body reaches from its pins when
    turned by `degrees`: the side it mates from."""
    fp.SetOrientationDegrees(degrees)
    fp.SetPosition(bm.point(0.0, 0.0))
    box = bm._footprint_box(fp)
    pins = _pads_mm(fp)
    reach = {"left": pins.u0 - box.u0, "right": box.u1 - pins.u1, "up": pins.v0 - box.v0, "down": box.v1 - pins.v1}
    return max(reach, key=reach.get)


def _facing(fp, side: str) -> float:
    for degrees in (0.0, 90.0, 180.0, 270.0):
        if _mating_side(fp, degrees) == side:
            return degrees
    raise ValueError(f"{fp.GetReference()}: no turn makes it mate from the {side}")


def _place(design, footprints: dict, fab: dict, band_mm: float) -> dict:
    """Place every part (see the module docstring); returns the plan: board size, band, pours,
    holes (mm)."""
    pcbnew = bm._pcbnew()
    fp = footprints
    j1, j2 = fp[mgmt.SUPPLY_IN_REF], fp[mgmt.BACKPLANE_POWER_REF]
    hole_r = HOLE_KEEPOUT_MM

    # J1 mates from the left edge, J2 from the right. Each has its 12 V pin inside the band and its
    # ground pin outside: above the band when that pin is the upper one, else below it
    conns = {mgmt.SUPPLY_IN_REF: ("VIN_RAW", _facing(j1, "left")), mgmt.BACKPLANE_POWER_REF: ("VIN", _facing(j2, "right"))}
    rel, top = {}, {}
    for ref, (net, degrees) in conns.items():
        box = _put(fp[ref], degrees, 0.0, 0.0)
        plus, gnd = _pads_mm(fp[ref], net), _pads_mm(fp[ref], GND)
        rel[ref] = (box, plus, gnd, gnd.v1 < plus.v0)
        # the courtyard inside the board, and the ground pin's land (as pcb.management_copper
        # counts it) LAND_RING_MM clear of the edge, so the return copper meets the pin all round
        reach = land_reach_mm([p for p in fp[ref].Pads() if p.GetNetname() == GND])
        top[ref] = max(EDGE_MARGIN_MM - box.v0, fab["min_copper_edge_clearance_mm"] + reach + LAND_RING_MM - gnd.v0)
    band_v0 = HOLE_EDGE_MM + hole_r
    for ref, (box, plus, gnd, above) in rel.items():
        if above:
            band_v0 = max(band_v0, gnd.v1 + top[ref] + POUR_GAP_MM)
    # the ideal-diode FETs stand in a column across the band, sources left, drains right
    fets = sorted((r for r in fp if r.startswith("Q")), key=bm._natural)
    fet_box = _put(fp[fets[0]], 0.0, 0.0, 0.0)
    fet_pitch = fet_box.height_mm + FET_GAP_MM
    column_mm = len(fets) * fet_pitch - FET_GAP_MM
    band_v1 = band_v0 + max(band_mm, column_mm + 2 * COLUMN_MARGIN_MM)
    for ref, (box, plus, gnd, above) in rel.items():
        if not above:   # its courtyard inside the top edge, its 12 V pad inside the band
            band_v1 = max(band_v1, EDGE_MARGIN_MM - box.v0 - POUR_GAP_MM + gnd.v0,
                          band_v0 + PIN_INSET_MM - plus.v0 - POUR_GAP_MM + gnd.v0)
    conn_v = {}
    for ref, (box, plus, gnd, above) in rel.items():
        if above:
            conn_v[ref] = max(top[ref], band_v0 + PIN_INSET_MM - plus.v0)
        else:
            conn_v[ref] = band_v1 + POUR_GAP_MM - gnd.v0
        if plus.v0 + conn_v[ref] < band_v0 or plus.v1 + conn_v[ref] > band_v1:
            raise ValueError(f"{ref}: its 12 V pin does not reach into the power band")
    box = rel[mgmt.SUPPLY_IN_REF][0]
    j1_box = _put(j1, conns[mgmt.SUPPLY_IN_REF][1], EDGE_MARGIN_MM - box.u0, conn_v[mgmt.SUPPLY_IN_REF])

    # the column's middle at the band's middle; the FETs' gate pins (bottom left of each source
    # row) join a spine in the gap between the source leads and the drain pad, which leaves the
    # band at its lower edge toward the controller U1 below: the spine lies on the border of the
    # two pours and cuts neither
    src = _pads_mm(fp[fets[0]], "VIN_RAW")
    q_u = j1_box.u1 + FET_FROM_J1_MM - src.u0
    v_top = (band_v0 + band_v1) / 2 - column_mm / 2 - fet_box.v0
    fet_boxes = [_put(fp[ref], 0.0, q_u, v_top + k * fet_pitch) for k, ref in enumerate(fets)]
    src, drain = _pads_mm(fp[fets[0]], "VIN_RAW"), _pads_mm(fp[fets[0]], "VIN")
    split_u = (src.u1 + drain.u0) / 2
    gates = [_pads_mm(fp[ref], GATE) for ref in fets]
    spine = [[g.centre[0], g.centre[1], split_u, g.centre[1]] for g in gates]
    spine.append([split_u, gates[0].centre[1], split_u, band_v1 + SPINE_EXIT_MM])

    # D1 straddles the band's top edge between J1 and Q1: cathode (12 V) in the band, anode above
    d1 = fp["D1"]
    for degrees in (90.0, 270.0):
        _put(d1, degrees, 0.0, 0.0)
        if _pads_mm(d1, GND).v1 < _pads_mm(d1, "VIN_RAW").v0:
            break
    gnd_d1 = _pads_mm(d1, GND)
    d1_u = (j1_box.u1 + src.u0) / 2
    _put(d1, d1.GetOrientationDegrees(), d1_u, band_v0 - POUR_GAP_MM - gnd_d1.v1)

    # bulk capacitors straddle the band's lower edge right of Q1: + pad in the band, - pad below
    bulk = sorted((r for r in ("C2", "C3", "C4") if r in fp), key=bm._natural)
    u_next = q_u + BULK_FROM_FET_MM
    bulk_boxes = []
    for ref in bulk:
        c = fp[ref]
        for degrees in (90.0, 270.0):
            _put(c, degrees, 0.0, 0.0)
            if _pads_mm(c, GND).v0 > _pads_mm(c, "VIN").v1:
                break
        cbox = bm._footprint_box(c)
        plus = _pads_mm(c, "VIN")
        u = u_next - cbox.u0
        v = band_v1 - PIN_INSET_MM - plus.v1 + 0.0
        # the - pad must be below the band, clear of it
        v = max(v, band_v1 + POUR_GAP_MM - _pads_mm(c, GND).v0)
        bulk_boxes.append(_put(c, c.GetOrientationDegrees(), u, v))
        u_next = bulk_boxes[-1].u1 + BULK_PITCH_MM

    box = rel[mgmt.BACKPLANE_POWER_REF][0]
    u2_left = max(u_next, bulk_boxes[-1].u1 + PART_GAP_MM if bulk_boxes else u_next)
    width_mm = u2_left + (box.u1 - box.u0) + EDGE_MARGIN_MM

    # the header row along the bottom edge: host, bus, then the fan headers
    headers = [mgmt.HOST_HEADER_REF, mgmt.BACKPLANE_BUS_REF] + sorted(
        (r for r in fp if r.startswith("J2") and len(r) == 4), key=bm._natural)
    header_boxes = {}
    row_w = 0.0
    header_turn = {}
    for ref in headers:
        # pins along the edge: the turn that makes the header wider than tall
        header_turn[ref] = max((0.0, 90.0), key=lambda d: _put(fp[ref], d, 0.0, 0.0).width_mm)
        header_boxes[ref] = _put(fp[ref], header_turn[ref], 0.0, 0.0)
        row_w += header_boxes[ref].width_mm + HEADER_GAP_MM
    row_w -= HEADER_GAP_MM
    width_mm = math.ceil(max(width_mm, row_w + 2 * HEADER_ROW_END_MM) * 2) / 2
    row_h = max(b.height_mm for b in header_boxes.values())

    # now J2 at the right edge
    j2_box = _put(j2, conns[mgmt.BACKPLANE_POWER_REF][1], width_mm - EDGE_MARGIN_MM - box.u1,
                  conn_v[mgmt.BACKPLANE_POWER_REF])
    height_mm = math.ceil((max(band_v1 + PARTS_AREA_MIN_MM, j2_box.v1 + PART_GAP_MM)
                           + row_h + HEADER_EDGE_MM + 2 * PART_GAP_MM) * 2) / 2
    # J2 was placed for the old width: the bulk capacitors stay where they are
    row_v = height_mm - HEADER_EDGE_MM
    u = (width_mm - row_w) / 2
    placed_boxes = [j1_box, j2_box, *bulk_boxes, *fet_boxes]
    d1pos = d1.GetPosition()
    placed_boxes.append(bm._footprint_box(d1).shifted(pcbnew.ToMM(d1pos.x), pcbnew.ToMM(d1pos.y)))
    for ref in headers:
        b = header_boxes[ref]
        placed_boxes.append(_put(fp[ref], header_turn[ref], u - b.u0, row_v - b.v1))
        u += b.width_mm + HEADER_GAP_MM
    header_top = min(b.v0 for b in placed_boxes[-len(headers):])

    d1_box = placed_boxes[-len(headers) - 1]
    # top holes: right of D1, and in the top-right corner unless J2 stands there (then left of it)
    h2_u = width_mm - HOLE_EDGE_MM
    if j2_box.v0 < HOLE_EDGE_MM + hole_r:
        h2_u = j2_box.u0 - hole_r - PART_GAP_MM
    holes = [(d1_box.u1 + HOLE_KEEPOUT_MM + PART_GAP_MM, HOLE_EDGE_MM), (h2_u, HOLE_EDGE_MM),
             (HOLE_EDGE_MM, height_mm - HOLE_EDGE_MM), (width_mm - HOLE_EDGE_MM, height_mm - HOLE_EDGE_MM)]
    keepouts = placed_boxes + [place.Rect(u - hole_r, v - hole_r, u + hole_r, v + hole_r) for u, v in holes]
    keepouts += [place.Rect(min(a, c), min(b, d), max(a, c), max(b, d)).grown(POUR_GAP_MM) for a, b, c, d in spine]

    # the management parts, between the band (and the bulk capacitors) and the header row
    edge = fab["min_copper_edge_clearance_mm"] + 0.2
    area = place.Rect(edge, band_v1 + POUR_GAP_MM, width_mm - edge, header_top - PART_GAP_MM)
    band = place.Rect(0.0, band_v0, width_mm, band_v1)
    pours = {"VIN_RAW": place.Rect(EDGE_MARGIN_MM, band_v0, split_u, band_v1),
             "VIN": place.Rect(split_u, band_v0, width_mm - fab["min_copper_edge_clearance_mm"] - 0.2, band_v1)}
    fixed = {mgmt.SUPPLY_IN_REF, mgmt.BACKPLANE_POWER_REF, "D1", *fets, *bulk, *headers}
    # each fan controller CONTROLLER_RISE_MM above the middle of its fan headers; the controller
    # turned and each of its headers turned end for end so that the straight lines between their
    # pins cross least (then are shortest): the fan-out below the controller routes without vias
    fan_headers = [r for r in headers if r not in (mgmt.HOST_HEADER_REF, mgmt.BACKPLANE_BUS_REF)]
    header_box = {h: keepouts[len(placed_boxes) - len(headers) + headers.index(h)] for h in fan_headers}
    for ic in sorted((r for r in fp if r not in fixed and len(list(fp[r].Pads())) >= FANOUT_PADS), key=bm._natural):
        nets = {p.GetNetname() for p in fp[ic].Pads()} - {GND, "", *POUR_NETS}
        mine = [h for h in fan_headers if any(p.GetNetname() in nets for p in fp[h].Pads())]
        if not mine:
            continue
        u_c = (min(header_box[h].u0 for h in mine) + max(header_box[h].u1 for h in mine)) / 2
        v_c = header_top - CONTROLLER_RISE_MM
        best = None
        for degrees in (0.0, 90.0, 180.0, 270.0):
            _put(fp[ic], degrees, u_c, v_c)
            turns = {}
            for h in mine:   # one header at a time, the others as turned so far
                turns[h] = min((header_turn[h], header_turn[h] + 180.0),
                               key=lambda t, h=h: _fan_out_cost(fp[ic], [fp[x] for x in mine], nets,
                                                                (h, t, header_box[h])))
                _turn_in_box(fp[h], turns[h], header_box[h])
            cost = _fan_out_cost(fp[ic], [fp[h] for h in mine], nets)
            if best is None or cost < best[0]:
                best = (cost, degrees, dict(turns))
            for h in mine:
                _turn_in_box(fp[h], header_turn[h], header_box[h])
        _, degrees, turns = best
        for h, t in turns.items():
            _turn_in_box(fp[h], t, header_box[h])
        keepouts.append(_put(fp[ic], degrees, u_c, v_c).grown(FANOUT_MM))
        fixed.add(ic)
    # the controllers' own parts (supply capacitors, address resistors, tach pull-ups: on a net of
    # a controller with at most POINT_TO_POINT_PADS pads) go in the fan zone above the fan
    # headers; the rest (ideal-diode controller, 3.3 V buck, sensor, bus pull-ups) left of it
    loose = [r for r in fp if r not in fixed]
    controllers = [r for r in fixed if r.startswith("U") and len(list(fp[r].Pads())) >= FANOUT_PADS]
    pad_count: dict[str, int] = {}
    for f in fp.values():
        for p in f.Pads():
            pad_count[p.GetNetname()] = pad_count.get(p.GetNetname(), 0) + 1
    local_nets = {p.GetNetname() for c in controllers for p in fp[c].Pads()
                  if p.GetNetname() and pad_count[p.GetNetname()] <= POINT_TO_POINT_PADS}
    fan_group = [r for r in loose if any(p.GetNetname() in local_nets for p in fp[r].Pads())
                 or r in {mgmt.decoupling_ref(c) for c in controllers}]
    fan_zone_u0 = min((header_box[h].u0 for h in fan_headers), default=area.u1) - PART_GAP_MM
    zones = [(place.Rect(area.u0, area.v0, fan_zone_u0, area.v1), [r for r in loose if r not in fan_group]),
             (place.Rect(fan_zone_u0, area.v0, area.u1, area.v1), fan_group)] if fan_group else [(area, loose)]
    for zone, refs in zones:
        _place_by_wires(refs, fp, zone, keepouts, pours, {GATE: [tuple(spine[-1][2:])]},
                        unplaced=frozenset(r for _, rs in zones for r in rs) - set(refs))
        keepouts = keepouts + [bm._footprint_box(fp[r]).shifted(pcbnew.ToMM(fp[r].GetPosition().x),
                                                                 pcbnew.ToMM(fp[r].GetPosition().y)) for r in refs]
    (h1u, _), (h2u, _) = holes[:2]
    # the title: between the top holes, or along the top of the band right of the FETs (silk on
    # the pour), whichever stretch is longer
    fets_u1 = max(b.u1 for b in fet_boxes) + PART_GAP_MM
    band_end = min([b.u0 for b in (j2_box, *bulk_boxes) if b.v0 < band_v0 + 1.0 + TITLE_BOX_MM] + [width_mm])
    title = max((place.Rect(h1u + hole_r, HOLE_EDGE_MM - TITLE_BOX_MM / 2, h2u - hole_r, HOLE_EDGE_MM + TITLE_BOX_MM / 2),
                 place.Rect(fets_u1, band_v0 + 1.0, band_end - PART_GAP_MM, band_v0 + 1.0 + TITLE_BOX_MM)),
                key=lambda r: r.width_mm)
    return {"board_size_mm": [width_mm, height_mm], "title_mm": [round(c, 4) for c in (title.u0, title.v0, title.u1, title.v1)], "band_mm": [0.0, round(band_v0, 4), width_mm, round(band_v1, 4)],
            "band_height_mm": round(band_v1 - band_v0, 4), "band_wanted_mm": band_mm,
            "pours_mm": {n: [round(c, 4) for c in (r.u0, r.v0, r.u1, r.v1)] for n, r in pours.items()},
            "holes_mm": [[round(u, 4), round(v, 4)] for u, v in holes],
            "fets": fets, "gate_spine_mm": [[round(c, 4) for c in seg] for seg in spine],
            "parts_area_mm": [round(c, 4) for c in (area.u0, area.v0, area.u1, area.v1)]}


def _turn_in_box(fp, degrees: float, box: place.Rect) -> None:
    """Turn `fp` by `degrees` and put it so that its courtyard box is `box` (a header turned end
    for end in its place in the row)."""
    fp.SetOrientationDegrees(degrees)
    fp.SetPosition(bm.point(0.0, 0.0))
    rel = bm._footprint_box(fp)
    fp.SetPosition(bm.point(box.u0 - rel.u0, box.v0 - rel.v0))


def _crosses(a, b) -> bool:
    """Whether the segments a and b ((u0, v0, u1, v1)) cross (touching ends do not count)."""
    def side(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    p1, p2, q1, q2 = a[:2], a[2:], b[:2], b[2:]
    return side(p1, p2, q1) * side(p1, p2, q2) < 0 and side(q1, q2, p1) * side(q1, q2, p2) < 0


def _fan_out_cost(ic, headers: list, nets: set, trial=None) -> tuple[int, float]:
    """(crossings, length mm) of the straight lines from the controller's pins to the header pins
    of the same nets; `trial` (ref, degrees, box) turns one header for the count and back."""
    pcbnew = bm._pcbnew()
    if trial is not None:
        fp = next(h for h in headers if h.GetReference() == trial[0])
        before = fp.GetOrientationDegrees()
        box = trial[2]
        _turn_in_box(fp, trial[1], box)
    pins = {p.GetNetname(): p.GetPosition() for p in ic.Pads() if p.GetNetname() in nets}
    lines = [(pcbnew.ToMM(pins[p.GetNetname()].x), pcbnew.ToMM(pins[p.GetNetname()].y),
              pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y))
             for h in headers for p in h.Pads() if p.GetNetname() in pins]
    if trial is not None:
        _turn_in_box(fp, before, box)
    crossings = sum(_crosses(a, b) for i, a in enumerate(lines) for b in lines[i + 1:])
    return crossings, round(sum(math.dist(a[:2], a[2:]) for a in lines), 3)


def _place_by_wires(refs: list[str], footprints: dict, area: place.Rect, keepouts: list, pours: dict,
                    points: dict[str, list[tuple[float, float]]], unplaced: frozenset = frozenset()) -> None:
    """Place `refs` in `area`, largest first, each turned and put where its pads land nearest
    the pads already placed on the same nets, or the net's `points` (mm). A point-to-point line
    that leaves the board by a connector looks to the connector's pin (pull-ups sit where the line
    comes in, a controller's pins face their headers); a pad on a pour's net looks to the pour; the logic
    supply pulls at RAIL_PULL (it runs everywhere), but an IC's supply capacitor
    (`pcb.management.decoupling_ref`) goes to its IC's supply pin. Ground does not pull: every ground pad gets
    its own via into the plane."""
    pcbnew = bm._pcbnew()
    connector_pads: dict[str, list[tuple[float, float]]] = {}
    pad_count: dict[str, int] = {}
    for ref, fp in footprints.items():
        for p in fp.Pads():
            pad_count[p.GetNetname()] = pad_count.get(p.GetNetname(), 0) + 1
            if ref.startswith("J") and p.GetNetname() and p.GetNetname() not in RAILS:
                connector_pads.setdefault(p.GetNetname(), []).append(
                    (pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y)))
    # point-to-point lines only: a bus (its pins on several parts and headers) gathers its parts
    connector_pads = {net: pads for net, pads in connector_pads.items()
                      if len(pads) == 1 and pad_count[net] <= POINT_TO_POINT_PADS}

    def pads_rel(fp) -> list[tuple[str, float, float]]:
        o = fp.GetPosition()
        return [(p.GetNetname(), pcbnew.ToMM(p.GetPosition().x - o.x), pcbnew.ToMM(p.GetPosition().y - o.y))
                for p in fp.Pads() if p.GetNetname() and p.GetNetname() != GND]

    placed_pads: dict[str, list[tuple[float, float]]] = {net: list(p) for net, p in points.items()}
    for ref, fp in footprints.items():
        if ref not in refs and ref not in unplaced:
            for net, du, dv in pads_rel(fp):
                o = fp.GetPosition()
                placed_pads.setdefault(net, []).append((pcbnew.ToMM(o.x) + du, pcbnew.ToMM(o.y) + dv))
    options = {}
    for ref in refs:
        fp = footprints[ref]
        turns = (0.0, 90.0) if len(list(fp.Pads())) == 2 else (0.0, 90.0, 180.0, 270.0)
        options[ref] = []
        for degrees in turns:
            fp.SetOrientationDegrees(degrees)
            fp.SetPosition(bm.point(0.0, 0.0))
            box = bm._footprint_box(fp)
            if len(list(fp.Pads())) >= FANOUT_PADS:
                box = box.grown(FANOUT_MM)
            options[ref].append((place.Item(ref, box), degrees, pads_rel(fp)))
    order = sorted(refs, key=lambda r: (-options[r][0][0].box.width_mm * options[r][0][0].box.height_mm,
                                        bm._natural(r)))
    occupied = list(keepouts)
    decoupled = {mgmt.decoupling_ref(r): r for r in footprints if r.startswith("U")}
    for ref in order:
        by_box = {id(item): (degrees, pads) for item, degrees, pads in options[ref]}
        ic = footprints.get(decoupled.get(ref, ""))
        # a supply capacitor looks to its IC's supply pin only
        near_pins = {} if ic is None else {
            p.GetNetname(): [(pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y))]
            for p in ic.Pads() if p.GetNetname() in RAILS}

        def cost(item, spot, by_box=by_box, near_pins=near_pins):
            total = 0.0
            for net, du, dv in by_box[id(item)][1]:
                u, v = spot[0] + du, spot[1] + dv
                if net in pours:
                    r = pours[net][0] if isinstance(pours[net], list) else pours[net]
                    total += math.hypot(max(r.u0 - u, 0.0, u - r.u1), max(r.v0 - v, 0.0, v - r.v1))
                    continue
                if net in near_pins:
                    total += min(math.hypot(u - a, v - b) for a, b in near_pins[net])
                    continue
                others = connector_pads.get(net) or placed_pads.get(net)
                if others:
                    total += min(math.hypot(u - a, v - b) for a, b in others) * (RAIL_PULL if net in RAILS else 1.0)
            return total

        chosen = place.best_fit([tuple(item for item, _, _ in options[ref])], [area], occupied, PART_GAP_MM, cost,
                                step_mm=PLACE_STEP_MM)
        item, spot = chosen[ref]
        degrees, pads = by_box[id(item)]
        footprints[ref].SetOrientationDegrees(degrees)
        footprints[ref].SetPosition(bm.point(*spot))
        for net, du, dv in pads:
            placed_pads.setdefault(net, []).append((spot[0] + du, spot[1] + dv))


# -- routing ---------------------------------------------------------------------------------------

def _rect_distance_mm(r: place.Rect, u: float, v: float) -> float:
    return math.hypot(max(r.u0 - u, 0.0, u - r.u1), max(r.v0 - v, 0.0, v - r.v1))


class _NetFailed(Exception):
    def __init__(self, net: str, cause: Exception):
        super().__init__(str(cause))
        self.net, self.cause = net, cause


def _route(footprints: dict, holes: list, rules: dict, fab: dict, pours: dict, band: place.Rect,
           size_mm: tuple[float, float], stub_mm: float, title: place.Rect, spine: list[route.Segment]):
    """Route every net but the pours' (see the module docstring); returns (routed, stitching
    vias). The signal nets go shortest first; when one fails, the routing starts again with it
    first, up to ROUTE_ATTEMPTS times, then the last failure is raised."""
    order: list[str] = []
    for _ in range(ROUTE_ATTEMPTS):
        try:
            return _route_once(footprints, holes, rules, fab, pours, band, size_mm, stub_mm, title, spine, order)
        except _NetFailed as failed:
            if failed.net in order[:1]:
                raise failed.cause
            order = [failed.net] + [n for n in order if n != failed.net]
            last = failed.cause
    raise last


def _route_once(footprints: dict, holes: list, rules: dict, fab: dict, pours: dict, band: place.Rect,
                size_mm: tuple[float, float], stub_mm: float, title: place.Rect, spine: list[route.Segment],
                first: list[str]):
    pcbnew = bm._pcbnew()
    width_mm, height_mm = size_mm
    grid = route.Grid(0.0, 0.0, width_mm, height_mm, bm.GRID_MM)
    edge = fab["min_copper_edge_clearance_mm"]
    grid.block_outside(edge, edge, width_mm - edge, height_mm - edge)
    sig = rules["signal"]
    keep = bm.via_keepout_mm(fab, sig)
    pads_of: dict[str, list] = {}
    for ref in sorted(footprints, key=bm._natural):
        for pad in footprints[ref].Pads():
            net = pad.GetNetname()
            bm._mark_pad(grid, pad, grid.net_id(net if net else f"__nc_{ref}_{pad.GetNumber()}"), keep)
            if net and pad.GetNumber():
                pads_of.setdefault(net, []).append((ref, pad))
    for fp in holes:
        for pad in fp.Pads():
            bm._mark_pad(grid, pad, grid.net_id(f"__hole_{fp.GetReference()}"), keep)
            pos = pad.GetPosition()
            grid.mark_disc(route.BLOCKED, (route.F_LAYER, route.B_LAYER), pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y),
                           pcbnew.ToMM(pad.GetBoundingBox().GetWidth()) / 2 + bm.HOLE_CLEARANCE_MM)
    for ref in sorted(footprints, key=bm._natural):
        for pad in footprints[ref].Pads():
            drill = pcbnew.ToMM(pad.GetDrillSize().x)
            if pad.HasHole() and 0 < drill < THERMAL_VIA_MAX_DRILL_MM:
                pos = pad.GetPosition()
                grid.mark_disc(route.BLOCKED, (route.F_LAYER, route.B_LAYER), pcbnew.ToMM(pos.x),
                               pcbnew.ToMM(pos.y), drill / 2 + fab["min_hole_to_hole_mm"] + sig.via_drill_mm / 2)
    # fine-pitch parts: each pin's way out (ESCAPE_MM straight out from the package) is kept for
    # its own net, so that the tracks of earlier nets cannot wall a pin in
    for ref in sorted(footprints, key=bm._natural):
        fp = footprints[ref]
        if len(list(fp.Pads())) < FANOUT_PADS:
            continue
        cu, cv = (pcbnew.ToMM(c) for c in (fp.GetPosition().x, fp.GetPosition().y))
        for pad in fp.Pads():
            net = pad.GetNetname()
            if not net or pad.HasHole() or net == GND:
                continue
            bb = pad.GetBoundingBox()
            u0, v0, u1, v1 = (pcbnew.ToMM(c) for c in (bb.GetLeft(), bb.GetTop(), bb.GetRight(), bb.GetBottom()))
            du, dv = (u0 + u1) / 2 - cu, (v0 + v1) / 2 - cv
            if abs(du) >= abs(dv):
                u0, u1 = (u1, u1 + ESCAPE_MM) if du > 0 else (u0 - ESCAPE_MM, u0)
            else:
                v0, v1 = (v1, v1 + ESCAPE_MM) if dv > 0 else (v0 - ESCAPE_MM, v0)
            grid.mark_box(grid.net_id(net), (route.F_LAYER,), u0, v0, u1, v1)
    # 0. the pours on F.Cu and the ground return under the band on B.Cu: no other net crosses them
    for net, rects in pours.items():
        for r in rects:
            grid.mark_box(grid.net_id(net), (route.F_LAYER,), r.u0, r.v0, r.u1, r.v1)
    grid.mark_box(grid.net_id(GND), (route.B_LAYER,), band.u0, band.v0, band.u1, band.v1)
    # the FETs' gate spine, drawn: the controller's gate pin joins its end below the band
    total = route.Routed(segments=list(spine))
    grid.add_routed(total)
    spine_end = route.Terminal(spine[-1].u1_mm, spine[-1].v1_mm, grid.g, grid.g, (route.F_LAYER,))

    def term(ref, pad):
        return bm._pad_terminal(pad, {(ref, pad.GetNumber())})   # every pad its own terminal

    def add(r):
        total.segments += r.segments
        total.vias += r.vias
        for via in r.vias:   # the fab's hole-to-hole distance holds between vias of one net too
            grid.block_vias(via.u_mm, via.v_mm, via.drill_mm / 2 + keep)

    def attempt(net, terms, width, join=False):
        """Route at `width`, else at the signal width; F.Cu preferred (the B.Cu ground plane stays
        whole), else with B.Cu steps and vias as cheap as on a crowded board."""
        tries = [(w, costs) for costs in (CROSSINGS,) for w in dict.fromkeys((width, sig.track_mm))]
        for k, (w, costs) in enumerate(tries):
            try:
                return route.route_net(grid, net, terms, route.NetRule(w, sig.clearance_mm, sig.via_diameter_mm,
                                                                       sig.via_drill_mm), join_existing=join,
                                       costs=costs)
            except route.RouteError:
                if k == len(tries) - 1:
                    raise
        raise route.RouteError(net)

    # 1. a fine-pitch part's exposed ground pad: a via in its middle; its ground pins: a track
    #    inward to it. Every other surface-mount ground pad: a via into the B.Cu plane beside it
    exposed = {}
    for ref, pad in pads_of.get(GND, []):
        fp = footprints[ref]
        if len(list(fp.Pads())) >= FANOUT_PADS and not pad.HasHole() and \
                pcbnew.ToMM((pad.GetPosition() - fp.GetPosition()).EuclideanNorm()) < 0.05:
            exposed[ref] = pad
            pos = pad.GetPosition()
            via = route.Routed(vias=[route.Via(GND, round(pcbnew.ToMM(pos.x), 4), round(pcbnew.ToMM(pos.y), 4),
                                               sig.via_diameter_mm, sig.via_drill_mm)])
            grid.add_routed(via)
            add(via)
    for ref, pad in pads_of.get(GND, []):
        if pad.IsOnLayer(pcbnew.B_Cu) or (ref in exposed and pad.GetNumber() == exposed[ref].GetNumber()):
            continue
        if ref in exposed:
            add(attempt(GND, [term(ref, pad), term(ref, exposed[ref])], sig.track_mm))
            continue
        t = term(ref, pad)
        plane = route.Terminal(t.u_mm, t.v_mm, GND_VIA_REACH_MM, GND_VIA_REACH_MM, (route.B_LAYER,))
        add(attempt(GND, [t, plane], 0.5))

    # 2. routing tasks: the decoupled supply pins to their capacitors; every net but ground and the
    #    pours, the buses first (they leave a controller for parts across the board; its fan lines
    #    then route around them), each group shortest first (the logic supply at the management
    #    supply's width); then every pad of a pour net outside its pour: a stub track into the
    #    pour or onto an earlier stub. Tasks named in `first` go first.
    def span(net):
        us = [pcbnew.ToMM(p.GetPosition().x) for _, p in pads_of[net]]
        vs = [pcbnew.ToMM(p.GetPosition().y) for _, p in pads_of[net]]
        return (max(us) - min(us) + max(vs) - min(vs), net)

    tasks = {}
    # a decoupled IC's supply pin joins its capacitor first; the rail reaches the pin through it
    decoupled = set()
    for ic in sorted((r for r in footprints if mgmt.decoupling_ref(r) in footprints and r.startswith("U")),
                     key=bm._natural):
        cap = mgmt.decoupling_ref(ic)
        for net in RAILS:
            pins = [p for r, p in pads_of.get(net, []) if r == ic]
            cap_pads = [p for r, p in pads_of.get(net, []) if r == cap]
            if pins and cap_pads:
                tasks[f"{net} at {ic}"] = (net, [term(ic, pins[0]), term(cap, cap_pads[0])], sig.track_mm, False)
                decoupled.update((ic, p.GetNumber()) for p in pins[:1])
    for net in sorted((n for n in pads_of if n != GND and n not in pours and len(pads_of[n]) > 1),
                      key=lambda n: (len(pads_of[n]) <= 2, span(n) if len(pads_of[n]) > 2 else (-span(n)[0], n))):
        terms = [term(r, p) for r, p in pads_of[net] if (r, p.GetNumber()) not in decoupled]
        if net == GATE:
            terms = [term(r, p) for r, p in pads_of[net] if not r.startswith("Q")] + [spine_end]
        tasks[net] = (net, terms, rules["mgmt_power"].track_mm if net == "+3V3" else sig.track_mm, False)
    for net, rects in pours.items():
        inner = route.pour_targets(grid, net, rects, POUR_TARGET_INSET_MM)
        for ref, pad in pads_of.get(net, []):
            u, v = pcbnew.ToMM(pad.GetPosition().x), pcbnew.ToMM(pad.GetPosition().y)
            if any(_rect_distance_mm(r, u, v) == 0.0 for r in rects):
                continue
            terms = [term(ref, pad), route.nearest_pour_terminal(inner, u, v)]
            tasks[f"{net} stub from {ref} pad {pad.GetNumber()}"] = (net, terms, stub_mm, True)
    for name in [n for n in first if n in tasks] + [n for n in tasks if n not in first]:
        net, terms, width, join = tasks[name]
        try:
            add(attempt(net, terms, width, join))
        except route.RouteError as exc:
            raise _NetFailed(name, exc) from exc

    # 4. ground stitching vias on a grid
    drilled = [(v.u_mm, v.v_mm, v.drill_mm / 2) for v in total.vias]
    drilled += [(pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y), pcbnew.ToMM(p.GetDrillSize().x) / 2)
                for fp in list(footprints.values()) + holes for p in fp.Pads() if p.HasHole()]
    nu, nv = int(width_mm / STITCH_PITCH_MM), int(height_mm / STITCH_PITCH_MM)
    points = [(i * STITCH_PITCH_MM, j * STITCH_PITCH_MM) for j in range(1, nv + 1) for i in range(1, nu + 1)]
    points = [(u, v) for u, v in points if 2 * edge < u < width_mm - 2 * edge and 2 * edge < v < height_mm - 2 * edge
              and _rect_distance_mm(title, u, v) > sig.via_diameter_mm]
    stitch = stitching.stitching_vias(grid, GND, points, sig, drilled, fab["min_hole_to_hole_mm"])
    return total, stitch


def read_management_facts(board_path: Path) -> dict:
    """Facts read back from the saved board: size, holes (board mm), connectors, zones."""
    pcbnew = bm._pcbnew()
    board = pcbnew.LoadBoard(str(board_path))
    corners = [(pcbnew.ToMM(pt.x), pcbnew.ToMM(pt.y)) for d in board.GetDrawings()
               if d.GetLayer() == pcbnew.Edge_Cuts for pt in (d.GetStart(), d.GetEnd())]
    out = {"board_size_mm": [round(max(c[0] for c in corners) - min(c[0] for c in corners), 4),
                             round(max(c[1] for c in corners) - min(c[1] for c in corners), 4)],
           "holes": [], "connectors": [], "footprint_count": len(board.GetFootprints()),
           "zones": sorted(f"{z.GetNetname()}@{board.GetLayerName(z.GetLayer())}" for z in board.Zones())}
    for fp in sorted(board.GetFootprints(), key=lambda f: bm._natural(f.GetReference())):
        ref, pos = fp.GetReference(), fp.GetPosition()
        if ref.startswith("H"):
            pad = next(iter(fp.Pads()))
            out["holes"].append({"ref": ref, "u_mm": round(pcbnew.ToMM(pos.x), 4), "v_mm": round(pcbnew.ToMM(pos.y), 4),
                                 "d_mm": round(pcbnew.ToMM(pad.GetDrillSize().x), 4)})
        elif ref.startswith("J"):
            out["connectors"].append({"ref": ref, "value": fp.GetValue(), "u_mm": round(pcbnew.ToMM(pos.x), 4),
                                      "v_mm": round(pcbnew.ToMM(pos.y), 4), "footprint": fp.GetFPIDAsString()})
    return out
