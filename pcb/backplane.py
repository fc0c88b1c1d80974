"""The backplane circuit (SKiDL): slot sockets, one identical cell per slot, the management bus.

The backplane carries what every slot needs and nothing central: each slot's cell switches and
watches its own slot, so only the power rails and a four-wire bus run along the board. The central
parts (input protection, the 3.3 V supply, fan control, the exhaust sensor) are on the management
board (`pcb/management.py`), which feeds the backplane through its power input and bus header.

Groups (for the board layout, `pcb.board`):

* ``power_in``: the 12 V input J100 from the management board's power output (a module of a split
  backplane has the link pair J110 / J111 instead, `pcb.netlist`).
* ``mgmt``: the bus header J90 (+3V3, MGMT_SDA, MGMT_SCL, MGMT_INT_N, GND, from the management
  board; on a split backplane one five-wire cable with a plug per module and one for the
  management board carries the bus to every module's J90), and the solder jumpers JP1
  (SDA) and JP2 (SCL) that join slot 1's I2C to the bus (slot 1's Pi as bus master).
* ``slot:<n>``: socket J<n> and the slot's cell, references numbered 100 n + k: eFuse
  U<100n+1> (TPS26633, built from its datasheet pin table: no KiCad symbol) with its current-limit,
  UVLO, dV/dt, fault pull-up and enable pull-down parts; the presence pull-up; a status LED and its
  resistor; an output capacitor; the slot's I/O expander U<100n+2> (TCA9534 or TCA9534A, address
  set by its A0-A2 pins tied to +3V3 or GND: `slot_address`) with its decoupling capacitor; the
  slot's console header J<100n+1> (UART TX, RX, GND).
* ``mount``: mounting holes H1.. at Layout's positions.

Expander ports: P0 enable (output), P1 fault (input, low = fault), P2 presence (input, low =
carrier present), P3 LED (output, low = on); P4-P7 unused.

Values come from `pcb.values` (passed in as `plan`, see `pcb.electrical.plan`), parts from parts.toml.
"""

from __future__ import annotations

from pcb import netlist as netlist_mod
from pcb import pinout as pinout_mod
from pcb.parts import Builder
from rackplane import catalogue

INPUT_REF = netlist_mod.INPUT_REF
BUS_REF = "J90"
MASTER_JUMPER_REFS = ("JP1", "JP2")  # SDA, SCL
MASTER_JUMPER_FOOTPRINT = "Jumper:SolderJumper-2_P1.3mm_Open_RoundedPad1.0x1.5mm"
BUS_NETS = ("+3V3", "MGMT_SDA", "MGMT_SCL", "MGMT_INT_N", "GND")  # bus header pins 1..5
EXPANDER_PORTS = (("EN", "P0"), ("FAULT_N", "P1"), ("PRESENT_N", "P2"), ("LED_N", "P3"))
UNUSED_PORTS = ("P4", "P5", "P6", "P7")


def expander_ref(slot_index: int) -> str:
    return f"U{100 * slot_index + 2}"


def console_ref(slot_index: int) -> str:
    return f"J{100 * slot_index + 1}"


def max_slots_per_bus() -> int:
    """Slots one bus addresses: every variant's 8 addresses (TCA9534 and TCA9534A: 16)."""
    ex = catalogue.load("parts")["expander"]
    return ex["address_count"] * len(ex["variants"])


def slot_address(position: int, module: int = 1) -> tuple[dict, int]:
    """The expander variant (parts.toml entry) and its A2..A0 bits for the slot at `position`
    (1-based) on its board. A single backplane counts positions across variants (slots 1-8 on the
    first, 9-16 on the second); on a split backplane the position in the module gives the bits and
    the module the variant, so every module has the same copper and differs only in its BOM."""
    ex = catalogue.load("parts")["expander"]
    k = position - 1
    variant_index = module - 1 + k // ex["address_count"]
    if variant_index >= len(ex["variants"]) or k < 0:
        raise ValueError(f"slot position {position} of module {module}: the management bus addresses "
                         f"{ex['address_count']} expanders of each of {len(ex['variants'])} variants "
                         f"({max_slots_per_bus()} slots on one bus)")
    return ex["variants"][variant_index], k % ex["address_count"]


def check_addressable(slot_count: int, module_slots: int, module_count: int) -> None:
    """Raise ValueError when the slots cannot all have their own expander address."""
    ex = catalogue.load("parts")["expander"]
    if module_count > 1:
        if module_slots > ex["address_count"] or module_count > len(ex["variants"]):
            raise ValueError(
                f"a split backplane of {module_count} modules of {module_slots} slots: every module is the same "
                f"copper, so its slots take the {ex['address_count']} addresses of one expander variant and the "
                f"modules the {len(ex['variants'])} variants (at most {len(ex['variants'])} modules of "
                f"{ex['address_count']} slots); set pcb.max_board_length_mm for fewer, longer modules")
    elif slot_count > max_slots_per_bus():
        raise ValueError(f"{slot_count} slots: the management bus addresses {max_slots_per_bus()} slot expanders "
                         f"(TCA9534 0x20-0x27, TCA9534A 0x38-0x3F); slots.count allows at most that many here")


