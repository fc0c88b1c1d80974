"""The electrical design of the three boards: the plan of computed values and choices, the SKiDL
circuits, their netlists, BOMs and ERC, and the facts the checks read.

`plan(design, layout)` computes every value that follows from a target (pcb.values) and the power
budget; `write_boards(...)` builds the backplane, carrier and management board circuits from it and
writes, per board:

* ``backplane.net`` / ``carrier.net`` / ``management.net``: KiCad netlists (deterministic: fixed
  refs and tags, fixed date and source lines). On a split backplane, ``backplane.net`` is the module
  board's (one board, ordered once per module; its expanders are module 1's variant, see
  `pcb.backplane.slot_address`);
* ``bom_backplane.csv`` / ``bom_carrier.csv`` / ``bom_management.csv``: references, value,
  footprint, MPN, LCSC, quantity;
* ``backplane_erc.txt`` / ``carrier_erc.txt`` / ``management_erc.txt``: SKiDL's ERC.

Facts: ``backplane_parts`` / ``carrier_parts`` / ``management_parts`` ([{ref, value, footprint,
group, mpn, lcsc, pins: {pad: net}}]: the board layout's interface), ``pass_through`` (power paths
through parts, for the mating check), ``computed`` (every computed value with target and
achieved), ``i2c`` (every device on the management bus, of every backplane module), ``power``,
ERC counts per board.
"""

from __future__ import annotations

import math
from pathlib import Path

from pcb import backplane as backplane_mod
from pcb import carrier as carrier_mod
from pcb import management as management_mod
from pcb import parts as parts_mod
from pcb import pinout as pinout_mod
from pcb import values
from pcb.bom import bom_csv
from rackplane import catalogue

BACKPLANE_NET = "backplane.net"
CARRIER_NET = "carrier.net"
BACKPLANE_BOM = "bom_backplane.csv"  # pcb.fab writes backplane_bom.csv for the placed board
CARRIER_BOM = "bom_carrier.csv"
BACKPLANE_ERC = "backplane_erc.txt"
CARRIER_ERC = "carrier_erc.txt"
MANAGEMENT_NET = "management.net"
MANAGEMENT_BOM = "bom_management.csv"
MANAGEMENT_ERC = "management_erc.txt"


def power_budget(design, layout) -> dict:
    """Worst-case currents (A) on the input rail and the supply to buy.

    slot: the node's recommended supply power through the carrier buck (pinout.slot_supply_current_a);
    fans: rated power / rated voltage each; logic: parts.toml rules.logic_load_a at 3.3 V through a
    converter of the carrier buck's efficiency. Supply = total x margin, rounded up to the step."""
    rules = catalogue.load("parts")["rules"]
    vin = design["power.input_voltage_v"]
    efficiency = catalogue.load("power")["carrier_buck"]["efficiency"]
    slot_a = pinout_mod.slot_supply_current_a(design)
    fan = catalogue.fan(design["cooling.fan_size_mm"])
    fans_a = len(layout.fans) * fan.power_w / fan.voltage_v
    logic_a = rules["logic_load_a"] * catalogue.load("parts")["logic_buck"]["output_v"] / (vin * efficiency)
    total_a = len(layout.slots) * slot_a + fans_a + logic_a
    step = rules["supply_current_step_a"]
    supply_a = math.ceil(total_a * rules["supply_margin_factor"] / step) * step
    return {"input_voltage_v": vin, "slot_current_a": slot_a, "slot_count": len(layout.slots),
            "fan_count": len(layout.fans), "fan_voltage_v": fan.voltage_v, "fans_current_a": fans_a,
            "logic_current_a": logic_a, "total_current_a": total_a, "supply_current_a": supply_a,
            "supply_power_w": supply_a * vin, "supply_margin_factor": rules["supply_margin_factor"]}


def power_facts(p: dict) -> dict:
    """The power budget and the ratings that `power.budget` compares it with, from a `plan`."""
    return {**p["budget"], "input_connector": {k: p["input_connector"][k] for k in
                                               ("key", "title", "mpn", "rated_current_a")},
            "connector_derating": catalogue.load("parts")["rules"]["connector_derating"],
            "efuse_limit_a": p["efuse_ilim"].achieved,
            "efuse_max_a": catalogue.load("parts")["efuse"]["current_max_a"],
            "efuse_limit_factor": catalogue.load("parts")["rules"]["efuse_limit_factor"]}


