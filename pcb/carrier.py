"""The carrier circuit (SKiDL): slot header -> input protection -> 5.1 V buck -> ideal diode -> Pi.

* J2: the slot connector's carrier half (right-angle header), wired from `pcb.pinout`: VIN, GND,
  the presence strap (a 0 ohm link R1 to GND), the Pi's UART0 (GPIO14/15, header pins 8/10) and
  I2C1 (GPIO2/3, header pins 3/5).
* Input protection: TVS D1 (smallest SMAJ with stand-off >= 1.1 x input), input ceramics.
* U1: TPS54560B (4.5-60 V, 5 A) to 5.1 V for a Pi 5: feedback divider, RT, inductor and output
  capacitance from `pcb.values`; catch Schottky D2 (B560C, 5 A); BOOT capacitor; COMP network
  (R 10k + C 4.7n, the datasheet's typical starting point, not computed here).
* Back-power protection (Raspberry Pi HAT design guide: an add-on that feeds the 5 V pins needs its
  own ideal diode so that the Pi's USB-C supply cannot drive back into it): LM74700 U2 with N-FET Q1
  between the buck output (5V1_BUCK) and the Pi's 5 V pins (5V_PI, header pins 2 and 4).
* J1: the 2 x 20 socket mating the Pi's header: 5 V on pins 2/4, GND on the eight ground pins, the
  3.3 V pins (1, 17) left open (the HAT guide forbids feeding them).
"""

from __future__ import annotations

from pcb import pinout as pinout_mod
from pcb import values
from pcb.parts import Builder, inductor_code, tvs_for
from rackplane import catalogue

PI_SOCKET_REF = "J1"
SLOT_HEADER_REF = "J2"


def build(design, plan: dict, slot_pinout=pinout_mod.SLOT_PINOUT) -> Builder:
    cat = catalogue.load("parts")
    pas = cat["passives"]
    b = Builder()
    gnd = b.net("GND", powered=True)
    vin = b.net("VIN", powered=True)
    conn = catalogue.slot_connector()
    from pcb.netlist import slot_symbol
    hdr = b.part("Connector_Generic", slot_symbol(), SLOT_HEADER_REF, conn["mpn_carrier"], conn["carrier_footprint"],
                 "slot", conn["mpn_carrier"])
    for row in slot_pinout:
        if row.kind == pinout_mod.RESERVED:
            hdr[row.number] += b.nc
        else:
            b.connect(row.net, hdr[row.number])
    b.resistor("R1", 0.0, "slot", b.net("PRESENT_N"), gnd)

    tvs = tvs_for(design["power.input_voltage_v"])
    d1 = b.part("Diode", tvs["symbol"], "D1", tvs["symbol"], "Diode_SMD:D_SMA", "power", tvs["mpn"], tvs["lcsc"])
    vin += d1[1]
    gnd += d1[2]
    b.capacitor("C1", 10e-6, "power", vin, gnd, rating_v=50)
    b.capacitor("C2", 10e-6, "power", vin, gnd, rating_v=50)
    b.capacitor("C3", 100e-9, "power", vin, gnd)

    bk = cat["carrier_buck"]
    u1 = b.part(bk["symbol_lib"], bk["symbol"], "U1", "TPS54560B 5.1V", bk["footprint"], "power", bk["mpn"], bk["lcsc"])
    vin += u1["VIN"]
    u1["EN"] += b.nc  # internal pull-up: enabled whenever the slot's eFuse is on
    gnd += u1["GND"]
    sw = b.connect("SW", u1["SW"])
    b.through("U1", ("2",), ("8",))
    b.capacitor("C4", 100e-9, "power", b.connect("BOOT", u1["BOOT"]), sw)
    b.resistor("R2", plan["buck_rt"].chosen, "power", b.connect("RT", u1["RT/CLK"]), gnd)
    comp = b.connect("COMP", u1["COMP"])
    b.resistor("R3", 10e3, "power", comp, b.net("COMP_RC"))
    b.capacitor("C5", 4.7e-9, "power", b.net("COMP_RC"), gnd)
    d2 = b.part("Device", "D_Schottky", "D2", "B560C", pas["schottky_footprint"], "power", pas["schottky_mpn"],
                pas["schottky_lcsc"])
    sw += d2["K"]
    gnd += d2["A"]
    l_h = plan["buck_inductor"].chosen
    l1 = b.part("Device", "L", "L1", values.fmt(l_h, "H"), pas["buck_inductor_footprint"], "power",
                f"Bourns SRP1245A-{inductor_code(l_h)}M")
    b.through("L1", ("1",), ("2",))
    sw += l1[1]
    v_buck = b.net("5V1_BUCK", powered=True)
    v_buck += l1[2]
    fb = b.connect("FB", u1["FB"])
    b.resistor("R4", plan["buck_feedback"].chosen, "power", v_buck, fb)
    b.resistor("R5", plan["buck_feedback_bottom_ohm"], "power", fb, gnd)
    for k in range(plan["buck_output_cap_count"]):
        b.capacitor(f"C{10 + k}", bk["output_cap_f"], "power", v_buck, gnd, rating_v=16)

    v_pi = b.net("5V_PI")
    # back-power protection (HAT design guide): the Pi's own supply cannot feed the buck
    b.ideal_diode("U2", "Q1", "C6", "ID", "power", pas["ideal_diode_fet_symbol"], "Package_SO:PowerPAK_SO-8_Single",
                  pas["ideal_diode_fet_mpn"], v_buck, v_pi, gnd)
    b.capacitor("C7", 10e-6, "power", v_pi, gnd, rating_v=16)

    ps = cat["pi_socket"]
    sock = b.part(ps["symbol_lib"], ps["symbol"], PI_SOCKET_REF, "Pi GPIO header", ps["footprint"], "pi", ps["mpn"])
    routed = {row.pi_pin: row.net for row in slot_pinout if row.pi_pin}
    for pin in range(1, 41):
        if pin in pinout_mod.PI_POWER_PINS:
            v_pi += sock[pin]
        elif pin in pinout_mod.PI_GROUND_PINS:
            gnd += sock[pin]
        elif pin in routed:
            b.connect(routed[pin], sock[pin])
        else:
            sock[pin] += b.nc
    return b
