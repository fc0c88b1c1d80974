"""PCB checks: SKiDL's ERC and KiCad's DRC on the backplane, read from the stages' facts."""

from __future__ import annotations

import re

from pcb import coords
from rackplane.checks import at_most, check, error

_REF = re.compile(r"\b([A-Z]{1,3}\d+)\b")
SHOWN_IN_MESSAGE = 3


@check("pcb.erc", "SKiDL ERC of the backplane netlist: zero errors", needs=("pcb.netlist",))
def erc(ctx):
    facts = ctx.facts["pcb.netlist"]
    if "erc_errors" not in facts:
        return error("pcb.erc", "the netlist stage recorded no ERC result")
    errors = [m for m in facts.get("erc_messages", []) if m.startswith("ERROR")]
    result = at_most("pcb.erc", facts["erc_errors"], 0, "errors",
                     f"SKiDL ERC errors ({facts['erc_warnings']} warnings)",
                     parts=sorted({r for m in errors for r in _REF.findall(m)}),
                     details=[{"message": m} for m in facts.get("erc_messages", [])])
    if errors:
        result.message += "; first: " + " | ".join(errors[:SHOWN_IN_MESSAGE])
    return result


@check("pcb.drc", "kicad-cli DRC of the backplane with the fab house's rules: zero violations, "
       "zero unconnected items", needs=("pcb.drc",))
def drc(ctx):
    facts = ctx.facts["pcb.drc"]
    if "violations" not in facts or "unconnected" not in facts:
        return error("pcb.drc", "the DRC stage recorded no kicad-cli result")
    count = facts["violations"] + facts["unconnected"]
    details, parts = [], set()
    for item in facts.get("first", []):
        where = []
        for it in item["items"]:
            u, v = it["pos_mm"]
            x, z = coords.rack_xz_mm(ctx.layout, u, v)
            where.append(f"{it['description']} at board ({u:g}, {v:g}) = rack x {x:.2f}, z {z:.2f} mm")
            parts.update(_REF.findall(it["description"]))
        details.append({"type": item["type"], "severity": item["severity"],
                        "description": item["description"], "where": where})
    result = at_most("pcb.drc", count, 0, "items",
                     f"DRC violations ({facts['violations']}) + unconnected items ({facts['unconnected']})",
                     parts=sorted(parts), details=details)
    if count:
        types = ", ".join(f"{t} x{n}" for t, n in facts.get("by_type", {}).items())
        first = "; ".join(f"{d['type']}: {' / '.join(d['where'])}" for d in details[:SHOWN_IN_MESSAGE])
        result.message += f"; types: {types}; first: {first}"
    return result
