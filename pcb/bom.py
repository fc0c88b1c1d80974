"""Bill of materials: one CSV row per distinct (value, footprint, MPN, LCSC), references joined."""

from __future__ import annotations

import csv
import io

from pcb.parts import ref_key

COLUMNS = ("references", "value", "footprint", "mpn", "lcsc", "quantity")


def bom_rows(parts: list[dict]) -> list[dict]:
    """Rows grouped by (value, footprint, mpn, lcsc), sorted by their first reference."""
    groups: dict[tuple, list[str]] = {}
    for p in parts:
        groups.setdefault((p["value"], p["footprint"], p["mpn"], p["lcsc"]), []).append(p["ref"])
    rows = [{"references": " ".join(sorted(refs, key=ref_key)), "value": v, "footprint": fp, "mpn": mpn,
             "lcsc": lcsc, "quantity": len(refs)} for (v, fp, mpn, lcsc), refs in groups.items()]
    return sorted(rows, key=lambda r: ref_key(r["references"].split()[0]))


def bom_csv(parts: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(bom_rows(parts))
    return out.getvalue()
