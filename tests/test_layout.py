"""Layout: derived positions of the default design and of variants, and their invariants."""

import json
import os
from pathlib import Path

import pytest

from rackplane import catalogue
from rackplane.design import load_design
from rackplane.layout import compute_layout, min_pitch_mm, panel_height_mm
from rackplane.resolve import resolve_design

SETTINGS_FILE = Path(__file__).parent / "data" / "default_layout.json"


def layout_of(**changes):
    design = resolve_design(load_design().replace(**changes))
    return design, compute_layout(design)


def test_default_resolves_to_2u_and_a_pitch_just_above_the_sled():
    d, L = layout_of()
    assert L.rack_units == 2
    assert L.panel_height_mm == pytest.approx(2 * 44.45 - 0.79)
    assert min_pitch_mm(d) <= d["slots.pitch_mm"] < min_pitch_mm(d) + 0.5
    assert d["cooling.fan_count"] >= 1 and d["rack.depth_mm"] > L.sled.carrier_y1_mm


def test_slots_are_evenly_spaced_and_centred():
    d, L = layout_of()
    xs = [s.x_mm for s in L.slots]
    assert len(xs) == 10
    assert all(b - a == pytest.approx(d["slots.pitch_mm"]) for a, b in zip(xs, xs[1:]))
    left = L.slot_envelope(L.slots[0]).x0
    right = L.slot_envelope(L.slots[-1]).x1
    assert left + right == pytest.approx(0.0, abs=1e-6)


def test_ear_holes_follow_eia310():
    _, L = layout_of()
    assert L.ear_hole_x_mm[1] - L.ear_hole_x_mm[0] == pytest.approx(465.1)
    z = L.ear_hole_z_mm
    assert len(z) == 6
    gaps = [round(b - a, 3) for a, b in zip(z, z[1:])]
    assert gaps == [15.875, 15.875, 12.7, 15.875, 15.875]


def test_guides_and_connectors_sit_on_their_slot():
    _, L = layout_of()
    for slot, guide in zip(L.slots, L.guides):
        assert (guide.x0 + guide.x1) / 2 == pytest.approx(slot.x_mm)
        assert guide.y1 == L.sled.carrier_y1_mm
    assert L.backplane.y0 > L.sled.carrier_y1_mm


def test_backplane_holes_lie_inside_the_board_and_between_connectors():
    _, L = layout_of()
    bp = L.backplane
    conn_xs = [s.x_mm + L.sled.connector_dx_mm for s in L.slots]
    for x, z in L.backplane_holes_xz_mm:
        assert bp.x0 < x < bp.x1 and bp.z0 < z < bp.z1
        assert min(abs(x - c) for c in conn_xs) > 5.0
    cols = sorted({x for x, _ in L.backplane_holes_xz_mm})
    assert max(b - a for a, b in zip(cols, cols[1:])) <= 100.0


def test_a_taller_heatsink_widens_the_sled():
    d10, _ = layout_of()
    d20, L20 = layout_of(node__heatsink_height_mm=20.0)
    assert L20.sled.pi_to_carrier_mm == pytest.approx(21.0)
    assert d20["slots.pitch_mm"] > d10["slots.pitch_mm"]


def test_bigger_fans_raise_the_auto_height():
    d, L = layout_of(cooling__fan_size_mm=120)
    assert L.rack_units == 3
    assert L.interior.z1 - L.interior.z0 >= 120


def test_forced_units_are_kept():
    d, L = layout_of(rack__units=1)
    assert L.rack_units == 1 and L.panel_height_mm == pytest.approx(panel_height_mm(1))


@pytest.mark.parametrize("bed_x_mm, min_cuts", [(256.0, 1), (180.0, 2), (500.0, 0)])
def test_split_planes_make_bed_sized_pieces(bed_x_mm, min_cuts):
    _, L = layout_of(printer__bed_mm=(bed_x_mm, bed_x_mm, bed_x_mm))
    assert len(L.split_x_mm) >= min_cuts
    edges = [-L.panel_width_mm / 2, *L.split_x_mm, L.panel_width_mm / 2]
    assert max(b - a for a, b in zip(edges, edges[1:])) <= bed_x_mm
    for cut in L.split_x_mm:  # never through a sled window or guide
        for slot in L.slots:
            env = L.slot_envelope(slot)
            assert not (env.x0 - 1.0 < cut < env.x1 + 1.0)


