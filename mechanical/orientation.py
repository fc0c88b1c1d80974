"""How each printed part lies on the print bed, and the plate that bounds it, from Layout.

`PRINT_DOWN` is the direction (rack coordinates) of the face that lies on the bed; the parts
(`mechanical.parts`) and the pre-flight bed-fit rule read it from here. `plates(layout)` gives each
part's main plate (Layout's box; the part as built contains it, so the plate is a lower bound of
the printed size) and whether print splitting cuts it across X.
"""

from __future__ import annotations

PRINT_DOWN: dict[str, tuple[float, float, float]] = {
    "panel": (0.0, -1.0, 0.0),
    "floor": (0.0, 0.0, -1.0),
    "roof": (0.0, 0.0, 1.0),
    "side-left": (-1.0, 0.0, 0.0),
    "side-right": (1.0, 0.0, 0.0),
    "rearwall": (0.0, 1.0, 0.0),
    "fanwall": (0.0, -1.0, 0.0),
    "baffle-left": (-1.0, 0.0, 0.0),
    "baffle-right": (1.0, 0.0, 0.0),
    "faceplate": (1.0, 0.0, 0.0),
}


def plates(layout) -> list[tuple[str, tuple[float, float, float, float, float, float], bool]]:
    """(part id, (x0, x1, y0, y1, z0, z1) mm, split across X) of every frame part's main plate."""
    def box(b):
        return (b.x0, b.x1, b.y0, b.y1, b.z0, b.z1)

    half = layout.panel_width_mm / 2
    floor = (layout.body.x0, layout.body.x1, layout.body.y0, layout.body.y1, 0.0, layout.floor_mm)
    return [
        ("panel", (-half, half, 0.0, layout.panel_thickness_mm, 0.0, layout.panel_height_mm), True),
        ("floor", floor, True),
        ("roof", box(layout.roof), True),
        ("side-left", box(layout.side_walls[0]), False),
        ("side-right", box(layout.side_walls[1]), False),
        ("rearwall", box(layout.rear_wall), True),
        ("fanwall", box(layout.fan_wall), True),
        ("baffle-left", box(layout.baffles[0]), False),
        ("baffle-right", box(layout.baffles[1]), False),
    ]


def piece_sizes_mm(layout) -> list[tuple[str, tuple[float, float, float]]]:
    """(part id, (bed-plane long, bed-plane short, height) mm) of the widest piece of each plate
    after the cuts at `layout.split_x_mm`, lying on its PRINT_DOWN face."""
    out = []
    for pid, (x0, x1, y0, y1, z0, z1), split in plates(layout):
        edges = [x0, *sorted(c for c in layout.split_x_mm if split and x0 < c < x1), x1]
        dims = [max(b - a for a, b in zip(edges, edges[1:])), y1 - y0, z1 - z0]
        down_axis = [abs(v) for v in PRINT_DOWN[pid]].index(1.0)
        height = dims.pop(down_axis)
        out.append((pid, (max(dims), min(dims), height)))
    return out
