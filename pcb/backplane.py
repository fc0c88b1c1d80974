"""The full backplane circuit (SKiDL): power input, per-slot eFuses, management bus, fans, console.

Groups (for the board layout, `Builder.groups`):

* ``power_in``: DC input connector J100, TVS D1, ideal-diode reverse-polarity protection (LM74700
  U1 + N-FET Q1), bulk capacitance, the 3.3 V logic supply (AP63203 U2).
* ``slot:<n>``: slot socket J<n> and the slot's cell, references numbered 100 n + k: eFuse
  U<100n+1> (TPS26633, built from its datasheet pin table: no KiCad symbol), its current-limit,
  UVLO, dV/dt and fault pull-up parts, the presence pull-up, a status LED and its resistor, an
  output capacitor.
* ``mgmt``: the I2C pull-ups, the TCA9555 expanders U10.. (4 signals per slot: enable, fault,
  presence, LED; as many expanders as the slot count needs, addresses 0x20 + k), EMC2305 fan
  controllers U20.. (5 fans each, address by ADDR_SEL resistor), the TMP1075 exhaust sensor U30,
  the fan headers J201.., the management header J101, the console header J102 (every slot's UART
  TX / RX), and jumper JP1 that joins slot 1's I2C to the management bus (slot 1's Pi as master).
* ``mount``: mounting holes H1.. at Layout's positions.

Values come from `pcb.values` (passed in as `computed`), parts from parts.toml.
"""

from __future__ import annotations

import math

from pcb import pinout as pinout_mod
from pcb import values
from pcb.parts import Builder
from rackplane import catalogue

INPUT_REF = "J100"
MGMT_HEADER_REF = "J101"
CONSOLE_REF = "J102"
MASTER_JUMPER_REF = "JP1"
SIGNALS_PER_SLOT = (("EN", "out"), ("FAULT_N", "in"), ("PRESENT_N", "in"), ("LED_N", "out"))


def slot_signals(slot_count: int) -> list[tuple[str, str]]:
    """Every expander signal (net name, direction seen from the expander) in port order."""
    return [(f"S{n}_{name}", d) for n in range(1, slot_count + 1) for name, d in SIGNALS_PER_SLOT]


def expander_count(slot_count: int) -> int:
    """TCA9555s the slot signals need: ceil(4 x slots / 16 ports)."""
    return math.ceil(len(slot_signals(slot_count)) / catalogue.load("parts")["expander"]["ports"])


def fan_controller_count(fan_count: int) -> int:
    return math.ceil(fan_count / catalogue.load("parts")["fan_controller"]["fans_per_device"])


def input_connector_for(current_a: float) -> dict:
    """The smallest catalogue input connector whose derated rating carries `current_a` (the largest
    when none does: power.budget then fails and says so)."""
    derate = catalogue.load("parts")["rules"]["connector_derating"]
    options = catalogue.load("parts")["input_connectors"]
    for c in options:
        if c["rated_current_a"] * derate >= current_a:
            return c
    return options[-1]


def tvs_for(input_voltage_v: float) -> dict:
    """The smallest SMAJ whose stand-off voltage is >= 1.1 x the input voltage."""
    for t in catalogue.load("parts")["tvs"]:
        if t["standoff_v"] >= 1.1 * input_voltage_v:
            return t
    raise ValueError(f"no TVS in parts.toml for {input_voltage_v} V")


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


