"""The full backplane and carrier circuits with the real SKiDL: ERC-clean for several designs,
deterministic, part counts that follow the slot count, and the electrical checks each catching a
deliberately faulty pinout or design."""

from __future__ import annotations

import copy
import csv
import dataclasses

import pytest

from pcb import backplane, electrical, pinout, values
from rackplane import catalogue
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from tests.pcb_helpers import variant

DESIGNS = {"default": {}, "pi5": {"node__model": "pi5"}, "one": {"slots__count": 1},
           "four": {"slots__count": 4}, "sixteen": {"slots__count": 16}}


@pytest.fixture(scope="module")
def boards(tmp_path_factory):
    """Both boards written once per design; shared by the tests here."""
    out = {}
    for name, changes in DESIGNS.items():
        design, layout = variant(**changes)
        workdir = tmp_path_factory.mktemp(name)
        out[name] = (design, layout, workdir, electrical.write_boards(design, layout, workdir))
    return out


def ctx_of(design, layout, facts) -> BuildContext:
    return BuildContext(design, layout, facts={"pcb.netlist": facts})


def run(check_id, ctx):
    return run_check(load_all()[check_id], ctx)


@pytest.mark.parametrize("name", DESIGNS)
def test_every_board_passes_erc(boards, name):
    _, _, _, facts = boards[name]
    for board in ("backplane", "carrier", "management"):
        assert facts["erc"][board]["errors"] == 0, facts["erc"][board]["messages"]


@pytest.mark.parametrize("name", DESIGNS)
def test_checks_pass(boards, name):
    design, layout, _, facts = boards[name]
    for cid in ("pin.mating", "pin.current", "pcb.values", "pcb.i2c"):
        result = run(cid, ctx_of(design, layout, facts))
        assert result.status == PASS, result.message


def test_every_part_has_value_footprint_mpn_and_group(boards):
    _, _, workdir, facts = boards["default"]
    for part in facts["backplane_parts"] + facts["carrier_parts"] + facts["management_parts"]:
        assert part["value"] and ":" in part["footprint"] and part["mpn"] and part["group"], part
    groups = {p["group"] for p in facts["backplane_parts"]}
    assert {"power_in", "mgmt", "mount", "slot:1", "slot:10"} <= groups
    for bom, count in ((electrical.BACKPLANE_BOM, "backplane_part_count"),
                       (electrical.MANAGEMENT_BOM, "management_part_count")):
        rows = list(csv.DictReader((workdir / bom).open()))
        assert sum(int(r["quantity"]) for r in rows) == facts[count]
        assert set(rows[0]) == {"references", "value", "footprint", "mpn", "lcsc", "quantity"}


def _pins(parts, ref):
    return next(p for p in parts if p["ref"] == ref)["pins"]


def test_only_the_bus_and_the_rails_leave_a_slot_cell(boards):
    """Every net of a slot's cell stays in the slot, except the rails and the management bus: the
    backplane's nets do not grow with the slot count beyond the cells' own."""
    design, layout, _, facts = boards["four"]
    parts = facts["backplane_parts"]
    group = {p["ref"]: p["group"] for p in parts}
    shared = set()
    for p in parts:
        if p["group"].startswith("slot:"):
            for net in p["pins"].values():
                others = {group[q["ref"]] for q in parts if net in q["pins"].values()} - {p["group"]}
                if others:
                    shared.add(net)
    assert shared == {"VIN", "GND", "+3V3", "MGMT_SDA", "MGMT_SCL", "MGMT_INT_N", "S1_I2C_SDA", "S1_I2C_SCL"}


def test_slot_expanders_have_their_own_addresses(boards):
    """Slots 1-8 take TCA9534 0x20-0x27 through their A0-A2 pins, slots 9-16 TCA9534A 0x38-0x3F."""
    _, _, _, facts = boards["sixteen"]
    parts = facts["backplane_parts"]
    for n in (1, 2, 8, 9, 16):
        ref = backplane.expander_ref(n)
        pins = _pins(parts, ref)
        bits = sum(1 << k for k, pad in enumerate(("1", "2", "3")) if pins[pad] == "+3V3")
        part = next(p for p in parts if p["ref"] == ref)
        base = 0x20 if n <= 8 else 0x38
        assert bits == (n - 1) % 8 and part["value"] == f"{'TCA9534' if n <= 8 else 'TCA9534A'} @0x{base + bits:02X}"
        assert pins["4"] == f"S{n}_EN" and pins["15"] == "MGMT_SDA" and pins["14"] == "MGMT_SCL"
    addresses = [d["address"] for d in facts["i2c"]["devices"]]
    assert len(addresses) == len(set(addresses)) == 16 + 2 + 1


