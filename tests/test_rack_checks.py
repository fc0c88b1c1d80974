"""mech.slot_fit: catches a pitch too narrow, a row too wide and a chassis too low."""

import pytest

import rackplane.rack_checks  # noqa: F401 - registers mech.slot_fit
from rackplane.checks import REGISTRY, run_check
from rackplane.context import BuildContext
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design


def slot_fit(**changes):
    design = resolve_design(load_design().replace(**changes))
    ctx = BuildContext(design=design, layout=compute_layout(design))
    return run_check(REGISTRY["mech.slot_fit"], ctx)


def min_pitch(**changes) -> float:
    design = resolve_design(load_design().replace(**changes))
    return compute_layout(design).sled.envelope_width_mm + design["slots.air_gap_mm"]


def test_default_fits():
    r = slot_fit()
    assert r.status == "pass", r.message
    assert r.margin >= 0 and r.unit == "mm"


def test_narrow_pitch_fails_with_value_limit_and_slots():
    r = slot_fit(slots__pitch_mm=15.0)
    assert r.status == "fail"
    assert r.value == pytest.approx(15.0)
    need = min_pitch(slots__pitch_mm=15.0)  # sled (to the slot connector) + 4 mm air gap
    assert r.limit == pytest.approx(need)
    assert "slot 1" in r.parts and "slot 2" in r.parts
    assert "15 mm" in r.message and f"{need:.4g} mm" in r.message


def test_too_many_slots_for_the_body_fails_at_the_walls():
    r = slot_fit(slots__count=24)
    assert r.status == "fail"
    assert "left wall" in r.parts or "right wall" in r.parts


def test_one_unit_is_too_low_for_a_standing_pi():
    r = slot_fit(rack__units=1)
    assert r.status == "fail"
    assert "roof" in r.parts and "1U" in r.message


@pytest.mark.parametrize("count", [1, 4, 16])
def test_slot_counts_that_fit(count):
    assert slot_fit(slots__count=count).status == "pass"
