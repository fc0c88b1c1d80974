"""The backplane's KiCad board: footprints from the netlist, placed from Layout, copper poured.

Placement (board coordinates from `pcb.coords`; nothing here computes a rack position):

* Edge.Cuts: the Layout's backplane box.
* Mounting holes ``H<k>`` at Layout's `backplane_holes_xz_mm[k - 1]`.
* Slot socket ``J<n>`` with its pin-field centre at slot n's connector (x, z) from Layout, pin 1
  in the top row, on the front (F.Cu) side that faces the sleds.
* The DC input terminal on the rear (B.Cu) side: between the carriers' tails and the board there
  is only the socket's body depth (8.5 mm), too little for a screw terminal and its wires, while
  the supply cable comes from the rear. It goes in the free stretch of board (clear of every
  socket and hole) nearest the board's middle, which halves the rail length to the farthest slot.

Copper: VIN is a pour over the whole F.Cu layer, GND over the whole B.Cu layer; every supply and
return pad is a through-hole pad, so both rails reach every slot without tracks. The fab house's
rules (`catalogue.fab(design["pcb.fab"])`) are the board's design rules, and the two that KiCad's
board settings cannot hold (minimum via drill, maximum drill) go into a custom rules file next to
the board, so that `kicad-cli pcb drc` enforces all of them.

Determinism: KiCad's UUID generator is seeded before the board is made, and every item is added
in a fixed order, so the same parameters give a byte-identical .kicad_pcb.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pcb import coords
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


def _extent_u(fp, margin_mm: float) -> Interval:
    """The footprint's extent along u (all its graphics and pads), widened by margin_mm each side."""
    pcbnew = _pcbnew()
    box = fp.GetBoundingBox(False)
    return Interval(pcbnew.ToMM(box.GetLeft()) - margin_mm, pcbnew.ToMM(box.GetRight()) + margin_mm)


def _add_rect(board, layer, u0: float, v0: float, u1: float, v1: float, width_mm: float) -> None:
    pcbnew = _pcbnew()
    shape = pcbnew.PCB_SHAPE(board)
    shape.SetShape(pcbnew.SHAPE_T_RECT)
    shape.SetStart(point(u0, v0))
    shape.SetEnd(point(u1, v1))
    shape.SetLayer(layer)
    shape.SetWidth(mm(width_mm))
    board.Add(shape)


def _add_zone(board, net, layer, width_mm: float, height_mm: float, name: str) -> None:
    pcbnew = _pcbnew()
    zone = pcbnew.ZONE(board)
    zone.SetLayer(layer)
    zone.SetNet(net)
    zone.SetZoneName(name)
    outline = zone.Outline()
    outline.NewOutline()
    for u, v in ((0, 0), (width_mm, 0), (width_mm, height_mm), (0, height_mm)):
        outline.Append(mm(u), mm(v))
    zone.SetLocalClearance(mm(ZONE_CLEARANCE_MM))
    zone.SetMinThickness(mm(ZONE_MIN_WIDTH_MM))
    zone.SetPadConnection(pcbnew.ZONE_CONNECTION_THERMAL)
    zone.SetThermalReliefGap(mm(THERMAL_GAP_MM))
    zone.SetThermalReliefSpokeWidth(mm(THERMAL_SPOKE_MM))
    board.Add(zone)


def _add_text(board, layer, text: str, u_mm: float, v_mm: float) -> None:
    pcbnew = _pcbnew()
    item = pcbnew.PCB_TEXT(board)
    item.SetText(text)
    item.SetLayer(layer)
    item.SetTextSize(pcbnew.VECTOR2I(mm(SILK_TEXT_MM), mm(SILK_TEXT_MM)))
    item.SetTextThickness(mm(SILK_TEXT_LINE_MM))
    item.SetPosition(point(u_mm, v_mm))
    board.Add(item)


