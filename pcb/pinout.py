"""The slot connector's pinout: one table shared by the backplane, the carrier and the checks.

The slot connector is a 2 x 10, 2.54 mm part (`catalogue.slot_connector()`): a socket on the
backplane, a right-angle header on the carrier. Pins use KiCad's odd/even numbering: pins 1 and 2
form row 1, pins 19 and 20 row 10; on the backplane footprint row 1 is the top row (highest z).

Choices, with their reasons:

* **Supply**: 4 pins carry the slot's fused 12 V (VIN), 4 pins return it (GND). A Pi 5 slot needs
  at most 25.5 W / (12 V x 0.88) = 2.4 A (see `slot_supply_current_a`); the pins are rated 3 A
  each and derated by 50 % when all carry current (1.5 A), so 4 pins give 6.0 A, 2.5 x the need.
* **Reverse-insertion safety**: turning the connector by 180 degrees maps pin n onto pin 21 - n.
  VIN (1-4) then lands on 17-20, which are RESERVED: unconnected on both boards for good, so a
  carrier forced in upside down cannot short the 12 V rail. A mirror (row swap, n <-> n +/- 1)
  maps VIN onto VIN and GND onto GND. `rotation_hazards()` proves both for any table.
* **Signals** are 3.3 V logic, named from the carrier's point of view for the Pi's GPIO:
  UART0 (GPIO14 TXD / GPIO15 RXD, header pins 8 / 10), the Pi's I2C1 (GPIO2 / GPIO3, header
  pins 3 / 5: slot 1's joins the management bus through a jumper), and presence (strapped to GND
  on the carrier, pulled up on the backplane). Slot power is switched by the backplane's eFuse, so
  the carrier needs no enable line; pins 10, 15 and 16 are spares. The slot's cell on the
  backplane watches and switches the slot through its own 8-port I/O expander (enable, fault,
  presence, LED; `pcb.backplane`), so the UART lines end at the slot's console header there.

Currents: supply and return pins share the slot current equally (`pin_currents_a`); signal pins
carry at most 16 mA, the Pi's per-GPIO limit (raspberrypi/documentation power-supplies.adoc and
gpio-on-raspberry-pi.adoc, engineering-data 2.4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rackplane import catalogue

# Pin kinds.
SUPPLY = "supply"      # 12 V from the backplane's per-slot fused rail
RETURN = "return"      # ground
SIGNAL = "signal"      # 3.3 V logic
RESERVED = "reserved"  # never connected on either board (reverse-insertion safety)

# Directions, seen from the carrier (the Pi side): "in" = driven by the backplane.
TO_CARRIER, TO_BACKPLANE, BIDIR, NONE = "in", "out", "bidir", "none"

GPIO_PIN_MAX_CURRENT_A = 0.016  # Pi GPIO per-pin limit (power-supplies.adoc, engineering-data 2.4)


@dataclass(frozen=True)
class SlotPin:
    """One contact of the slot connector.

    number: KiCad pin number (1..20, odd/even rows). net: the net's name on the slot (the
    backplane prefixes per-slot signals with the slot, e.g. ``S3_UART_TX``; VIN and GND are the
    backplane's rails). direction: seen from the carrier. function: what the pin does.
    """

    number: int
    net: str
    kind: str
    direction: str
    function: str
    pi_pin: int | None = None  # the Pi header pin the carrier routes this signal to

    @property
    def side(self) -> str:
        """Connector side (row): "a" for odd pins, "b" for even pins (KiCad odd/even numbering)."""
        return "a" if self.number % 2 else "b"


SLOT_PINOUT: tuple[SlotPin, ...] = (
    SlotPin(1, "VIN", SUPPLY, TO_CARRIER, "12 V supply from the slot's fused rail"),
    SlotPin(2, "VIN", SUPPLY, TO_CARRIER, "12 V supply from the slot's fused rail"),
    SlotPin(3, "VIN", SUPPLY, TO_CARRIER, "12 V supply from the slot's fused rail"),
    SlotPin(4, "VIN", SUPPLY, TO_CARRIER, "12 V supply from the slot's fused rail"),
    SlotPin(5, "GND", RETURN, NONE, "ground return"),
    SlotPin(6, "GND", RETURN, NONE, "ground return"),
    SlotPin(7, "GND", RETURN, NONE, "ground return"),
    SlotPin(8, "GND", RETURN, NONE, "ground return"),
    SlotPin(9, "PRESENT_N", SIGNAL, TO_BACKPLANE, "presence: strapped to GND on the carrier"),
    SlotPin(10, "RESERVED", RESERVED, NONE, "spare: unconnected on both boards"),
    SlotPin(11, "UART_TX", SIGNAL, TO_BACKPLANE, "Pi UART0 TXD (GPIO14, header pin 8)", pi_pin=8),
    SlotPin(12, "UART_RX", SIGNAL, TO_CARRIER, "Pi UART0 RXD (GPIO15, header pin 10)", pi_pin=10),
    SlotPin(13, "I2C_SDA", SIGNAL, BIDIR, "management I2C data (GPIO2, header pin 3)", pi_pin=3),
    SlotPin(14, "I2C_SCL", SIGNAL, BIDIR, "management I2C clock (GPIO3, header pin 5)", pi_pin=5),
    SlotPin(15, "RESERVED", RESERVED, NONE, "spare: unconnected on both boards"),
    SlotPin(16, "RESERVED", RESERVED, NONE, "spare: unconnected on both boards"),
    SlotPin(17, "RESERVED", RESERVED, NONE, "unconnected: lands on VIN if the carrier is reversed"),
    SlotPin(18, "RESERVED", RESERVED, NONE, "unconnected: lands on VIN if the carrier is reversed"),
    SlotPin(19, "RESERVED", RESERVED, NONE, "unconnected: lands on VIN if the carrier is reversed"),
    SlotPin(20, "RESERVED", RESERVED, NONE, "unconnected: lands on VIN if the carrier is reversed"),
)


def pin_count() -> int:
    """Contacts of the slot connector, from the catalogue (rows x pins per row)."""
    conn = catalogue.slot_connector()
    return conn["rows"] * conn["pins_per_row"]


def pins_of_kind(kind: str, pinout: tuple[SlotPin, ...] = SLOT_PINOUT) -> tuple[SlotPin, ...]:
    return tuple(p for p in pinout if p.kind == kind)


def validate_pinout(pinout: tuple[SlotPin, ...] = SLOT_PINOUT) -> list[str]:
    """Problems with a pinout table (empty when it is sound): every contact listed once, supply
    and return present, reverse insertion harmless."""
    problems: list[str] = []
    numbers = [p.number for p in pinout]
    expected = set(range(1, pin_count() + 1))
    dupes = sorted({n for n in numbers if numbers.count(n) > 1})
    if dupes:
        problems.append(f"pins listed more than once: {dupes}")
    if set(numbers) != expected:
        problems.append(f"pins missing: {sorted(expected - set(numbers))}, "
                        f"unknown: {sorted(set(numbers) - expected)}")
    if not pins_of_kind(SUPPLY, pinout) or not pins_of_kind(RETURN, pinout):
        problems.append("the pinout needs supply and return pins")
    problems += rotation_hazards(pinout)
    return problems


def rotation_hazards(pinout: tuple[SlotPin, ...] = SLOT_PINOUT) -> list[str]:
    """Supply pins that meet a return or signal pin when the carrier is turned by 180 degrees
    (pin n onto pin N + 1 - n) or mirrored (pin n onto its row partner)."""
    by_number = {p.number: p for p in pinout}
    n_pins = pin_count()
    hazards: list[str] = []
    for p in pins_of_kind(SUPPLY, pinout):
        for how, other in (("rotated", n_pins + 1 - p.number),
                           ("mirrored", p.number + 1 if p.number % 2 else p.number - 1)):
            q = by_number.get(other)
            if q is not None and q.kind not in (SUPPLY, RESERVED):
                hazards.append(f"{how} carrier: supply pin {p.number} meets {q.kind} pin {other} ({q.net})")
    return hazards


def slot_supply_current_a(design) -> float:
    """Worst-case current (A) one slot draws from the 12 V rail: the Pi model's recommended supply
    power (nodes.toml `supply_w`) through the carrier's buck converter (power.toml efficiency)."""
    node = catalogue.node(design["node.model"])
    efficiency = catalogue.load("power")["carrier_buck"]["efficiency"]
    return node.supply_w / (design["power.input_voltage_v"] * efficiency)


