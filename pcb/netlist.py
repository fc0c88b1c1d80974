"""The backplane's power netlist (the board layout's input for now), with SKiDL, from the pinout and Layout.

The full backplane, carrier and management board circuits are in `pcb/backplane.py`,
`pcb/carrier.py` and `pcb/management.py`, written by `pcb/electrical.py` as backplane.net,
carrier.net and management.net; this thin netlist (backplane_power.net) is the input of
`pcb/board.py` until the board layout places the slot cells and the bus of the full circuit.

Parts (reference designators are stable across designs so that boards and reports agree):

* ``J1 .. Jn``: one slot socket per slot, ``J<slot index>``; pins wired from `pcb.pinout`.
* ``J100``: the DC input, a 2-way 5.08 mm screw terminal (power.toml `input_connector`).
* A module of a split backplane (`Layout.is_split`) has no J100 but two link terminals of the
  same part, ``J110`` at its left end and ``J111`` at its right end; short cables join each
  module's J111 to the next one's J110, and the supply lands on the link nearest the middle of
  the chain (`pcb.copper` measures it so).
* ``H1 .. Hk``: mounting holes at Layout's `backplane_holes_xz_mm`, in that order.

Nets: ``VIN`` (the input rail, which feeds every slot's supply pins) and ``GND``. This slice
leaves the slot signals (presence, enable, UART, I2C) unconnected on the backplane: the
management circuitry that they go to comes later. RESERVED pins stay unconnected for good.

ERC: the input terminal's two pins are typed as power outputs (what a PWR_FLAG states in a
schematic: the supply enters here), so a short between VIN and GND, e.g. from a pinout that
lists a pin on both nets, is a power-output conflict that SKiDL's ERC reports as an error.

Output is deterministic: every part has a `tag`, the netlist's date and source lines are fixed,
and SKiDL's source-line fields are off.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pcb import pinout as pinout_mod
from pcb.skidl_env import capture_messages, skidl, symbol_library
from rackplane import catalogue

FOOTPRINT_DIR = Path("/usr/share/kicad/footprints")
INPUT_REF = "J100"
LINK_IN_REF, LINK_OUT_REF = "J110", "J111"
# The board layout (pcb/board.py) reads this thin power netlist (slot sockets, input, holes) until it
# places the full circuit's slot cells; the full netlists come from pcb/electrical.py.
NETLIST_FILE = "backplane_power.net"
PARTS_FILE = "backplane_power_parts.json"
ERC_FILE = "backplane_power_erc.txt"
SOURCE_NAME = "rackplane pcb/netlist.py"


def slot_ref(slot_index: int) -> str:
    """Reference of slot `slot_index`'s socket (1-based, left to right seen from the front)."""
    return f"J{slot_index}"


def hole_ref(hole_index: int) -> str:
    """Reference of the mounting hole at Layout.backplane_holes_xz_mm[hole_index - 1]."""
    return f"H{hole_index}"


def mounting_hole_footprint(hole_d_mm: float) -> str:
    """The KiCad library's plain (unplated) mounting hole whose drill is `hole_d_mm` (mm)."""
    lib = FOOTPRINT_DIR / "MountingHole.pretty"
    pattern = re.compile(rf"MountingHole_{hole_d_mm:g}mm(_M[0-9.]+)?\.kicad_mod")
    names = sorted(p.stem for p in lib.glob("*.kicad_mod") if pattern.fullmatch(p.name))
    if not names:
        raise ValueError(f"no MountingHole footprint with a {hole_d_mm:g} mm hole in {lib}")
    return f"MountingHole:{names[-1]}"


def slot_symbol() -> str:
    """KiCad's generic odd/even dual-row connector symbol matching the catalogue's slot connector
    (pin 1 and 2 in row 1, as the PinSocket footprint numbers them)."""
    conn = catalogue.slot_connector()
    return f"Conn_{conn['rows']:02d}x{conn['pins_per_row']:02d}_Odd_Even"


def input_connector() -> dict:
    """Catalogue entry of the DC input connector (power.toml)."""
    return {k: v for k, v in catalogue.load("power")["input_connector"].items() if k != "sources"}