def test_a_split_backplane_gives_each_module_its_expander_variant(tmp_path):
    design, layout = variant(slots__count=16, pcb__max_board_length_mm=250)
    facts = electrical.write_boards(design, layout, tmp_path)
    devices = facts["i2c"]["devices"]
    assert len(layout.backplane_modules) == 2 and facts["expander_count"] == 16
    assert len({d["address"] for d in devices}) == len(devices)
    assert backplane.slot_address(1, 2)[0]["value"] == "TCA9534A"
    assert {"J110", "J111", "J90"} <= {p["ref"] for p in facts["backplane_parts"]}


def test_too_many_modules_for_the_bus_are_refused():
    with pytest.raises(ValueError, match="max_board_length_mm"):
        backplane.check_addressable(12, 4, 3)
    with pytest.raises(ValueError, match="16 slot expanders"):
        backplane.check_addressable(17, 17, 1)


def test_part_count_grows_with_slots(boards):
    counts = {n: boards[k][3] for n, k in ((1, "one"), (4, "four"), (16, "sixteen"))}
    per_slot = counts[1]["backplane_group_counts"]["slot:1"]
    assert per_slot >= 8  # socket, eFuse, ILIM, dV/dt, UVLO x2, fault and presence pull-ups, LED, resistor
    for a, b in ((1, 4), (4, 16)):
        assert counts[b]["backplane_part_count"] - counts[a]["backplane_part_count"] >= (b - a) * per_slot
    for n, facts in counts.items():
        assert facts["expander_count"] == n


def test_netlists_are_identical_across_runs(boards, tmp_path):
    design, layout, workdir, _ = boards["four"]
    electrical.write_boards(design, layout, tmp_path)
    for name in (electrical.BACKPLANE_NET, electrical.CARRIER_NET, electrical.BACKPLANE_BOM):
        assert (tmp_path / name).read_bytes() == (workdir / name).read_bytes(), name


def test_pi5_buck_and_fuse(boards):
    _, _, _, facts = boards["pi5"]
    computed = {c["part"]: c for c in facts["computed"]}
    assert computed["R_FB_TOP"]["achieved"] == pytest.approx(5.1, rel=0.01)
    assert computed["R_ILIM"]["achieved"] >= facts["power"]["slot_current_a"] * 1.25
    assert values.e_series(53750, "E96") == 53600


def test_pin_mating_catches_a_mirrored_connector(boards):
    design, layout, _, facts = boards["four"]
    check = load_all()["pin.mating"].func
    result = check(ctx_of(design, layout, facts), mating=pinout.mating_map(how="mirrored"))
    assert result.status == FAIL
    assert "Pi pin 8 (GPIO14 UART0 TX) reaches ['S1_UART_RX']" in result.message


@pytest.mark.parametrize("fault, named", [
    (pinout.shifted, "Pi pin 2 (5V) reaches ['GND', 'S1_VIN']"),
    (pinout.supply_ground_swapped, "Pi pin 2 (5V) reaches ['GND'], intended ['S1_VIN']"),
])
def test_pin_mating_catches_a_faulty_carrier_pinout(boards, tmp_path, fault, named):
    design, layout, _, _ = boards["one"]
    facts = electrical.write_boards(design, layout, tmp_path, carrier_pinout=fault())
    result = run("pin.mating", ctx_of(design, layout, facts))
    assert result.status == FAIL
    assert named in result.message
    assert result.parts == ["J1"]


def test_pin_current_catches_an_overloaded_pin(boards):
    design, layout, _, facts = boards["pi5"]
    bad = copy.deepcopy(facts)
    bad["slot_pinout"] = pinout.as_table(design)
    bad["slot_pinout"][0]["current_a"] = 1.2  # one supply pin carrying too much (rated 3 A x 0.5 / 1.5)
    result = run("pin.current", ctx_of(design, layout, bad))
    assert result.status == FAIL and "pin 1 (VIN)" in result.message


