"""Replace every "auto" of a Design by a number, following the rules in each docstring.

`resolve_with_notes` also says, for each key it resolved, what it chose and why; the report
carries these notes (`resolved` in report.json).
"""

from __future__ import annotations

import math

from rackplane import catalogue
from rackplane.airflow import COVERAGE_LIMIT, operating_point, slot_coverage
from rackplane.design import Design
from rackplane.layout import (compute_layout, fans_fitting_across, interior_height_mm, min_pitch_mm,
                              needed_height_mm, panel_height_mm, y_stack)

MAX_UNITS = 8


def resolve_units(design: Design, fan_size_mm: int | None = None) -> int:
    """Smallest number of rack units whose panel is at least as tall as the sleds and fans need
    (the sleds alone when `fan_size_mm` is 0)."""
    need = needed_height_mm(design, fan_size_mm)
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


def _fan_trial(design: Design, count: int) -> tuple[bool, float]:
    """(every slot covered, bulk air rise K) with `count` fans."""
    trial = design.replace(cooling__fan_count=count)
    layout = compute_layout(trial)
    covered = min(v for _, v in slot_coverage(layout)) >= COVERAGE_LIMIT
    return covered, operating_point(trial, layout).rise_c


def resolve_fan_count(design: Design) -> int:
    """The fewest fans that hold the air rise within `cooling.max_air_rise_c` and face every slot
    (fan.coverage); when no count that fits across the body does, as many as fit."""
    most = max(1, fans_fitting_across(design))
    for count in range(1, most + 1):
        covered, rise = _fan_trial(design, count)
        if covered and rise <= design["cooling.max_air_rise_c"]:
            return count
    return most


def _with_fans(design: Design, size_mm: int) -> Design:
    """The design with this fan size and the units, depth and count that follow from it."""
    d = design.replace(cooling__fan_size_mm=size_mm)
    if d.is_auto("rack.units"):
        d = d.replace(rack__units=resolve_units(d))
    if d.is_auto("rack.depth_mm"):
        d = d.replace(rack__depth_mm=resolve_depth_mm(d))
    if d.is_auto("cooling.fan_count"):
        d = d.replace(cooling__fan_count=resolve_fan_count(d))
    return d


def resolve_fan_size(design: Design) -> tuple[int, str]:
    """The largest fan size that fits the chassis the sleds need (or the design's rack units)
    and, with the fewest fans that fit across (or the design's count), holds the air rise within
    `cooling.max_air_rise_c` and faces every slot: larger, slower fans are quieter for the same
    flow. When none does, the size with the lowest rise (air.flow reports by how much); when no
    size fits the chassis, the smallest (fan.fit reports it). Returns (size mm, why)."""
    units = design["rack.units"] if not design.is_auto("rack.units") else resolve_units(design, 0)
    room_mm = interior_height_mm(units)
    sizes = sorted(catalogue.fan_sizes(), reverse=True)
    fitting = [s for s in sizes if s <= room_mm and fans_fitting_across(design.replace(cooling__fan_size_mm=s))]
    if not fitting:
        return sizes[-1], (f"no fan size fits the {units}U chassis ({room_mm:.1f} mm inside): the smallest, "
                           f"{sizes[-1]} mm")
    limit = design["cooling.max_air_rise_c"]
    tried = []
    for size in fitting:
        d = _with_fans(design, size)
        covered, rise = _fan_trial(d, d["cooling.fan_count"])
        tried.append((rise, size, d["cooling.fan_count"]))
        if covered and rise <= limit:
            return size, (f"the largest size that fits the {units}U chassis ({room_mm:.1f} mm inside) and holds "
                          f"the air rise to {rise:.1f} K <= {limit:g} K with {d['cooling.fan_count']} fans")
    rise, size, count = min(tried)
    return size, (f"no size fitting the {units}U chassis holds the rise within {limit:g} K; the lowest rise, "
                  f"{rise:.1f} K, comes from {count} x {size} mm")


def resolve_with_notes(design: Design) -> tuple[Design, dict[str, str]]:
    """A copy of the design with no "auto" left, and what each "auto" became and why. Order
    matters: pitch, then the fan size (which needs the pitch), units, depth, and the fan count
    last (it needs every other value)."""
    d = design
    notes: dict[str, str] = {}
    if d.is_auto("slots.pitch_mm"):
        d = d.replace(slots__pitch_mm=resolve_pitch_mm(d))
        notes["slots.pitch_mm"] = (f"{d['slots.pitch_mm']:g} mm: the sled ({min_pitch_mm(d) - d['slots.air_gap_mm']:.2f} "
                                   f"mm) plus the air gap ({d['slots.air_gap_mm']:g} mm), rounded up to 0.5 mm")
    if d.is_auto("cooling.fan_size_mm"):
        size, why = resolve_fan_size(d)
        d = d.replace(cooling__fan_size_mm=size)
        notes["cooling.fan_size_mm"] = f"{size} mm: {why}"
    if d.is_auto("rack.units"):
        d = d.replace(rack__units=resolve_units(d))
        notes["rack.units"] = f"{d['rack.units']}U: the fewest whose panel holds the standing sleds and the fans"
    if d.is_auto("rack.depth_mm"):
        d = d.replace(rack__depth_mm=resolve_depth_mm(d))
        notes["rack.depth_mm"] = f"{d['rack.depth_mm']:g} mm: faceplate, sled, slot connector, backplane, fans, rear wall"
    if d.is_auto("cooling.fan_count"):
        d = d.replace(cooling__fan_count=resolve_fan_count(d))
        notes["cooling.fan_count"] = (f"{d['cooling.fan_count']}: the fewest that hold the rise within "
                                      f"{d['cooling.max_air_rise_c']:g} K and face every slot")
    return d, notes


def resolve_design(design: Design) -> Design:
    """A copy of the design with no "auto" left."""
    return resolve_with_notes(design)[0]
