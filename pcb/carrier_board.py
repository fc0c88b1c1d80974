"""The carrier's KiCad board: outline from Layout's sled, Pi holes and header socket from the node
catalogue, a compact buck converter, routed with `pcb.route` and poured with ground.

Carrier board coordinates (`carrier_uv_mm`): the board seen from its outer face (+X, the F.Cu side
that carries the parts), origin at the carrier's front-top corner; u grows toward the rear (rack
+Y), v grows downward (rack -Z):

    u = y - sled.carrier_y0_mm        v = sled.carrier_z1_mm - z

* Edge.Cuts: the carrier's (y0..y1, z0..z1) box.
* H1..H4: the Pi's four M2.5 holes, at `sled.pi_to_rack(px, py)` of the node's `mounting_holes_mm`
  (board-only footprints: the holes carry no net, so they are not in carrier.net).
* J1, the 2 x 20 socket mating the Pi's header, on the inner face (B.Cu, toward the Pi): its pads
  1, 2 and 3 land on the Pi's header pins 1, 2 and 3 (pin 1 at `header_pin1_mm`, odd pins along
  the Pi's length, the even row 2.54 mm nearer the Pi's long edge).
* J2, the slot header (right-angle), on the outer face at the rear edge: pin-field centre at
  `sled.connector_z_mm`; its body ends at the board edge so the pins stand off the edge into the
  backplane socket.
* The buck (U1, C1-C5, D1, D2, L1, R2-R5) left of J2 and between the Pi's upper holes and J1
  (which runs along the carrier's bottom, as the Pi's header edge is its lower edge): the
  switching loop (input capacitors C1/C2 -> U1 VIN -> SW -> D2 -> ground -> C1/C2) is kept inside
  a ~10 x 10 mm square: the input capacitors stand beside U1's VIN side and D2's anode sits under
  their ground ends. The feedback divider R4/R5 and the COMP network R3/C5 sit at U1's FB end, on
  the side away from SW, L1 and D2. L1 stands on end under D2, its SW pad on top.
* The output capacitors (C10..) in a row either side of L1's output pad, the ideal diode (U2, Q1,
  C6, C7) right of the Pi's lower-right mounting hole, so that the 5 V copper can run to the Pi
  socket's 5 V pins (2 and 4, on the outer row) along the carrier's bottom edge, under that hole's
  keep-out: the row of socket pins above them (pin 1 is the Pi's 3.3 V, never fed) leaves no
  wider way in.

Copper: every DC power path is a pour on F.Cu (zones above the ground pour in priority, filled by
KiCad with its own clearances), drawn as rectangles (`_power_pours`) wide enough for IPC-2221 at
its current (`pcb.carrier_copper` measures what the filler made):

* VIN: the slot header's four supply pins -> D1 -> C1/C2/C3 -> U1 VIN;
* SW: U1 SW -> C4, D2's cathode -> L1 pin 1, kept small (it is the noisy node);
* 5V1_BUCK: L1 pin 2 -> the output capacitors -> Q1's source pins;
* 5V_PI: Q1's drain -> down to the bottom edge -> J1 pins 2 and 4.

Pads of these nets outside their pour (the ideal-diode controller's sense pins, the feedback
divider's top) are joined to it by thin tracks. The pours are marked on the router's grid before
anything else is routed, so no other net crosses them on F.Cu: the slot header's signals pass
under them on B.Cu (both connectors are through-hole). Ground: pours over the whole board on
both layers (solid to pads), joined by a grid of stitching vias; every surface-mount ground pad
gets its own via into the B.Cu plane; every other net is routed on the grid router.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pcb import board as bm
from pcb import place, route
from pcb import stitch as stitching
from pcb.coords import carrier_rack_yz_mm, carrier_size_mm, carrier_uv_mm
from rackplane import catalogue

BOARD_FILE = "carrier.kicad_pcb"
PLAN_FILE = "carrier_plan.json"
UUID_SEED = 0xCA77
GND = "GND"
HOLE_FOOTPRINT = "MountingHole:MountingHole_2.7mm_M2.5"
HEADER_BODY_REAR_MM = 6.58      # PinHeader_2xNN_Horizontal: pin-1 row to the body's far face
THERMAL_VIA_MAX_DRILL_MM = 0.6  # plated holes smaller than this are thermal vias
GND_VIA_REACH_MM = 3.0          # a ground pad's via goes within this of the pad (u and v)
STITCH_PITCH_MM = 5.0           # ground stitching via grid
HIGH_CURRENT_A = 5.0            # the buck's output (Pi 5 class)


def pi_uv_mm(layout, px: float, py: float) -> tuple[float, float]:
    return carrier_uv_mm(layout, *layout.sled.pi_to_rack(px, py))


# Outer-face parts (u, v, rotation deg), relative to the buck anchor (U1's centre). Chosen by hand
# for the loop and sense rules in the module docstring; the anchor follows the board (see _place).
BUCK_OFFSETS = {
    "U1": (0.0, 0.0, 180),
    "C3": (5.5, -3.5, 90), "C1": (5.5, 1.0, 270), "C2": (8.5, 1.0, 270),
    "C4": (0.0, 4.5, 180), "D2": (0.0, 9.5, 0), "D1": (9.0, 10.225, 180),
    "R2": (3.0, -5.5, 0),
    "R4": (-6.5, -5.0, 0), "R5": (-6.5, -2.5, 0), "R3": (-6.5, 0.0, 180), "C5": (-9.6, 0.0, 180),
    "L1": (-3.0, 20.5, 270),
    "U2": (4.03, 31.725, 90), "Q1": (8.78, 32.225, 270), "C6": (4.03, 35.025, 0), "C7": (11.18, 38.725, 0),
}
OUTPUT_CAP_DV_MM = 25.1            # output capacitors' centre row below the anchor; + pad at the bottom
OUTPUT_CAP_PITCH_MM = 2.6
OUTPUT_CAPS_RIGHT_DU_MM = 4.9      # first cap right of L1 (toward Q1), u from the anchor
OUTPUT_CAPS_RIGHT_COUNT = 3
OUTPUT_CAPS_LEFT_DU_MM = -10.9     # first cap's u left of L1; the rest continue leftward
BUCK_TO_J1_MM = 4.0       # least gap, lowest part above J1 to the Pi socket's highest pad (its feeds)
BUCK_TO_HOLE_MM = 2.5      # buck block's top below the keep-out of the Pi's upper mounting holes
PI_HOLE_KEEPOUT_R_MM = 3.0  # the Pi's 6 mm keep-out pad around each M2.5 hole (B+ mechanical drawing)

# Power pours (see the module docstring). Rectangles relative to the buck anchor (u0, v0, u1, v1 mm)
# where the parts they join are placed from the anchor; the rest follow the pads they join.
SW_POUR_REL = ((-5.0, 1.3, -1.8, 11.3),    # down from U1's SW pin, left of its exposed pad
               (-5.0, 2.9, 0.0, 7.7),      # under the exposed pad: C4's SW end
               (-5.5, 7.6, -0.3, 16.7))    # D2's cathode and L1 pin 1
VIN_CORRIDOR_MM = 4.0         # VIN corridor width, from D1's cathode to the slot header's supply pins
OUTPUT_BAND_MM = 3.8          # 5V1_BUCK band height, from L1's output pad to Q1 (IPC-2221 wants 2.8)
POUR_PAD_MARGIN_MM = 0.3      # a pour's edge this far past the pads it is drawn to cover
POUR_GAP_MM = 0.35            # pour edge to a foreign pad it is drawn beside
HOLE_POUR_MARGIN_MM = 0.4     # power pours stay this far outside the Pi's hole keep-outs
POUR_PRIORITY = 1             # above the ground pours (0)
POUR_TARGET_INSET_MM = 0.4    # a stub track ends this far inside its pour's outline
STUB_TRACK_MM = 0.5           # tracks from a power pad outside its pour to the pour (mA)


def build_carrier(design, layout, netlist_path: Path, workdir: Path, part_facts=None) -> Path:
    """Make `workdir/carrier.kicad_pcb` (+ .kicad_pro, .kicad_dru, plan), placed, routed, poured."""
    pcbnew = bm._pcbnew()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    board_path = workdir / BOARD_FILE
    for stale in workdir.glob("carrier.kicad_p*"):
        stale.unlink()
    spec = bm.spec_from_netlist(netlist_path, part_facts)
    fab = catalogue.fab(design["pcb.fab"])
    width_mm, height_mm = carrier_size_mm(layout)
    rules = bm.net_rules(design, fab)

    # library footprints are read before the UUID generator is seeded: the first read of a library
    # draws UUIDs, a cached one does not, so reading later would make the board's UUIDs depend on
    # what the process built before
    templates = {fpid: bm._load_footprint(fpid)
                 for fpid in sorted({p.footprint for p in spec.parts} | {HOLE_FOOTPRINT})}
    pcbnew.KIID.SeedGenerator(UUID_SEED)
    board = pcbnew.NewBoard(str(board_path))
    bm.apply_fab_rules(board, fab)
    bm._add_rect(board, pcbnew.Edge_Cuts, 0.0, 0.0, width_mm, height_mm, bm.EDGE_LINE_WIDTH_MM)

    footprints = {}

    def fresh(fpid: str):
        """A copy of the library footprint with new (seeded, so deterministic) UUIDs."""
        return templates[fpid].Duplicate()

    for part in sorted(spec.parts, key=lambda p: bm._natural(p.ref)):
        fp = fresh(part.footprint)
        fp.SetReference(part.ref)
        fp.SetValue(part.value)
        board.Add(fp)
        footprints[part.ref] = fp
    holes = []
    for k, (px, py) in enumerate(catalogue.node(design["node.model"]).mounting_holes_mm, start=1):
        fp = fresh(HOLE_FOOTPRINT)
        fp.SetReference(f"H{k}")
        fp.SetValue("M2.5")
        board.Add(fp)
        fp.SetPosition(bm.point(*pi_uv_mm(layout, px, py)))
        fp.Reference().SetVisible(False)
        holes.append(fp)
    nets = bm.assign_nets(board, spec, footprints)

    facts = _place(design, layout, footprints, fab)
    pours = _power_pours(layout, footprints, holes, fab, facts["buck_anchor_mm"])
    routed, stitch, track_mm = _route(layout, board, footprints, holes, rules, fab, design, pours)
    for seg in routed.segments:
        bm._add_track(board, nets[seg.net], seg)
    for via in routed.vias:
        bm._add_via(board, nets[via.net], via)
    for via in stitch:
        bm._add_via(board, nets[GND], via)
    for net, rects in pours.items():
        # above the ground pours in priority, solid to its pads
        bm._add_zone(board, nets[net], pcbnew.F_Cu, rects, f"{net}_F", solid=True, priority=POUR_PRIORITY)
    whole = place.Rect(0.0, 0.0, width_mm, height_mm)
    bm._add_zone(board, nets[GND], pcbnew.B_Cu, whole, "GND_B", solid=True)
    bm._add_zone(board, nets[GND], pcbnew.F_Cu, whole, "GND_F", solid=True)
    import rackplane
    title = f"rackplane carrier {design['name']} v{rackplane.__version__} #{bm.design_hash(design)}"
    bm._add_text(board, pcbnew.F_SilkS, title, width_mm * 0.35, height_mm - 3.0 - bm.TITLE_TEXT_MM,
                 size_mm=bm.TITLE_TEXT_MM)
    for fp in footprints.values():
        fp.Reference().SetVisible(False)
    pcbnew.SaveBoard(str(board_path), board)
    board_path.with_suffix(bm.RULES_SUFFIX).write_text(bm.fab_rules_text(fab))
    bm.fill_zones(board_path)  # saving the filled board rewrites the project: its rules go in after
    bm.write_project(board_path, fab, rules)
    facts.update({"track_mm": {n: track_mm[n] for n in sorted(track_mm) if track_mm[n]["wanted_mm"] > 0.3},
                  "pours_mm": {n: [[round(c, 4) for c in (r.u0, r.v0, r.u1, r.v1)] for r in rects]
                               for n, rects in pours.items()},
                  "segments": len(routed.segments), "vias": len(routed.vias), "stitching_vias": len(stitch)})
    (workdir / PLAN_FILE).write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
    return board_path


def _orient_to(fp, targets: dict[str, tuple[float, float]], flip: bool) -> None:
    """Put footprint `fp` so that its pads named in `targets` land on those (u, v) (mm): tries the
    four right-angle orientations (after a flip to B.Cu when `flip`)."""
    pcbnew = bm._pcbnew()
    if flip:
        fp.Flip(fp.GetPosition(), pcbnew.FLIP_DIRECTION_LEFT_RIGHT)
    first, (tu, tv) = next(iter(targets.items()))
    best = None
    for deg in (0, 90, 180, 270):
        fp.SetOrientationDegrees(deg)
        p = fp.FindPadByNumber(first).GetPosition()
        fp.SetPosition(fp.GetPosition() + bm.point(tu, tv) - p)
        err = sum(abs(pcbnew.ToMM(fp.FindPadByNumber(n).GetPosition().x) - u)
                  + abs(pcbnew.ToMM(fp.FindPadByNumber(n).GetPosition().y) - v) for n, (u, v) in targets.items())
        if best is None or err < best[0] - 1e-6:
            best = (err, deg)
    fp.SetOrientationDegrees(best[1])
    p = fp.FindPadByNumber(first).GetPosition()
    fp.SetPosition(fp.GetPosition() + bm.point(tu, tv) - p)
    if best[0] > 0.01:
        raise ValueError(f"{fp.GetReference()}: no orientation puts its pads on {targets} (off by {best[0]:.2f} mm)")


def _place(design, layout, footprints: dict, fab: dict) -> dict:
    pcbnew = bm._pcbnew()
    width_mm, height_mm = carrier_size_mm(layout)
    px1, py1 = catalogue.node(design["node.model"]).header_pin1_mm
    pitch = 2.54
    # Pi header: every socket pin on the Pi's pin of the same number, where Layout puts it: odd
    # pins along +px from pin 1, the even row at py + 2.54 (nearer the Pi's header edge, py = 56,
    # as on the Pi: pin 2, 5 V, is on the outer row). The socket sits on the inner face (mirrored,
    # as it faces the header); _orient_to refuses an orientation that misses any of the three pins.
    _orient_to(footprints["J1"], {"1": pi_uv_mm(layout, px1, py1), "3": pi_uv_mm(layout, px1 + pitch, py1),
                                  "2": pi_uv_mm(layout, px1, py1 + pitch)}, flip=True)
    # slot header: pin 1 at the top, rows along u, body's far face on the rear edge
    conn = catalogue.slot_connector()
    rows = conn["pins_per_row"]
    _, v_c = carrier_uv_mm(layout, 0.0, layout.sled.connector_z_mm)
    u1 = width_mm - HEADER_BODY_REAR_MM
    v1 = v_c - (rows - 1) * pitch / 2
    _orient_to(footprints["J2"], {"1": (u1, v1), "2": (u1 + pitch, v1), "3": (u1, v1 + pitch)}, flip=False)
    _trim_silk_outside(footprints["J2"], width_mm)
    # buck anchor: right of the board's middle, clear of the slot header, between the Pi's upper
    # mounting holes and the Pi socket (the Pi's header edge is its lower edge, so J1 runs along the
    # carrier's bottom): the block's top BUCK_TO_HOLE_MM below the upper holes' keep-out, and its
    # lowest part above J1 at least BUCK_TO_J1_MM above J1's highest pad
    caps = sorted((r for r in footprints if r.startswith("C") and int(r[1:]) >= 10), key=bm._natural)
    cap_du = [OUTPUT_CAPS_RIGHT_DU_MM + k * OUTPUT_CAP_PITCH_MM for k in range(OUTPUT_CAPS_RIGHT_COUNT)]
    cap_du += [OUTPUT_CAPS_LEFT_DU_MM - k * OUTPUT_CAP_PITCH_MM for k in range(len(caps) - len(cap_du))]

    def place_buck(anchor_u: float, anchor_v: float) -> None:
        for ref, (du, dv, rot) in BUCK_OFFSETS.items():
            if ref in footprints:
                fp = footprints[ref]
                fp.SetOrientationDegrees(rot)
                fp.SetPosition(bm.point(anchor_u + du, anchor_v + dv))
        for ref, du in zip(caps, cap_du):
            fp = footprints[ref]
            fp.SetOrientationDegrees(90)
            fp.SetPosition(bm.point(anchor_u + du, anchor_v + OUTPUT_CAP_DV_MM))

    anchor_u = u1 - 16.0
    place_buck(anchor_u, 0.0)
    j1_pads = [p.GetBoundingBox() for p in footprints["J1"].Pads()]
    j1_top = min(pcbnew.ToMM(b.GetTop()) for b in j1_pads)
    j1_u0 = min(pcbnew.ToMM(b.GetLeft()) for b in j1_pads)
    j1_u1 = max(pcbnew.ToMM(b.GetRight()) for b in j1_pads)
    block = [footprints[r].GetBoundingBox(False) for r in [*BUCK_OFFSETS, *caps] if r in footprints]
    block_top = min(pcbnew.ToMM(b.GetTop()) for b in block)
    above_j1 = [b for b in block if pcbnew.ToMM(b.GetRight()) > j1_u0 and pcbnew.ToMM(b.GetLeft()) < j1_u1]
    block_bottom = max(pcbnew.ToMM(b.GetBottom()) for b in above_j1)
    hole_vs = [pi_uv_mm(layout, px, py)[1]
               for px, py in catalogue.node(design["node.model"]).mounting_holes_mm]
    upper_hole_bottom = max(v for v in hole_vs if v < j1_top) + PI_HOLE_KEEPOUT_R_MM
    anchor_v = upper_hole_bottom + BUCK_TO_HOLE_MM - block_top
    if anchor_v + block_bottom + BUCK_TO_J1_MM > j1_top:
        raise ValueError(f"carrier: the buck block ({block_bottom - block_top:.1f} mm tall) does not fit "
                         f"between the Pi's upper holes (v {upper_hole_bottom:.1f}) and J1 (v {j1_top:.1f})")
    place_buck(anchor_u, anchor_v)
    # presence strap beside the slot header
    j2_pad = lambda n: footprints["J2"].FindPadByNumber(n).GetPosition()  # noqa: E731
    footprints["R1"].SetOrientationDegrees(90)
    footprints["R1"].SetPosition(bm.point(u1 - 3.5, pcbnew.ToMM(j2_pad("9").y)))
    return {"board_size_mm": [round(width_mm, 4), round(height_mm, 4)],
            "buck_anchor_mm": [round(anchor_u, 4), round(anchor_v, 4)]}


def _trim_silk_outside(fp, width_mm: float) -> None:
    """Move the footprint's silkscreen drawings that reach past the board's rear edge (the header's
    pins) to its fab layer: silk off the board is a DRC item and is not printed anyway."""
    pcbnew = bm._pcbnew()
    for item in [i for i in fp.GraphicalItems()]:
        if item.GetLayer() in (pcbnew.F_SilkS, pcbnew.B_SilkS) and \
                pcbnew.ToMM(item.GetBoundingBox().GetRight()) > width_mm - 0.5:
            item.SetLayer(pcbnew.F_Fab if item.GetLayer() == pcbnew.F_SilkS else pcbnew.B_Fab)
    # no longer the library's footprint: a board-local name says so (and KiCad does not compare it)
    fpid = fp.GetFPID()
    fp.SetFPID(pcbnew.LIB_ID("", str(fpid.GetLibItemName()) + "_EdgeOverhang"))


def _box_mm(boxes) -> place.Rect:
    """Union (mm) of KiCad bounding boxes."""
    pcbnew = bm._pcbnew()
    boxes = list(boxes)
    if not boxes:
        raise ValueError("no pads to bound")
    return place.Rect(min(pcbnew.ToMM(b.GetLeft()) for b in boxes), min(pcbnew.ToMM(b.GetTop()) for b in boxes),
                      max(pcbnew.ToMM(b.GetRight()) for b in boxes), max(pcbnew.ToMM(b.GetBottom()) for b in boxes))


def _net_box(fp, net: str) -> place.Rect:
    """Bounding box (mm) of the pads of footprint `fp` on `net`."""
    pads = [p.GetBoundingBox() for p in fp.Pads() if p.GetNetname() == net]
    if not pads:
        raise ValueError(f"{fp.GetReference()} has no pad on {net}")
    return _box_mm(pads)


def _rect_distance_mm(r: place.Rect, u: float, v: float) -> float:
    """Distance (mm) from the point (u, v) to the rectangle (0 inside)."""
    return math.hypot(max(r.u0 - u, 0.0, u - r.u1), max(r.v0 - v, 0.0, v - r.v1))


def _power_pours(layout, footprints: dict, holes: list, fab: dict, anchor_mm) -> dict[str, list[place.Rect]]:
    """The F.Cu pour of each DC power path, as rectangles (board mm) whose union is its outline.

    Each is drawn over the pads it joins (POUR_PAD_MARGIN_MM past them) and beside the foreign
    pads it passes (POUR_GAP_MM short of them); KiCad's filler then keeps its clearances inside
    these outlines. Raises ValueError when a pour would enter a Pi mounting hole's keep-out."""
    pcbnew = bm._pcbnew()
    width_mm, height_mm = carrier_size_mm(layout)
    edge = fab["min_copper_edge_clearance_mm"]
    bottom, right = height_mm - edge, width_mm - edge
    au, av = anchor_mm
    fp = footprints
    margin, gap = POUR_PAD_MARGIN_MM, POUR_GAP_MM

    # VIN: U1's VIN pin -> the input capacitors -> a corridor through D1's cathode -> the slot
    # header's supply pins
    vin_pin = _net_box(fp["U1"], "VIN")
    in_caps = _box_mm([p.GetBoundingBox() for r in ("C1", "C2", "C3") for p in fp[r].Pads()
                       if p.GetNetname() == "VIN"])
    supply = _net_box(fp["J2"], "VIN")
    tvs = _net_box(fp["D1"], "VIN")
    neck = place.Rect(vin_pin.u0 + 0.1, vin_pin.v0 - margin, in_caps.u0, vin_pin.v1 + gap)
    corridor = place.Rect(tvs.u0, in_caps.v0 - margin, tvs.u0 + VIN_CORRIDOR_MM, supply.v1 + gap)
    vin = [neck, place.Rect(in_caps.u0 - margin, in_caps.v0 - margin, corridor.u1, neck.v1), corridor,
           place.Rect(corridor.u0, supply.v0 - margin - 0.1, right, supply.v1 + gap)]

    # SW: placed with the buck, so drawn with it
    sw = [place.Rect(au + a, av + b, au + c, av + d) for a, b, c, d in SW_POUR_REL]

    # 5V1_BUCK: a band along the output capacitors' + pads (under L1's output pad), down onto Q1's
    # source pins, short of its gate pin
    caps = sorted((r for r in fp if r.startswith("C") and int(r[1:]) >= 10), key=bm._natural)
    plus = [_net_box(fp[c], "5V1_BUCK") for c in caps]
    cap_gnd = max(_net_box(fp[c], "GND").v1 for c in caps)
    source = _net_box(fp["Q1"], "5V1_BUCK")
    gate = _net_box(fp["Q1"], "ID_GATE")
    band = place.Rect(min(p.u0 for p in plus) - margin, cap_gnd + gap,
                      max(max(p.u1 for p in plus), source.u1) + margin, cap_gnd + gap + OUTPUT_BAND_MM)
    out_pad = _net_box(fp["L1"], "5V1_BUCK")
    if not (out_pad.v0 < band.v1 and out_pad.v1 > band.v0):
        raise ValueError(f"carrier: the 5V1_BUCK band (v {band.v0:.2f}..{band.v1:.2f}) misses L1's output pad")
    buck = [band, place.Rect(gate.u1 + gap, band.v0, band.u1, source.centre[1] + 0.1)]

    # 5V_PI: Q1's drain -> down to the bottom edge -> along it under the Pi's lower mounting hole
    # nearest the socket's 5 V pins -> up into those pins
    drain = _net_box(fp["Q1"], "5V_PI")
    pi5v = _net_box(fp["J1"], "5V_PI")
    hole = min(holes, key=lambda h: math.dist(pi5v.centre, (pcbnew.ToMM(h.GetPosition().x),
                                                            pcbnew.ToMM(h.GetPosition().y))))
    hu, hv = pcbnew.ToMM(hole.GetPosition().x), pcbnew.ToMM(hole.GetPosition().y)
    keep = PI_HOLE_KEEPOUT_R_MM + HOLE_POUR_MARGIN_MM
    below = _box_mm([fp[r].GetCourtyard(pcbnew.F_Cu).BBox() for r in ("U2", "C6")])
    down = place.Rect(drain.u0 - margin, source.v1 + gap, drain.u1 + margin, bottom)
    pins = place.Rect(pi5v.u0 - gap, pi5v.v0 - margin, hu - keep, bottom)
    if pins.u1 < pi5v.u1:
        raise ValueError(f"carrier: {hole.GetReference()}'s keep-out leaves no room right of J1's 5 V pins")
    pi = [down, place.Rect(hu + keep, below.v1 + margin, down.u1, bottom),
          place.Rect(pins.u0, hv + keep, down.u1, bottom), pins]

    pours = {"VIN": vin, "SW": sw, "5V1_BUCK": buck, "5V_PI": pi}
    for net, rects in pours.items():
        for r in rects:
            if r.u1 <= r.u0 or r.v1 <= r.v0:
                raise ValueError(f"carrier: an empty {net} pour rectangle {r}")
            for h in holes:
                pos = h.GetPosition()
                d = _rect_distance_mm(r, pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y))
                if d < PI_HOLE_KEEPOUT_R_MM:
                    raise ValueError(f"carrier: the {net} pour enters {h.GetReference()}'s keep-out "
                                     f"({d:.2f} mm from its centre, < {PI_HOLE_KEEPOUT_R_MM} mm)")
    return pours