def test_pcb_values_catches_a_value_off_target(boards):
    design, layout, _, facts = boards["default"]
    bad = copy.deepcopy(facts)
    fb = next(c for c in bad["computed"] if c["part"] == "R_FB_TOP")
    fb["achieved"] = 0.8 * (1 + 56.2e3 / 10e3)  # 56.2k instead of 53.6k: 5.30 V
    result = run("pcb.values", ctx_of(design, layout, bad))
    assert result.status == FAIL and "R_FB_TOP" in result.parts


def test_pcb_i2c_catches_an_address_clash_and_a_slow_bus(boards):
    design, layout, _, facts = boards["default"]
    bad = copy.deepcopy(facts)
    bad["i2c"]["devices"][1]["address"] = bad["i2c"]["devices"][0]["address"]
    result = run("pcb.i2c", ctx_of(design, layout, bad))
    assert result.status == FAIL and "U102" in result.parts and "U202" in result.parts
    slow = copy.deepcopy(facts)
    slow["i2c"]["bus"]["rise_time_s"] = 0.8473 * 10e3 * 200e-12  # 10 kOhm on 200 pF
    assert run("pcb.i2c", ctx_of(design, layout, slow)).status == FAIL


def test_power_budget_states_the_supply_and_catches_an_undersized_input(boards):
    design, layout, _, facts = boards["default"]
    ok = run("power.budget", ctx_of(design, layout, facts))
    assert ok.status == PASS and "supply to buy: 12 V" in ok.message
    big = boards["sixteen"]
    design16, layout16 = variant(slots__count=16, node__model="pi5")
    facts16 = copy.deepcopy(big[3])
    facts16["power"].update(electrical.power_budget(design16, layout16))
    result = run("power.budget", ctx_of(design16, layout16, facts16))
    assert result.status == FAIL and "J100" in result.parts


def test_erc_catches_a_pinout_short_on_the_full_backplane(tmp_path):
    design, layout = variant(slots__count=2)
    gnd_pin = pinout.pins_of_kind(pinout.RETURN)[0]
    supply = pinout.pins_of_kind(pinout.SUPPLY)[0]
    bad = pinout.SLOT_PINOUT + (dataclasses.replace(supply, number=gnd_pin.number),)
    facts = electrical.write_boards(design, layout, tmp_path, slot_pinout=bad)
    assert facts["erc"]["backplane"]["errors"] >= 1


def test_input_connectors_put_12v_on_the_pin_their_footprint_marks_plus():
    """A polarised input connector's `positive_pin` is the pad its footprint's silkscreen marks
    '+' (nearest the mark), so a standard cable lands 12 V on the 12 V net; a connector without
    marks (a screw terminal) is free to choose."""
    import math

    import pcbnew

    from pcb import board as board_mod

    checked = 0
    for conn in catalogue.load("parts")["input_connectors"]:
        fp = board_mod._load_footprint(conn["footprint"])
        marks = {t.GetText(): t.GetPosition() for t in fp.GraphicalItems()
                 if isinstance(t, pcbnew.PCB_TEXT) and t.GetText() in ("+", "-")}
        if not marks:
            continue
        pads = {p.GetNumber(): p.GetPosition() for p in fp.Pads() if p.GetNumber() in ("1", "2")}
        for mark, pin in (("+", conn["positive_pin"]), ("-", conn["negative_pin"])):
            nearest = min(pads, key=lambda n: math.dist((pads[n].x, pads[n].y), (marks[mark].x, marks[mark].y)))
            assert nearest == str(pin), (conn["key"], mark, nearest)
        checked += 1
    assert checked >= 2   # the XT60 and the XT90


def test_boards_wire_12v_to_the_connectors_positive_pin(tmp_path):
    """The backplane's input and the management board's two power connectors carry VIN (or the
    raw supply) on the catalogue's positive pin and ground on the negative one."""
    design, layout = variant(slots__count=10)
    facts = electrical.write_boards(design, layout, tmp_path)
    conn = electrical.plan(design, layout)["input_connector"]
    parts = {p["ref"]: p for p in facts["backplane_parts"] + facts["management_parts"]
             if p["ref"] in ("J100", "J1", "J2") and p["footprint"] == conn["footprint"]}
    assert set(parts) == {"J100", "J1", "J2"}
    for ref, part in parts.items():
        assert part["pins"][str(conn["positive_pin"])] in ("VIN", "VIN_RAW"), ref
        assert part["pins"][str(conn["negative_pin"])] == "GND", ref