def build_board(design, layout, netlist_path: Path, workdir: Path) -> Path:
    """Make `workdir/backplane.kicad_pcb` (with its .kicad_pro and .kicad_dru) from the netlist.

    Raises ValueError when the input terminal finds no free stretch of board.
    """
    pcbnew = _pcbnew()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    board_path = workdir / BOARD_FILE
    for stale in workdir.glob("backplane.kicad_p*"):
        stale.unlink()
    parts, nets_in = netlist_mod.read_netlist(netlist_path)
    fab = catalogue.fab(design["pcb.fab"])
    width_mm, height_mm = coords.board_size_mm(layout)

    pcbnew.KIID.SeedGenerator(UUID_SEED)
    board = pcbnew.NewBoard(str(board_path))
    apply_fab_rules(board, fab)
    _add_rect(board, pcbnew.Edge_Cuts, 0.0, 0.0, width_mm, height_mm, EDGE_LINE_WIDTH_MM)

    # Footprints, in netlist (reference) order.
    footprints = {}
    templates = {}  # one library read per footprint name (a read is about 0.1 s)
    for part in sorted(parts, key=lambda p: (p.ref[0], int(p.ref[1:]))):
        if part.footprint not in templates:
            templates[part.footprint] = _load_footprint(part.footprint)
        fp = templates[part.footprint].Duplicate()  # fresh UUIDs for every copy
        fp.SetReference(part.ref)
        fp.SetValue(part.value)
        board.Add(fp)
        footprints[part.ref] = fp

    # Mounting holes and slot sockets at Layout's positions.
    for k, (x, z) in enumerate(layout.backplane_holes_xz_mm, start=1):
        hole = footprints[netlist_mod.hole_ref(k)]
        hole.SetPosition(point(*coords.board_uv_mm(layout, x, z)))
        hole.Reference().SetVisible(False)  # its text would fall off the board's edge
    for slot in layout.slots:
        fp = footprints[netlist_mod.slot_ref(slot.index)]
        du, dv = _pad_centroid_mm(fp)
        u, v = coords.slot_connector_uv_mm(layout, slot)
        fp.SetPosition(point(u - du, v - dv))
        fp.Reference().SetVisible(False)  # the slot number beside it says which slot it is
        pin1_v = pcbnew.ToMM(fp.FindPadByNumber("1").GetPosition().y)
        _add_text(board, pcbnew.F_SilkS, str(slot.index), u - _silk_label_offset_mm(fp), pin1_v)

    # The DC input on the rear, in the free stretch nearest the board's middle.
    terminal = footprints[netlist_mod.INPUT_REF]
    terminal.SetPosition(point(0, 0))
    terminal.Flip(terminal.GetPosition(), pcbnew.FLIP_DIRECTION_LEFT_RIGHT)
    t_box = _extent_u(terminal, PLACEMENT_CLEARANCE_MM)
    blocked = [_extent_u(fp, PLACEMENT_CLEARANCE_MM)
               for ref, fp in footprints.items() if ref != netlist_mod.INPUT_REF]
    edge_mm = fab["min_copper_edge_clearance_mm"] + PLACEMENT_CLEARANCE_MM
    free = free_intervals(Interval(edge_mm, width_mm - edge_mm), blocked)
    centre_u = place_nearest(free, t_box.width_mm, width_mm / 2)
    if centre_u is None:
        raise ValueError(f"no free stretch of {t_box.width_mm:.1f} mm on the backplane for the DC input "
                         f"(widest is {max((f.width_mm for f in free), default=0):.1f} mm)")
    t_centre_v = _box_centre_dv_mm(terminal)
    terminal.SetPosition(point(centre_u - (t_box.lo_mm + t_box.hi_mm) / 2, height_mm / 2 - t_centre_v))

    # Nets onto pads.
    nets = {}
    for n in sorted(nets_in, key=lambda n: n.name):
        info = pcbnew.NETINFO_ITEM(board, n.name)
        board.Add(info)
        nets[n.name] = info
        for ref, number in n.pins:
            for pad in footprints[ref].Pads():
                if pad.GetNumber() == number:
                    pad.SetNet(info)

    _add_zone(board, nets["VIN"], pcbnew.F_Cu, width_mm, height_mm, "VIN")
    _add_zone(board, nets["GND"], pcbnew.B_Cu, width_mm, height_mm, "GND")
    pcbnew.SaveBoard(str(board_path), board)
    board_path.with_suffix(RULES_SUFFIX).write_text(fab_rules_text(fab))
    fill_zones(board_path)
    return board_path


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


def _silk_label_offset_mm(fp) -> float:
    """How far left of the pin-field centre a slot's number goes: past the socket's outline."""
    pcbnew = _pcbnew()
    box = fp.GetBoundingBox(False)
    du, _ = _pad_centroid_mm(fp)
    centre_u = pcbnew.ToMM(fp.GetPosition().x) + du
    return centre_u - pcbnew.ToMM(box.GetLeft()) + SILK_TEXT_MM


def _box_centre_dv_mm(fp) -> float:
    """v of the footprint's bounding-box centre relative to its origin (mm)."""
    pcbnew = _pcbnew()
    box = fp.GetBoundingBox(False)
    return pcbnew.ToMM(box.GetCenter().y - fp.GetPosition().y)


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
        else:
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
