"""Checks on the rack as a whole, read from Layout: does every sled fit its slot."""

from __future__ import annotations

from rackplane import catalogue
from rackplane.checks import Rule, check, worst_of


@check("mech.slot_fit", "pitch holds the sled and its air gap; every slot fits the body", preflight=True)
def slot_fit(ctx):
    """Rules (mm):
    - pitch >= sled envelope width (Pi underside to carrier components, heatsink included in the
      Pi-to-carrier spacing) + the design's air gap, for every pair of neighbouring slots;
    - the row of sleds lies inside the chassis walls (left and right);
    - the chassis interior is tall enough for the carrier and its upper guide.
    """
    L = ctx.layout
    d = ctx.design
    s = L.sled
    gh = catalogue.chassis()["guide_height_mm"]
    rules: list[Rule] = []
    need = s.envelope_width_mm + d["slots.air_gap_mm"]
    for a, b in zip(L.slots, L.slots[1:]):
        rules.append(Rule(f"pitch between {a.label()} and {b.label()} (sled {s.envelope_width_mm:.2f} mm "
                          f"+ air gap {d['slots.air_gap_mm']:.2f} mm)",
                          b.x_mm - a.x_mm, need, "mm", ">=", (a.label(), b.label())))
    first, last = L.slots[0], L.slots[-1]
    rules.append(Rule(f"gap from the left wall to {first.label()}'s sled",
                      L.slot_envelope(first).x0 - L.interior.x0, 0.0, "mm", ">=", (first.label(), "left wall")))
    rules.append(Rule(f"gap from {last.label()}'s sled to the right wall",
                      L.interior.x1 - L.slot_envelope(last).x1, 0.0, "mm", ">=", (last.label(), "right wall")))
    top_guide_z1 = L.upper_guides[0].z0 + gh
    rules.append(Rule(f"interior height above the upper card guide ({L.rack_units}U chassis)",
                      L.interior.z1 - top_guide_z1, 0.0, "mm", ">=", ("carrier", "roof")))
    return worst_of("mech.slot_fit", rules)
