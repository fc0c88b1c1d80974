"""Merge the backplane and carrier netlists through the slot connector's mating map and prove that
every Pi power, ground and signal pin reaches its intended backplane net.

The merged graph's nodes are nets (``B:<name>`` on the backplane, ``C:<name>`` on the carrier).
Edges: carrier slot-header pin c meets backplane socket pin m(c) of slot n; and power passes
through the parts each board declares (`pass_through`: FETs, converters, inductors, eFuses).
From each Pi header pin the check walks the graph and collects the backplane nets it reaches;
the intended set comes from the pinout table (`pcb.pinout`):

* Pi 5 V (pins 2, 4): the slot's fused rail ``S<n>_VIN`` (through ideal diode, inductor, buck);
* Pi ground pins: ``GND``; Pi 3.3 V pins: nothing;
* Pi signal pins routed by the pinout: ``S<n>_<net>`` (I2C on slot 1 only: other slots leave it open).

The backplane's own pass-through parts (eFuses) are not followed: the intended nets are the
slot-side ones.
"""

from __future__ import annotations

from pcb import pinout as pinout_mod

PI_PIN_NAMES = {2: "5V", 4: "5V", 1: "3V3", 17: "3V3", 3: "GPIO2 I2C1 SDA", 5: "GPIO3 I2C1 SCL",
                8: "GPIO14 UART0 TX", 10: "GPIO15 UART0 RX"}


def _pin_nets(parts: list[dict]) -> dict[tuple[str, str], str]:
    return {(p["ref"], pad): net for p in parts for pad, net in p["pins"].items()}


def intended_nets(slot_index: int, pinout=pinout_mod.SLOT_PINOUT) -> dict[int, set[str]]:
    """Pi header pin -> the backplane nets it must reach (exactly) in slot `slot_index`."""
    supply = next(p for p in pinout if p.kind == pinout_mod.SUPPLY)
    want: dict[int, set[str]] = {pin: {pinout_mod.backplane_net(supply, slot_index)} for pin in pinout_mod.PI_POWER_PINS}
    want.update({pin: {"GND"} for pin in pinout_mod.PI_GROUND_PINS})
    want.update({pin: set() for pin in pinout_mod.PI_3V3_PINS})
    for row in pinout:
        if row.pi_pin:
            net = pinout_mod.backplane_net(row, slot_index)
            want[row.pi_pin] = {net} if net else set()
    return want


def reached_nets(backplane_parts, carrier_parts, carrier_pass, slot_index: int, mating: dict[int, int],
                 pi_ref: str, slot_header_ref: str) -> dict[int, set[str]]:
    """Pi header pin -> backplane nets reached through the carrier and the mated connector."""
    back = _pin_nets(backplane_parts)
    carr = _pin_nets(carrier_parts)
    socket_ref = f"J{slot_index}"
    edges: dict[str, set[str]] = {}

    def link(a: str, b: str) -> None:
        edges.setdefault(a, set()).add(b)
        edges.setdefault(b, set()).add(a)

    for (ref, pad), net in carr.items():
        if ref == slot_header_ref:
            target = back.get((socket_ref, str(mating.get(int(pad), -1))))
            if target:
                link(f"C:{net}", f"B:{target}")
    for through in carrier_pass:
        ins = {carr.get((through["ref"], p)) for p in through["in"]} - {None}
        outs = {carr.get((through["ref"], p)) for p in through["out"]} - {None}
        for a in ins:
            for b in outs:
                link(f"C:{a}", f"C:{b}")
    reached: dict[int, set[str]] = {}
    for (ref, pad), net in carr.items():
        if ref != pi_ref:
            continue
        seen, todo = {f"C:{net}"}, [f"C:{net}"]
        while todo:
            node = todo.pop()
            for nxt in edges.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    if nxt.startswith("C:"):
                        todo.append(nxt)
        reached[int(pad)] = {n[2:] for n in seen if n.startswith("B:")}
    return reached


def verify(facts: dict, slot_indices, mating: dict[int, int], pinout=pinout_mod.SLOT_PINOUT) -> list[dict]:
    """One row per (slot, Pi pin) with what it reaches and what it should: ok True/False."""
    from pcb.carrier import PI_SOCKET_REF, SLOT_HEADER_REF
    rows = []
    for n in slot_indices:
        reached = reached_nets(facts["backplane_parts"], facts["carrier_parts"], facts["pass_through"]["carrier"],
                               n, mating, PI_SOCKET_REF, SLOT_HEADER_REF)
        for pin, want in sorted(intended_nets(n, pinout).items()):
            got = reached.get(pin, set())
            rows.append({"slot": n, "pi_pin": pin, "function": PI_PIN_NAMES.get(pin, "GND"),
                         "intended": sorted(want), "reached": sorted(got), "ok": got == want})
    return rows
