"""The carrier's power paths measured on its saved board: narrowest copper cross-section, the
current each carries, IPC-2221's width for that current, and the copper's resistance and drop.

Paths (nets and parts of `pcb.carrier`; terminals are all pads of a part on the path's net):

| path | net, layer | from -> to | current |
|---|---|---|---|
| VIN | VIN, F.Cu | J2's supply pins -> U1 VIN | the carrier's input current |
| SW | SW, F.Cu | U1 SW -> L1 pin 1 | HIGH_CURRENT_A (on-time) |
| SW catch diode | SW, F.Cu | D2 cathode -> L1 pin 1 | HIGH_CURRENT_A (off-time) |
| 5V1 buck output | 5V1_BUCK, F.Cu | L1 pin 2 -> Q1 source | HIGH_CURRENT_A |
| 5V | 5V_PI, F.Cu | Q1 drain -> J1 pins 2 and 4 | HIGH_CURRENT_A |
| GND return | GND, B.Cu | J1 ground pins -> J2 return pins | HIGH_CURRENT_A |

Currents: the output paths carry the buck's rated HIGH_CURRENT_A (5 A, Pi 5 class) whatever the
node; the input carries the larger of the slot's supply current (`pcb.pinout.
slot_supply_current_a`, the node's recommended supply through the buck) and the buck's input at
that full output (output power / input voltage / efficiency); for a Pi 5 the two are equal. The
ground return is taken at the Pi's whole return current all the way to the slot connector (only
the input current goes on past the buck's ground), so its figure errs on the safe side.

Method. The path's net copper on its layer (filled zones, tracks and vias, pads, as saved) is
rasterised on `pcb.copper`'s RASTER_MM grid (a cell is copper when its centre is). The ground
plane (the whole board) is then taken on a grid twice as coarse, a coarse cell counting as copper
(or as a terminal) only when all four of its fine cells are: a subset of the copper, so its width
can only come out lower and its resistance higher, at a quarter of the cells.

* Narrowest cross-section: the minimum cut between the two terminals, by max-flow/min-cut on the
  grid with unit capacity per copper cell and 4-neighbour steps (scipy's Dinic): every current
  line from one terminal to the other crosses every cut, so the smallest set of cells separating
  them, times the pitch, is the narrowest section the current must pass. With 4-neighbour flow a
  separating set may be diagonal, counted at 1/sqrt(2) of its length: exact across the grid axes
  (the pours are rectangles), never an overestimate. Copper within LAND_REACH_MM of a terminal's
  pads (within half the land's smaller size around a through-hole pin, when that is more:
  `land_reach_mm`), counted in grid steps along the copper, counts as the terminal (flow through
  it is not limited): where a pour meets a small pin
  (U1's SW and VIN leads are 0.6 mm wide) the constriction is the part's land, sized by its maker
  for the part's rated current, and a neck that short sits at the land's temperature; IPC-2221's
  chart is for conductors. The ground return is measured on B.Cu alone (the whole-board plane):
  the F.Cu pour and the stitching vias only add copper, so this is a lower bound.
* Resistance: the raster as a resistor network (4-neighbour, one square of the sheet per step),
  the terminals' pads held at fixed potentials, solved with scipy's sparse solver; R = sheet
  resistance (`pcb.copper.resistance_ohm` of a square, at ambient + the allowed rise) / the
  network's current at 1 V. The drop is current x R.

Voltage drop from the slot connector to the Pi's 5 V pins: not one copper sum, as the buck
regulates in between. What the VIN copper loses costs the buck headroom only
(`input_copper_v`); what the Pi sees below the 5.1 V set point is the output copper (5V1_BUCK +
5V_PI) and the ground return at full load (`buck_output_to_header_v`), plus Q1's channel and the
connectors' contacts, which are not copper and not counted here (no Rds(on) in the catalogue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow
from scipy.sparse.linalg import spsolve

from pcb import copper
from rackplane import catalogue

LAND_REACH_MM = 1.0     # copper this near a terminal's pads counts as the terminal
INPUT, OUTPUT = "input", "output"


@dataclass(frozen=True)
class PowerPath:
    """A DC path: its rule name, net and layer, the parts at each end (their pads on the path's
    net are the terminals), which current it carries (INPUT or OUTPUT), and the raster factor."""

    rule: str
    net: str
    layer: str
    source: tuple[str, ...]
    sink: tuple[str, ...]
    current: str
    raster_factor: int = 1      # measured on a grid this many times coarser than pcb.copper's

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.source + self.sink))


POWER_PATHS = (
    PowerPath("carrier VIN width", "VIN", "F.Cu", ("J2",), ("U1",), INPUT),
    PowerPath("carrier SW width", "SW", "F.Cu", ("U1",), ("L1",), OUTPUT),
    PowerPath("carrier SW catch-diode width", "SW", "F.Cu", ("D2",), ("L1",), OUTPUT),
    PowerPath("carrier 5V1 buck output width", "5V1_BUCK", "F.Cu", ("L1",), ("Q1",), OUTPUT),
    PowerPath("carrier 5V width", "5V_PI", "F.Cu", ("Q1",), ("J1",), OUTPUT),
    PowerPath("carrier GND return width", "GND", "B.Cu", ("J1",), ("J2",), OUTPUT, raster_factor=2),
)
OUTPUT_DROP_NETS = ("5V1_BUCK", "5V_PI")


def input_current_a(design, output_current_a: float) -> float:
    """The carrier's input current (A) at full load: the larger of the slot's supply current and
    the buck's input at `output_current_a` (output power / (input voltage x efficiency))."""
    from pcb import pinout

    buck = catalogue.load("parts")["carrier_buck"]
    efficiency = catalogue.load("power")["carrier_buck"]["efficiency"]
    full = buck["output_v"] * output_current_a / (design["power.input_voltage_v"] * efficiency)
    return max(pinout.slot_supply_current_a(design), full)


