"""PCB checks: SKiDL's ERC and KiCad's DRC on the backplane, read from the stages' facts."""

from __future__ import annotations

import re

from pcb import coords
from rackplane.checks import Rule, at_most, check, error, worst_of

_REF = re.compile(r"\b([A-Z]{1,3}\d+)\b")
SHOWN_IN_MESSAGE = 3


@check("pcb.erc", "SKiDL ERC of the backplane (power and full) and carrier netlists: zero errors",
       needs=("pcb.netlist",))
def erc(ctx):
    facts = ctx.facts["pcb.netlist"]
    if "erc_errors" not in facts:
        return error("pcb.erc", "the netlist stage recorded no ERC result")
    boards = {"backplane_power": {"errors": facts["erc_errors"], "warnings": facts["erc_warnings"],
                                  "messages": facts.get("erc_messages", [])}, **facts.get("erc", {})}
    messages = [f"{board}: {m}" for board, e in boards.items() for m in e["messages"]]
    errors = [m for m in messages if ": ERROR" in m]
    count = sum(e["errors"] for e in boards.values())
    warnings = sum(e["warnings"] for e in boards.values())
    result = at_most("pcb.erc", count, 0, "errors",
                     f"SKiDL ERC errors on {', '.join(boards)} ({warnings} warnings)",
                     parts=sorted({r for m in errors for r in _REF.findall(m.split(": ", 1)[1])}),
                     details=[{"board": b, "errors": e["errors"], "warnings": e["warnings"]} for b, e in boards.items()]
                     + [{"message": m} for m in messages])
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


@check("pcb.copper", "backplane power copper: IPC-2221 width for its current at <= 10 K rise, and the "
       "input-to-farthest-slot voltage drop (12 V rail + ground return) within budget",
       needs=("pcb.board",))
def copper(ctx):
    facts = ctx.facts["pcb.board"].get("copper")
    if not facts or not facts.get("rails"):
        return error("pcb.copper", "the board stage measured no power copper")
    rules = []
    for rail in facts["rails"]:
        w = rail["worst_ipc"]
        rules.append(Rule(f"{rail['net']} on {rail['layer']} copper width at u = {w['u_mm']:g} mm carrying "
                          f"{w['current_a']:.2f} A (IPC-2221 needs {w['needed_mm']:.2f} mm at "
                          f"{facts['allowed_rise_k']:g} K)", w["width_mm"], w["needed_mm"], "mm", ">=",
                          (rail["net"],)))
    for b in facts.get("slot_branches", []):
        rules.append(Rule(f"{b['net']} ({b['where']}) narrowest track for {b['current_a']:.2f} A",
                          b["narrowest_mm"], b["needed_mm"], "mm", ">=", (b["net"],)))
    drop = sum(r["drop_v"] for r in facts["rails"])
    rules.append(Rule(f"voltage drop input to farthest load ({facts['rails'][0]['drop_to']}), "
                      f"12 V rail + return at full load", drop, facts["drop_budget_v"], "V", "<=",
                      tuple(r["net"] for r in facts["rails"])))
    return worst_of("pcb.copper", rules)
