"""Rack coordinates <-> board coordinates: the one mapping of each board that every PCB module uses.

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


# The carrier lies in the rack's YZ plane at its slot, seen from its outer face (+X, its F.Cu
# side): u grows to the rear (rack +Y), v grows downward (rack -Z).
#
#     u = y - sled.carrier_y0        v = sled.carrier_z1 - z

def carrier_uv_mm(layout, y_mm: float, z_mm: float) -> tuple[float, float]:
    """Carrier board (u, v) in mm of the rack point (y, z) in mm on the carrier's plane."""
    s = layout.sled
    return (y_mm - s.carrier_y0_mm, s.carrier_z1_mm - z_mm)


def carrier_rack_yz_mm(layout, u_mm: float, v_mm: float) -> tuple[float, float]:
    """Rack (y, z) in mm of the carrier point (u, v) in mm; the inverse of `carrier_uv_mm`."""
    s = layout.sled
    return (u_mm + s.carrier_y0_mm, s.carrier_z1_mm - v_mm)


def carrier_size_mm(layout) -> tuple[float, float]:
    """Carrier width (along u) and height (along v) in mm: the sled's carrier extents."""
    s = layout.sled
    return (s.carrier_y1_mm - s.carrier_y0_mm, s.carrier_z1_mm - s.carrier_z0_mm)