def plan(design, layout) -> dict:
    """Every computed value and part choice the two circuits need."""
    budget = power_budget(design, layout)
    vin = design["power.input_voltage_v"]
    uvlo, uvlo_bot = values.efuse_uvlo_divider(vin)
    fb, fb_bot = values.buck_feedback()
    cout, cout_count = values.buck_output_capacitors()
    n_i2c = len(i2c_devices(layout))
    width_mm = layout.backplane.x1 - layout.backplane.x0
    pullup, bus = values.i2c_pullup(n_i2c, width_mm)
    return {
        "budget": budget,
        "input_connector": parts_mod.input_connector_for(budget["supply_current_a"]),
        "tvs": parts_mod.tvs_for(vin),
        "efuse_ilim": values.efuse_current_limit(budget["slot_current_a"]),
        "efuse_uvlo": uvlo, "efuse_uvlo_bottom_ohm": uvlo_bot,
        "logic_inductor": values.logic_inductor(vin),
        "led_resistor": values.led_resistor(),
        "i2c_pullup": pullup, "i2c_bus": bus,
        "buck_feedback": fb, "buck_feedback_bottom_ohm": fb_bot,
        "buck_rt": values.buck_timing_resistor(),
        "buck_inductor": values.buck_inductor(vin),
        "buck_output_caps": cout, "buck_output_cap_count": cout_count,
    }


def i2c_devices(layout) -> list[dict]:
    """Every device on the management bus with its 7-bit address: every backplane module's slot
    expanders, then the management board's fan controllers and sensor."""
    modules = len(layout.backplane_modules)
    return (backplane_mod.i2c_devices(layout.module_slots if modules > 1 else len(layout.slots), modules)
            + management_mod.i2c_devices(len(layout.fans)))


def _erc(builder) -> dict:
    from pcb.netlist import run_erc
    return run_erc(builder.circuit)


def _write(builder, workdir: Path, net_file: str, bom_file: str, erc_file: str, source: str) -> dict:
    from pcb.netlist import netlist_text
    erc = _erc(builder)
    text = netlist_text(builder.circuit).replace('(source "rackplane pcb/netlist.py")', f'(source "{source}")')
    parts = builder.part_facts()
    (workdir / net_file).write_text(text)
    (workdir / bom_file).write_text(bom_csv(parts))
    (workdir / erc_file).write_text(f"SKiDL ERC: {erc['errors']} errors, {erc['warnings']} warnings\n"
                                    + "".join(m + "\n" for m in erc["messages"]))
    return {"parts": parts, "erc": erc,
            "pass_through": [{"ref": r, "in": list(i), "out": list(o)} for r, i, o in builder.pass_through]}


def write_boards(design, layout, workdir: Path, slot_pinout=pinout_mod.SLOT_PINOUT,
                 carrier_pinout=None) -> dict:
    """Build, check (ERC) and write both boards into `workdir`; return the facts.

    `carrier_pinout` (default: `slot_pinout`) lets tests build a carrier from a faulty table."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    backplane_mod.check_addressable(len(layout.slots), layout.module_slots, len(layout.backplane_modules))
    p = plan(design, layout)
    back = _write(backplane_mod.build(design, layout.module_board(), p, slot_pinout, chained=layout.is_split),
                  workdir, BACKPLANE_NET, BACKPLANE_BOM, BACKPLANE_ERC, "rackplane pcb/backplane.py")
    mgmt = _write(management_mod.build(design, layout, p), workdir, MANAGEMENT_NET, MANAGEMENT_BOM, MANAGEMENT_ERC,
                  "rackplane pcb/management.py")
    carr = _write(carrier_mod.build(design, p, carrier_pinout or slot_pinout), workdir, CARRIER_NET, CARRIER_BOM,
                  CARRIER_ERC, "rackplane pcb/carrier.py")
    computed = [p[k].as_fact() for k in ("efuse_ilim", "efuse_uvlo", "logic_inductor", "led_resistor", "i2c_pullup",
                                         "buck_feedback", "buck_rt", "buck_inductor", "buck_output_caps")]
    from dataclasses import asdict
    groups: dict[str, int] = {}
    for part in back["parts"]:
        groups[part["group"]] = groups.get(part["group"], 0) + 1
    return {
        "backplane_parts": back["parts"],
        "carrier_parts": carr["parts"],
        "management_parts": mgmt["parts"],
        "backplane_part_count": len(back["parts"]),
        "carrier_part_count": len(carr["parts"]),
        "management_part_count": len(mgmt["parts"]),
        "backplane_group_counts": dict(sorted(groups.items())),
        "expander_count": sum(1 for d in i2c_devices(layout) if d["part"].startswith("TCA9534")),
        "pass_through": {"backplane": back["pass_through"], "carrier": carr["pass_through"],
                         "management": mgmt["pass_through"]},
        "erc": {"backplane": back["erc"], "carrier": carr["erc"], "management": mgmt["erc"]},
        "computed": computed,
        "slot_pinout": pinout_mod.as_table(design),
        "i2c": {"bus": asdict(p["i2c_bus"]), "devices": i2c_devices(layout)},
        "power": power_facts(p),
        "board_files": {"backplane_netlist": BACKPLANE_NET, "carrier_netlist": CARRIER_NET,
                        "management_netlist": MANAGEMENT_NET,
                        "backplane_bom": BACKPLANE_BOM, "carrier_bom": CARRIER_BOM, "management_bom": MANAGEMENT_BOM,
                        "backplane_erc": BACKPLANE_ERC, "carrier_erc": CARRIER_ERC,
                        "management_erc": MANAGEMENT_ERC},
    }