def _pad_mask(pads, layer, u0: float, v0: float, nx: int, ny: int) -> np.ndarray:
    """Cells (ny, nx) whose centres lie inside any of `pads` on `layer`."""
    import pcbnew

    edges = []
    for pad in pads:
        poly = pcbnew.SHAPE_POLY_SET()
        pad.TransformShapeToPolygon(poly, layer, 0, pcbnew.FromMM(0.005), pcbnew.ERROR_INSIDE)
        for i in range(poly.OutlineCount()):
            for ring in [poly.Outline(i)] + [poly.Hole(i, h) for h in range(poly.HoleCount(i))]:
                pts = np.array([[pcbnew.ToMM(ring.CPoint(j).x), pcbnew.ToMM(ring.CPoint(j).y)]
                                for j in range(ring.PointCount())])
                edges.append(np.column_stack([pts, np.roll(pts, -1, axis=0)]))
    if not edges:
        return np.zeros((ny, nx), dtype=bool)
    return copper._fill_even_odd(np.vstack(edges), u0, v0, nx, ny)


def _coarsen(mask: np.ndarray, factor: int) -> np.ndarray:
    """A grid `factor` times coarser: a cell is set only when all the fine cells it covers are."""
    if factor == 1:
        return mask
    ny, nx = mask.shape[0] // factor, mask.shape[1] // factor
    return mask[:ny * factor, :nx * factor].reshape(ny, factor, nx, factor).all(axis=(1, 3))


def _window_mm(board, net: str, layer) -> tuple[float, float, float, float] | None:
    """Bounding box (mm) of `net`'s copper on `layer`: filled zones, tracks, vias and pads."""
    import pcbnew

    boxes = []
    for zone in board.Zones():
        if zone.GetNetname() == net and zone.IsOnLayer(layer):
            polys = zone.GetFilledPolysList(layer)
            if polys.OutlineCount():
                boxes.append(polys.BBox())
    boxes += [t.GetBoundingBox() for t in board.GetTracks() if t.GetNetname() == net and t.IsOnLayer(layer)]
    boxes += [p.GetBoundingBox() for fp in board.GetFootprints() for p in fp.Pads()
              if p.GetNetname() == net and p.IsOnLayer(layer)]
    if not boxes:
        return None
    return (min(pcbnew.ToMM(b.GetLeft()) for b in boxes), min(pcbnew.ToMM(b.GetTop()) for b in boxes),
            max(pcbnew.ToMM(b.GetRight()) for b in boxes), max(pcbnew.ToMM(b.GetBottom()) for b in boxes))


def _index(img: np.ndarray) -> tuple[np.ndarray, int]:
    idx = -np.ones(img.shape, dtype=np.int64)
    cells = np.flatnonzero(img.ravel())
    idx.ravel()[cells] = np.arange(len(cells))
    return idx, len(cells)


