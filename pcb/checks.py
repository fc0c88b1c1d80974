"""PCB checks: SKiDL's ERC, KiCad's DRC and the power copper of the backplane, the carrier and the
management board, read from the stages' facts."""

from __future__ import annotations

import re

from pcb import coords
from rackplane.checks import CheckResult, Rule, at_most, check, error, worst_of

_REF = re.compile(r"\b([A-Z]{1,3}\d+)\b")
SHOWN_IN_MESSAGE = 3
CARRIER_STAGE = "pcb.carrier_board"
MANAGEMENT_STAGE = "pcb.management_board"


@check("pcb.erc", "SKiDL ERC of the backplane, carrier and management board netlists: zero errors",
       needs=("pcb.netlist",))
def erc(ctx):
    facts = ctx.facts["pcb.netlist"]
    if not facts.get("erc"):
        return error("pcb.erc", "the netlist stage recorded no ERC result")
    boards = facts["erc"]
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


DRC_STAGES = {"backplane": "pcb.drc", "carrier": "pcb.carrier_drc", "management": "pcb.management_drc"}


@check("pcb.drc", "kicad-cli DRC of the backplane, the carrier and the management board with the fab house's "
       "rules: zero violations, zero unconnected items on each board", needs=tuple(DRC_STAGES.values()))
def drc(ctx):
    boards = {name: ctx.facts[stage] for name, stage in DRC_STAGES.items()}
    for name, facts in boards.items():
        if "violations" not in facts or "unconnected" not in facts:
            return error("pcb.drc", f"the {name} DRC stage recorded no kicad-cli result")
    count = sum(f["violations"] + f["unconnected"] for f in boards.values())
    details, parts = [], set()
    for name, facts in boards.items():
        details.append({"board": name, "violations": facts["violations"], "unconnected": facts["unconnected"],
                        "by_type": facts.get("by_type", {})})
        for item in facts.get("first", []):
            where = []
            for it in item["items"]:
                u, v = it["pos_mm"]
                if name == "backplane":
                    x, z = coords.rack_xz_mm(ctx.layout, u, v)
                    at = f" = rack x {x:.2f}, z {z:.2f} mm"
                elif name == "carrier":
                    from pcb.carrier_board import carrier_rack_yz_mm
                    y, z = carrier_rack_yz_mm(ctx.layout, u, v)
                    at = f" = rack y {y:.2f}, z {z:.2f} mm"
                else:
                    at = ""
                where.append(f"{name}: {it['description']} at board ({u:g}, {v:g}){at}")
                parts.update(_REF.findall(it["description"]))
            details.append({"board": name, "type": item["type"], "severity": item["severity"],
                            "description": item["description"], "where": where})
    summary = ", ".join(f"{n} {f['violations']} + {f['unconnected']}" for n, f in boards.items())
    result = at_most("pcb.drc", count, 0, "items",
                     f"DRC violations + unconnected items ({summary})", parts=sorted(parts), details=details)
    if count:
        types = ", ".join(f"{n}: {t} x{k}" for n, f in boards.items() for t, k in f.get("by_type", {}).items())
        first = "; ".join([f"{d['type']}: {' / '.join(d['where'])}" for d in details if "type" in d][:SHOWN_IN_MESSAGE])
        result.message += f"; unconnected items and types: {types}; first: {first}"
    return result


@check("pcb.copper", "backplane, carrier and management board power copper: IPC-2221 width for its current at "
       "<= 10 K rise (backplane rails and branches, every carrier and management board power path), and the "
       "voltage drop from the management board's supply input to the farthest slot (12 V + ground return "
       "copper on both boards) within budget",
       needs=("pcb.board", CARRIER_STAGE, MANAGEMENT_STAGE))
def copper(ctx):
    facts = ctx.facts["pcb.board"].get("copper")
    if not facts or not facts.get("rails"):
        return error("pcb.copper", "the board stage measured no power copper")
    rules = []
    for board, stage in (("carrier", CARRIER_STAGE), ("management", MANAGEMENT_STAGE)):
        paths = _path_copper_rules(ctx, board, stage)
        if isinstance(paths, CheckResult):
            return paths
        rules += paths
    for rail in facts["rails"]:
        w = rail["worst_ipc"]
        where = f"module {rail['module']} " if "module" in rail else ""
        rules.append(Rule(f"{rail['net']} on {where}{rail['layer']} copper width at u = {w['u_mm']:g} mm carrying "
                          f"{w['current_a']:.2f} A (IPC-2221 needs {w['needed_mm']:.2f} mm at "
                          f"{facts['allowed_rise_k']:g} K)", w["width_mm"], w["needed_mm"], "mm", ">=",
                          (rail["net"],)))
    for b in facts.get("slot_branches", []):
        rules.append(Rule(f"{b['net']} ({b['where']}) narrowest track for {b['current_a']:.2f} A",
                          b["narrowest_mm"], b["needed_mm"], "mm", ">=", (b["net"],)))
    management = ctx.facts[MANAGEMENT_STAGE]["copper"]
    if management.get("drop_v") is None:
        return error("pcb.copper", "the management board's power copper drop could not be measured",
                     parts=("J1", "J2"))
    drop = round(facts["drop_v"] + management["drop_v"], 5)
    chain = f", supply at {facts['supply_at']} of {facts['modules']} chained modules" if facts.get("modules", 1) > 1 else ""
    rules.append(Rule(f"voltage drop from the management board's input J1 to the farthest load ({facts['drop_to']}"
                      f"{chain}): management board {management['drop_v']:.3f} V + backplane {facts['drop_v']:.3f} V, "
                      f"12 V + return copper at full load (the cable between them and the FETs' channels not "
                      f"counted)", drop, facts["drop_budget_v"], "V", "<=",
                      tuple(sorted({r["net"] for r in facts["rails"]}))))
    return worst_of("pcb.copper", rules)


def _path_copper_rules(ctx, board: str, stage: str) -> list[Rule] | CheckResult:
    """pcb.copper's rules for a board's measured power paths (`pcb.carrier_copper.measure_path`):
    each path's narrowest copper >= IPC-2221's width for its current. An error result when the
    board's stage failed, is missing or measured nothing."""
    if stage in ctx.stage_errors:
        return error("pcb.copper", f"the {board} was not measured: stage {stage} failed: {ctx.stage_errors[stage]}")
    if stage not in ctx.facts:
        return error("pcb.copper", f"the {board} was not measured: stage {stage} did not run")
    facts = ctx.facts[stage].get("copper")
    if not facts or not facts.get("paths"):
        return error("pcb.copper", f"the {board} stage measured no power copper")
    rules = []
    for p in facts["paths"]:
        if "error" in p or p.get("narrowest_mm") is None or p.get("needed_mm") is None:
            return error("pcb.copper", f"{p['rule']} ({p['net']}) could not be measured: "
                                       f"{p.get('error', 'no width recorded')}", parts=p.get("parts", ()))
        at = p.get("narrowest_at_mm")
        where = f" at {board} ({at[0]:g}, {at[1]:g}) mm" if at else ""
        rules.append(Rule(f"{p['rule']}: {p['net']} on {p['layer']} from {p['from']} to {p['to']}, narrowest "
                          f"copper{where} carrying {p['current_a']:.2f} A (IPC-2221 needs {p['needed_mm']:.2f} mm "
                          f"at {facts['allowed_rise_k']:g} K)", p["narrowest_mm"], p["needed_mm"], "mm", ">=",
                          (p["net"], *p["parts"])))
    return rules