def i2c_devices(slot_count: int, module_count: int = 1) -> list[dict]:
    """The backplane's devices on the management bus: one expander per slot (every module's on a
    split backplane, `slot_count` being the slots of one module)."""
    out = []
    for m in range(1, module_count + 1):
        for n in range(1, slot_count + 1):
            variant, bits = slot_address(n, m)
            ref = expander_ref(n) if module_count == 1 else f"{expander_ref(n)} (module {m})"
            out.append({"ref": ref, "part": variant["value"], "address": variant["base_address"] + bits})
    return out


def efuse_pins() -> list[tuple[int, str, str]]:
    """The TPS26633's pin table (parts.toml [efuse.pins]) with SKiDL pin types."""
    types = {"IN": "PWRIN", "IN_SYS": "PWRIN", "OUT": "PWROUT", "GND": "PWRIN", "EP": "PASSIVE",
             "SHDN": "INPUT", "UVLO": "INPUT", "OVP": "INPUT", "FLT": "OPENCOLL", "PGOOD": "OPENCOLL",
             "NC": "NOCONNECT"}
    pins = catalogue.load("parts")["efuse"]["pins"]
    # Stacked pins (IN, OUT): the first carries the type, the rest are passive, as in KiCad's symbols.
    table = [(n, name, types.get(name, "PASSIVE") if k == 0 or name == "NC" else "PASSIVE")
             for name, nums in pins.items() if name != "source" for k, n in enumerate(nums)]
    return sorted(table)


def _power_terminals(b: Builder, design, plan: dict, chained: bool, vin, gnd) -> None:
    """The 12 V input J100, or on a module of a split backplane the link pair J110 (in) / J111
    (out): the part the power budget chose for the whole supply current."""
    conn = plan["input_connector"]
    refs = ((netlist_mod.LINK_IN_REF, "link in"), (netlist_mod.LINK_OUT_REF, "link out")) if chained else \
        ((INPUT_REF, "12 V in"),)
    for ref, role in refs:
        j = b.part(conn["symbol_lib"], conn["symbol"], ref, f"{conn['key']} {design['power.input_voltage_v']:g}V {role}",
                   conn["footprint"], "power_in", conn["mpn"], conn["lcsc"])
        vin += j[conn["positive_pin"]]
        gnd += j[conn["negative_pin"]]


def _bus_header(b: Builder) -> None:
    """The bus header J90: the management board's cable brings +3V3 and the bus to it."""
    hdr = b.part("Connector_Generic", f"Conn_01x{len(BUS_NETS):02d}", BUS_REF, "management bus",
                 f"Connector_PinHeader_2.54mm:PinHeader_1x{len(BUS_NETS):02d}_P2.54mm_Vertical", "mgmt",
                 f"Wurth 6130{len(BUS_NETS):02d}11121")
    for k, name in enumerate(BUS_NETS, start=1):
        net = b.net(name)
        net += hdr[k]


