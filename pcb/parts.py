"""Building blocks for the SKiDL circuits: parts with value, footprint, MPN and LCSC number, tagged
for determinism, and grouped for the board layout.

`Builder` wraps one SKiDL Circuit. Every part it makes has an explicit reference (so the same
parameters give the same netlist), a `group` (``slot:<n>``, ``mgmt``, ``power_in``, ``mount`` on the
backplane) and the catalogue's MPN / LCSC fields, which land in the netlist and the BOM.

Passive MPNs: resistors are Yageo RC0603FR-07 (1 %, 0603), whose part number spells the value;
capacitors come from parts.toml `[capacitors]`.
"""

from __future__ import annotations

import math

from pcb import values
from pcb.skidl_env import skidl, symbol_library
from rackplane import catalogue


def resistor_mpn(ohm: float) -> str:
    """Yageo RC0603FR-07 part number of a 1 % 0603 resistor: 10k -> RC0603FR-0710KL, 4.7k -> 4K7,
    680 -> 680R, 53.6k -> 53K6, 0 -> 0R."""
    for factor, letter in ((1e6, "M"), (1e3, "K"), (1.0, "R")):
        if ohm >= factor or letter == "R":
            digits = f"{ohm / factor:.3g}"
            label = digits.replace(".", letter) if "." in digits else digits + letter
            return f"Yageo RC0603FR-07{label}L"
    raise AssertionError


