"""Airflow model: fan curve x system impedance -> operating point -> flow per slot -> air rise.

The air path, front to back: the sled faceplates' vents (thin perforated plate), a contraction
into the sled channels, the channels themselves (friction), an expansion into the space above
and beside the backplane, a contraction through it, an expansion into the plenum, and the fan
finger guards and the rear exhaust vents (perforated plates). Every element's pressure loss is zeta * rho * v^2 / 2 at its
own velocity, so the system curve is dp = K * Q^2. The fans run in parallel: Q_fans(dp) =
n * Q_fan(dp), from the fan's datasheet curve. The operating point is where the two cross.

Heat: each slot dissipates the node's worst sustained power divided by the carrier's converter
efficiency; the fans' own power joins the air. With the bypass blocked by the frame's baffles,
every slot channel carries the same share of the flow. Bulk rise dT = P / (rho cp Q).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from rackplane import catalogue

M3H_PER_CFM = 1.699011
M2_PER_MM2 = 1e-6
# fan.coverage: the least share of a slot channel's width that must face a fan's swept diameter
# (an engineering rule: at least half the channel in the fan's direct draw).
COVERAGE_LIMIT = 0.5


def slot_coverage(layout) -> list[tuple[str, float]]:
    """Fraction of each slot channel's width (X) that lies in some fan's swept diameter."""
    spans = sorted((f.x_mm - f.size_mm / 2, f.x_mm + f.size_mm / 2) for f in layout.fans)
    out = []
    for slot in layout.slots:
        env = layout.slot_envelope(slot)
        covered = 0.0
        for a, b in spans:
            covered += max(0.0, min(b, env.x1) - max(a, env.x0))
        out.append((slot.label(), min(1.0, covered / (env.x1 - env.x0))))
    return out


def _data() -> dict:
    return catalogue.load("airflow")


def air_density_kg_m3(temp_c: float) -> float:
    air = _data()["air"]
    return float(np.interp(temp_c + 273.15, air["density_table_k"], air["density_table_kg_m3"]))


def perforated_plate_zeta(open_fraction: float) -> float:
    """Loss coefficient of a thin perforated plate, on the approach velocity (Idelchik 8-1)."""
    c = _data()["losses"]
    f = open_fraction
    return (c["perforated_a"] * (1 - f) ** c["perforated_exponent"] + 1 - f) ** 2 / f ** 2


def contraction_zeta(area_from_m2: float, area_to_m2: float) -> float:
    """Sudden contraction, on the velocity in the smaller area."""
    c = _data()["losses"]
    ratio = min(1.0, area_to_m2 / area_from_m2)
    return c["contraction_k"] * (1 - ratio) ** c["contraction_exponent"]


def expansion_zeta(area_from_m2: float, area_to_m2: float) -> float:
    """Sudden expansion (Borda-Carnot), on the velocity in the smaller area."""
    ratio = min(1.0, area_from_m2 / area_to_m2)
    return (1 - ratio) ** 2


@dataclass(frozen=True)
class Element:
    """One loss in the air path: dp = zeta * rho * (Q / area)^2 / 2."""

    name: str
    area_m2: float
    zeta: float

    def k_pa_s2_m6(self, rho: float) -> float:
        return self.zeta * rho / (2 * self.area_m2 ** 2)


@dataclass
class AirflowResult:
    fan_model: str
    fan_count: int
    fan_size_mm: int
    air_density_kg_m3: float
    system_k_pa_per_m3h2: float
    flow_m3h: float
    flow_cfm: float
    pressure_pa: float
    flow_per_slot_m3h: float
    heat_per_slot_w: float
    heat_total_w: float
    rise_c: float
    required_flow_m3h: float
    max_air_rise_c: float
    ambient_c: float
    exhaust_c: float
    fan_max_flow_m3h: float
    fan_max_pressure_pa: float
    fan_curve_flow_m3h: list[float] = field(default_factory=list)
    fan_curve_pressure_pa: list[float] = field(default_factory=list)
    fan_curve_basis: str = ""
    elements: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def fan_flow_m3h(fan: catalogue.Fan, pressure_pa: np.ndarray | float) -> np.ndarray:
    """One fan's flow (m^3/h) at a static pressure (Pa): piecewise-linear between the curve points
    of fans.toml (pressure rising, flow falling, so the result falls monotonically with pressure);
    the free-air flow at or below 0 Pa, and no flow at or beyond the shut-off pressure."""
    p = np.asarray(pressure_pa, dtype=float)
    return np.interp(p, fan.curve_pressure_pa, fan.curve_flow_m3h, left=fan.max_flow_m3h, right=0.0)


def air_path(layout, design) -> list[Element]:
    """The loss elements of the chassis, from Layout's geometry (areas in m^2)."""
    frame = _data()["frame"]
    losses = _data()["losses"]
    s = layout.sled
    n = len(layout.slots)
    channel_h_mm = s.carrier_z1_mm - s.carrier_z0_mm
    node = catalogue.node(design["node.model"])
    # Frontal blockage of one sled: Pi board edge, carrier edge and the heatsink's front.
    blocked_mm2 = (s.pi_thickness_mm * node.board_mm[1] + s.carrier_thickness_mm * channel_h_mm
                   + design["node.heatsink_height_mm"] * node.soc_size_mm[1])
    channel_mm2 = max(layout.pitch_mm * channel_h_mm - blocked_mm2, 1.0)
    channels_m2 = n * channel_mm2 * M2_PER_MM2
    faces_m2 = n * layout.pitch_mm * channel_h_mm * M2_PER_MM2
    interior = layout.interior
    bay_m2 = (interior.x1 - interior.x0) * (interior.z1 - interior.z0) * M2_PER_MM2
    bp = layout.backplane
    past_backplane_m2 = bay_m2 - (bp.x1 - bp.x0) * (bp.z1 - bp.z0) * M2_PER_MM2
    hub = frame["fan_hub_fraction"]
    fan_annulus_m2 = sum(math.pi / 4 * f.size_mm ** 2 * (1 - hub ** 2) for f in layout.fans) * M2_PER_MM2
    channel_len_m = (s.carrier_y1_mm - s.faceplate_y1_mm) / 1000
    channel_dh_m = 4 * channel_mm2 / (2 * (layout.pitch_mm + channel_h_mm)) / 1000
    elements = [
        Element("sled faceplate vents", faces_m2, perforated_plate_zeta(frame["faceplate_open_fraction"])),
        Element("contraction into the sled channels", channels_m2, contraction_zeta(faces_m2, channels_m2)),
        Element("sled channels (friction)", channels_m2,
                losses["channel_friction_factor"] * channel_len_m / channel_dh_m),
        Element("expansion out of the sled channels", channels_m2, expansion_zeta(channels_m2, bay_m2)),
        Element("contraction past the backplane", past_backplane_m2, contraction_zeta(bay_m2, past_backplane_m2)),
        Element("expansion into the fan plenum", past_backplane_m2, expansion_zeta(past_backplane_m2, bay_m2)),
        Element("contraction into the fans", fan_annulus_m2, contraction_zeta(bay_m2, fan_annulus_m2)),
        Element("fan finger guards", fan_annulus_m2, perforated_plate_zeta(frame["fan_guard_open_fraction"])),
        Element("rear exhaust vents", fan_annulus_m2, perforated_plate_zeta(frame["rear_vent_open_fraction"])),
    ]
    return elements


