"""Replace every "auto" of a Design by a number, following the rules in each docstring."""

from __future__ import annotations

import math

from rackplane.design import Design
from rackplane.layout import (fans_fitting_across, min_pitch_mm, needed_height_mm, panel_height_mm,
                              y_stack)

MAX_UNITS = 8


def resolve_units(design: Design) -> int:
    """Smallest number of rack units whose panel is at least as tall as the sleds and fans need."""
    need = needed_height_mm(design)
    for units in range(1, MAX_UNITS + 1):
        if panel_height_mm(units) >= need:
            return units
    return MAX_UNITS  # too tall for any chassis: mech.slot_fit / fan.fit report by how much


def resolve_pitch_mm(design: Design) -> float:
    """Sled envelope plus air gap, rounded up to 0.5 mm."""
    return math.ceil(min_pitch_mm(design) * 2 - 1e-9) / 2


def resolve_depth_mm(design: Design) -> float:
    """Depth of the stack faceplate, sled, backplane, plenum, fans and rear wall, rounded up to 1 mm."""
    return float(math.ceil(y_stack(design)["needed_depth_mm"] - 1e-9))


def resolve_fan_count(design: Design) -> int:
    """The fewest fans that hold the air rise within `cooling.max_air_rise_c` and face every slot
    (fan.coverage); when no count that fits across the body does, as many as fit."""
    from rackplane.air_checks import COVERAGE_LIMIT, slot_coverage
    from rackplane.airflow import operating_point
    from rackplane.layout import compute_layout

    most = max(1, fans_fitting_across(design))
    for count in range(1, most + 1):
        trial = design.replace(cooling__fan_count=count)
        layout = compute_layout(trial)
        covered = min(v for _, v in slot_coverage(layout)) >= COVERAGE_LIMIT
        if covered and operating_point(trial, layout).rise_c <= design["cooling.max_air_rise_c"]:
            return count
    return most


def resolve_design(design: Design) -> Design:
    """A copy of the design with no "auto" left. Order matters: pitch before the fan count."""
    d = design
    if d.is_auto("slots.pitch_mm"):
        d = d.replace(slots__pitch_mm=resolve_pitch_mm(d))
    if d.is_auto("rack.units"):
        d = d.replace(rack__units=resolve_units(d))
    if d.is_auto("rack.depth_mm"):
        d = d.replace(rack__depth_mm=resolve_depth_mm(d))
    if d.is_auto("cooling.fan_count"):  # last: it needs every other value
        d = d.replace(cooling__fan_count=resolve_fan_count(d))
    return d

