"""Slice STL files with the PrusaSlicer command line and read filament and time from the G-code.

PrusaSlicer does not refuse a part larger than its bed (toolchain notes), so bed fit is
`print.bed_fit`'s job; this module only reports what a real slicer makes of each piece.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from rackplane.toolenv import require_tool

_FILAMENT_MM = re.compile(r"^; filament used \[mm\] = ([\d.]+)", re.M)
_FILAMENT_G = re.compile(r"^; (?:total )?filament used \[g\] = ([\d.]+)", re.M)
_PRINT_TIME = re.compile(r"^; estimated printing time \(normal mode\) = (.+)$", re.M)
_TIME_UNITS_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration_s(text: str) -> int:
    """Seconds in a PrusaSlicer duration such as '1d 3h 4m 57s'."""
    parts = re.findall(r"(\d+)\s*([dhms])", text)
    if not parts:
        raise ValueError(f"not a PrusaSlicer duration: {text!r}")
    return sum(int(n) * _TIME_UNITS_S[u] for n, u in parts)


def slice_stl(stl: Path, gcode: Path, bed_mm: tuple[float, float, float], nozzle_mm: float,
              filament_type: str, density_g_cm3: float, timeout_s: float = 300.0) -> dict:
    """Slice one STL on a rectangular bed (mm) with the slicer's default print settings.

    Returns filament_mm (filament length), filament_g (mass at `density_g_cm3`), print_time_s
    and the G-code file name. Raises RuntimeError with the slicer's output when it fails.
    """
    exe = require_tool("prusa-slicer")
    bx, by, bz = bed_mm
    cmd = [exe, "--export-gcode",
           "--bed-shape", f"0x0,{bx:g}x0,{bx:g}x{by:g},0x{by:g}",
           "--center", f"{bx / 2:g},{by / 2:g}",
           "--max-print-height", f"{bz:g}",
           "--nozzle-diameter", f"{nozzle_mm:g}",
           "--filament-type", filament_type,
           "--filament-density", f"{density_g_cm3:g}",
           "-o", str(gcode), str(stl)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0 or not gcode.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise RuntimeError(f"prusa-slicer failed on {stl.name} (exit {proc.returncode}): "
                           + " | ".join(tail))
    text = gcode.read_text(errors="replace")
    length, mass, duration = (_FILAMENT_MM.search(text), _FILAMENT_G.search(text),
                              _PRINT_TIME.search(text))
    if not (length and mass and duration):
        raise RuntimeError(f"prusa-slicer wrote no filament/time summary for {stl.name}")
    return {"gcode": gcode.name, "filament_mm": float(length.group(1)),
            "filament_g": float(mass.group(1)), "print_time_s": parse_duration_s(duration.group(1))}