def pin_currents_a(slot_current_a: float, pinout: tuple[SlotPin, ...] = SLOT_PINOUT) -> dict[int, float]:
    """Current (A) in each contact when the slot draws `slot_current_a` from its supply pins.

    Supply and return pins share the current equally (they are paralleled on both boards);
    signal pins carry at most the GPIO limit; reserved pins carry nothing.
    """
    n_supply = len(pins_of_kind(SUPPLY, pinout))
    n_return = len(pins_of_kind(RETURN, pinout))
    share = {SUPPLY: slot_current_a / n_supply, RETURN: slot_current_a / n_return,
             SIGNAL: GPIO_PIN_MAX_CURRENT_A, RESERVED: 0.0}
    return {p.number: share[p.kind] for p in pinout}


def as_table(design=None) -> list[dict]:
    """The pinout as rows for reports and facts; with a design, each pin's current in A."""
    currents = pin_currents_a(slot_supply_current_a(design)) if design is not None else {}
    return [{"pin": p.number, "side": p.side, "net": p.net, "kind": p.kind, "direction": p.direction,
             "pi_pin": p.pi_pin, "function": p.function, **({"current_a": round(currents[p.number], 4)} if currents else {})}
            for p in SLOT_PINOUT]


PI_POWER_PINS = (2, 4)          # 5 V in (raspberrypi/hats designguide.md; engineering-data 2.3)
PI_3V3_PINS = (1, 17)           # never driven by an add-on board
PI_GROUND_PINS = (6, 9, 14, 20, 25, 30, 34, 39)  # engineering-data 2.4


