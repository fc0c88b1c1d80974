"""The management board circuit (SKiDL): the rack's 12 V input, its protection, the 3.3 V logic
supply, the bus pull-ups, fan control and the exhaust sensor.

It sits between the supply and the backplane: the supply enters at J1, passes the TVS and the
ideal diode (reverse-polarity protection) and leaves at J2 for the backplane's input J100 (on a
split backplane, the link nearest the middle of the chain); J3 carries +3V3 and the management bus
to the backplane's bus header J90 (every module's J90 on a split backplane, by one cable). The host reaches the bus at J4, or
slot 1's Pi masters it through the backplane's solder jumpers JP1 and JP2.

Groups: ``power_in`` (J1, J2, D1, the ideal diode U1 with its FETs Q1.. in parallel, bulk capacitors, the 3.3 V buck U2),
``mgmt`` (pull-ups, headers, fan controllers U20.., fan headers J201.., sensor U30).

Values come from `pcb.values` (passed in as `plan`), parts from parts.toml.
"""

from __future__ import annotations

import math

from pcb import backplane as backplane_mod
from pcb import copper, values
from pcb.parts import Builder, inductor_code
from rackplane import catalogue

SUPPLY_IN_REF, BACKPLANE_POWER_REF, BACKPLANE_BUS_REF, HOST_HEADER_REF = "J1", "J2", "J3", "J4"


def power_fet_count(design, current_a: float) -> int:
    """Ideal-diode FETs in parallel for the rack's `current_a` (A): as many as it takes for their
    source lands together to offer the pour IPC-2221's width for the current on an outer layer at
    the allowed rise (parts.toml `power_fet_land_width_mm` each; `pcb.management_copper` measures
    the result)."""
    fab = catalogue.fab(design["pcb.fab"])
    width = copper.ipc2221_width_mm(current_a, copper.ALLOWED_RISE_K, fab["copper_oz"], external=True)
    return max(1, math.ceil(width / catalogue.load("parts")["passives"]["power_fet_land_width_mm"]))


def fet_refs(count: int) -> tuple[str, ...]:
    return tuple(f"Q{k}" for k in range(1, count + 1))


def fan_controller_count(fan_count: int) -> int:
    return math.ceil(fan_count / catalogue.load("parts")["fan_controller"]["fans_per_device"])


def decoupling_ref(ic_ref: str) -> str:
    """The 100 nF supply capacitor of a logic IC: C<n> beside U<n> (the board places it there)."""
    return "C" + ic_ref[1:]


def fan_header_ref(fan_index: int) -> str:
    return f"J{200 + fan_index}"


def i2c_devices(fan_count: int) -> list[dict]:
    """The management board's devices on the bus: fan controllers and the exhaust sensor."""
    cat = catalogue.load("parts")
    devices = [{"ref": f"U{20 + k}", "part": "EMC2305", "address": cat["fan_controller"]["address_select"][k][1]}
               for k in range(fan_controller_count(fan_count))]
    devices.append({"ref": "U30", "part": "TMP1075", "address": cat["temp_sensor"]["base_address"]})
    return devices