def build(design, layout, plan: dict, slot_pinout=pinout_mod.SLOT_PINOUT, chained: bool = False,
          module: int = 1) -> Builder:
    """The backplane circuit for `design` and the board's `layout` (`Layout.module_board()` on a split
    backplane, with `chained`; `module` picks the expander variant of that module's BOM), with the
    computed values in `plan` (`pcb.electrical.plan`)."""
    cat = catalogue.load("parts")
    b = Builder()
    gnd = b.net("GND", powered=True)
    vin = b.net("VIN", powered=True)
    v33 = b.net("+3V3", powered=True)  # from the management board, through the bus header
    _power_terminals(b, design, plan, chained, vin, gnd)
    _bus_header(b)
    sda, scl, int_n = b.net("MGMT_SDA"), b.net("MGMT_SCL"), b.net("MGMT_INT_N")
    for ref, line, bus_net in ((MASTER_JUMPER_REFS[0], "SDA", sda), (MASTER_JUMPER_REFS[1], "SCL", scl)):
        jp = b.part("Jumper", "SolderJumper_2_Open", ref, f"slot 1 master {line}", MASTER_JUMPER_FOOTPRINT, "mgmt",
                    "none (solder jumper: bridge to make slot 1 the bus master)")
        b.connect(f"S1_I2C_{line}", jp[1])
        bus_net += jp[2]

    conn_slot = catalogue.slot_connector()
    led, ef, ex = cat["led"], cat["efuse"], cat["expander"]
    for slot in layout.slots:
        n = slot.index
        g = f"slot:{n}"
        base = 100 * n
        s_vin = b.net(f"S{n}_VIN")
        socket = b.part("Connector_Generic", netlist_mod.slot_symbol(), netlist_mod.slot_ref(n),
                        conn_slot["mpn_backplane"], conn_slot["backplane_footprint"], g, conn_slot["mpn_backplane"])
        for row in slot_pinout:
            net = pinout_mod.backplane_net(row, n)
            if net is None:
                socket[row.number] += b.nc
            else:
                b.connect(net, socket[row.number])
        # eFuse: the slot's 12 V, off until the host enables it, current-limited, with fault output
        u = b.custom("TPS26633", efuse_pins(), f"U{base + 1}", "TPS26633", ef["footprint"], g, ef["mpn"], ef["lcsc"])
        vin += u["IN"], u["IN_SYS"]
        s_vin += u["OUT"]
        gnd += u["GND"], u["EP"], u["OVP"]
        b.through(f"U{base + 1}", tuple(str(p) for p in ef["pins"]["IN"]), tuple(str(p) for p in ef["pins"]["OUT"]))
        for name in ("B_GATE", "DRV", "MODE", "IMON", "PGTH", "PGOOD", "NC"):
            u[name] += b.nc
        b.resistor(f"R{base + 1}", plan["efuse_ilim"].chosen, g, b.connect(f"S{n}_ILIM", u["ILIM"]), gnd)
        b.capacitor(f"C{base + 1}", 22e-9, g, b.connect(f"S{n}_DVDT", u["DVDT"]), gnd)
        uvlo = b.connect(f"S{n}_UVLO", u["UVLO"])
        b.resistor(f"R{base + 2}", plan["efuse_uvlo"].chosen, g, vin, uvlo)
        b.resistor(f"R{base + 3}", plan["efuse_uvlo_bottom_ohm"], g, uvlo, gnd)
        b.connect(f"S{n}_EN", u["SHDN"])
        b.connect(f"S{n}_FAULT_N", u["FLT"])
        b.resistor(f"R{base + 4}", 10e3, g, b.net(f"S{n}_FAULT_N"), v33)
        b.resistor(f"R{base + 5}", 10e3, g, b.net(f"S{n}_PRESENT_N"), v33)
        b.resistor(f"R{base + 7}", 100e3, g, b.net(f"S{n}_EN"), gnd)  # slot off until the host enables it
        d = b.part(led["symbol_lib"], led["symbol"], f"D{base + 1}", f"green slot {n}", led["footprint"], g,
                   led["mpn"], led["lcsc"])
        b.resistor(f"R{base + 6}", plan["led_resistor"].chosen, g, b.connect(f"S{n}_LED_A", d["A"]), v33)
        b.connect(f"S{n}_LED_N", d["K"])
        b.capacitor(f"C{base + 2}", 10e-6, g, s_vin, gnd, rating_v=50)
        # the slot's expander on the management bus
        variant, bits = slot_address(n, module)
        x = b.part(ex["symbol_lib"], ex["symbol"], expander_ref(n),
                   f"{variant['value']} @0x{variant['base_address'] + bits:02X}", ex["footprint"], g,
                   variant["mpn"], variant["lcsc"])
        b.wire(x, {sda: "SDA", scl: "SCL", int_n: "~{INT}", v33: "VDD", gnd: "GND"})
        for bit, pin in enumerate(("A0", "A1", "A2")):
            (v33 if (bits >> bit) & 1 else gnd).__iadd__(x[pin])
        port_pin = {pin.name: pin for pin in x.pins}  # x["P4"] would also match pin number 4 (P0)
        for signal, port in EXPANDER_PORTS:
            b.connect(f"S{n}_{signal}", port_pin[port])
        for port in UNUSED_PORTS:
            port_pin[port] += b.nc
        b.capacitor(f"C{base + 3}", 100e-9, g, v33, gnd)
        # the slot's console: its Pi's UART0 on a header of its own
        con = b.part("Connector_Generic", "Conn_01x03", console_ref(n), f"console slot {n}",
                     "Connector_PinHeader_2.54mm:PinHeader_1x03_P2.54mm_Vertical", g, "Wurth 61300311121")
        b.connect(f"S{n}_UART_TX", con[1])
        b.connect(f"S{n}_UART_RX", con[2])
        gnd += con[3]

    hole_fp = netlist_mod.mounting_hole_footprint(layout.backplane_hole_d_mm)
    for k, _ in enumerate(layout.backplane_holes_xz_mm, start=1):
        b.part("Mechanical", "MountingHole", netlist_mod.hole_ref(k), hole_fp.split(":")[1], hole_fp, "mount",
               "none (board feature)")
    return b
