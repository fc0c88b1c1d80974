"""A small deterministic 2-layer grid router (A* over a square grid, with vias).

Why this and not an autorouter package: the backplane is a row of identical slot cells plus a
small management section, so most copper is generated once per cell and copied; what is left
(the cell's own short nets, the management nets) is few enough for a maze router, and a router
of our own gives byte-identical output and clearance by construction, which a grid-quantised
port of FreeRouting did not promise (its own README: "the least precise about clearance").

Model, all in board millimetres (u right, v down, as KiCad's x, y):

* The board is a grid of pitch `grid_mm` on two layers (0 = F.Cu, 1 = B.Cu). `net_at[layer]`
  holds, per cell, the net id whose copper covers the cell centre (0: none, -1: no copper
  allowed at all: board edge band, unplated holes, keep-outs). Copper is rasterised
  conservatively: a cell is marked when its centre lies within the shape grown by
  `0.71 * grid_mm` (half a cell diagonal), so no copper lies between marked cells unseen.
* A track of width w for net n may pass a cell when no foreign copper lies within
  clearance + w / 2 + grid_mm / 2 of its centre (the last term covers the segment between two
  adjacent cell centres). Vias need that on both layers with their own radius.
* Moves: 4 neighbours on a layer, and a via between layers. Costs favour F.Cu (the B.Cu layer
  carries the ground pour, so B.Cu is for crossings) and penalise vias.
* A net is routed as a tree: its first pad is the tree, every next pad (nearest first) is joined
  to the tree by a multi-source A*. Order of nets and pads is fixed, so the result is too.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

F_LAYER, B_LAYER = 0, 1
BLOCKED = -1
RASTER_GROWTH = 0.71          # of a grid pitch: half the cell diagonal
VIA_COST_CELLS = 30           # a via costs as much as 30 grid steps
B_LAYER_STEP_COST = 3         # a step on B.Cu costs 3 steps on F.Cu


@dataclass(frozen=True)
class Costs:
    """What the search pays, in grid steps on F.Cu: a step on B.Cu and a via."""

    b_step: int = B_LAYER_STEP_COST
    via: int = VIA_COST_CELLS


# For a crowded slot cell: B.Cu below a two-layer board's parts is the only other room, and a via
# is short; the ground plane it cuts is stitched around it.
CROWDED = Costs(b_step=1, via=10)
SEARCH_MARGIN_MM = 6.0        # first search window: the net's pads' box grown by this
MAX_EXPANSIONS = 3_000_000


class RouteError(RuntimeError):
    """A net the router could not complete (names the net and its unjoined pads)."""


@dataclass(frozen=True)
class Segment:
    """A straight track piece on one layer (mm)."""

    net: str
    layer: int
    u0_mm: float
    v0_mm: float
    u1_mm: float
    v1_mm: float
    width_mm: float

    def shifted(self, du_mm: float, net: str | None = None) -> "Segment":
        return Segment(net or self.net, self.layer, round(self.u0_mm + du_mm, 4), self.v0_mm,
                       round(self.u1_mm + du_mm, 4), self.v1_mm, self.width_mm)


@dataclass(frozen=True)
class Via:
    net: str
    u_mm: float
    v_mm: float
    diameter_mm: float
    drill_mm: float

    def shifted(self, du_mm: float, net: str | None = None) -> "Via":
        return Via(net or self.net, round(self.u_mm + du_mm, 4), self.v_mm, self.diameter_mm, self.drill_mm)


@dataclass(frozen=True)
class Terminal:
    """A pad to reach: its centre, the box of cells that count as inside it (mm), its layers."""

    u_mm: float
    v_mm: float
    half_u_mm: float
    half_v_mm: float
    layers: tuple[int, ...]


@dataclass
class Routed:
    segments: list[Segment] = field(default_factory=list)
    vias: list[Via] = field(default_factory=list)


class Grid:
    """Occupancy of a rectangle of board (u0..u1, v0..v1 mm) on both layers."""

    def __init__(self, u0_mm: float, v0_mm: float, u1_mm: float, v1_mm: float, grid_mm: float):
        self.u0, self.v0, self.g = u0_mm, v0_mm, grid_mm
        self.nx = int(math.ceil((u1_mm - u0_mm) / grid_mm)) + 1
        self.ny = int(math.ceil((v1_mm - v0_mm) / grid_mm)) + 1
        self.net_at = np.zeros((2, self.ny, self.nx), dtype=np.int32)
        self.net_ids: dict[str, int] = {}
        self.anchors: dict[str, set[tuple[int, int, int]]] = {}  # net -> (layer, iy, ix) on its tracks
        self.no_via = np.zeros((self.ny, self.nx), dtype=bool)   # cells no via centre may take

    # -- coordinates -------------------------------------------------------------------------
    def net_id(self, net: str) -> int:
        if net not in self.net_ids:
            self.net_ids[net] = len(self.net_ids) + 1
        return self.net_ids[net]

    def cell(self, u_mm: float, v_mm: float) -> tuple[int, int]:
        return (int(round((v_mm - self.v0) / self.g)), int(round((u_mm - self.u0) / self.g)))

    def centre(self, iy: int, ix: int) -> tuple[float, float]:
        return (round(self.u0 + ix * self.g, 4), round(self.v0 + iy * self.g, 4))

    def _window(self, u0, v0, u1, v1):
        iy0, ix0 = self.cell(u0, v0)
        iy1, ix1 = self.cell(u1, v1)
        return (max(iy0 - 1, 0), min(iy1 + 2, self.ny), max(ix0 - 1, 0), min(ix1 + 2, self.nx))

    def _coords(self, win):
        iy0, iy1, ix0, ix1 = win
        us = self.u0 + np.arange(ix0, ix1) * self.g
        vs = self.v0 + np.arange(iy0, iy1) * self.g
        return np.meshgrid(us, vs)

    # -- marking copper ---------------------------------------------------------------------
    def mark_box(self, value: int, layers, u0, v0, u1, v1, grow_mm: float | None = None) -> None:
        """Mark an axis-aligned box (mm), grown by `grow_mm` (default: the raster growth)."""
        grow = RASTER_GROWTH * self.g if grow_mm is None else grow_mm
        win = self._window(u0 - grow, v0 - grow, u1 + grow, v1 + grow)
        uu, vv = self._coords(win)
        inside = (uu >= u0 - grow) & (uu <= u1 + grow) & (vv >= v0 - grow) & (vv <= v1 + grow)
        self._set(value, layers, win, inside)

    def mark_disc(self, value: int, layers, u_mm, v_mm, radius_mm: float) -> None:
        r = radius_mm + RASTER_GROWTH * self.g
        win = self._window(u_mm - r, v_mm - r, u_mm + r, v_mm + r)
        uu, vv = self._coords(win)
        self._set(value, layers, win, (uu - u_mm) ** 2 + (vv - v_mm) ** 2 <= r * r)

    def block_vias(self, u_mm, v_mm, radius_mm: float) -> None:
        """No via centre within radius_mm of (u, v): around a drilled hole of any net."""
        win = self._window(u_mm - radius_mm, v_mm - radius_mm, u_mm + radius_mm, v_mm + radius_mm)
        uu, vv = self._coords(win)
        iy0, iy1, ix0, ix1 = win
        self.no_via[iy0:iy1, ix0:ix1] |= (uu - u_mm) ** 2 + (vv - v_mm) ** 2 <= radius_mm * radius_mm

    def mark_segment(self, value: int, layer: int, u0, v0, u1, v1, width_mm: float) -> None:
        r = width_mm / 2 + RASTER_GROWTH * self.g
        win = self._window(min(u0, u1) - r, min(v0, v1) - r, max(u0, u1) + r, max(v0, v1) + r)
        uu, vv = self._coords(win)
        du, dv = u1 - u0, v1 - v0
        length2 = du * du + dv * dv
        t = np.zeros_like(uu) if length2 == 0 else np.clip(((uu - u0) * du + (vv - v0) * dv) / length2, 0, 1)
        d2 = (uu - (u0 + t * du)) ** 2 + (vv - (v0 + t * dv)) ** 2
        self._set(value, (layer,), win, d2 <= r * r)

    def _set(self, value, layers, win, mask) -> None:
        iy0, iy1, ix0, ix1 = win
        for layer in layers:
            view = self.net_at[layer, iy0:iy1, ix0:ix1]
            if value == BLOCKED:
                view[mask] = BLOCKED
            else:
                view[mask & (view == 0)] = value

    def relabel_box(self, old: int, new: int, layers, u0, v0, u1, v1) -> None:
        """Cells of the box (mm, grown as `mark_box` grows) that carry `old` carry `new` instead."""
        grow = RASTER_GROWTH * self.g
        iy0, iy1, ix0, ix1 = self._window(u0 - grow, v0 - grow, u1 + grow, v1 + grow)
        for layer in layers:
            view = self.net_at[layer, iy0:iy1, ix0:ix1]
            view[view == old] = new

    def block_outside(self, u0, v0, u1, v1) -> None:
        """No copper outside the box (mm): the board edge less its copper clearance."""
        uu, vv = self._coords((0, self.ny, 0, self.nx))
        outside = (uu < u0) | (uu > u1) | (vv < v0) | (vv > v1)
        self.net_at[:, outside] = BLOCKED

    def add_routed(self, routed: Routed, anchors: bool = True) -> None:
        """Mark routed copper; with `anchors`, later routes of its net may join it (join_existing)."""
        for s in routed.segments:
            self.mark_segment(self.net_id(s.net), s.layer, s.u0_mm, s.v0_mm, s.u1_mm, s.v1_mm, s.width_mm)
            if not anchors:
                continue
            anchors = self.anchors.setdefault(s.net, set())
            iy0, ix0 = self.cell(s.u0_mm, s.v0_mm)
            iy1, ix1 = self.cell(s.u1_mm, s.v1_mm)
            n = max(abs(iy1 - iy0), abs(ix1 - ix0))
            for k in range(n + 1):
                anchors.add((s.layer, iy0 + round(k * (iy1 - iy0) / max(n, 1)), ix0 + round(k * (ix1 - ix0) / max(n, 1))))
        for v in routed.vias:
            self.mark_disc(self.net_id(v.net), (F_LAYER, B_LAYER), v.u_mm, v.v_mm, v.diameter_mm / 2)
            if not anchors:
                continue
            iy, ix = self.cell(v.u_mm, v.v_mm)
            self.anchors.setdefault(v.net, set()).update({(F_LAYER, iy, ix), (B_LAYER, iy, ix)})

    # -- free space for one net ---------------------------------------------------------------
    def passable(self, net: str, radius_mm: float, win) -> np.ndarray:
        """Per layer, cells of `win` where copper of `net` reaching `radius_mm` from the centre
        keeps the clearance already folded into `radius_mm` from every foreign item."""
        iy0, iy1, ix0, ix1 = win
        own = self.net_id(net)
        pad = int(math.ceil(radius_mm / self.g)) + 1
        py0, py1 = max(iy0 - pad, 0), min(iy1 + pad, self.ny)
        px0, px1 = max(ix0 - pad, 0), min(ix1 + pad, self.nx)
        r_cells = radius_mm / self.g
        k = int(math.floor(r_cells))
        yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
        disc = (xx * xx + yy * yy) <= r_cells * r_cells
        out = np.empty((2, iy1 - iy0, ix1 - ix0), dtype=bool)
        for layer in (F_LAYER, B_LAYER):
            area = self.net_at[layer, py0:py1, px0:px1]
            foreign = (area != 0) & (area != own)
            grown = ndimage.binary_dilation(foreign, structure=disc)
            out[layer] = ~grown[iy0 - py0:iy1 - py0, ix0 - px0:ix1 - px0]
            hard = area[iy0 - py0:iy1 - py0, ix0 - px0:ix1 - px0] == BLOCKED
            out[layer] &= ~hard
        return out


@dataclass(frozen=True)
class NetRule:
    track_mm: float
    clearance_mm: float
    via_diameter_mm: float
    via_drill_mm: float


def pour_targets(grid: Grid, net: str, rects: list, inset_mm: float) -> list:
    """A pour of `net` drawn as rectangles (board mm, `place.Rect`): later routes of the net that
    join existing copper may end anywhere on them, each shrunk by `inset_mm` (a track ends that
    far inside the pour's outline). Returns the shrunk rectangles."""
    inner = [r.grown(-inset_mm) for r in rects]
    anchors = grid.anchors.setdefault(net, set())
    for r in inner:
        iy0, ix0 = grid.cell(r.u0, r.v0)
        iy1, ix1 = grid.cell(r.u1, r.v1)
        anchors.update((F_LAYER, iy, ix) for iy in range(iy0, iy1 + 1) for ix in range(ix0, ix1 + 1))
    return inner


def nearest_pour_terminal(inner: list, u_mm: float, v_mm: float) -> Terminal:
    """The F.Cu terminal of the rectangle of `inner` (from `pour_targets`) nearest (u, v) mm."""
    def distance(r):
        return math.hypot(max(r.u0 - u_mm, 0.0, u_mm - r.u1), max(r.v0 - v_mm, 0.0, v_mm - r.v1))

    near = min(inner, key=lambda r: (distance(r), r.u0, r.v0))
    return Terminal(*near.centre, near.width_mm / 2, near.height_mm / 2, (F_LAYER,))


def route_net(grid: Grid, net: str, terminals: list[Terminal], rule: NetRule,
              window_mm: tuple[float, float, float, float] | None = None,
              join_existing: bool = False, costs: Costs = Costs()) -> Routed:
    """Join `terminals` of `net` into one tree on `grid`; mark and return the copper added.

    `window_mm` (u0, v0, u1, v1) bounds the search (default: the pads' box grown by
    SEARCH_MARGIN_MM, then the whole grid if that fails). Raises RouteError when a pad cannot
    be reached. With `join_existing`, reaching the net's earlier tracks (from this grid's
    earlier routes) also joins a pad to the tree."""
    if len(terminals) < 2:
        return Routed()
    boxes = [window_mm] if window_mm else []
    us = [t.u_mm for t in terminals]
    vs = [t.v_mm for t in terminals]
    if not window_mm:
        boxes.append((min(us) - SEARCH_MARGIN_MM, min(vs) - SEARCH_MARGIN_MM,
                      max(us) + SEARCH_MARGIN_MM, max(vs) + SEARCH_MARGIN_MM))
        boxes.append((grid.u0, grid.v0, grid.u0 + grid.nx * grid.g, grid.v0 + grid.ny * grid.g))
    last_error = None
    for box in boxes:
        try:
            routed = _route_in_window(grid, net, terminals, rule, box, join_existing, costs)
        except RouteError as exc:
            last_error = exc
            continue
        grid.add_routed(routed)
        return routed
    raise last_error


def _route_in_window(grid: Grid, net, terminals, rule: NetRule, box, join_existing: bool = False,
                     costs: Costs = Costs()) -> Routed:
    win = grid._window(*box)
    iy0, iy1, ix0, ix1 = win
    h, w = iy1 - iy0, ix1 - ix0
    track_r = rule.clearance_mm + rule.track_mm / 2 + grid.g / 2
    via_r = rule.clearance_mm + rule.via_diameter_mm / 2 + grid.g / 2
    ok = grid.passable(net, track_r, win)
    ok_via = grid.passable(net, via_r, win)
    via_ok = (ok_via[0] & ok_via[1] & ~grid.no_via[iy0:iy1, ix0:ix1]).ravel().tolist()
    layer_ok = [ok[0].ravel().tolist(), ok[1].ravel().tolist()]

    def cells_of(t: Terminal) -> list[tuple[int, int]]:
        """(layer, flat index) of the grid cells inside terminal t that a track may use."""
        out = []
        cy0, cx0 = grid.cell(t.u_mm - t.half_u_mm, t.v_mm - t.half_v_mm)
        cy1, cx1 = grid.cell(t.u_mm + t.half_u_mm, t.v_mm + t.half_v_mm)
        for layer in t.layers:
            for iy in range(max(cy0, iy0), min(cy1, iy1 - 1) + 1):
                for ix in range(max(cx0, ix0), min(cx1, ix1 - 1) + 1):
                    u, v = grid.centre(iy, ix)
                    if abs(u - t.u_mm) <= t.half_u_mm and abs(v - t.v_mm) <= t.half_v_mm:
                        flat = (iy - iy0) * w + (ix - ix0)
                        if layer_ok[layer][flat]:
                            out.append((layer, flat))
        return out

    tree: set[tuple[int, int]] = set(cells_of(terminals[0]))
    if not tree:
        raise RouteError(f"net {net}: no free cell in its first pad at ({terminals[0].u_mm:.2f}, {terminals[0].v_mm:.2f})")
    paths: list[list[tuple[int, int]]] = []
    remaining = list(range(1, len(terminals)))
    t0 = terminals[0]
    remaining.sort(key=lambda k: (abs(terminals[k].u_mm - t0.u_mm) + abs(terminals[k].v_mm - t0.v_mm), k))
    for k in remaining:
        goal = set(cells_of(terminals[k]))
        if join_existing:
            goal |= {(layer, (iy - iy0) * w + (ix - ix0)) for layer, iy, ix in grid.anchors.get(net, ())
                     if iy0 <= iy < iy1 and ix0 <= ix < ix1 and layer_ok[layer][(iy - iy0) * w + (ix - ix0)]}
        if not goal:
            raise RouteError(f"net {net}: pad at ({terminals[k].u_mm:.2f}, {terminals[k].v_mm:.2f}) has no free cell")
        if goal & tree:
            continue
        path = _astar(tree, goal, w, h, layer_ok, via_ok, costs)
        if path is None:
            raise RouteError(f"net {net}: no path to the pad at ({terminals[k].u_mm:.2f}, {terminals[k].v_mm:.2f})")
        paths.append(path)
        tree.update(path)
    return _geometry(grid, net, paths, rule, win)


def _astar(sources, goals, w, h, layer_ok, via_ok, costs: Costs = Costs()):
    gy = [i // w for _, i in goals]
    gx = [i % w for _, i in goals]
    gy0, gy1, gx0, gx1 = min(gy), max(gy), min(gx), max(gx)
    goal_set = set(goals)

    def heur(i: int) -> int:
        y, x = divmod(i, w)
        dy = gy0 - y if y < gy0 else (y - gy1 if y > gy1 else 0)
        dx = gx0 - x if x < gx0 else (x - gx1 if x > gx1 else 0)
        return dx + dy

    best: dict[tuple[int, int], int] = {}
    came: dict[tuple[int, int], tuple[int, int] | None] = {}
    heap: list = []
    for node in sorted(sources):
        best[node] = 0
        came[node] = None
        heapq.heappush(heap, (heur(node[1]), 0, node[0], node[1]))
    steps = (1, -1, w, -w)
    expansions = 0
    while heap:
        f, g, layer, i = heapq.heappop(heap)
        node = (layer, i)
        if g > best.get(node, 1 << 60):
            continue
        if node in goal_set:
            path = [node]
            while came[path[-1]] is not None:
                path.append(came[path[-1]])
            return path[::-1]
        expansions += 1
        if expansions > MAX_EXPANSIONS:
            return None
        ok = layer_ok[layer]
        step_cost = 1 if layer == F_LAYER else costs.b_step
        x = i % w
        for d in steps:
            j = i + d
            if d == 1 and x == w - 1 or d == -1 and x == 0 or j < 0 or j >= w * h or not ok[j]:
                continue
            ng = g + step_cost
            nxt = (layer, j)
            if ng < best.get(nxt, 1 << 60):
                best[nxt] = ng
                came[nxt] = node
                heapq.heappush(heap, (ng + heur(j), ng, layer, j))
        if via_ok[i]:
            other = 1 - layer
            nxt = (other, i)
            ng = g + costs.via
            if layer_ok[other][i] and ng < best.get(nxt, 1 << 60):
                best[nxt] = ng
                came[nxt] = node
                heapq.heappush(heap, (ng + heur(i), ng, other, i))
    return None


def _geometry(grid: Grid, net: str, paths, rule: NetRule, win) -> Routed:
    """Straight segments (collinear steps merged) and vias of the cell paths."""
    iy0, iy1, ix0, ix1 = win
    w = ix1 - ix0
    out = Routed()
    for path in paths:
        pts = [(layer, *grid.centre(iy0 + i // w, ix0 + i % w)) for layer, i in path]
        run = [pts[0]]
        for p in pts[1:]:
            if p[0] != run[-1][0]:  # layer change: a via
                out.vias.append(Via(net, p[1], p[2], rule.via_diameter_mm, rule.via_drill_mm))
                _flush(out, net, run, rule)
                run = [p]
                continue
            if len(run) >= 2 and _collinear(run[-2], run[-1], p):
                run[-1] = p
            else:
                run.append(p)
        _flush(out, net, run, rule)
    return out


def _collinear(a, b, c) -> bool:
    return (b[1] - a[1]) * (c[2] - b[2]) == (b[2] - a[2]) * (c[1] - b[1])


def _flush(out: Routed, net, run, rule: NetRule) -> None:
    for a, b in zip(run, run[1:]):
        out.segments.append(Segment(net, a[0], a[1], a[2], b[1], b[2], rule.track_mm))