class Builder:
    """Adds parts and nets to one SKiDL circuit and records each part's group and catalogue fields."""

    def __init__(self) -> None:
        sk = skidl()
        self.sk = sk
        self.circuit = sk.Circuit()
        self.circuit.no_files = True
        self.groups: dict[str, str] = {}
        self.pass_through: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        self._nets: dict[str, object] = {}

    # -- nets ------------------------------------------------------------------------------
    def net(self, name: str, powered: bool = False):
        """The net called `name` (made on first use). `powered`: a supply net fed from outside the
        circuit's parts (a connector, a regulator through its inductor): SKiDL's PWR_FLAG."""
        if name not in self._nets:
            with self.circuit:
                self._nets[name] = self.sk.Net(name)
        net = self._nets[name]
        if powered:
            net.drive = self.sk.POWER
        return net

    def wire(self, part, pins: dict) -> None:
        """Join `part`'s pins (by name) to nets: {net: pin name}, e.g. a bus device's SDA, SCL,
        supply and ground."""
        for net, pin in pins.items():
            net += part[pin]

    def connect(self, name: str, *pins):
        """Connect `pins` to the net `name`; returns the net."""
        net = self.net(name)
        for pin in pins:
            net += pin
        return net

    @property
    def nc(self):
        return self.circuit.NC

    # -- parts -----------------------------------------------------------------------------
    def part(self, lib: str, symbol: str, ref: str, value: str, footprint: str, group: str,
             mpn: str, lcsc: str = ""):
        """A library part with reference, value, footprint, MPN and LCSC (empty when unknown)."""
        with self.circuit:
            p = self.sk.Part(symbol_library(lib), symbol, ref=ref, tag=ref, value=value, footprint=footprint)
        return self._fields(p, group, mpn, lcsc)

    def custom(self, name: str, pins: list[tuple[int, str, str]], ref: str, value: str, footprint: str,
               group: str, mpn: str, lcsc: str = ""):
        """A part without a KiCad library symbol, built from its datasheet pin table:
        pins = [(number, name, type)] with type one of SKiDL's pin types (PWRIN, PWROUT, INPUT, ...)."""
        sk = self.sk
        P = sk.Pin
        with self.circuit:
            p = sk.Part(tool=sk.SKIDL, name=name, ref_prefix="U", ref=ref, tag=ref, value=value,
                        footprint=footprint,
                        pins=[P(num=n, name=nm, func=getattr(P.types, t)) for n, nm, t in pins])
        return self._fields(p, group, mpn, lcsc)

    def _fields(self, p, group: str, mpn: str, lcsc: str):
        p.fields["MPN"] = mpn
        if lcsc:
            p.fields["LCSC"] = lcsc
        self.groups[p.ref] = group
        return p

    def resistor(self, ref: str, ohm: float, group: str, a, b):
        p = self.part("Device", "R", ref, values.fmt(ohm, ""), _passives()["resistor_footprint"], group,
                      resistor_mpn(ohm))
        a += p[1]
        b += p[2]
        return p

    def capacitor(self, ref: str, farad: float, group: str, a, b, rating_v: float | None = None):
        label = values.fmt(farad, "")
        big = farad >= 10e-6
        fp = _passives()["bulk_capacitor_footprint" if big else "capacitor_footprint"]
        value = f"{label}F" + (f" {rating_v:g}V" if rating_v else "")
        p = self.part("Device", "C", ref, value, fp, group, catalogue.load("parts")["capacitors"][label])
        a += p[1]
        b += p[2]
        return p

    def ideal_diode(self, controller_ref: str, fet_refs: str | tuple[str, ...], cap_ref: str, prefix: str,
                    group: str, fet_symbol: str, fet_footprint: str, fet_mpn: str, anode, cathode, gnd):
        """An LM74700-Q1 ideal-diode controller driving N-FETs in parallel (one per reference in
        `fet_refs`) from `anode` to `cathode`, with its 100 nF charge-pump capacitor (LM74700-Q1
        datasheet, typical application). Nets it adds are named `<prefix>_GATE` and
        `<prefix>_VCAP`; returns (controller, [fets])."""
        pas = _passives()
        u = self.part("Power_Management", "LM74700", controller_ref, "LM74700-Q1", "Package_TO_SOT_SMD:SOT-23-6",
                      group, pas["ideal_diode_controller_mpn"], pas["ideal_diode_controller_lcsc"])
        anode += u["ANODE"], u["EN"]
        cathode += u["CATHODE"]
        gate = self.connect(f"{prefix}_GATE", u["GATE"])
        fets = []
        for ref in (fet_refs,) if isinstance(fet_refs, str) else fet_refs:
            q = self.part("Transistor_FET", fet_symbol, ref, fet_symbol, fet_footprint, group, fet_mpn)
            anode += q["S"]
            cathode += q["D"]
            gate += q["G"]
            self.through(ref, ("1", "2", "3"), ("5",))
            fets.append(q)
        gnd += u["GND"]
        self.capacitor(cap_ref, 100e-9, group, self.connect(f"{prefix}_VCAP", u["VCAP"]), anode)
        return u, fets

    def through(self, ref: str, pins_in: tuple[str, ...], pins_out: tuple[str, ...]) -> None:
        """Declare that power passes through part `ref` from `pins_in` to `pins_out` (pin numbers):
        the mating check follows supply paths through these (fuses, FETs, converters, inductors)."""
        self.pass_through.append((ref, tuple(map(str, pins_in)), tuple(map(str, pins_out))))

    # -- results ---------------------------------------------------------------------------
    def part_facts(self) -> list[dict]:
        """[{ref, value, footprint, group, mpn, lcsc, pins: {pad: net}}] sorted by reference."""
        out = []
        for p in self.circuit.parts:
            pins = {}
            for pin in p.pins:
                net = pin.net if pin.is_connected() else None
                if net is not None and net is not self.circuit.NC and not _is_nc(net):
                    pins[str(pin.num)] = net.name
            out.append({"ref": p.ref, "value": str(p.value), "footprint": p.footprint,
                        "group": self.groups.get(p.ref, ""), "mpn": p.fields.get("MPN", ""),
                        "lcsc": p.fields.get("LCSC", ""), "pins": dict(sorted(pins.items(), key=_pin_key))})
        return sorted(out, key=lambda d: ref_key(d["ref"]))


def _is_nc(net) -> bool:
    return type(net).__name__ == "NCNet"


def _pin_key(item):
    pad = item[0]
    return (0, int(pad), "") if pad.isdigit() else (1, 0, pad)


def ref_key(ref: str):
    """Sort key of a reference: prefix, then number (J2 before J10)."""
    prefix = ref.rstrip("0123456789")
    number = ref[len(prefix):]
    return (prefix, int(number) if number else 0)


def _passives() -> dict:
    return catalogue.load("parts")["passives"]


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


def inductor_code(henry: float) -> str:
    """Bourns SRN/SRP inductance code: 4.7 uH -> 4R7, 10 uH -> 100."""
    uh = henry * 1e6
    if uh < 10:
        return f"{uh:.1f}".replace(".", "R")
    digits = f"{uh:.2g}".replace(".", "")
    exponent = int(math.log10(uh)) - 1
    return f"{digits[:2]}{exponent}"