def _route(layout, board, footprints: dict, holes: list, rules: dict, fab: dict, design, pours: dict):
    pcbnew = bm._pcbnew()
    width_mm, height_mm = carrier_size_mm(layout)
    grid = route.Grid(0.0, 0.0, width_mm, height_mm, bm.GRID_MM)
    edge = fab["min_copper_edge_clearance_mm"]
    grid.block_outside(edge, edge, width_mm - edge, height_mm - edge)
    pads_of: dict[str, list] = {}
    for ref in sorted(footprints, key=bm._natural):
        for pad in footprints[ref].Pads():
            net = pad.GetNetname()
            key = net if net else f"__nc_{ref}_{pad.GetNumber()}"
            bm._mark_pad(grid, pad, grid.net_id(key), bm.via_keepout_mm(fab, rules["signal"]))
            if net:
                pads_of.setdefault(net, []).append((ref, pad))
    for fp in holes:
        for pad in fp.Pads():
            bm._mark_pad(grid, pad, grid.net_id(f"__hole_{fp.GetReference()}"), bm.via_keepout_mm(fab, rules["signal"]))
            pos = pad.GetPosition()
            grid.mark_disc(route.BLOCKED, (route.F_LAYER, route.B_LAYER), pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y),
                           pcbnew.ToMM(pad.GetBoundingBox().GetWidth()) / 2 + bm.HOLE_CLEARANCE_MM)
    sig = rules["signal"]
    total = route.Routed()
    track_mm: dict[str, dict] = {}

    def attempt(net, terms, width, record=True):
        for w in (width, 1.0, 0.5, sig.track_mm):
            if w > width:
                continue
            try:
                r = route.route_net(grid, net, terms, route.NetRule(w, sig.clearance_mm, sig.via_diameter_mm,
                                                                    sig.via_drill_mm))
                if net != GND and record:
                    track_mm[net] = {"wanted_mm": round(width, 3), "used_mm": round(w, 3)}
                return r
            except route.RouteError:
                if w == sig.track_mm:
                    raise
        raise route.RouteError(net)

    # small plated holes (thermal vias in exposed pads): no via within the fab's hole-to-hole distance
    for ref in sorted(footprints, key=bm._natural):
        for pad in footprints[ref].Pads():
            drill = pcbnew.ToMM(pad.GetDrillSize().x)
            if pad.HasHole() and 0 < drill < THERMAL_VIA_MAX_DRILL_MM:
                pos = pad.GetPosition()
                grid.mark_disc(route.BLOCKED, (route.F_LAYER, route.B_LAYER), pcbnew.ToMM(pos.x),
                               pcbnew.ToMM(pos.y), drill / 2 + fab["min_hole_to_hole_mm"] + sig.via_drill_mm / 2)
    # 0. the power pours: their copper on F.Cu before anything else, so no other net crosses them
    for net, rects in pours.items():
        for r in rects:
            grid.mark_box(grid.net_id(net), (route.F_LAYER,), r.u0, r.v0, r.u1, r.v1)
    # 1. every surface-mount ground pad: a via into the B.Cu plane beside it (parts whose ground pad
    #    already has plated holes, as U1's exposed pad, reach the plane through them)
    through_gnd = {ref for ref, pad in pads_of.get(GND, []) if pad.IsOnLayer(pcbnew.B_Cu)}
    for ref, pad in pads_of.get(GND, []):
        if pad.IsOnLayer(pcbnew.B_Cu) or ref in through_gnd:
            continue
        t = bm._pad_terminal(pad)
        plane = route.Terminal(t.u_mm, t.v_mm, GND_VIA_REACH_MM, GND_VIA_REACH_MM, (route.B_LAYER,))
        r = attempt(GND, [t, plane], 0.5)
        total.segments += r.segments
        total.vias += r.vias

    # 2. the other nets, by span
    def span(net):
        us = [pcbnew.ToMM(p.GetPosition().x) for _, p in pads_of[net]]
        vs = [pcbnew.ToMM(p.GetPosition().y) for _, p in pads_of[net]]
        return (max(us) - min(us) + max(vs) - min(vs), net)

    for net in sorted((n for n in pads_of if n != GND and n not in pours and len(pads_of[n]) > 1), key=span):
        pads = pads_of[net]
        r = attempt(net, [bm._pad_terminal(p) for _, p in pads], sig.track_mm)
        total.segments += r.segments
        total.vias += r.vias
    # 3. pads of the power nets outside their pour: a thin track from each into the pour, ending on
    #    any of its rectangles or on an earlier such track
    for net, rects in pours.items():
        inner = route.pour_targets(grid, net, rects, POUR_TARGET_INSET_MM)
        for ref, pad in pads_of.get(net, []):
            u, v = pcbnew.ToMM(pad.GetPosition().x), pcbnew.ToMM(pad.GetPosition().y)
            if any(_rect_distance_mm(r, u, v) == 0.0 for r in rects):
                continue
            terms = [bm._pad_terminal(pad), route.nearest_pour_terminal(inner, u, v)]
            for w in (STUB_TRACK_MM, sig.track_mm):
                try:
                    r = route.route_net(grid, net, terms, route.NetRule(w, sig.clearance_mm, sig.via_diameter_mm,
                                                                        sig.via_drill_mm), join_existing=True)
                    break
                except route.RouteError:
                    if w == sig.track_mm:
                        raise
            total.segments += r.segments
            total.vias += r.vias
    # 4. stitching vias on a grid, wherever a ground via fits
    drilled = [(v.u_mm, v.v_mm, v.drill_mm / 2) for v in total.vias]
    drilled += [(pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y), pcbnew.ToMM(p.GetDrillSize().x) / 2)
                for fp in list(footprints.values()) + holes for p in fp.Pads() if p.HasHole()]
    nu, nv = int(width_mm / STITCH_PITCH_MM), int(height_mm / STITCH_PITCH_MM)
    points = [(i * STITCH_PITCH_MM, j * STITCH_PITCH_MM - STITCH_PITCH_MM / 2)
              for j in range(1, nv + 1) for i in range(1, nu + 1)]
    points = [(u, v) for u, v in points
              if 2 * edge < u < width_mm - 2 * edge and 2 * edge < v < height_mm - 2 * edge]
    stitch = stitching.stitching_vias(grid, GND, points, sig, drilled, fab["min_hole_to_hole_mm"])
    return total, stitch, track_mm


