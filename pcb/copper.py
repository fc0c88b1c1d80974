"""Power copper: IPC-2221 trace current, copper resistance, and both measured on a saved board.

Formulas (figures and sources in `rackplane/data/copper.toml`):

* IPC-2221 curve fit: I = k * dT^0.44 * A^0.725, I in A, dT in K, A the cross-section in mil^2,
  k = 0.048 on outer layers, 0.024 on inner ones. Width in mil = A / (1.378 * oz).
* Resistance of a copper strip: R = rho * L / (t * w) * (1 + alpha * (T - 20 C)), with
  rho = 1.724e-8 Ohm m and alpha = 0.0039 / K.

Measurement (`measure_rail`): the rail's copper on one layer (filled zones, tracks and pads of
its net, as saved in the .kicad_pcb) is rasterised on a `RASTER_MM` grid along the board's
length (u). In every column the copper's width across the current is the longest unbroken run of
the net's copper in that column (parallel stubs do not count). The current in a column is the
sum of the loads beyond it, seen from the input terminal; so every column gives one IPC-2221
comparison, and the voltage drop to the farthest load is the sum over columns of
I(u) * rho * du / (t * w(u)). The rail is 1-dimensional by construction (a band along the
board), which is what makes this column model exact enough: where the copper narrows (a
mounting hole in the band) the column sees it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rackplane import catalogue

UM_PER_OZ = 35.0
MM_PER_MIL = 0.0254
RASTER_MM = 0.1


def _fig(table: str) -> dict:
    return {k: v for k, v in catalogue.load("copper")[table].items() if k != "sources"}


ALLOWED_RISE_K = _fig("ipc2221")["allowed_rise_k"]


def ipc2221_current_a(width_mm: float, rise_k: float, copper_oz: float, external: bool = True) -> float:
    """Current (A) that a trace `width_mm` wide of `copper_oz` copper carries at `rise_k` rise."""
    f = _fig("ipc2221")
    k = f["k_external"] if external else f["k_internal"]
    area_mil2 = (width_mm / MM_PER_MIL) * f["mil_per_oz"] * copper_oz
    return k * rise_k ** f["rise_exponent"] * area_mil2 ** f["area_exponent"]


def ipc2221_width_mm(current_a: float, rise_k: float, copper_oz: float, external: bool = True) -> float:
    """Narrowest trace width (mm) that carries `current_a` at `rise_k` rise (IPC-2221)."""
    f = _fig("ipc2221")
    k = f["k_external"] if external else f["k_internal"]
    if current_a <= 0:
        return 0.0
    area_mil2 = (current_a / (k * rise_k ** f["rise_exponent"])) ** (1 / f["area_exponent"])
    return area_mil2 / (f["mil_per_oz"] * copper_oz) * MM_PER_MIL


def copper_thickness_mm(copper_oz: float) -> float:
    return copper_oz * UM_PER_OZ / 1000.0


def resistance_ohm(length_mm: float, width_mm: float, copper_oz: float, temperature_c: float) -> float:
    """Resistance (Ohm) of a copper strip at `temperature_c`."""
    f = _fig("resistivity")
    rho = f["copper_ohm_m"] * (1 + f["tempco_per_k"] * (temperature_c - f["reference_c"]))
    return rho * (length_mm / 1000) / ((copper_thickness_mm(copper_oz) / 1000) * (width_mm / 1000))


def drop_budget_v(input_voltage_v: float) -> float:
    return _fig("drop")["budget_fraction"] * input_voltage_v


def copper_temperature_c(ambient_c: float) -> float:
    """Copper temperature (C) for resistance: ambient plus the allowed IPC-2221 rise."""
    return ambient_c + ALLOWED_RISE_K


@dataclass(frozen=True)
class Load:
    """A current drawn from the rail at board position u (mm)."""

    name: str
    u_mm: float
    current_a: float


def _rasterise_net(board, net_name: str, layer, u0: float, v0: float, nx: int, ny: int) -> np.ndarray:
    """Boolean image (ny, nx) of the copper of `net_name` on `layer` (cell centres inside)."""
    import pcbnew
    from matplotlib.path import Path as MplPath

    img = np.zeros((ny, nx), dtype=bool)
    us = u0 + (np.arange(nx) + 0.5) * RASTER_MM
    vs = v0 + (np.arange(ny) + 0.5) * RASTER_MM

    def window(a0, b0, a1, b1):
        i0 = max(int((a0 - u0) / RASTER_MM) - 1, 0)
        i1 = min(int((a1 - u0) / RASTER_MM) + 2, nx)
        j0 = max(int((b0 - v0) / RASTER_MM) - 1, 0)
        j1 = min(int((b1 - v0) / RASTER_MM) + 2, ny)
        return j0, j1, i0, i1

    for zone in board.Zones():
        if zone.GetNetname() != net_name or not zone.IsOnLayer(layer):
            continue
        polys = zone.GetFilledPolysList(layer)
        rings = []
        for i in range(polys.OutlineCount()):
            rings += [polys.Outline(i)] + [polys.Hole(i, h) for h in range(polys.HoleCount(i))]
        edges = []
        for r in rings:
            pts = np.array([[pcbnew.ToMM(r.CPoint(j).x), pcbnew.ToMM(r.CPoint(j).y)] for j in range(r.PointCount())])
            edges.append(np.column_stack([pts, np.roll(pts, -1, axis=0)]))
        if edges:
            img |= _fill_even_odd(np.vstack(edges), u0, v0, nx, ny)
    for track in board.GetTracks():
        if track.GetNetname() != net_name or not track.IsOnLayer(layer):
            continue
        if track.Type() == pcbnew.PCB_VIA_T:
            w = pcbnew.ToMM(track.GetWidth(pcbnew.F_Cu)) / 2
            a = b = track.GetPosition()
        else:
            w = pcbnew.ToMM(track.GetWidth()) / 2
            a, b = track.GetStart(), track.GetEnd()
        pa = (pcbnew.ToMM(a.x), pcbnew.ToMM(a.y))
        pb = (pcbnew.ToMM(b.x), pcbnew.ToMM(b.y))
        j0, j1, i0, i1 = window(min(pa[0], pb[0]) - w, min(pa[1], pb[1]) - w,
                                max(pa[0], pb[0]) + w, max(pa[1], pb[1]) + w)
        uu, vv = np.meshgrid(us[i0:i1], vs[j0:j1])
        du, dv = pb[0] - pa[0], pb[1] - pa[1]
        l2 = du * du + dv * dv
        t = np.zeros_like(uu) if l2 == 0 else np.clip(((uu - pa[0]) * du + (vv - pa[1]) * dv) / l2, 0, 1)
        img[j0:j1, i0:i1] |= (uu - pa[0] - t * du) ** 2 + (vv - pa[1] - t * dv) ** 2 <= w * w
    return img


def _fill_even_odd(edges: np.ndarray, u0: float, v0: float, nx: int, ny: int) -> np.ndarray:
    """Cells (ny, nx) whose centres lie inside the polygon rings given as edges (u0, v0, u1, v1)
    rows, by the even-odd rule: scanlines through the cell centres, crossings toggled."""
    a_u, a_v, b_u, b_v = edges.T
    lo, hi = np.minimum(a_v, b_v), np.maximum(a_v, b_v)
    j_lo = np.ceil((lo - v0) / RASTER_MM - 0.5).astype(int)
    j_hi = np.ceil((hi - v0) / RASTER_MM - 0.5).astype(int)  # rows with lo <= vc < hi
    counts = np.clip(j_hi, 0, ny) - np.clip(j_lo, 0, ny)
    keep = counts > 0
    idx = np.repeat(np.nonzero(keep)[0], counts[keep])
    starts = np.repeat(np.clip(j_lo, 0, ny)[keep], counts[keep])
    offs = np.arange(len(idx)) - np.repeat(np.cumsum(counts[keep]) - counts[keep], counts[keep])
    rows = starts + offs
    vc = v0 + (rows + 0.5) * RASTER_MM
    t = (vc - a_v[idx]) / (b_v[idx] - a_v[idx])
    uc = a_u[idx] + t * (b_u[idx] - a_u[idx])
    cols = np.clip(np.ceil((uc - u0) / RASTER_MM - 0.5).astype(int), 0, nx)
    toggles = np.zeros((ny, nx + 1), dtype=np.int32)
    np.add.at(toggles, (rows, cols), 1)
    return (np.cumsum(toggles, axis=1)[:, :nx] % 2).astype(bool)


def _longest_runs(img: np.ndarray) -> np.ndarray:
    """Per column, the longest run of True cells (in cells)."""
    ny, nx = img.shape
    best = np.zeros(nx, dtype=np.int32)
    run = np.zeros(nx, dtype=np.int32)
    for j in range(ny):
        run = np.where(img[j], run + 1, 0)
        best = np.maximum(best, run)
    return best


def measure_rail(board_path: Path, net_name: str, layer_name: str, input_u_mm: float, loads: list[Load],
                 copper_oz: float, temperature_c: float) -> dict:
    """IPC-2221 and voltage-drop figures of one rail read from a saved board.

    Returns: net, layer, narrowest_mm (and where), worst_ipc (the column whose width is furthest
    below, or least above, IPC-2221's for its current: width_mm, current_a, needed_mm, u_mm),
    drop_v to the farthest load (and which load), and the total current.
    """
    import pcbnew

    board = pcbnew.LoadBoard(str(board_path))
    layer = board.GetLayerID(layer_name)
    box = board.GetBoardEdgesBoundingBox()
    u0, v0 = pcbnew.ToMM(box.GetLeft()), pcbnew.ToMM(box.GetTop())
    nx = int(math.ceil(pcbnew.ToMM(box.GetWidth()) / RASTER_MM))
    ny = int(math.ceil(pcbnew.ToMM(box.GetHeight()) / RASTER_MM))
    img = _rasterise_net(board, net_name, layer, u0, v0, nx, ny)
    width_mm = _longest_runs(img) * RASTER_MM
    centres = u0 + (np.arange(nx) + 0.5) * RASTER_MM
    # a load beyond the rail's copper is drawn at its end
    has = np.nonzero(width_mm > 0)[0]
    if not len(has):
        raise ValueError(f"no {net_name} copper on {layer_name}")
    lo_u, hi_u = float(centres[has[0]]), float(centres[has[-1]])
    loads = [Load(ld.name, min(max(ld.u_mm, lo_u), hi_u), ld.current_a) for ld in loads]
    # current in each column: loads beyond it, seen from the input
    current = np.zeros(nx)
    for load in loads:
        if load.u_mm >= input_u_mm:
            current += np.where((centres >= input_u_mm) & (centres <= load.u_mm), load.current_a, 0.0)
        else:
            current += np.where((centres <= input_u_mm) & (centres >= load.u_mm), load.current_a, 0.0)
    carrying = current > 0
    if not carrying.any():
        raise ValueError(f"no load current on {net_name}: loads {loads}")
    oz = copper_oz
    t_mm = copper_thickness_mm(oz)
    f = _fig("resistivity")
    rho = f["copper_ohm_m"] * (1 + f["tempco_per_k"] * (temperature_c - f["reference_c"]))
    with np.errstate(divide="ignore"):
        needed = np.array([ipc2221_width_mm(i, ALLOWED_RISE_K, oz) if i > 0 else 0.0 for i in current])
        margin = np.where(carrying, width_mm - needed, np.inf)
        drop_per_col = np.where(carrying, current * rho * (RASTER_MM / 1000) /
                                ((t_mm / 1000) * np.maximum(width_mm, 1e-6) / 1000), 0.0)
    worst = int(np.argmin(margin))
    narrow = int(np.argmin(np.where(carrying, width_mm, np.inf)))
    far = max(loads, key=lambda ld: abs(ld.u_mm - input_u_mm))
    side = (centres >= input_u_mm) & (centres <= far.u_mm) if far.u_mm >= input_u_mm else \
        (centres <= input_u_mm) & (centres >= far.u_mm)
    drops = {"right": float(drop_per_col[centres >= input_u_mm].sum()),
             "left": float(drop_per_col[centres <= input_u_mm].sum())}
    return {
        "net": net_name,
        "layer": layer_name,
        "total_current_a": round(sum(ld.current_a for ld in loads), 4),
        "narrowest_mm": round(float(width_mm[narrow]), 4),
        "narrowest_at_u_mm": round(float(centres[narrow]), 3),
        "worst_ipc": {"u_mm": round(float(centres[worst]), 3), "width_mm": round(float(width_mm[worst]), 4),
                      "current_a": round(float(current[worst]), 4), "needed_mm": round(float(needed[worst]), 4)},
        "drop_v": round(max(drops.values()), 5),
        "drop_to": far.name,
        "far_side_drop_v": round(float(drop_per_col[side].sum()), 5),
        "temperature_c": temperature_c,
    }


def measure_board(design, layout, board_path: Path, module_slot_counts: tuple[int, ...] = (),
                  feeds: dict | None = None) -> dict:
    """The power-copper facts of a saved backplane: both rails (VIN on F.Cu, GND on B.Cu) with the
    slots' currents at their places, every slot supply net's narrowest track, and the narrowest
    track of each slot's feed from the band to the pins its supply enters its eFuse by (`feeds`:
    ref -> pad numbers, from the netlist's pass-through declarations).

    Loads: every slot draws `pcb.pinout.slot_supply_current_a` at its socket (its eFuse sits
    beside it). The fans take their current on the management board, before the backplane's
    input.

    A split backplane (`module_slot_counts`: the slots each module of the chain carries, left to
    right; `layout` is the module board's) is measured once per module: current enters at the
    link in (J110) or out (J111) and what the modules beyond draw leaves at the other link. The chain's
    drop is the sum of the modules' drops (the link cables' own resistance is not included)."""
    import pcbnew

    from pcb import netlist as netlist_mod
    from pcb import pinout

    board = pcbnew.LoadBoard(str(board_path))
    fab = catalogue.fab(design["pcb.fab"])
    oz = fab["copper_oz"]
    temp_c = copper_temperature_c(design["cooling.ambient_c"])
    slot_a = pinout.slot_supply_current_a(design)
    slot_u = {}
    supply_numbers = {str(p.number) for p in pinout.pins_of_kind(pinout.SUPPLY)}
    supply_nets: dict[str, str] = {}
    for slot in layout.slots:
        fp = board.FindFootprintByReference(netlist_mod.slot_ref(slot.index))
        pads = list(fp.Pads())
        slot_u[slot.index] = sum(pcbnew.ToMM(p.GetPosition().x) for p in pads) / len(pads)
        for p in pads:
            if p.GetNumber() in supply_numbers and p.GetNetname():
                supply_nets[p.GetNetname()] = f"slot {slot.index}"

    def u_of(ref: str) -> float:
        return pcbnew.ToMM(board.FindFootprintByReference(ref).GetPosition().x)

    counts = module_slot_counts or (len(layout.slots),)
    n_mod = len(counts)
    feed = n_mod // 2  # modules 1..feed are fed at their right end (J111), the others at their left (J110)
    chain = []  # (module, input u, loads); module 0 = the unsplit board
    for i, n in enumerate(counts):
        loads = [Load(f"slot {sum(counts[:i]) + k}", slot_u[k], slot_a) for k in range(1, n + 1)]
        if n_mod == 1:
            chain.append((0, u_of(netlist_mod.INPUT_REF), loads))
            continue
        if i < feed:  # current flows leftwards: on to modules 1..i through the link in
            input_u = u_of(netlist_mod.LINK_OUT_REF)
            beyond_a = slot_a * sum(counts[:i])
            beyond = Load(f"modules 1-{i} (link in)", u_of(netlist_mod.LINK_IN_REF), beyond_a)
        else:         # rightwards: on to modules i+2..n through the link out
            input_u = u_of(netlist_mod.LINK_IN_REF)
            beyond_a = slot_a * sum(counts[i + 1:])
            beyond = Load(f"modules {i + 2}-{n_mod} (link out)", u_of(netlist_mod.LINK_OUT_REF), beyond_a)
        if beyond_a > 0:
            loads.append(beyond)
        chain.append((i + 1, input_u, loads))
    board = None
    rails = []
    side_drop_v = {"left": 0.0, "right": 0.0}
    far_load = {}
    for module, input_u, loads in chain:
        side = "left" if module and module <= feed else "right"
        for net, layer in (("VIN", "F.Cu"), ("GND", "B.Cu")):
            rail = measure_rail(board_path, net, layer, input_u, loads, oz, temp_c)
            if module:
                rail["module"] = module
                side_drop_v[side] += rail["drop_v"]
                far_load[side] = rail["drop_to"]
            rails.append(rail)
    if n_mod == 1:
        drop_v, drop_to = sum(r["drop_v"] for r in rails), rails[0]["drop_to"]
        feed_text = f"{netlist_mod.INPUT_REF}"
    else:
        worst = max(side_drop_v, key=lambda k: (side_drop_v[k], k))
        drop_v, drop_to = side_drop_v[worst], far_load[worst]
        feed_text = (f"module {feed} {netlist_mod.LINK_OUT_REF} and module {feed + 1} {netlist_mod.LINK_IN_REF}")
    # slot supply nets (the eFuse output to the socket) that are not the rail itself
    board = pcbnew.LoadBoard(str(board_path))
    branches = []
    for net, where in sorted(supply_nets.items()):
        if net in ("VIN", "GND"):
            continue
        widths = [pcbnew.ToMM(t.GetWidth()) for t in board.GetTracks()
                  if t.GetNetname() == net and t.Type() == pcbnew.PCB_TRACE_T]
        if widths:
            branches.append({"net": net, "where": where, "narrowest_mm": round(min(widths), 4),
                             "current_a": round(slot_a, 4),
                             "needed_mm": round(ipc2221_width_mm(slot_a, ALLOWED_RISE_K, oz), 4)})
    # each slot's feed: the 12 V tracks from the band to the pins its supply enters a part by
    # (`feeds`: ref -> pad numbers, the eFuse's inputs)
    band_v1 = _band_bottom_mm(board)
    for ref, numbers in sorted((feeds or {}).items()):
        fp = board.FindFootprintByReference(ref)
        pads = [p for p in fp.Pads() if p.GetNumber() in numbers and p.GetNetname() == "VIN"] if fp else []
        widths = _feed_widths_mm(board, pads, "VIN", band_v1) if pads else []
        if widths:
            branches.append({"net": "VIN", "where": f"feed from the band to {ref}", "narrowest_mm": round(min(widths), 4),
                             "current_a": round(slot_a, 4),
                             "needed_mm": round(ipc2221_width_mm(slot_a, ALLOWED_RISE_K, oz), 4)})
    return {
        "copper_oz": oz,
        "allowed_rise_k": ALLOWED_RISE_K,
        "input_voltage_v": design["power.input_voltage_v"],
        "drop_budget_v": round(drop_budget_v(design["power.input_voltage_v"]), 4),
        "slot_current_a": round(slot_a, 4),
        "rails": rails,
        "drop_v": round(drop_v, 5),
        "drop_to": drop_to,
        "modules": n_mod,
        "supply_at": feed_text,
        "slot_branches": branches,
    }


def _band_bottom_mm(board) -> float:
    """v (mm) of the foot of the 12 V band: the lowest edge of the VIN zone on F.Cu."""
    import pcbnew

    return max(pcbnew.ToMM(z.GetBoundingBox().GetBottom()) for z in board.Zones()
               if z.GetNetname() == "VIN" and z.IsOnLayer(pcbnew.F_Cu))


def _feed_widths_mm(board, pads: list, net: str, band_v1_mm: float) -> list[float]:
    """Widths (mm) of the `net` tracks that carry current between the band and `pads` (the pins
    a slot's supply enters its eFuse by): the tracks reached from the pads, not walked past the
    band's foot, with every branch that ends elsewhere (a divider's resistor, a bias pin) pruned."""
    import pcbnew

    def key(pt) -> tuple[int, int]:
        return (round(pcbnew.ToMM(pt.x) * 1000), round(pcbnew.ToMM(pt.y) * 1000))

    tracks = [t for t in board.GetTracks() if t.GetNetname() == net and t.Type() == pcbnew.PCB_TRACE_T]
    edges = {i: (key(t.GetStart()), key(t.GetEnd()), t) for i, t in enumerate(tracks)}
    adjacent: dict = {}
    for i, (a, b, _) in edges.items():
        adjacent.setdefault(a, []).append((b, i))
        adjacent.setdefault(b, []).append((a, i))
    start = {key(pt) for t in tracks for pt in (t.GetStart(), t.GetEnd()) if any(p.HitTest(pt) for p in pads)}
    in_band = {n for n in adjacent if n[1] / 1000 <= band_v1_mm}
    seen, stack, used = set(start), list(start), set()
    while stack:
        node = stack.pop()
        if node in in_band:
            continue
        for other, i in adjacent[node]:
            used.add(i)
            if other not in seen:
                seen.add(other)
                stack.append(other)
    terminals = start | (in_band & seen)
    live = {i: edges[i] for i in used}
    while True:  # prune dead ends
        degree: dict = {}
        for a, b, _ in live.values():
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
        dead = [i for i, (a, b, _) in live.items()
                if (degree[a] == 1 and a not in terminals) or (degree[b] == 1 and b not in terminals)]
        if not dead:
            break
        for i in dead:
            del live[i]
    return [pcbnew.ToMM(t.GetWidth()) for _, _, t in live.values()]
