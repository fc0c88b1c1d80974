"""Bills of materials: the hardware that joins the frame and the nodes, and the printed pieces.

Quantities are counted from Layout and the built parts' facts (holes, fans, slots), never typed
in: a design with more slots or fans gets more screws. CSV files are written with a fixed column
order and sorted rows, so they are byte-identical across runs.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rackplane import catalogue

HARDWARE_COLUMNS = ("item", "spec", "quantity", "used_for", "source")
PRINT_COLUMNS = ("piece", "part", "quantity", "material", "filament_g_each", "print_time_s_each",
                 "filament_g_total", "print_time_s_total")


def hardware_rows(layout, design, part_facts: dict) -> list[dict]:
    """Screws, heat-set inserts, standoffs and fans for one rack (rows of HARDWARE_COLUMNS)."""
    enc = catalogue.enclosure()
    n_slots = len(layout.slots)
    fan = catalogue.fan(design["cooling.fan_size_mm"])
    fan_holes = part_facts.get("fanwall", {}).get("screw_holes", 4 * len(layout.fans))
    bp_holes = len(layout.backplane_holes_xz_mm)
    wall = layout.fan_wall.y1 - layout.fan_wall.y0
    rows = [
        {"item": "fan", "spec": f"{fan.model}, {fan.size_mm} x {fan.size_mm} x {fan.thickness_mm:g} mm, "
                                f"{fan.voltage_v:g} V", "quantity": len(layout.fans),
         "used_for": "fan wall", "source": "rackplane/data/fans.toml"},
        {"item": "fan screw", "spec": f"self-tapping fan screw for {fan.hole_d_mm:g} mm holes, "
                                      f"length >= {wall + 7:g} mm (wall {wall:g} mm + 7 mm into the fan frame)",
         "quantity": fan_holes, "used_for": "fans to fan wall", "source": "fan wall screw holes (built)"},
        {"item": "heat-set insert", "spec": f"M3, for a {enc['insert_m3_hole_d_mm']:g} mm x "
                                            f"{enc['insert_m3_depth_mm']:g} mm hole",
         "quantity": bp_holes, "used_for": "backplane standoffs", "source": "frame.toml [enclosure]"},
        {"item": "screw", "spec": "M3 x 6 pan head (1.6 mm board + 4 mm into the insert)", "quantity": bp_holes,
         "used_for": "backplane to its standoffs", "source": "layout.backplane_holes_xz_mm"},
        {"item": "standoff", "spec": f"M2.5 female-female, {layout.sled.pi_to_carrier_mm:g} mm",
         "quantity": 4 * n_slots, "used_for": "Pi to carrier (4 per sled)", "source": "layout.sled"},
        {"item": "screw", "spec": "M2.5 x 5 pan head", "quantity": 8 * n_slots,
         "used_for": "Pi and carrier to the standoffs", "source": "layout.sled"},
        {"item": "screw", "spec": "M2.5 x 8 pan head with nut", "quantity": 2 * n_slots,
         "used_for": "sled faceplate arm to carrier (2 per sled)", "source": "mechanical.parts.sled_faceplate"},
    ]
    return rows


def _csv_text(columns, rows) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue()


def write_csv(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_csv_text(HARDWARE_COLUMNS, rows))
    return path


def write_print_bom(path: Path, sliced: list[dict], material: str) -> Path:
    """One row per printed piece: quantity, material, filament (g) and print time (s), each and total."""
    rows = [{"piece": p["id"], "part": p["part"], "quantity": p["quantity"], "material": material,
             "filament_g_each": p["filament_g"], "print_time_s_each": p["print_time_s"],
             "filament_g_total": round(p["filament_g"] * p["quantity"], 2),
             "print_time_s_total": p["print_time_s"] * p["quantity"]} for p in sliced]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_csv_text(PRINT_COLUMNS, rows))
    return path
