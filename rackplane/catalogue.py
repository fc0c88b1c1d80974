"""Catalogue figures read from the data files in `rackplane/data/`.

Each data file holds figures with their source (a `sources` table beside the figures, or a
`source` string); nothing here adds a number of its own. Loaders are cached: the files are read
once per process.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The parsed data file `rackplane/data/<name>.toml`."""
    with open(DATA_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def _figures(table: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in table.items() if k not in ("sources", "source")}


@dataclass(frozen=True)
class FrontPort:
    name: str
    y_mm: float
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class NodeModel:
    """A Raspberry Pi model in its own board frame (see nodes.toml)."""

    key: str
    title: str
    board_mm: tuple[float, float]
    board_thickness_mm: float
    corner_radius_mm: float
    mounting_holes_mm: tuple[tuple[float, float], ...]
    mounting_hole_d_mm: float
    header_pin1_mm: tuple[float, float]
    header_centre_mm: tuple[float, float]
    top_height_mm: float
    bottom_height_mm: float
    soc_centre_mm: tuple[float, float]
    soc_size_mm: tuple[float, float, float]
    front_overhang_mm: float
    heat_w: float
    supply_w: float
    front_ports: tuple[FrontPort, ...]


def node_models() -> list[str]:
    return sorted(load("nodes"))


def node(model: str) -> NodeModel:
    raw = _figures(load("nodes")[model])
    return NodeModel(
        key=model,
        title=raw["title"],
        board_mm=tuple(raw["board_mm"]),
        board_thickness_mm=raw["board_thickness_mm"],
        corner_radius_mm=raw["corner_radius_mm"],
        mounting_holes_mm=tuple(tuple(h) for h in raw["mounting_holes_mm"]),
        mounting_hole_d_mm=raw["mounting_hole_d_mm"],
        header_pin1_mm=tuple(raw["header_pin1_mm"]),
        header_centre_mm=tuple(raw["header_centre_mm"]),
        top_height_mm=raw["top_height_mm"],
        bottom_height_mm=raw["bottom_height_mm"],
        soc_centre_mm=tuple(raw["soc_centre_mm"]),
        soc_size_mm=tuple(raw["soc_size_mm"]),
        front_overhang_mm=raw["front_overhang_mm"],
        heat_w=raw["heat_w"],
        supply_w=raw["supply_w"],
        front_ports=tuple(FrontPort(**p) for p in raw["front_ports"]),
    )


@dataclass(frozen=True)
class Fan:
    size_mm: int
    hole_spacing_mm: float
    hole_d_mm: float
    thickness_mm: float
    model: str
    voltage_v: float
    power_w: float
    curve_flow_m3h: tuple[float, ...]      # from free air (pressure 0) down to 0 at shut-off
    curve_pressure_pa: tuple[float, ...]   # rising from 0 to the shut-off pressure
    curve_basis: str                       # which points are the datasheet's (fans.toml)

    @property
    def max_flow_m3h(self) -> float:
        """Free-air flow: the curve's first point."""
        return self.curve_flow_m3h[0]

    @property
    def max_pressure_pa(self) -> float:
        """Shut-off static pressure: the curve's last point."""
        return self.curve_pressure_pa[-1]


def fan_sizes() -> list[int]:
    return sorted(int(k) for k in load("fans")["sizes"])


def fan(size_mm: int) -> Fan:
    raw = _figures(load("fans")["sizes"][str(size_mm)])
    q = tuple(float(v) for v in raw.pop("curve_flow_m3h"))
    p = tuple(float(v) for v in raw.pop("curve_pressure_pa"))
    if (len(q) != len(p) or len(q) < 2 or p[0] != 0.0 or q[-1] != 0.0
            or any(b <= a for a, b in zip(p, p[1:])) or any(b >= a for a, b in zip(q, q[1:]))):
        raise ValueError(f"fans.toml sizes.{size_mm}: the curve must run from free air (pressure 0) to "
                         f"shut-off (flow 0) with pressure rising and flow falling: {q} m^3/h, {p} Pa")
    return Fan(size_mm=size_mm, curve_flow_m3h=q, curve_pressure_pa=p, **raw)


def material_names() -> list[str]:
    return sorted(load("materials"))


def material(name: str) -> dict[str, Any]:
    return _figures(load("materials")[name])


def fab_names() -> list[str]:
    return sorted(load("fabs"))


def fab(name: str) -> dict[str, Any]:
    return _figures(load("fabs")[name])


def eia310() -> dict[str, Any]:
    return _figures(load("rack")["eia310"])


def sled() -> dict[str, Any]:
    return _figures(load("frame")["sled"])


def chassis() -> dict[str, Any]:
    return _figures(load("frame")["chassis"])


def enclosure() -> dict[str, Any]:
    """Frame parts beyond panel and floor: baffles, fan wall, backplane mount, joints (frame.toml)."""
    return _figures(load("frame")["enclosure"])


def slot_connector() -> dict[str, Any]:
    return _figures(load("connectors")["slot"])


def printer_volumes() -> dict[str, list[float]]:
    return dict(load("printers")["volumes"])


def unsourced_figures() -> list[str]:
    """Every numeric figure in the data files that has no source: the catalogue's own audit."""
    missing: list[str] = []

    def walk(table: dict[str, Any], where: str) -> None:
        if "source" in table and isinstance(table["source"], str):
            return
        sources = table.get("sources", {})
        for key, value in table.items():
            if key == "sources":
                continue
            if isinstance(value, dict):
                walk(value, f"{where}.{key}")
            elif isinstance(value, (int, float, list)) and not isinstance(value, bool):
                if key not in sources:
                    missing.append(f"{where}.{key}")

    for path in sorted(DATA_DIR.glob("*.toml")):
        if path.stem == "default":
            continue
        data = load(path.stem)
        if path.stem == "printers":
            missing += [f"printers.{k}" for k in data["volumes"] if k not in data["sources"]]
            continue
        walk(data, path.stem)
    return missing
