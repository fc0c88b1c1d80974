"""The parameter contract: a design TOML file parsed, validated and filled with defaults.

`load_design(path)` returns a `Design`; every error in the file raises `DesignError` naming the
key, the value found and what is allowed. A `Design` may still hold ``"auto"`` for the keys that
allow it; `rackplane.resolve.resolve_design` replaces every ``"auto"`` by a number.

The schema below is the single list of keys: the TOML key, the `Design` attribute and the report
field share one dotted name (``slots.pitch_mm``).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rackplane import catalogue

AUTO = "auto"


class DesignError(ValueError):
    """Bad input in a design file: names the key, the value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str, hint: str = "") -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.hint = hint
        shown = "(missing)" if value is _MISSING else repr(value)
        text = f"{key} = {shown}: {allowed}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One key of the contract.

    kind: "int", "float", "str", "triple" (three positive numbers), "int_or_auto", "float_or_auto".
    """

    key: str
    kind: str
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    choices_from: str | None = None  # name of a catalogue listing

    def allowed_choices(self) -> tuple[Any, ...] | None:
        if self.choices_from:
            return tuple(getattr(catalogue, self.choices_from)())
        return self.choices

    def describe_allowed(self) -> str:
        choices = self.allowed_choices()
        auto = ' or "auto"' if self.kind.endswith("_or_auto") else ""
        if choices is not None:
            return "allowed: " + ", ".join(repr(c) for c in choices) + auto
        base = {"int": "an integer", "float": "a number", "str": "a string",
                "triple": "a list of three numbers", "int_or_auto": "an integer",
                "float_or_auto": "a number"}[self.kind]
        if self.min is not None and self.max is not None:
            rng = f" from {self.min:g} to {self.max:g}"
        elif self.min is not None:
            rng = f" of at least {self.min:g}"
        else:
            rng = ""
        return f"allowed: {base}{rng}{auto}"


SCHEMA: tuple[Param, ...] = (
    Param("name", "str", "default", "design name; outputs go to outputs/<name>/"),
    Param("rack.standard", "str", "19in", "rack standard", choices=("19in",)),
    Param("rack.units", "int_or_auto", AUTO, "panel height in rack units (1U = 44.45 mm)", min=1, max=8),
    Param("rack.depth_mm", "float_or_auto", AUTO, "chassis depth behind the front panel", min=120, max=800),
    Param("node.model", "str", "pi4b", "Raspberry Pi model on each sled", choices_from="node_models"),
    Param("node.heatsink_height_mm", "float", 10.0, "heatsink height above the Pi's top face; 0 = none",
          min=0, max=40),
    Param("slots.count", "int", 10, "number of sleds (the management bus addresses one I/O expander per slot, 16 in all)",
          min=1, max=16),
    Param("slots.pitch_mm", "float_or_auto", AUTO, "centre-to-centre distance of adjacent sleds", min=5, max=200),
    Param("slots.air_gap_mm", "float", 4.0, "free air between adjacent sled envelopes", min=0, max=50),
    Param("power.input_voltage_v", "float", 12.0, "DC input voltage of the backplane", choices=(12.0, 24.0)),
    Param("cooling.fan_size_mm", "int_or_auto", AUTO, "fan frame size; \"auto\": the largest that fits and "
          "passes air.flow, then the fewest fans", choices_from="fan_sizes"),
    Param("cooling.fan_count", "int_or_auto", AUTO, "number of fans in the fan wall", min=1, max=16),
    Param("cooling.ambient_c", "float", 30.0, "intake air temperature", min=-10, max=60),
    Param("cooling.max_air_rise_c", "float", 10.0, "allowed bulk air rise from intake to exhaust", min=1, max=40),
    Param("printer.bed_mm", "triple", (256.0, 256.0, 256.0), "printer build volume X, Y, Z", min=50, max=2000),
    Param("printer.nozzle_mm", "float", 0.4, "nozzle diameter", min=0.1, max=2.0),
    Param("printer.material", "str", "PETG", "filament", choices_from="material_names"),
    Param("pcb.fab", "str", "jlcpcb", "fab house whose rules the boards follow", choices_from="fab_names"),
    Param("pcb.max_board_length_mm", "float", 500.0, "longest backplane board; a longer backplane is split "
          "into identical modules of k slots chained by link connectors", min=60, max=1000),
)

PARAMS: dict[str, Param] = {p.key: p for p in SCHEMA}


@dataclass(frozen=True)
class Design:
    """Validated parameters of one cluster. Values keep the units their names carry."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def name(self) -> str:
        return self.values["name"]

    def is_auto(self, key: str) -> bool:
        return self.values[key] == AUTO

    def replace(self, **changes: Any) -> "Design":
        """A copy with dotted keys changed; keys use '__' for '.' (slots__count=4)."""
        values = dict(self.values)
        for k, v in changes.items():
            key = k.replace("__", ".")
            if key not in PARAMS:
                raise KeyError(key)
            values[key] = v
        return Design(values)

    def to_nested(self) -> dict[str, Any]:
        """The design as nested tables, the shape of the TOML file and of report.json's `design`."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            node = out
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = list(value) if isinstance(value, tuple) else value
        return out


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            if not v and key not in PARAMS:
                flat[key] = v
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_range(p: Param, value: float) -> None:
    if (p.min is not None and value < p.min) or (p.max is not None and value > p.max):
        raise DesignError(p.key, value, p.describe_allowed())


def _coerce(p: Param, value: Any) -> Any:
    kind = p.kind
    if kind.endswith("_or_auto"):
        if value == AUTO:
            return AUTO
        kind = kind.removesuffix("_or_auto")
    if kind == "str":
        if not isinstance(value, str) or not value:
            raise DesignError(p.key, value, p.describe_allowed())
        choices = p.allowed_choices()
        if choices is not None and value not in choices:
            close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
            raise DesignError(p.key, value, p.describe_allowed(),
                              f"did you mean {close[0]!r}?" if close else "")
        return value
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise DesignError(p.key, value, p.describe_allowed())
    elif kind == "float":
        if not _is_number(value):
            raise DesignError(p.key, value, p.describe_allowed())
        value = float(value)
    elif kind == "triple":
        if not (isinstance(value, list) and len(value) == 3 and all(_is_number(v) for v in value)):
            raise DesignError(p.key, value, p.describe_allowed())
        for v in value:
            _check_range(p, v)
        return tuple(float(v) for v in value)
    choices = p.allowed_choices()
    if choices is not None:
        if value not in choices:
            raise DesignError(p.key, value, p.describe_allowed())
        return value
    _check_range(p, value)
    return value


def design_from_table(table: dict[str, Any]) -> Design:
    """Validate a parsed TOML table and fill in defaults."""
    flat = _flatten(table)
    for key in flat:
        if key not in PARAMS:
            close = difflib.get_close_matches(key, list(PARAMS), n=1, cutoff=0.6)
            if not close:  # a misspelt leaf under a known table still gets a suggestion
                leaf_matches = {k.rsplit(".", 1)[-1]: k for k in PARAMS}
                near = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(leaf_matches), n=1)
                close = [leaf_matches[near[0]]] if near else []
            raise DesignError(key, flat[key], "unknown key",
                              f"did you mean {close[0]!r}?" if close else
                              "known keys: " + ", ".join(PARAMS))
    values = {}
    for p in SCHEMA:
        raw = flat.get(p.key, p.default)
        values[p.key] = _coerce(p, raw) if p.key in flat else p.default
    if not values["name"].replace("-", "").replace("_", "").isalnum():
        raise DesignError("name", values["name"], "allowed: letters, digits, '-' and '_' (it names a folder)")
    return Design(values)


def load_design(path: str | Path | None = None) -> Design:
    """Read a design file; None reads the embedded default design."""
    if path is None:
        path = default_design_path()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DesignError("DESIGN", str(path), "the design file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DesignError("DESIGN", str(path), f"the design file cannot be read: {exc}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignError("DESIGN", str(path), f"not valid TOML: {exc}") from None
    return design_from_table(table)


def default_design_path() -> Path:
    return Path(__file__).resolve().parents[1] / "designs" / "default.toml"
