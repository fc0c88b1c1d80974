"""Netlist helpers shared by the board circuits (`pcb/backplane.py`, `pcb/carrier.py`,
`pcb/management.py`, written by `pcb/electrical.py`): stable reference designators, library
look-ups, SKiDL's ERC, deterministic netlist text, and reading a netlist back for the layout.

Reference designators are stable across designs so that boards and reports agree:

* ``J1 .. Jn``: one slot socket per slot, ``J<slot index>``.
* ``J100``: the backplane's 12 V input. A module of a split backplane (`Layout.is_split`) has no
  J100 but two link terminals of the same part, ``J110`` at its left end and ``J111`` at its
  right end; short cables join each module's J111 to the next one's J110, and the supply lands on
  the link nearest the middle of the chain (`pcb.copper` measures it so).
* ``H1 .. Hk``: mounting holes at Layout's `backplane_holes_xz_mm`, in that order.

Output is deterministic: every part has a `tag`, the netlist's date and source lines are fixed,
and SKiDL's source-line fields are off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pcb.skidl_env import capture_messages, skidl
from rackplane import catalogue

FOOTPRINT_DIR = Path("/usr/share/kicad/footprints")
INPUT_REF = "J100"
LINK_IN_REF, LINK_OUT_REF = "J110", "J111"
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
