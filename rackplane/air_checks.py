"""Cooling checks: fans fit and cover every slot; the airflow keeps the rise and the printed
parts' temperature within limits. The airflow figures come from the `air.model` stage."""

from __future__ import annotations

from rackplane import catalogue
from rackplane.airflow import COVERAGE_LIMIT, slot_coverage
from rackplane.checks import Rule, at_least, at_most, check, worst_of

# fan.fit: measured hole position tolerance (mm); the Sanyo 40 mm drawing allows +/-0.3 mm, the
# CAD model is exact, so 0.1 mm only absorbs rounding.
HOLE_TOLERANCE_MM = 0.1


def fan_layout_rules(layout) -> list[Rule]:
    """Rules (mm) that Layout alone decides: each fan frame lies inside the interior (sides,
    floor, roof) and neighbouring frames do not overlap."""
    rules: list[Rule] = []
    interior = layout.interior
    for f in layout.fans:
        half = f.size_mm / 2
        name = f"fan {f.index} ({f.size_mm} mm)"
        rules.append(Rule(f"{name} below the roof ({layout.rack_units}U, interior "
                          f"{interior.z1 - interior.z0:.1f} mm tall)",
                          interior.z1 - (f.z_mm + half), 0.0, "mm", ">=", (name, "roof")))
        rules.append(Rule(f"{name} above the floor", (f.z_mm - half) - interior.z0, 0.0, "mm", ">=", (name, "floor")))
        rules.append(Rule(f"{name} inside the left wall", (f.x_mm - half) - interior.x0, 0.0, "mm", ">=",
                          (name, "left wall")))
        rules.append(Rule(f"{name} inside the right wall", interior.x1 - (f.x_mm + half), 0.0, "mm", ">=",
                          (name, "right wall")))
    for a, b in zip(layout.fans, layout.fans[1:]):
        rules.append(Rule(f"gap between fan {a.index} and fan {b.index}",
                          (b.x_mm - b.size_mm / 2) - (a.x_mm + a.size_mm / 2), 0.0, "mm", ">=",
                          (f"fan {a.index}", f"fan {b.index}")))
    return rules


def fan_hole_rules(layout, fan_wall_facts: list[dict]) -> list[Rule]:
    """Rules (mm) on the built fan wall (facts `fan_wall` of mech.frame): four screw holes per fan
    on the size's standard square (catalogue fans.toml), centred on the fan, with the size's hole
    diameter."""
    rules: list[Rule] = []
    for f in layout.fans:
        name = f"fan {f.index} ({f.size_mm} mm)"
        std = catalogue.fan(f.size_mm)
        built = next((w for w in fan_wall_facts if w["index"] == f.index), None)
        if built is None:
            raise ValueError(f"the built fan wall has no measurement for {name}")
        rules.append(Rule(f"{name}: screw holes in the built fan wall", built["holes"], 4, "holes", ">=",
                          (name, "fan wall"), exact=True))
        for axis in ("x", "z"):
            rules.append(Rule(f"{name}: built hole spacing along {axis.upper()} vs the {f.size_mm} mm standard "
                              f"{std.hole_spacing_mm:g} mm", abs(built[f"spacing_{axis}_mm"] - std.hole_spacing_mm),
                              HOLE_TOLERANCE_MM, "mm", "<=", (name, "fan wall")))
        rules.append(Rule(f"{name}: built hole pattern centre offset from the fan axis", built["centre_offset_mm"],
                          HOLE_TOLERANCE_MM, "mm", "<=", (name, "fan wall")))
        rules.append(Rule(f"{name}: built hole diameter vs {std.hole_d_mm:g} mm",
                          max((abs(d - std.hole_d_mm) for d in built["hole_d_mm"]), default=std.hole_d_mm),
                          HOLE_TOLERANCE_MM, "mm", "<=", (name, "fan wall")))
    return rules


def fan_fit_preflight(ctx):
    return worst_of("fan.fit", fan_layout_rules(ctx.layout))