def heat_per_slot_w(design) -> float:
    """Worst sustained node power plus the carrier converter's loss."""
    node = catalogue.node(design["node.model"])
    return node.heat_w / _data()["frame"]["carrier_efficiency"]


def operating_point(design, layout) -> AirflowResult:
    fan = catalogue.fan(design["cooling.fan_size_mm"])
    n_fans = len(layout.fans)
    ambient = design["cooling.ambient_c"]
    rho = air_density_kg_m3(ambient)
    cp = _data()["air"]["cp_j_kgk"]
    elements = air_path(layout, design)
    k_si = sum(e.k_pa_s2_m6(rho) for e in elements)          # Pa per (m^3/s)^2
    k_h = k_si / 3600.0 ** 2                                  # Pa per (m^3/h)^2

    def excess(q_m3h: float) -> float:
        return n_fans * float(fan_flow_m3h(fan, k_h * q_m3h ** 2)) - q_m3h

    lo, hi = 0.0, n_fans * fan.max_flow_m3h
    for _ in range(80):  # bisection: excess is positive at 0 and non-positive at the free-air flow
        mid = (lo + hi) / 2
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    q = (lo + hi) / 2
    n_slots = len(layout.slots)
    per_slot_heat = heat_per_slot_w(design)
    heat_total = n_slots * per_slot_heat + n_fans * fan.power_w
    q_si = q / 3600.0
    rise = heat_total / (rho * cp * q_si) if q_si > 0 else math.inf
    required = heat_total / (rho * cp * design["cooling.max_air_rise_c"]) * 3600.0
    return AirflowResult(
        fan_model=fan.model, fan_count=n_fans, fan_size_mm=fan.size_mm, air_density_kg_m3=round(rho, 5),
        system_k_pa_per_m3h2=k_h, flow_m3h=q, flow_cfm=q / M3H_PER_CFM, pressure_pa=k_h * q * q,
        flow_per_slot_m3h=q / n_slots, heat_per_slot_w=per_slot_heat, heat_total_w=heat_total,
        rise_c=rise, required_flow_m3h=required, max_air_rise_c=design["cooling.max_air_rise_c"],
        ambient_c=ambient, exhaust_c=ambient + rise, fan_max_flow_m3h=fan.max_flow_m3h,
        fan_max_pressure_pa=fan.max_pressure_pa, fan_curve_flow_m3h=list(fan.curve_flow_m3h),
        fan_curve_pressure_pa=list(fan.curve_pressure_pa), fan_curve_basis=fan.curve_basis,
        elements=[{"name": e.name, "area_m2": e.area_m2, "zeta": e.zeta,
                   "pressure_pa": e.k_pa_s2_m6(rho) * q_si ** 2} for e in elements])