def read_carrier_facts(layout, board_path: Path) -> dict:
    """Facts read back from the saved carrier: size, Pi holes and the two connectors in rack (y, z) mm."""
    pcbnew = bm._pcbnew()
    board = pcbnew.LoadBoard(str(board_path))
    out = {"board_size_mm": [round(x, 4) for x in carrier_size_mm(layout)], "holes": [], "connectors": [],
           "footprint_count": len(board.GetFootprints()),
           "zones": sorted(f"{z.GetNetname()}@{board.GetLayerName(z.GetLayer())}" for z in board.Zones())}
    for fp in sorted(board.GetFootprints(), key=lambda f: bm._natural(f.GetReference())):
        ref = fp.GetReference()
        pos = fp.GetPosition()
        y, z = carrier_rack_yz_mm(layout, pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y))
        if ref.startswith("H"):
            out["holes"].append({"ref": ref, "y_mm": round(y, 4), "z_mm": round(z, 4)})
        elif ref in ("J1", "J2"):
            pads = list(fp.Pads())
            p1 = fp.FindPadByNumber("1").GetPosition()
            cu = sum(pcbnew.ToMM(p.GetPosition().x) for p in pads) / len(pads)
            cv = sum(pcbnew.ToMM(p.GetPosition().y) for p in pads) / len(pads)
            out["connectors"].append({
                "ref": ref, "side": "inner" if fp.IsFlipped() else "outer",
                "pin1_yz_mm": [round(c, 4) for c in carrier_rack_yz_mm(layout, pcbnew.ToMM(p1.x), pcbnew.ToMM(p1.y))],
                "centre_yz_mm": [round(c, 4) for c in carrier_rack_yz_mm(layout, cu, cv)]})
    return out
