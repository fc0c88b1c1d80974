"""Electrical checks on the backplane and carrier circuits, read from the pcb.netlist stage's facts:
pin.mating, pin.current, pcb.values, pcb.i2c and power.budget."""

from __future__ import annotations

from pcb import mating as mating_mod
from pcb import pinout as pinout_mod
from rackplane import catalogue
from rackplane.checks import Rule, at_most, check, error, worst_of

STAGE = "pcb.netlist"


def _facts(ctx, *keys):
    facts = ctx.facts[STAGE]
    missing = [k for k in keys if k not in facts]
    return facts, missing


@check("pin.mating", "merged backplane + carrier netlists: every Pi power, ground and signal pin reaches "
       "its intended backplane net", needs=(STAGE,))
def pin_mating(ctx, mating=None, pinout=pinout_mod.SLOT_PINOUT):
    facts, missing = _facts(ctx, "backplane_parts", "carrier_parts", "pass_through")
    if missing:
        return error("pin.mating", f"the netlist stage recorded no {', '.join(missing)}")
    mating = mating or pinout_mod.mating_map(pinout)
    slots = [s.index for s in ctx.layout.slots]
    rows = mating_mod.verify(facts, slots, mating, pinout)
    bad = [r for r in rows if not r["ok"]]
    details = [{"slot": r["slot"], "pi_pin": r["pi_pin"], "function": r["function"], "intended": r["intended"],
                "reached": r["reached"]} for r in bad[:40]]
    result = at_most("pin.mating", len(bad), 0, "pins",
                     f"Pi header pins not reaching their intended backplane net ({len(rows)} checked over "
                     f"{len(slots)} slots)", parts=sorted({f"J{r['slot']}" for r in bad}), details=details)
    if bad:
        result.message += "; " + "; ".join(
            f"slot {r['slot']} Pi pin {r['pi_pin']} ({r['function']}) reaches {r['reached'] or 'nothing'}, "
            f"intended {r['intended'] or 'nothing'}" for r in bad[:6])
    return result


@check("pin.current", "every slot-connector pin carries at most its derated rating (power pins with 50 % margin)",
       needs=(STAGE,))
def pin_current(ctx):
    facts, missing = _facts(ctx, "slot_pinout", "power")
    if missing:
        return error("pin.current", f"the netlist stage recorded no {', '.join(missing)}")
    conn = catalogue.slot_connector()
    derated_a = conn["rated_current_a"] * conn["derating"]
    margin = catalogue.load("parts")["rules"]["pin_current_margin_factor"]
    n_supply = sum(1 for r in facts["slot_pinout"] if r["kind"] == pinout_mod.SUPPLY)
    rules = []
    for row in facts["slot_pinout"]:
        power = row["kind"] in (pinout_mod.SUPPLY, pinout_mod.RETURN)
        limit = derated_a / margin if power else derated_a
        rules.append(Rule(f"pin {row['pin']} ({row['net']}) worst-case current", row["current_a"], limit, "A", "<=",
                          ("J1",)))
    # A fault current up to the eFuse's limit must not overload the pins either (no margin needed).
    rules.append(Rule("supply pin current at the eFuse current limit", facts["power"]["efuse_limit_a"] / n_supply,
                      derated_a, "A", "<=", ("J1", "U101")))
    return worst_of("pin.current", rules)


@check("pcb.values", "computed part values (eFuse limit, buck divider, RT, inductors, output capacitance, "
       "LED resistor, I2C pull-up) meet their targets after E-series rounding", needs=(STAGE,))
def pcb_values(ctx):
    from pcb.values import meets
    facts, missing = _facts(ctx, "computed")
    if missing:
        return error("pcb.values", "the netlist stage recorded no computed values")
    rules = []
    for c in facts["computed"]:
        value, limit, op = meets(c)
        unit = "rel. error" if c["op"] == "within" else "x target"
        what = (f"{c['name']} ({c['part']} = {c['chosen']:g} {c['value_unit']} {c['series']}): achieved "
                f"{c['achieved']:.4g} {c['target_unit']} vs target {c['target']:.4g}")
        rules.append(Rule(what, value, limit, unit, op, (c["part"],)))
    return worst_of("pcb.values", rules)


@check("pcb.i2c", "I2C addresses unique and outside the reserved ranges; pull-ups meet the rise time and sink "
       "current for the estimated bus capacitance (UM10204)", needs=(STAGE,))