def _neighbour_pairs(img: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of 4-neighbour copper cells (each pair once)."""
    ny, nx = img.shape
    a, b = [], []
    for dy, dx in ((0, 1), (1, 0)):
        both = img[:ny - dy, :nx - dx] & img[dy:, dx:]
        a.append(idx[:ny - dy, :nx - dx][both])
        b.append(idx[dy:, dx:][both])
    return np.concatenate(a), np.concatenate(b)


def min_cut_cells(img: np.ndarray, source: np.ndarray, sink: np.ndarray) -> tuple[int, np.ndarray]:
    """Smallest number of copper cells of `img` (bool, ny x nx) whose removal separates the
    `source` cells from the `sink` cells (4-neighbour steps; terminal cells cannot be removed),
    and a mask of one such cut. Max-flow/min-cut with each cell split into an in and an out node
    joined by a unit edge."""
    idx, n = _index(img)
    if n == 0 or not (source & img).any() or not (sink & img).any():
        return 0, np.zeros_like(img)
    big = n + 1
    a, b = _neighbour_pairs(img, idx)
    term = (source | sink).ravel()[np.flatnonzero(img.ravel())]
    s_node, t_node = 2 * n, 2 * n + 1
    src, snk = idx[source & img], idx[sink & img]
    rows = np.concatenate([np.arange(n), n + a, n + b, np.full(len(src), s_node), n + snk])
    cols = np.concatenate([n + np.arange(n), b, a, src, np.full(len(snk), t_node)])
    caps = np.concatenate([np.where(term, big, 1), np.full(2 * len(a), big), np.full(len(src) + len(snk), big)])
    graph = csr_matrix((caps.astype(np.int32), (rows, cols)), shape=(2 * n + 2, 2 * n + 2))
    result = maximum_flow(graph, s_node, t_node, method="dinic")
    if result.flow_value == 0:
        return 0, np.zeros_like(img)
    residual = graph - result.flow
    residual.data = np.where(residual.data > 0, 1, 0).astype(np.int32)
    residual.eliminate_zeros()
    reached = np.zeros(2 * n + 2, dtype=bool)
    reached[breadth_first_order(residual, s_node, directed=True, return_predecessors=False)] = True
    cut_cells = np.flatnonzero(reached[:n] & ~reached[n:2 * n])
    cut = np.zeros(img.size, dtype=bool)
    cut[np.flatnonzero(img.ravel())[cut_cells]] = True
    return int(result.flow_value), cut.reshape(img.shape)


def resistance_squares(img: np.ndarray, source: np.ndarray, sink: np.ndarray) -> float | None:
    """Resistance (in squares of the sheet) between the `source` and `sink` cells of the copper
    `img`, each terminal an equipotential; None when no copper joins them."""
    labels, _ = ndimage.label(img)
    joined = np.intersect1d(np.unique(labels[source & img]), np.unique(labels[sink & img]))
    joined = joined[joined > 0]
    if not len(joined):
        return None
    img = np.isin(labels, joined)
    idx, n = _index(img)
    a, b = _neighbour_pairs(img, idx)
    degree = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    lap = coo_matrix((np.concatenate([-np.ones(2 * len(a)), degree]),
                      (np.concatenate([a, b, np.arange(n)]), np.concatenate([b, a, np.arange(n)]))),
                     shape=(n, n)).tocsr()
    volts = np.zeros(n)
    fixed = np.zeros(n, dtype=bool)
    fixed[idx[source & img]] = True
    fixed[idx[sink & img]] = True
    volts[idx[source & img]] = 1.0
    free = ~fixed
    if free.any():
        rhs = -(lap[free][:, fixed] @ volts[fixed])
        volts[free] = spsolve(lap[free][:, free].tocsc(), rhs)
    current = float((lap @ volts)[idx[source & img]].sum())
    return 1.0 / current if current > 0 else None


def land_reach_mm(pads) -> float:
    """How far (mm) copper around a terminal's pads counts as the terminal: LAND_REACH_MM, or
    for a through-hole pin half its land's smaller size, when larger (the pin carries the current
    into the copper all round and sinks its heat)."""
    import pcbnew

    tht = [min(pcbnew.ToMM(p.GetSize().x), pcbnew.ToMM(p.GetSize().y)) / 2 for p in pads if p.HasHole()]
    return max([LAND_REACH_MM, *tht])


def measure_path(board, path: PowerPath, current_a: float, copper_oz: float, temperature_c: float) -> dict:
    """One path's figures (see the module docstring): narrowest_mm (and where, board mm),
    needed_mm (IPC-2221, outer layer, ALLOWED_RISE_K), resistance_mohm at `temperature_c` and
    drop_mv at `current_a`. Raises ValueError when a terminal part or its pads are missing."""
    import pcbnew

    layer = board.GetLayerID(path.layer)
    fps = {ref: board.FindFootprintByReference(ref) for ref in path.parts}
    missing = [ref for ref, fp in fps.items() if fp is None]
    if missing:
        raise ValueError(f"{path.rule}: no {', '.join(missing)} on the board")

    def pads(refs):
        out = [p for ref in refs for p in fps[ref].Pads() if p.GetNetname() == path.net and p.IsOnLayer(layer)]
        if not out:
            raise ValueError(f"{path.rule}: {'/'.join(refs)} has no {path.net} pad on {path.layer}")
        return out

    src_pads, snk_pads = pads(path.source), pads(path.sink)
    box = _window_mm(board, path.net, layer)
    g = copper.RASTER_MM
    u0, v0 = box[0] - 2 * g, box[1] - 2 * g
    nx, ny = int(math.ceil((box[2] - u0) / g)) + 2, int(math.ceil((box[3] - v0) / g)) + 2
    src = _pad_mask(src_pads, layer, u0, v0, nx, ny)
    snk = _pad_mask(snk_pads, layer, u0, v0, nx, ny)
    all_pads = [p for fp in board.GetFootprints() for p in fp.Pads()
                if p.GetNetname() == path.net and p.IsOnLayer(layer)]
    img = copper._rasterise_net(board, path.net, layer, u0, v0, nx, ny) | _pad_mask(all_pads, layer, u0, v0, nx, ny)
    img, src, snk = (_coarsen(m, path.raster_factor) for m in (img, src, snk))
    g *= path.raster_factor
    cross = ndimage.generate_binary_structure(2, 1)

    def land(mask, pads):
        reach = max(int(land_reach_mm(pads) / g), 0)
        return ndimage.binary_dilation(mask & img, cross, iterations=reach, mask=img) if reach else mask & img

    src_land, snk_land = land(src, src_pads), land(snk, snk_pads)
    overlap = src_land & snk_land
    cells, cut = min_cut_cells(img, src_land & ~overlap, snk_land & ~overlap)
    squares = resistance_squares(img, src & img, snk & img)
    sheet_ohm = copper.resistance_ohm(1.0, 1.0, copper_oz, temperature_c)
    where = None
    if cut.any():
        jj, ii = np.nonzero(cut)
        where = [round(float(u0 + (ii.mean() + 0.5) * g), 2), round(float(v0 + (jj.mean() + 0.5) * g), 2)]
    resistance = None if squares is None else squares * sheet_ohm
    return {
        "rule": path.rule, "net": path.net, "layer": path.layer,
        "from": f"{'/'.join(path.source)} {path.net} pads", "to": f"{'/'.join(path.sink)} {path.net} pads",
        "parts": list(path.parts), "current_a": round(current_a, 4), "raster_mm": round(g, 4),
        "narrowest_mm": round(cells * g, 4), "narrowest_at_mm": where,
        "needed_mm": round(copper.ipc2221_width_mm(current_a, copper.ALLOWED_RISE_K, copper_oz, external=True), 4),
        "resistance_mohm": None if resistance is None else round(resistance * 1e3, 4),
        "drop_mv": None if resistance is None else round(resistance * current_a * 1e3, 3),
    }


def measure_carrier(design, board_path: Path) -> dict:
    """The carrier's power-copper facts (see the module docstring): per path its width, current,
    IPC-2221 width and drop; the drop summary. A path that cannot be measured records `error`."""
    import pcbnew

    from pcb.carrier_board import HIGH_CURRENT_A

    fab = catalogue.fab(design["pcb.fab"])
    oz = fab["copper_oz"]
    temperature_c = copper.copper_temperature_c(design["cooling.ambient_c"])
    currents = {OUTPUT: HIGH_CURRENT_A, INPUT: input_current_a(design, HIGH_CURRENT_A)}
    board = pcbnew.LoadBoard(str(board_path))
    paths = []
    for path in POWER_PATHS:
        try:
            paths.append(measure_path(board, path, currents[path.current], oz, temperature_c))
        except ValueError as exc:
            paths.append({"rule": path.rule, "net": path.net, "parts": list(path.parts), "error": str(exc)})

    def drop_v(nets):
        drops = [p.get("drop_mv") for p in paths if p["net"] in nets]
        return None if not drops or None in drops else round(sum(drops) / 1e3, 5)

    output_v, ground_v = drop_v(OUTPUT_DROP_NETS), drop_v(("GND",))
    return {
        "copper_oz": oz, "allowed_rise_k": copper.ALLOWED_RISE_K, "temperature_c": temperature_c,
        "land_reach_mm": LAND_REACH_MM,
        "input_current_a": round(currents[INPUT], 4), "output_current_a": currents[OUTPUT],
        "paths": paths,
        "drop": {"input_copper_v": drop_v(("VIN",)), "output_copper_v": output_v, "ground_return_v": ground_v,
                 "buck_output_to_header_v": None if output_v is None or ground_v is None
                 else round(output_v + ground_v, 5),
                 "not_counted": "Q1's channel (Rds(on)) and the connectors' contacts; the VIN drop is "
                                "absorbed by the buck's regulation"},
    }