@check("fan.fit", "fans fit inside the chassis and do not overlap", needs=("mech.frame",),
       preflight=fan_fit_preflight)
def fan_fit(ctx):
    """Rules (mm): `fan_layout_rules` (the fans fit the interior, no overlap) and
    `fan_hole_rules` (the screw holes measured on the built fan wall follow the size's standard)."""
    return worst_of("fan.fit", fan_layout_rules(ctx.layout)
                    + fan_hole_rules(ctx.layout, ctx.facts["mech.frame"]["fan_wall"]))


@check("fan.coverage", "every slot channel faces a fan's swept area", preflight=True)
def fan_coverage(ctx):
    cov = slot_coverage(ctx.layout)
    worst_label, worst = min(cov, key=lambda c: c[1])
    details = [{"slot": label, "covered_fraction": round(v, 4)} for label, v in cov]
    poor = [label for label, v in cov if v < COVERAGE_LIMIT] or [worst_label]
    return at_least("fan.coverage", worst, COVERAGE_LIMIT, "fraction",
                    f"share of {worst_label}'s channel width in a fan's swept diameter "
                    f"({len(ctx.layout.fans)} fans)", poor, details)


@check("air.flow", "fan and system curves give enough air for the allowed rise", needs=("air.model",))
def air_flow(ctx):
    a = ctx.facts["air.model"]
    r = at_most("air.flow", a["rise_c"], a["max_air_rise_c"], "K",
                f"bulk air rise at the operating point (delivered {a['flow_m3h']:.1f} m³/h = "
                f"{a['flow_cfm']:.1f} CFM at {a['pressure_pa']:.1f} Pa, required {a['required_flow_m3h']:.1f} m³/h "
                f"for {a['heat_total_w']:.0f} W; {a['flow_per_slot_m3h']:.2f} m³/h per slot)",
                [f"{a['fan_count']} x {a['fan_model']}", "all slots"])
    r.details = a["elements"]
    return r


@check("print.heat", "printed material stays below its heat-deflection temperature", needs=("air.model",))
def print_heat(ctx):
    a = ctx.facts["air.model"]
    material = ctx.design["printer.material"]
    hdt = catalogue.material(material)["hdt_c"]
    margin = catalogue.load("airflow")["frame"]["heat_margin_c"]
    return at_most("print.heat", a["exhaust_c"], hdt - margin, "C",
                   f"exhaust air temperature (ambient {a['ambient_c']:.1f} C + rise {a['rise_c']:.1f} K) against "
                   f"{material}'s heat-deflection temperature {hdt:g} C less a {margin:g} K margin",
                   [f"{material} frame parts", "fan wall", "exhaust"])


@check("air.openings", "the built grilles are at least as open as the airflow model assumes",
       needs=("mech.frame",))
def air_openings(ctx):
    """Rules (fraction): measured on the built solids (mech.frame facts), each open fraction >=
    the figure the airflow model uses (airflow.toml [frame]): the sled faceplate's air-open area
    over pitch x carrier height; the fan wall guard's and the rear vents' open share of each fan's
    swept circle."""
    frame = catalogue.load("airflow")["frame"]
    facts = ctx.facts["mech.frame"]
    rules = [Rule("sled faceplate air-open fraction", facts["faceplate"]["open_fraction"],
                  frame["faceplate_open_fraction"], "fraction", ">=", ("sled faceplate",))]
    for w in facts["fan_wall"]:
        rules.append(Rule(f"fan {w['index']} finger guard open fraction", w["open_fraction"],
                          frame["fan_guard_open_fraction"], "fraction", ">=", (f"fan {w['index']}", "fan wall")))
    for v in facts["rear_vents"]:
        rules.append(Rule(f"fan {v['index']} rear vent open fraction", v["open_fraction"],
                          frame["rear_vent_open_fraction"], "fraction", ">=", (f"fan {v['index']}", "rear wall")))
    return worst_of("air.openings", rules)
