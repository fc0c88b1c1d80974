"""The management board's power paths measured on its saved board: the rack's whole current from
the supply connector J1 through the ideal-diode FETs to the backplane connector J2, and back.

| path | net, layer | from -> to |
|---|---|---|
| supply in | VIN_RAW, F.Cu | J1's 12 V pin -> the FETs' source pins (Q1.., in parallel) |
| to the backplane | VIN, F.Cu | the FETs' drains -> J2's 12 V pin |
| ground return | GND, B.Cu | J2's ground pin -> J1's ground pin |

Each carries the rack's full-load current (`pcb.management_board.rack_current_a`). The method is
the carrier's (`pcb.carrier_copper.measure_path`): the narrowest cross-section by minimum cut
between the terminals' pads (copper within LAND_REACH_MM of a pad counts as the pad), IPC-2221's
width for the current on an outer layer at the allowed rise, and the copper's resistance and drop.
The ground return is measured on B.Cu alone (the plane under the whole board; F.Cu's ground pour
only adds copper). Every path is measured on a grid twice as coarse as the carrier's (a coarse cell
is copper only when all its fine cells are: the widths can only come out lower): the band is many
millimetres wide. The drop across the board is the three paths' sum;
The FETs' channels and the connectors' contacts are not copper and are not counted.
"""

from __future__ import annotations

from pathlib import Path

from pcb import carrier_copper, copper
from pcb import management as mgmt
from rackplane import catalogue

RACK = "rack"


def power_paths(fets: tuple[str, ...]) -> tuple[carrier_copper.PowerPath, ...]:
    """The board's power paths, with the ideal-diode FETs `fets` (in parallel) in the middle."""
    return (
        carrier_copper.PowerPath("management supply-in width", "VIN_RAW", "F.Cu", (mgmt.SUPPLY_IN_REF,), fets, RACK,
                                 raster_factor=2),
        carrier_copper.PowerPath("management to-backplane width", "VIN", "F.Cu", fets, (mgmt.BACKPLANE_POWER_REF,),
                                 RACK, raster_factor=2),
        carrier_copper.PowerPath("management GND return width", "GND", "B.Cu", (mgmt.BACKPLANE_POWER_REF,),
                                 (mgmt.SUPPLY_IN_REF,), RACK, raster_factor=2),
    )


def measure_management(design, board_path: Path, current_a: float) -> dict:
    """Per path its narrowest copper, current, IPC-2221 width and drop; the board's total drop.
    A path that cannot be measured records `error`."""
    import pcbnew

    fab = catalogue.fab(design["pcb.fab"])
    oz = fab["copper_oz"]
    temperature_c = copper.copper_temperature_c(design["cooling.ambient_c"])
    board = pcbnew.LoadBoard(str(board_path))
    paths = []
    fets = mgmt.fet_refs(sum(1 for fp in board.GetFootprints() if fp.GetReference().startswith("Q")))
    for path in power_paths(fets):
        try:
            paths.append(carrier_copper.measure_path(board, path, current_a, oz, temperature_c))
        except ValueError as exc:
            paths.append({"rule": path.rule, "net": path.net, "parts": list(path.parts), "error": str(exc)})
    drops = [p.get("drop_mv") for p in paths]
    return {
        "copper_oz": oz, "allowed_rise_k": copper.ALLOWED_RISE_K, "temperature_c": temperature_c,
        "land_reach_mm": carrier_copper.LAND_REACH_MM, "current_a": round(current_a, 4), "paths": paths,
        "drop_v": None if None in drops else round(sum(drops) / 1e3, 5),
        "not_counted": "the FETs' channels (Rds(on)) and the connectors' contacts",
    }