def backplane_net(pin: SlotPin, slot_index: int) -> str | None:
    """The backplane net that `pin` of slot `slot_index` connects to (None: unconnected there).

    Supply pins take the slot's fused rail ``S<n>_VIN`` (the eFuse output), return pins ``GND``;
    signals are prefixed with the slot (``S3_UART_TX``). The I2C pins join the management bus only on
    slot 1 (through the master jumper); on other slots they stay unconnected."""
    if pin.kind == SUPPLY:
        return f"S{slot_index}_VIN"
    if pin.kind == RETURN:
        return "GND"
    if pin.kind == RESERVED:
        return None
    if pin.net.startswith("I2C_") and slot_index != 1:
        return None
    return f"S{slot_index}_{pin.net}"


def mating_map(pinout: tuple[SlotPin, ...] = SLOT_PINOUT, how: str = "straight") -> dict[int, int]:
    """Carrier pin -> backplane pin when the two connectors mate. "straight" is the real part (pin n
    meets pin n); "mirrored" swaps the rows (a footprint placed on the wrong side); "rotated" turns
    the carrier by 180 degrees. The faulty maps are for tests and the hazard analysis."""
    n_pins = len(pinout)
    if how == "straight":
        return {p.number: p.number for p in pinout}
    if how == "mirrored":
        return {p.number: p.number + 1 if p.number % 2 else p.number - 1 for p in pinout}
    if how == "rotated":
        return {p.number: n_pins + 1 - p.number for p in pinout}
    raise ValueError(f"unknown mating {how!r}")


def shifted(pinout: tuple[SlotPin, ...] = SLOT_PINOUT, by: int = 1) -> tuple[SlotPin, ...]:
    """The table with every function moved `by` pins along (a pinout shifted by one, for tests)."""
    n = len(pinout)
    return tuple(replace(p, number=(p.number - 1 + by) % n + 1) for p in pinout)


def supply_ground_swapped(pinout: tuple[SlotPin, ...] = SLOT_PINOUT) -> tuple[SlotPin, ...]:
    """The table with the supply and return pins exchanged (for tests)."""
    swap = {SUPPLY: (RETURN, "GND"), RETURN: (SUPPLY, "VIN")}
    return tuple(replace(p, kind=swap[p.kind][0], net=swap[p.kind][1]) if p.kind in swap else p for p in pinout)