def build(design, layout, plan: dict, slot_pinout=pinout_mod.SLOT_PINOUT) -> Builder:
    """The backplane circuit for `design` / `layout` with the computed values in `plan`
    (see `pcb.electrical.plan`)."""
    cat = catalogue.load("parts")
    b = Builder()
    sk = b.sk
    gnd = b.net("GND", powered=True)
    vin_raw = b.net("VIN_RAW", powered=True)
    vin = b.net("VIN", powered=True)
    v33 = b.net("+3V3", powered=True)

    # -- power input -------------------------------------------------------------------------
    conn = plan["input_connector"]
    j = b.part(conn["symbol_lib"], conn["symbol"], INPUT_REF, f"{conn['key']} {design['power.input_voltage_v']:g}V",
               conn["footprint"], "power_in", conn["mpn"], conn["lcsc"])
    vin_raw += j[1]
    gnd += j[2]
    tvs = plan["tvs"]
    d1 = b.part("Diode", tvs["symbol"], "D1", tvs["symbol"], "Diode_SMD:D_SMA", "power_in", tvs["mpn"], tvs["lcsc"])
    vin_raw += d1[1]
    gnd += d1[2]
    pas = cat["passives"]
    # reverse-polarity protection
    b.ideal_diode("U1", "Q1", "C1", "RP", "power_in", pas["power_fet_symbol"], pas["power_fet_footprint"],
                  pas["power_fet_mpn"], vin_raw, vin, gnd)
    bulk = b.part("Device", "C_Polarized", "C2", f"{pas['electrolytic_uf']:g}uF 35V", pas["electrolytic_footprint"],
                  "power_in", pas["electrolytic_mpn"])
    vin += bulk[1]
    gnd += bulk[2]
    b.capacitor("C3", 10e-6, "power_in", vin, gnd, rating_v=50)
    b.capacitor("C4", 10e-6, "power_in", vin, gnd, rating_v=50)
    lb = cat["logic_buck"]
    u2 = b.part(lb["symbol_lib"], lb["symbol"], "U2", lb["symbol"], lb["footprint"], "power_in", lb["mpn"], lb["lcsc"])
    vin += u2["IN"], u2["EN"]
    gnd += u2["GND"]
    sw = b.connect("3V3_SW", u2["SW"])
    b.capacitor("C5", 100e-9, "power_in", b.connect("3V3_BST", u2["BST"]), sw)
    l1 = b.part("Device", "L", "L1", values.fmt(plan["logic_inductor"].chosen, "H"), pas["logic_inductor_footprint"],
                "power_in", f"Bourns SRN6045TA-{_inductor_code(plan['logic_inductor'].chosen)}M")
    sw += l1[1]
    v33 += l1[2], u2["FB"]
    b.capacitor("C6", 10e-6, "power_in", vin, gnd, rating_v=50)
    b.capacitor("C7", 22e-6, "power_in", v33, gnd, rating_v=16)
    b.capacitor("C8", 22e-6, "power_in", v33, gnd, rating_v=16)

    # -- management bus ----------------------------------------------------------------------
    sda, scl = b.net("MGMT_SDA"), b.net("MGMT_SCL")
    int_n, alert_n = b.net("MGMT_INT_N"), b.net("FAN_ALERT_N")
    rp = plan["i2c_pullup"].chosen
    b.resistor("R1", rp, "mgmt", sda, v33)
    b.resistor("R2", rp, "mgmt", scl, v33)
    b.resistor("R3", 10e3, "mgmt", int_n, v33)
    b.resistor("R4", 10e3, "mgmt", alert_n, v33)
    hdr = b.part("Connector_Generic", "Conn_01x06", MGMT_HEADER_REF, "management", 
                 "Connector_PinHeader_2.54mm:PinHeader_1x06_P2.54mm_Vertical", "mgmt", "Wurth 61300611121")
    for k, net in enumerate((v33, sda, scl, int_n, alert_n, gnd), start=1):
        net += hdr[k]
    jp = b.part("Connector_Generic", "Conn_02x02_Odd_Even", MASTER_JUMPER_REF, "slot 1 master",
                "Connector_PinHeader_2.54mm:PinHeader_2x02_P2.54mm_Vertical", "mgmt", "Wurth 61300421121")
    b.connect("S1_I2C_SDA", jp[1])
    sda += jp[2]
    b.connect("S1_I2C_SCL", jp[3])
    scl += jp[4]

    ex = cat["expander"]
    signals = slot_signals(len(layout.slots))
    for k in range(expander_count(len(layout.slots))):
        u = b.part(ex["symbol_lib"], ex["symbol"], f"U{10 + k}", f"TCA9555 @0x{ex['base_address'] + k:02X}",
                   ex["footprint"], "mgmt", ex["mpn"], ex["lcsc"])
        sda += u["SDA"]
        scl += u["SCL"]
        int_n += u["~{INT}"]
        v33 += u["VCC"]
        gnd += u["GND"]
        for bit, pin in enumerate(("A0", "A1", "A2")):
            (v33 if (k >> bit) & 1 else gnd).__iadd__(u[pin])
        b.capacitor(f"C{10 + k}", 100e-9, "mgmt", v33, gnd)
        ports = [f"P0{i}" for i in range(8)] + [f"P1{i}" for i in range(8)]
        for i, port in enumerate(ports):
            index = k * ex["ports"] + i
            pin = next(pn for pn in u.pins if pn.name == port)  # u["P16"] would also match pin p16
            if index < len(signals):
                b.connect(signals[index][0], pin)
            else:
                pin += b.nc

    fc = cat["fan_controller"]
    fans = layout.fans
    for k in range(fan_controller_count(len(fans))):
        r_sel, address = fc["address_select"][k]
        u = b.part(fc["symbol_lib"], fc["symbol"], f"U{20 + k}", f"EMC2305 @0x{address:02X}", fc["footprint"], "mgmt",
                   fc["mpn"], fc["lcsc"])
        sda += u["SMDATA"]
        scl += u["SMCLK"]
        alert_n += u["~{ALERT}"]
        v33 += u["VDD"]
        gnd += u["GND"]
        u["CLK"] += b.nc
        if r_sel:
            b.resistor(f"R{30 + k}", r_sel, "mgmt", b.connect(f"FANC{k + 1}_ADDR", u["ADDR_SEL"]), gnd)
        else:
            gnd += u["ADDR_SEL"]
        b.capacitor(f"C{20 + k}", 100e-9, "mgmt", v33, gnd)
        for c in range(1, fc["fans_per_device"] + 1):
            fan_index = k * fc["fans_per_device"] + c
            if fan_index <= len(fans):
                b.connect(f"FAN{fan_index}_PWM", u[f"PWM{c}"])
                b.connect(f"FAN{fan_index}_TACH", u[f"TACH{c}"])
            else:
                u[f"PWM{c}"] += b.nc
                u[f"TACH{c}"] += b.nc
    for fan in fans:
        i = fan.index
        h = b.part("Connector", "Conn_01x04_Pin", f"J{200 + i}", f"fan {i}", "Connector:FanPinHeader_1x04_P2.54mm_Vertical",
                   "mgmt", "Molex 0470531000")
        gnd += h[1]
        vin += h[2]
        b.connect(f"FAN{i}_TACH", h[3])
        b.connect(f"FAN{i}_PWM", h[4])
        b.resistor(f"R{40 + i}", 10e3, "mgmt", b.net(f"FAN{i}_TACH"), v33)

    ts = cat["temp_sensor"]
    u30 = b.part(ts["symbol_lib"], ts["symbol"], "U30", f"TMP1075 @0x{ts['base_address']:02X} exhaust", ts["footprint"],
                 "mgmt", ts["mpn"], ts["lcsc"])
    sda += u30["SDA"]
    scl += u30["SCL"]
    v33 += u30["V+"]
    gnd += u30["GND"], u30["A0"], u30["A1"], u30["A2"]
    alert_n += u30["ALERT"]
    b.capacitor("C30", 100e-9, "mgmt", v33, gnd)

    # -- console header ------------------------------------------------------------------------
    rows = len(layout.slots) + 1
    con = b.part("Connector_Generic", f"Conn_02x{rows:02d}_Odd_Even", CONSOLE_REF, "console UART",
                 f"Connector_PinHeader_2.54mm:PinHeader_2x{rows:02d}_P2.54mm_Vertical", "mgmt",
                 f"generic 2x{rows:02d} 2.54 mm pin header")
    for slot in layout.slots:
        b.connect(f"S{slot.index}_UART_TX", con[2 * slot.index - 1])
        b.connect(f"S{slot.index}_UART_RX", con[2 * slot.index])
    gnd += con[2 * rows - 1], con[2 * rows]

    # -- slots -----------------------------------------------------------------------------------
    conn_slot = catalogue.slot_connector()
    from pcb.netlist import slot_symbol
    led = cat["led"]
    ef = cat["efuse"]
    for slot in layout.slots:
        n = slot.index
        g = f"slot:{n}"
        base = 100 * n
        s_vin = b.net(f"S{n}_VIN")
        socket = b.part("Connector_Generic", slot_symbol(), f"J{n}", conn_slot["mpn_backplane"],
                        conn_slot["backplane_footprint"], g, conn_slot["mpn_backplane"])
        for row in slot_pinout:
            net = pinout_mod.backplane_net(row, n)
            if net is None:
                socket[row.number] += b.nc
            else:
                b.connect(net, socket[row.number])
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

    # -- mounting holes --------------------------------------------------------------------------
    from pcb.netlist import hole_ref, mounting_hole_footprint
    hole_fp = mounting_hole_footprint(layout.backplane_hole_d_mm)
    for k, _ in enumerate(layout.backplane_holes_xz_mm, start=1):
        b.part("Mechanical", "MountingHole", hole_ref(k), hole_fp.split(":")[1], hole_fp, "mount", "none (board feature)")
    del sk
    return b


def _inductor_code(henry: float) -> str:
    """Bourns SRN/SRP inductance code: 4.7 uH -> 4R7, 10 uH -> 100."""
    uh = henry * 1e6
    if uh < 10:
        return f"{uh:.1f}".replace(".", "R")
    digits = f"{uh:.2g}".replace(".", "")
    exponent = int(math.log10(uh)) - 1
    return f"{digits[:2]}{exponent}"