def pcb_i2c(ctx):
    facts, missing = _facts(ctx, "i2c")
    if missing:
        return error("pcb.i2c", "the netlist stage recorded no I2C bus")
    bus, devices = facts["i2c"]["bus"], facts["i2c"]["devices"]
    by_address: dict[int, list[str]] = {}
    for d in devices:
        by_address.setdefault(d["address"], []).append(d["ref"])
    clashes = {a: refs for a, refs in by_address.items() if len(refs) > 1}
    reserved = [d for d in devices if d["address"] < 0x08 or d["address"] > 0x77]
    sink = catalogue.load("parts")["i2c"]["sink_current_a"]
    rules = [
        Rule("devices sharing an address", sum(len(r) for r in clashes.values()), 0, "devices", "<=",
             tuple(r for refs in clashes.values() for r in refs)),
        Rule("devices at reserved addresses (0x00-0x07, 0x78-0x7F)", len(reserved), 0, "devices", "<=",
             tuple(d["ref"] for d in reserved)),
        Rule(f"rise time 0.8473 x {bus['effective_pullup_ohm']:.0f} ohm x {bus['capacitance_pf']:.0f} pF",
             bus["rise_time_s"] * 1e9, bus["rise_time_max_s"] * 1e9, "ns", "<=", ("R1", "R2")),
        Rule("pull-up sink current (backplane and Pi pull-ups in parallel)", bus["sink_current_a"] * 1e3,
             sink * 1e3, "mA", "<=", ("R1", "R2")),
    ]
    result = worst_of("pcb.i2c", rules)
    result.details.append({"devices": [f"{d['ref']} {d['part']} 0x{d['address']:02X}" for d in devices],
                           "bus": bus})
    if clashes:
        result.message += "; address clashes: " + "; ".join(
            f"0x{a:02X}: {', '.join(refs)}" for a, refs in sorted(clashes.items()))
    return result


def power_budget_preflight(ctx):
    """The same rules on the power facts computed from the Layout, before any netlist exists."""
    from pcb import electrical

    return _power_budget_result(electrical.power_facts(electrical.plan(ctx.design, ctx.layout)))


@check("power.budget", "input connector, eFuses and the required supply cover all slots and fans with margin",
       needs=(STAGE,), preflight=power_budget_preflight)
def power_budget(ctx):
    facts, missing = _facts(ctx, "power")
    if missing:
        return error("power.budget", "the netlist stage recorded no power budget")
    return _power_budget_result(facts["power"])


def _power_budget_result(p: dict):
    """Rules (A, V) on the power facts `p` (`pcb.electrical.power_facts`)."""
    conn = p["input_connector"]
    rules = [
        Rule(f"input connector {conn['title']} derated rating vs the supply current",
             conn["rated_current_a"] * p["connector_derating"], p["supply_current_a"], "A", ">=", ("J100",)),
        Rule("supply current vs worst-case total x margin", p["supply_current_a"],
             p["total_current_a"] * p["supply_margin_factor"], "A", ">=", ("J100",)),
        Rule("eFuse current limit vs slot worst-case current", p["efuse_limit_a"], p["slot_current_a"], "A", ">=",
             ("U101",)),
        Rule("eFuse current limit vs the part's maximum", p["efuse_limit_a"], p["efuse_max_a"], "A", "<=", ("U101",)),
        Rule("fan supply (input rail) vs the fans' rated voltage", p["input_voltage_v"], p["fan_voltage_v"], "V",
             "<=", tuple(f"J{200 + i}" for i in range(1, p["fan_count"] + 1)), exact=True),
    ]
    result = worst_of("power.budget", rules)
    supply = (f"supply to buy: {p['input_voltage_v']:g} V, {p['supply_current_a']:g} A, "
              f"{p['supply_power_w']:.0f} W (worst case {p['total_current_a']:.2f} A: {p['slot_count']} slots x "
              f"{p['slot_current_a']:.2f} A + {p['fan_count']} fans {p['fans_current_a']:.2f} A + logic "
              f"{p['logic_current_a']:.2f} A)")
    result.message += "; " + supply
    result.details.append({"supply_voltage_v": p["input_voltage_v"], "supply_current_a": p["supply_current_a"],
                           "supply_power_w": p["supply_power_w"], "input_connector": conn["title"]})
    return result
