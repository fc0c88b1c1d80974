"""KiCad's own design-rule check on a board, through `kicad-cli pcb drc`, and its JSON summarised.

The board is checked in a scratch copy (with its .kicad_pro and .kicad_dru, which hold the fab
rules) so that kicad-cli never touches the files a build produced.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from rackplane.toolenv import require_tool

DRC_REPORT_FILE = "drc.json"
SHOWN_ITEMS = 8  # violations listed in full in the summary


def run_drc(board_path: Path, report_path: Path) -> dict:
    """Run kicad-cli's DRC on `board_path`, write its JSON to `report_path`, return the summary.

    kicad-cli exits 5 when it finds violations; that is a result, not a failure. Any other
    non-zero exit, or no report, raises RuntimeError with kicad-cli's own words.
    """
    kicad_cli = require_tool("kicad-cli")
    board_path = Path(board_path)
    report_path = Path(report_path)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rackplane-drc-") as tmp:
        scratch = Path(tmp) / board_path.name
        for sibling in board_path.parent.glob(board_path.stem + ".kicad_*"):
            shutil.copy2(sibling, Path(tmp) / sibling.name)
        out = Path(tmp) / DRC_REPORT_FILE
        proc = subprocess.run(
            [kicad_cli, "pcb", "drc", "--format", "json", "--severity-all", "--exit-code-violations",
             "--units", "mm", "-o", str(out), str(scratch)],
            capture_output=True, text=True, timeout=300)
        if proc.returncode not in (0, 5) or not out.exists():
            raise RuntimeError(f"kicad-cli pcb drc failed (exit {proc.returncode}): "
                               f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        report = json.loads(out.read_text())
    report.pop("date", None)  # keep the stored report stable between runs
    report["source"] = board_path.name
    report_path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    summary = summarise(report)
    summary["exit_code"] = proc.returncode
    return summary


def summarise(report: dict) -> dict:
    """Counts from a kicad-cli DRC JSON report: violations by severity and type, unconnected items,
    schematic-parity issues, and the first few violations with the items and positions involved."""
    violations = report.get("violations", [])
    unconnected = report.get("unconnected_items", [])
    parity = report.get("schematic_parity", [])
    shown = [{
        "type": v.get("type", "?"),
        "severity": v.get("severity", "?"),
        "description": v.get("description", ""),
        "items": [{"description": i.get("description", ""),
                   "pos_mm": [round(i.get("pos", {}).get("x", 0.0), 3), round(i.get("pos", {}).get("y", 0.0), 3)]}
                  for i in v.get("items", [])],
    } for v in (violations + unconnected)[:SHOWN_ITEMS]]
    return {
        "violations": len(violations),
        "unconnected": len(unconnected),
        "schematic_parity": len(parity),
        "by_severity": dict(sorted(Counter(v.get("severity", "?") for v in violations).items())),
        "by_type": dict(sorted(Counter(v.get("type", "?") for v in violations + unconnected).items())),
        "first": shown,
        "kicad_version": report.get("kicad_version", ""),
        "coordinate_units": report.get("coordinate_units", ""),
    }
