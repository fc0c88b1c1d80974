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
* The buck (U1, C1-C5, D2, L1, R2-R5, C10..), left of J2 and between the Pi's upper holes and J1
  (which runs along the carrier's bottom, as the Pi's header edge is its lower edge): the
  switching loop (input capacitors C1/C2 -> U1
  VIN -> SW -> D2 -> ground -> C1/C2) is kept inside a ~10 x 15 mm square: the input capacitors
  stand beside U1's VIN side and D2's anode sits under their ground ends. The feedback divider
  R4/R5 sits at U1's FB end, on the side away from SW, L1 and D2; the COMP network beside it.
* The ideal diode (U2, Q1, C6, C7) between the output capacitors and the Pi socket's 5 V pins.

Copper: ground pours over the whole board on both layers (solid to pads), joined by a grid of
stitching vias; every surface-mount ground pad gets its own via into the B.Cu plane; every other
net is routed on the grid router. Tracks of the 5 A output path and the input are as wide as
IPC-2221 asks (10 K rise) where they leave pads wide enough, narrower only into small pins.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pcb import board as bm
from pcb import copper, netlist as netlist_mod, place, route
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
    "C3": (5.5, -3.5, 270), "C1": (5.5, 1.0, 270), "C2": (8.5, 1.0, 270),
    "C4": (0.0, 4.5, 0), "D2": (0.0, 9.5, 0),
    "R2": (3.0, -5.5, 0),
    "R4": (-6.5, -5.0, 0), "R5": (-6.5, -2.5, 0), "R3": (-6.5, 0.0, 0), "C5": (-6.5, 2.5, 0),
    "L1": (-13.5, 10.5, 180),
    "Q1": (-20.0, -3.0, 0), "U2": (-28.0, -3.0, 0), "C6": (-28.0, 1.5, 0), "C7": (-12.0, -6.5, 0),
}
OUTPUT_CAP_ROW = (-26.0, 21.0, 3.4)   # first cap (u, v) from the anchor, pitch; caps vertical
BUCK_TO_J1_MM = 4.0       # least gap, buck block's lowest part to the Pi socket's highest pad (its feeds)
BUCK_TO_HOLE_MM = 2.5      # buck block's top below the keep-out of the Pi's upper mounting holes
PI_HOLE_KEEPOUT_R_MM = 3.0  # the Pi's 6 mm keep-out pad around each M2.5 hole (B+ mechanical drawing)


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
    routed, stitch, track_mm = _route(layout, board, footprints, holes, rules, fab, design)
    for seg in routed.segments:
        bm._add_track(board, nets[seg.net], seg)
    for via in routed.vias:
        bm._add_via(board, nets[via.net], via)
    for via in stitch:
        bm._add_via(board, nets[GND], via)
    edge = fab["min_copper_edge_clearance_mm"]
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
    bm.write_project(board_path, fab, rules)
    bm.fill_zones(board_path)
    facts.update({"track_mm": {n: track_mm[n] for n in sorted(track_mm) if track_mm[n]["wanted_mm"] > 0.3},
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
    # lowest part at least BUCK_TO_J1_MM above J1's highest pad
    caps = sorted((r for r in footprints if r.startswith("C") and int(r[1:]) >= 10), key=bm._natural)
    cu, cv, cp = OUTPUT_CAP_ROW

    def place_buck(anchor_u: float, anchor_v: float) -> None:
        for ref, (du, dv, rot) in BUCK_OFFSETS.items():
            if ref in footprints:
                fp = footprints[ref]
                fp.SetOrientationDegrees(rot)
                fp.SetPosition(bm.point(anchor_u + du, anchor_v + dv))
        for k, ref in enumerate(caps):
            fp = footprints[ref]
            fp.SetOrientationDegrees(270)
            fp.SetPosition(bm.point(anchor_u + cu + k * cp, anchor_v + cv))

    anchor_u = u1 - 16.0
    place_buck(anchor_u, 0.0)
    block = [footprints[r].GetBoundingBox(False) for r in [*BUCK_OFFSETS, *caps] if r in footprints]
    block_top = min(pcbnew.ToMM(b.GetTop()) for b in block)
    block_bottom = max(pcbnew.ToMM(b.GetBottom()) for b in block)
    j1_top = min(pcbnew.ToMM(p.GetBoundingBox().GetTop()) for p in footprints["J1"].Pads())
    hole_vs = [pi_uv_mm(layout, px, py)[1]
               for px, py in catalogue.node(design["node.model"]).mounting_holes_mm]
    upper_hole_bottom = max(v for v in hole_vs if v < j1_top) + PI_HOLE_KEEPOUT_R_MM
    anchor_v = upper_hole_bottom + BUCK_TO_HOLE_MM - block_top
    if anchor_v + block_bottom + BUCK_TO_J1_MM > j1_top:
        raise ValueError(f"carrier: the buck block ({block_bottom - block_top:.1f} mm tall) does not fit "
                         f"between the Pi's upper holes (v {upper_hole_bottom:.1f}) and J1 (v {j1_top:.1f})")
    place_buck(anchor_u, anchor_v)
    # input protection and presence strap beside the slot header
    j2_pad = lambda n: footprints["J2"].FindPadByNumber(n).GetPosition()  # noqa: E731
    vin_v = pcbnew.ToMM(j2_pad("1").y)
    footprints["D1"].SetOrientationDegrees(90)
    footprints["D1"].SetPosition(bm.point(u1 - 5.0, vin_v - 3.0))
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


def _route(layout, board, footprints: dict, holes: list, rules: dict, fab: dict, design):
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
            bm._mark_pad(grid, pad, grid.net_id(key))
            if net:
                pads_of.setdefault(net, []).append((ref, pad))
    for fp in holes:
        for pad in fp.Pads():
            bm._mark_pad(grid, pad, grid.net_id(f"__hole_{fp.GetReference()}"))
            pos = pad.GetPosition()
            grid.mark_disc(route.BLOCKED, (route.F_LAYER, route.B_LAYER), pcbnew.ToMM(pos.x), pcbnew.ToMM(pos.y),
                           pcbnew.ToMM(pad.GetBoundingBox().GetWidth()) / 2 + bm.HOLE_CLEARANCE_MM)
    sig = rules["signal"]
    wide = copper.ipc2221_width_mm(HIGH_CURRENT_A, copper.ALLOWED_RISE_K, fab["copper_oz"], external=True)
    wide = math.ceil(wide / 0.05) * 0.05
    vin_w = rules["slot_power"].track_mm
    widths = {"5V1_BUCK": wide, "5V_PI": wide, "SW": wide, "VIN": vin_w}
    total = route.Routed()
    track_mm: dict[str, dict] = {}

    def attempt(net, terms, width):
        for w in (width, 1.0, 0.5, sig.track_mm):
            if w > width:
                continue
            try:
                r = route.route_net(grid, net, terms, route.NetRule(w, sig.clearance_mm, sig.via_diameter_mm,
                                                                    sig.via_drill_mm))
                if net != GND:
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
    # 2. the other nets: power first (widest), then the rest by span
    def span(net):
        us = [pcbnew.ToMM(p.GetPosition().x) for _, p in pads_of[net]]
        vs = [pcbnew.ToMM(p.GetPosition().y) for _, p in pads_of[net]]
        return (max(us) - min(us) + max(vs) - min(vs), net)

    for net in sorted((n for n in pads_of if n != GND and len(pads_of[n]) > 1), key=span):
        pads = pads_of[net]
        # each pad joined with its own width: the wide trunk first, small pins at the end
        r = attempt(net, [bm._pad_terminal(p) for _, p in pads], widths.get(net, sig.track_mm))
        total.segments += r.segments
        total.vias += r.vias
    # 3. stitching vias on a grid, wherever a ground via fits
    stitch = []
    via_r = sig.clearance_mm + sig.via_diameter_mm / 2 + grid.g / 2
    win = grid._window(0, 0, width_mm, height_mm)
    ok = grid.passable(GND, via_r + 0.2, win)
    drilled = [(v.u_mm, v.v_mm, v.drill_mm / 2) for v in total.vias]
    drilled += [(pcbnew.ToMM(p.GetPosition().x), pcbnew.ToMM(p.GetPosition().y), pcbnew.ToMM(p.GetDrillSize().x) / 2)
                for fp in list(footprints.values()) + holes for p in fp.Pads() if p.HasHole()]
    nu, nv = int(width_mm / STITCH_PITCH_MM), int(height_mm / STITCH_PITCH_MM)
    for j in range(1, nv + 1):
        for i in range(1, nu + 1):
            u, v = i * STITCH_PITCH_MM, j * STITCH_PITCH_MM - STITCH_PITCH_MM / 2
            if not (2 * edge < u < width_mm - 2 * edge and 2 * edge < v < height_mm - 2 * edge):
                continue
            iy, ix = grid.cell(u, v)
            near = min((math.hypot(u - h[0], v - h[1]) - h[2] for h in drilled), default=1e9)
            if near >= sig.via_drill_mm / 2 + fab["min_hole_to_hole_mm"] + 0.05 and \
                    ok[0][iy - win[0], ix - win[2]] and ok[1][iy - win[0], ix - win[2]]:
                via = route.Via(GND, round(u, 4), round(v, 4), sig.via_diameter_mm, sig.via_drill_mm)
                stitch.append(via)
                drilled.append((via.u_mm, via.v_mm, via.drill_mm / 2))
                grid.add_routed(route.Routed([], [via]))
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