def test_pi_stands_as_a_real_pi_with_its_header_low_and_usb_at_the_front():
    """Component face toward +X with the USB/Ethernet edge (px = 85) at the front: seen from +X the
    Pi is upside down, so its 40-pin header (py = 52.5) is near the board's lower edge."""
    d, L = layout_of()
    node = catalogue.node(d["node.model"])
    s = L.sled
    length_mm, width_mm = node.board_mm
    corners = [s.pi_to_rack(px, py) for px in (0.0, length_mm) for py in (0.0, width_mm)]
    z_lo, z_hi = min(z for _, z in corners), max(z for _, z in corners)
    assert z_lo == pytest.approx(s.pi_z0_mm) and z_hi - z_lo == pytest.approx(width_mm)
    _, header_z = s.pi_to_rack(*node.header_centre_mm)
    assert header_z < (z_lo + z_hi) / 2
    usb_y, _ = s.pi_to_rack(length_mm, width_mm / 2)
    assert usb_y == pytest.approx(min(y for y, _ in corners)) and usb_y == pytest.approx(s.pi_front_y_mm)
    # pin 2 (5 V, outer row, larger py) sits below pin 1
    px1, py1 = node.header_pin1_mm
    assert s.pi_to_rack(px1, py1 + 2.54)[1] < s.pi_to_rack(px1, py1)[1]


def test_layout_is_deterministic():
    assert layout_of()[1].to_dict() == layout_of()[1].to_dict()


def test_default_layout_matches_stored_settings():
    """Settings regression: a change to any derived position shows up here. After an intended
    change, regenerate with RACKPLANE_REGENERATE=1."""
    _, L = layout_of()
    current = json.loads(json.dumps(L.to_dict(), default=list))
    if os.environ.get("RACKPLANE_REGENERATE") or not SETTINGS_FILE.exists():
        SETTINGS_FILE.parent.mkdir(exist_ok=True)
        SETTINGS_FILE.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    assert current == json.loads(SETTINGS_FILE.read_text())


def test_split_never_stalls_on_a_cut_that_rounds_back_to_its_start():
    """A candidate a hair past the start used to round back onto it and loop for ever."""
    from rackplane.layout import _split_positions
    cuts = _split_positions(100.0, 0.0, [0.00004], bed_x_mm=54.0, margin_mm=4.0)
    assert cuts == (0.0,)


def _layout(**changes):
    return compute_layout(resolve_design(load_design().replace(**changes)))


def test_a_backplane_within_the_length_limit_is_one_board():
    L = _layout()
    assert not L.is_split and L.module_slots == 10
    (m,) = L.backplane_modules
    assert m.box == L.backplane and m.holes_xz_mm == L.backplane_holes_xz_mm
    assert L.module_board() is L


@pytest.mark.parametrize("count, max_mm, modules, k", [(10, 150.0, 2, 5), (10, 100.0, 4, 3), (16, 250.0, 2, 8),
                                                      (16, 120.0, 4, 4), (4, 60.0, 2, 2)])
def test_a_long_backplane_splits_into_identical_modules(count, max_mm, modules, k):
    L = _layout(slots__count=count, pcb__max_board_length_mm=max_mm)
    assert L.is_split and len(L.backplane_modules) == modules and L.module_slots == k
    first = L.backplane_modules[0]
    width = first.box.x1 - first.box.x0
    assert width <= max_mm
    covered = [i for m in L.backplane_modules for i in m.slot_indices]
    assert covered == list(range(1, count + 1))
    for m in L.backplane_modules:
        dx = L.module_offset_x_mm(m)
        assert m.box.x1 - m.box.x0 == pytest.approx(width)
        assert dx == pytest.approx((m.index - 1) * k * L.pitch_mm)
        # the same board: holes and sockets are module 1's moved by the module offset
        assert [(round(x - dx, 3), z) for x, z in m.holes_xz_mm] == [(round(x, 3), z) for x, z in first.holes_xz_mm]
        for pos, index in enumerate(m.slot_indices):
            assert L.slots[index - 1].x_mm - dx == pytest.approx(L.slots[pos].x_mm)
        assert L.interior.x0 <= m.box.x0 and m.box.x1 <= L.interior.x1
    gaps = [b.box.x0 - a.box.x1 for a, b in zip(L.backplane_modules, L.backplane_modules[1:])]
    assert min(gaps) >= catalogue.chassis()["module_gap_mm"] - 1e-6
    board = L.module_board()
    assert len(board.slots) == k and board.backplane == first.box


def test_modules_that_cannot_fit_the_chassis_are_bad_input():
    from rackplane.design import DesignError

    with pytest.raises(DesignError) as err:
        _layout(slots__count=16, pcb__max_board_length_mm=100.0)
    assert err.value.key == "pcb.max_board_length_mm" and "past the right wall" in str(err.value)
