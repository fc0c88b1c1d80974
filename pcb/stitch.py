"""Ground stitching vias: a via of the ground net wherever one fits at the candidate points.

A via fits where the router's grid lets copper of the net reach the via's radius plus the
clearance (and the grid's half cell) on both layers, and where its drill keeps the fab's
hole-to-hole distance from every hole already drilled (pads, vias, mounting holes). Each via
placed is marked on the grid and joins the drilled holes, so later candidates respect it.
"""

from __future__ import annotations

import math

from pcb import route

HOLE_GAP_MARGIN_MM = 0.05  # above the fab's hole-to-hole minimum


def stitching_vias(grid: route.Grid, net: str, points_mm: list[tuple[float, float]], rule: route.NetRule,
                   drilled_mm: list[tuple[float, float, float]], min_hole_to_hole_mm: float,
                   extra_clearance_mm: float = 0.2) -> list[route.Via]:
    """Vias of `net` (diameter and drill from `rule`, mm) at the points of `points_mm` where one
    fits; `drilled_mm` lists (u, v, radius) of existing holes and grows with every via placed."""
    via_r = rule.clearance_mm + rule.via_diameter_mm / 2 + grid.g / 2
    u0 = min(u for u, _ in points_mm) if points_mm else 0.0
    v0 = min(v for _, v in points_mm) if points_mm else 0.0
    u1 = max(u for u, _ in points_mm) if points_mm else 0.0
    v1 = max(v for _, v in points_mm) if points_mm else 0.0
    win = grid._window(u0 - grid.g, v0 - grid.g, u1 + grid.g, v1 + grid.g)
    ok = grid.passable(net, via_r + extra_clearance_mm, win)
    out = []
    for u, v in points_mm:
        iy, ix = grid.cell(u, v)
        if not (win[0] <= iy < win[1] and win[2] <= ix < win[3]):
            continue
        near = min((math.hypot(u - h[0], v - h[1]) - h[2] for h in drilled_mm), default=math.inf)
        if near < rule.via_drill_mm / 2 + min_hole_to_hole_mm + HOLE_GAP_MARGIN_MM:
            continue
        if not (ok[0][iy - win[0], ix - win[2]] and ok[1][iy - win[0], ix - win[2]]):
            continue
        via = route.Via(net, round(u, 4), round(v, 4), rule.via_diameter_mm, rule.via_drill_mm)
        out.append(via)
        drilled_mm.append((via.u_mm, via.v_mm, via.drill_mm / 2))
        grid.add_routed(route.Routed([], [via]))
    return out
