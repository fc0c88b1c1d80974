"""Placement helpers for the boards: rectangles, first-fit packing and least-cost placement.

Everything is in board millimetres (u right, v down; see `pcb.coords`). These functions know no
KiCad: the board builders measure footprints and hand over plain boxes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in board mm (u0 <= u1, v0 <= v1)."""

    u0: float
    v0: float
    u1: float
    v1: float

    @property
    def width_mm(self) -> float:
        return self.u1 - self.u0

    @property
    def height_mm(self) -> float:
        return self.v1 - self.v0

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.u0 + self.u1) / 2, (self.v0 + self.v1) / 2)

    def grown(self, d_mm: float) -> "Rect":
        return Rect(self.u0 - d_mm, self.v0 - d_mm, self.u1 + d_mm, self.v1 + d_mm)

    def shifted(self, du_mm: float, dv_mm: float = 0.0) -> "Rect":
        return Rect(self.u0 + du_mm, self.v0 + dv_mm, self.u1 + du_mm, self.v1 + dv_mm)

    def overlaps(self, other: "Rect") -> bool:
        return self.u0 < other.u1 and other.u0 < self.u1 and self.v0 < other.v1 and other.v0 < self.v1

    def contains(self, other: "Rect") -> bool:
        return self.u0 <= other.u0 and other.u1 <= self.u1 and self.v0 <= other.v0 and other.v1 <= self.v1


@dataclass(frozen=True)
class Item:
    """A part to place: its key and its box (mm) relative to where its origin will go."""

    key: str
    box: Rect


def pack(items: list[Item], regions: list[Rect], keepouts: list[Rect], gap_mm: float,
         step_mm: float = 0.5, bottom_up: bool = False) -> dict[str, tuple[float, float]]:
    """Origins (u, v) in mm for `items`, first fit in order into `regions` (tried in order),
    scanning rows top-down (or bottom-up) and columns left to right on a `step_mm` raster, with
    every placed box at least `gap_mm` from the others and from `keepouts`.

    Raises ValueError naming the first item that fits nowhere."""
    placed: list[Rect] = list(keepouts)
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        spot = None
        for region in regions:
            spot = _first_fit(item.box, region, placed, gap_mm, step_mm, bottom_up)
            if spot is not None:
                break
        if spot is None:
            raise ValueError(f"no room for {item.key} ({item.box.width_mm:.1f} x {item.box.height_mm:.1f} mm) "
                             f"in {len(regions)} free regions")
        out[item.key] = spot
        placed.append(item.box.shifted(*spot).grown(gap_mm))
    return out


def best_fit(items: list[tuple[Item, ...]], regions: list[Rect], placed: list[Rect], gap_mm: float,
             cost, step_mm: float = 0.25) -> dict[str, tuple[Item, tuple[float, float]]]:
    """Place `items` one after another where `cost(item, (u, v))` is least: each entry is a
    part's orientations (Items of one key with their boxes); every free origin on a `step_mm`
    raster of every region is tried, at least `gap_mm` from the boxes in `placed` (which grows as
    parts land). Ties go to the first spot in scan order (regions, rows, columns).

    Returns key -> (the chosen orientation's Item, origin); raises ValueError naming the first
    part that fits nowhere."""
    out: dict[str, tuple[Item, tuple[float, float]]] = {}
    for options in items:
        best = None
        for item in options:
            for region in regions:
                n_u = int((region.width_mm - item.box.width_mm) / step_mm) + 1
                n_v = int((region.height_mm - item.box.height_mm) / step_mm) + 1
                for j in range(max(n_v, 0)):
                    for i in range(max(n_u, 0)):
                        u = round(region.u0 - item.box.u0 + i * step_mm, 4)
                        v = round(region.v0 - item.box.v0 + j * step_mm, 4)
                        cand = item.box.shifted(u, v)
                        if any(cand.overlaps(q) for q in placed):
                            continue
                        c = cost(item, (u, v))
                        if best is None or c < best[0] - 1e-9:
                            best = (c, item, (u, v))
        if best is None:
            key = options[0].key
            raise ValueError(f"no room for {key} ({options[0].box.width_mm:.1f} x {options[0].box.height_mm:.1f} mm) "
                             f"in {len(regions)} free regions")
        _, item, spot = best
        out[item.key] = (item, spot)
        placed.append(item.box.shifted(*spot).grown(gap_mm))
    return out


def _first_fit(box: Rect, region: Rect, placed: list[Rect], gap_mm: float, step_mm: float,
               bottom_up: bool) -> tuple[float, float] | None:
    n_u = int((region.width_mm - box.width_mm) / step_mm) + 1
    n_v = int((region.height_mm - box.height_mm) / step_mm) + 1
    if n_u <= 0 or n_v <= 0:
        return None
    rows = range(n_v - 1, -1, -1) if bottom_up else range(n_v)
    for j in rows:
        for i in range(n_u):
            u = region.u0 - box.u0 + i * step_mm
            v = region.v0 - box.v0 + j * step_mm
            cand = box.shifted(u, v)
            if not any(cand.overlaps(p) for p in placed):
                return (round(u, 4), round(v, 4))
    return None
