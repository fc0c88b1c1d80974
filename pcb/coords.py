"""Rack coordinates <-> backplane board coordinates: the one mapping every PCB module uses.

The backplane is a vertical board in the rack's XZ plane, seen from the front (its F.Cu side
faces the sleds). Board coordinates (u, v) in mm have their origin at the board's top-left corner
seen from the front; u grows to the right (rack +X), v grows downward (rack -Z), as KiCad's y does:

    u = x - backplane.x0        v = backplane.z1 - z
"""

from __future__ import annotations


def board_uv_mm(layout, x_mm: float, z_mm: float) -> tuple[float, float]:
    """Board (u, v) in mm of the rack point (x, z) in mm on the backplane's plane."""
    bp = layout.backplane
    return (x_mm - bp.x0, bp.z1 - z_mm)


def rack_xz_mm(layout, u_mm: float, v_mm: float) -> tuple[float, float]:
    """Rack (x, z) in mm of the board point (u, v) in mm; the inverse of `board_uv_mm`."""
    bp = layout.backplane
    return (u_mm + bp.x0, bp.z1 - v_mm)


def board_size_mm(layout) -> tuple[float, float]:
    """Board width (along u) and height (along v) in mm: the backplane box's X and Z extents."""
    bp = layout.backplane
    return (bp.x1 - bp.x0, bp.z1 - bp.z0)


def slot_connector_uv_mm(layout, slot) -> tuple[float, float]:
    """Board (u, v) of a slot connector's pin-field centre, from Layout's connector position."""
    return board_uv_mm(layout, slot.x_mm + layout.sled.connector_dx_mm, layout.sled.connector_z_mm)