def build(design, layout, plan: dict) -> Builder:
    """The management board circuit for `design` / `layout` with the computed values in `plan`."""
    cat = catalogue.load("parts")
    b = Builder()
    gnd = b.net("GND", powered=True)
    vin_raw = b.net("VIN_RAW", powered=True)
    vin = b.net("VIN", powered=True)
    v33 = b.net("+3V3", powered=True)
    pas = cat["passives"]

    # -- power input, protection, output to the backplane ------------------------------------------
    conn = plan["input_connector"]
    for ref, net, role in ((SUPPLY_IN_REF, vin_raw, "supply in"), (BACKPLANE_POWER_REF, vin, "to backplane")):
        j = b.part(conn["symbol_lib"], conn["symbol"], ref, f"{conn['key']} {design['power.input_voltage_v']:g}V {role}",
                   conn["footprint"], "power_in", conn["mpn"], conn["lcsc"])
        net += j[conn["positive_pin"]]
        gnd += j[conn["negative_pin"]]
    tvs = plan["tvs"]
    d1 = b.part("Diode", tvs["symbol"], "D1", tvs["symbol"], "Diode_SMD:D_SMA", "power_in", tvs["mpn"], tvs["lcsc"])
    vin_raw += d1[1]
    gnd += d1[2]
    b.ideal_diode("U1", fet_refs(power_fet_count(design, plan["budget"]["total_current_a"])), "C1", "RP", "power_in",
                  pas["power_fet_symbol"], pas["power_fet_footprint"], pas["power_fet_mpn"], vin_raw, vin, gnd)
    bulk = b.part("Device", "C_Polarized", "C2", f"{pas['electrolytic_uf']:g}uF 35V", pas["electrolytic_footprint"],
                  "power_in", pas["electrolytic_mpn"])
    vin += bulk[1]
    gnd += bulk[2]
    b.capacitor("C3", 10e-6, "power_in", vin, gnd, rating_v=50)
    b.capacitor("C4", 10e-6, "power_in", vin, gnd, rating_v=50)

    # -- 3.3 V logic supply for the management bus and every slot cell -----------------------------
    lb = cat["logic_buck"]
    u2 = b.part(lb["symbol_lib"], lb["symbol"], "U2", lb["symbol"], lb["footprint"], "power_in", lb["mpn"], lb["lcsc"])
    vin += u2["IN"], u2["EN"]
    gnd += u2["GND"]
    sw = b.connect("3V3_SW", u2["SW"])
    b.capacitor("C5", 100e-9, "power_in", b.connect("3V3_BST", u2["BST"]), sw)
    l1 = b.part("Device", "L", "L1", values.fmt(plan["logic_inductor"].chosen, "H"), pas["logic_inductor_footprint"],
                "power_in", f"Bourns SRN6045TA-{inductor_code(plan['logic_inductor'].chosen)}M")
    sw += l1[1]
    v33 += l1[2], u2["FB"]
    b.capacitor("C6", 10e-6, "power_in", vin, gnd, rating_v=50)
    b.capacitor("C7", 22e-6, "power_in", v33, gnd, rating_v=16)
    b.capacitor("C8", 22e-6, "power_in", v33, gnd, rating_v=16)

    # -- management bus: pull-ups, backplane and host headers -------------------------------------
    sda, scl = b.net("MGMT_SDA"), b.net("MGMT_SCL")
    int_n, alert_n = b.net("MGMT_INT_N"), b.net("FAN_ALERT_N")
    rp = plan["i2c_pullup"].chosen
    b.resistor("R1", rp, "mgmt", sda, v33)
    b.resistor("R2", rp, "mgmt", scl, v33)
    b.resistor("R3", 10e3, "mgmt", int_n, v33)
    b.resistor("R4", 10e3, "mgmt", alert_n, v33)
    n_bus = len(backplane_mod.BUS_NETS)
    bus = b.part("Connector_Generic", f"Conn_01x{n_bus:02d}", BACKPLANE_BUS_REF, "backplane bus",
                 f"Connector_PinHeader_2.54mm:PinHeader_1x{n_bus:02d}_P2.54mm_Vertical", "mgmt",
                 f"Wurth 6130{n_bus:02d}11121")
    for k, name in enumerate(backplane_mod.BUS_NETS, start=1):
        net = b.net(name)
        net += bus[k]
    host = b.part("Connector_Generic", "Conn_01x06", HOST_HEADER_REF, "host",
                  "Connector_PinHeader_2.54mm:PinHeader_1x06_P2.54mm_Vertical", "mgmt", "Wurth 61300611121")
    for k, net in enumerate((v33, sda, scl, int_n, alert_n, gnd), start=1):
        net += host[k]

    # -- fans -----------------------------------------------------------------------------------
    fc = cat["fan_controller"]
    fans = layout.fans
    for k in range(fan_controller_count(len(fans))):
        r_sel, address = fc["address_select"][k]
        u = b.part(fc["symbol_lib"], fc["symbol"], f"U{20 + k}", f"EMC2305 @0x{address:02X}", fc["footprint"], "mgmt",
                   fc["mpn"], fc["lcsc"])
        b.wire(u, {sda: "SMDATA", scl: "SMCLK", alert_n: "~{ALERT}", v33: "VDD", gnd: "GND"})
        u["CLK"] += b.nc
        if r_sel:
            b.resistor(f"R{30 + k}", r_sel, "mgmt", b.connect(f"FANC{k + 1}_ADDR", u["ADDR_SEL"]), gnd)
        else:
            gnd += u["ADDR_SEL"]
        b.capacitor(decoupling_ref(f"U{20 + k}"), 100e-9, "mgmt", v33, gnd)
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
        h = b.part("Connector", "Conn_01x04_Pin", fan_header_ref(i), f"fan {i}",
                   "Connector:FanPinHeader_1x04_P2.54mm_Vertical", "mgmt", "Molex 0470531000")
        gnd += h[1]
        vin += h[2]
        b.connect(f"FAN{i}_TACH", h[3])
        b.connect(f"FAN{i}_PWM", h[4])
        b.resistor(f"R{40 + i}", 10e3, "mgmt", b.net(f"FAN{i}_TACH"), v33)

    # -- exhaust temperature --------------------------------------------------------------------
    ts = cat["temp_sensor"]
    u30 = b.part(ts["symbol_lib"], ts["symbol"], "U30", f"TMP1075 @0x{ts['base_address']:02X} exhaust", ts["footprint"],
                 "mgmt", ts["mpn"], ts["lcsc"])
    b.wire(u30, {sda: "SDA", scl: "SCL", v33: "V+"})
    gnd += u30["GND"], u30["A0"], u30["A1"], u30["A2"]
    alert_n += u30["ALERT"]
    b.capacitor(decoupling_ref("U30"), 100e-9, "mgmt", v33, gnd)
    return b