def build_circuit(design, layout, slot_pinout=pinout_mod.SLOT_PINOUT, chained: bool = False):
    """A SKiDL Circuit of the backplane for `design` and its Layout (the module board's, when
    `chained`: then the input is the link pair J110 / J111 instead of J100).

    `slot_pinout` is normally `pcb.pinout.SLOT_PINOUT`; tests pass faulty tables to prove
    that ERC catches them (this function does not validate the table: ERC is the safety net).
    """
    sk = skidl()
    conn = catalogue.slot_connector()
    power_in = input_connector()
    circuit = sk.Circuit()
    circuit.no_files = True
    with circuit:
        rails = {"VIN": sk.Net("VIN"), "GND": sk.Net("GND")}
        terminals = ((LINK_IN_REF, "link_in"), (LINK_OUT_REF, "link_out")) if chained else ((INPUT_REF, "power_input"),)
        for k, (ref, tag) in enumerate(terminals):
            terminal = sk.Part(symbol_library(power_in["symbol_lib"]), power_in["symbol"], ref=ref, tag=tag,
                               value=f"{power_in['value']} {design['power.input_voltage_v']:g} V",
                               footprint=power_in["footprint"])
            for pin in terminal.pins:  # the supply enters at the first; the link out passes it on
                pin.func = sk.Pin.types.PWROUT if k == 0 else sk.Pin.types.PASSIVE
            rails["VIN"] += terminal[power_in["vin_pin"]]
            rails["GND"] += terminal[power_in["gnd_pin"]]
        for slot in layout.slots:
            socket = sk.Part(symbol_library("Connector_Generic"), slot_symbol(), ref=slot_ref(slot.index),
                             tag=f"slot{slot.index}", value=conn["mpn_backplane"],
                             footprint=conn["backplane_footprint"])
            for row in slot_pinout:
                if row.kind in (pinout_mod.SUPPLY, pinout_mod.RETURN):
                    rails[row.net] += socket[row.number]
                else:  # signals wait for the management slice; reserved pins never connect
                    socket[row.number] += circuit.NC
        hole_fp = mounting_hole_footprint(layout.backplane_hole_d_mm)
        for k, _ in enumerate(layout.backplane_holes_xz_mm, start=1):
            sk.Part(symbol_library("Mechanical"), "MountingHole", ref=hole_ref(k), tag=f"hole{k}",
                    value=f"{hole_fp.split(':')[1]}", footprint=hole_fp)
    return circuit


def run_erc(circuit) -> dict:
    """SKiDL's ERC on `circuit`: counts of errors and warnings and their messages."""
    sk = skidl()
    with capture_messages() as records:
        circuit.ERC()
    messages = [f"{level}: {text}" for level, text in records if level in ("ERROR", "WARNING")]
    return {"errors": sk.erc_logger.error.count, "warnings": sk.erc_logger.warning.count,
            "messages": messages}


def netlist_text(circuit) -> str:
    """The KiCad netlist of `circuit`, with the run-dependent header lines fixed."""
    with capture_messages():
        text = str(circuit.generate_netlist(track_src=False, track_abs_path=False, do_backup=False))
    text = re.sub(r'\(date "[^"]*"\)', '(date "")', text)
    text = re.sub(r'\(source "[^"]*"\)', f'(source "{SOURCE_NAME}")', text)
    return text


def parts_and_nets(circuit) -> tuple[list[dict], dict[str, list[list[str]]]]:
    """Parts (ref, value, footprint) and nets (name -> [[ref, pin], ...]), sorted."""
    parts = sorted(({"ref": p.ref, "value": str(p.value), "footprint": p.footprint} for p in circuit.parts),
                   key=lambda p: (p["ref"][0], int(p["ref"][1:])))
    nets: dict[str, list[list[str]]] = {}
    for net in circuit.get_nets():
        pins = sorted(([pin.part.ref, str(pin.num)] for pin in net.pins),
                      key=lambda rp: (rp[0], int(rp[1]) if rp[1].isdigit() else 0, rp[1]))
        if pins:
            nets[net.name] = pins
    return parts, dict(sorted(nets.items()))


@dataclass(frozen=True)
class NetlistPart:
    ref: str
    value: str
    footprint: str


@dataclass(frozen=True)
class NetlistNet:
    name: str
    pins: tuple[tuple[str, str], ...]  # (ref, pin number)


def read_netlist(path: Path) -> tuple[list[NetlistPart], list[NetlistNet]]:
    """Parts and nets of a KiCad netlist file (the .net this module writes)."""
    import simp_sexp  # SKiDL's own S-expression reader

    tree = simp_sexp.Sexp(Path(path).read_text())
    parts = [NetlistPart(c.search("ref").value, c.search("value").value, c.search("footprint").value)
             for c in tree.search("export/components/comp")]
    nets = [NetlistNet(n.search("name").value,
                       tuple((node.search("ref").value, node.search("pin").value) for node in n.search("node")))
            for n in tree.search("export/nets/net")]
    return parts, nets


def write_backplane_netlist(design, layout, workdir: Path, slot_pinout=pinout_mod.SLOT_PINOUT,
                            chained: bool = False) -> dict:
    """Write the board's power netlist, its parts JSON and ERC report into `workdir`; return facts.
    `layout` is the board's (`Layout.module_board()`); `chained` for a module of a split backplane.

    Facts: part_count, parts (ref -> value), net_names, erc_errors, erc_warnings, erc_messages,
    files (names relative to `workdir`).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    circuit = build_circuit(design, layout, slot_pinout, chained)
    erc = run_erc(circuit)
    text = netlist_text(circuit)
    parts, nets = parts_and_nets(circuit)
    (workdir / NETLIST_FILE).write_text(text)
    (workdir / PARTS_FILE).write_text(json.dumps({"parts": parts, "nets": nets}, indent=1) + "\n")
    (workdir / ERC_FILE).write_text(
        f"SKiDL ERC: {erc['errors']} errors, {erc['warnings']} warnings\n"
        + "".join(m + "\n" for m in erc["messages"]))
    return {
        "part_count": len(parts),
        "parts": {p["ref"]: p["value"] for p in parts},
        "net_names": sorted(nets),
        "erc_errors": erc["errors"],
        "erc_warnings": erc["warnings"],
        "erc_messages": erc["messages"],
        "files": {"netlist": NETLIST_FILE, "parts": PARTS_FILE, "erc": ERC_FILE},
    }