def plot(result: AirflowResult, path) -> None:
    """PNG of the fans' curve, the system curve and the operating point."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fan = catalogue.fan(result.fan_size_mm)
    q_max = result.fan_count * fan.max_flow_m3h
    p = np.linspace(0, fan.max_pressure_pa, 60)
    q_fans = result.fan_count * fan_flow_m3h(fan, p)
    q_sys = np.linspace(0, q_max, 60)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    ax.plot(q_fans, p, label=f"{result.fan_count} x {fan.model}")
    ax.plot([result.fan_count * q for q in fan.curve_flow_m3h], fan.curve_pressure_pa, "x", color="tab:blue",
            label="fan curve points (fans.toml)")
    ax.plot(q_sys, result.system_k_pa_per_m3h2 * q_sys ** 2, label="chassis (system curve)")
    ax.plot([result.flow_m3h], [result.pressure_pa], "o", color="k",
            label=f"operating point {result.flow_m3h:.1f} m³/h, {result.pressure_pa:.1f} Pa")
    ax.axvline(result.required_flow_m3h, ls="--", color="tab:red",
               label=f"required for {result.max_air_rise_c:g} K rise: {result.required_flow_m3h:.1f} m³/h")
    ax.set_xlim(0, max(q_max, result.required_flow_m3h) * 1.05)
    ax.set_ylim(0, fan.max_pressure_pa * 1.1)
    ax.set_xlabel("airflow (m³/h)")
    ax.set_ylabel("static pressure (Pa)")
    ax.set_title(f"airflow: {result.heat_total_w:.0f} W, rise {result.rise_c:.1f} K")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
