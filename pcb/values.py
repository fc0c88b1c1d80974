"""Computed part values: each follows from a target and the part's datasheet equation, is rounded to
a standard E-series value, and records what the rounded value achieves against the target.

Every function returns a `Computed` (or a few): the target, the ideal value from the equation, the
chosen standard value, the value the circuit reaches with it, and the tolerance that `pcb.values`
holds the result to. The netlists take their values from here, and the checks read the same records
from the stage facts: nothing is computed twice.

Datasheet constants come from `rackplane/data/parts.toml` (with their sources).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from rackplane import catalogue

E6 = (1.0, 1.5, 2.2, 3.3, 4.7, 6.8)
E24 = (1.0, 1.1, 1.2, 1.3, 1.5, 1.6, 1.8, 2.0, 2.2, 2.4, 2.7, 3.0, 3.3, 3.6, 3.9, 4.3, 4.7, 5.1, 5.6,
       6.2, 6.8, 7.5, 8.2, 9.1)
E96 = (1.00, 1.02, 1.05, 1.07, 1.10, 1.13, 1.15, 1.18, 1.21, 1.24, 1.27, 1.30, 1.33, 1.37, 1.40, 1.43,
       1.47, 1.50, 1.54, 1.58, 1.62, 1.65, 1.69, 1.74, 1.78, 1.82, 1.87, 1.91, 1.96, 2.00, 2.05, 2.10,
       2.15, 2.21, 2.26, 2.32, 2.37, 2.43, 2.49, 2.55, 2.61, 2.67, 2.74, 2.80, 2.87, 2.94, 3.01, 3.09,
       3.16, 3.24, 3.32, 3.40, 3.48, 3.57, 3.65, 3.74, 3.83, 3.92, 4.02, 4.12, 4.22, 4.32, 4.42, 4.53,
       4.64, 4.75, 4.87, 4.99, 5.11, 5.23, 5.36, 5.49, 5.62, 5.76, 5.90, 6.04, 6.19, 6.34, 6.49, 6.65,
       6.81, 6.98, 7.15, 7.32, 7.50, 7.68, 7.87, 8.06, 8.25, 8.45, 8.66, 8.87, 9.09, 9.31, 9.53, 9.76)  # IEC 60063
SERIES = {"E6": E6, "E24": E24, "E96": E96}


def e_series(value: float, series: str = "E24", mode: str = "nearest") -> float:
    """The standard value of `series` nearest to `value` (mode "nearest"), or the smallest at or
    above it ("up"), or the largest at or below it ("down"). Works for any decade."""
    if value <= 0:
        raise ValueError(f"no standard value for {value}")
    decade = math.floor(math.log10(value))
    candidates = sorted(m * 10 ** d for d in (decade - 1, decade, decade + 1) for m in SERIES[series])
    candidates = [float(f"{c:.4g}") for c in candidates]
    if mode == "up":
        return min(c for c in candidates if c >= value * (1 - 1e-9))
    if mode == "down":
        return max(c for c in candidates if c <= value * (1 + 1e-9))
    return min(candidates, key=lambda c: abs(math.log(c / value)))


def fmt(value: float, unit: str) -> str:
    """Engineering notation for part values: 53.6k, 4.7u, 680 (unit appended: 4.7uH)."""
    for factor, prefix in ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"),
                           (1e-12, "p")):
        if abs(value) >= factor * 0.999:
            return f"{value / factor:.3g}{prefix}{unit}"
    return f"{value:g}{unit}"


@dataclass(frozen=True)
class Computed:
    """One computed value.

    name: what it sets; part: the role of the part (refs are added by the netlist);
    target/achieved: the quantity the value sets, in `target_unit`; ideal/chosen: the part value in
    `value_unit`; op: "within" (|achieved - target| <= tolerance x target), ">=" or "<="
    (achieved against target); equation: the datasheet equation used.
    """

    name: str
    part: str
    target: float
    target_unit: str
    ideal: float
    chosen: float
    value_unit: str
    series: str
    achieved: float
    op: str
    tolerance: float
    equation: str

    def as_fact(self) -> dict:
        return {k: (round(v, 9) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def parts() -> dict:
    return catalogue.load("parts")


def efuse_current_limit(slot_current_a: float) -> Computed:
    """R_ILIM of the slot eFuse (TPS2663): I_OL(A) = K / R_ILIM(kOhm), target I_OL = factor x the
    node's worst-case supply current (parts.toml rules.efuse_limit_factor). The E96 value is taken
    downwards in resistance (limit at or above target); rule: within +5 % of the target."""
    ef, rules = parts()["efuse"], parts()["rules"]
    target_a = slot_current_a * rules["efuse_limit_factor"]
    ideal_kohm = ef["ilim_constant_a_kohm"] / target_a
    chosen_kohm = e_series(ideal_kohm, "E96", "down")
    return Computed("efuse current limit", "R_ILIM", target_a, "A", ideal_kohm * 1e3, chosen_kohm * 1e3, "ohm",
                    "E96", ef["ilim_constant_a_kohm"] / chosen_kohm, "within", 0.05,
                    "I_OL = K_ILIM / R_ILIM (TPS2663)")


def efuse_uvlo_divider(input_voltage_v: float) -> tuple[Computed, float]:
    """UVLO divider of the slot eFuse: turn on above 75 % of the nominal input.
    V_on = V_UVLO x (1 + R_top / R_bot), R_bot = 10 kOhm. Returns (record, R_bot in ohm)."""
    ef = parts()["efuse"]
    target_v = 0.75 * input_voltage_v
    r_bot_ohm = 10_000.0
    ideal = r_bot_ohm * (target_v / ef["uvlo_threshold_v"] - 1)
    chosen = e_series(ideal, "E96")
    achieved = ef["uvlo_threshold_v"] * (1 + chosen / r_bot_ohm)
    return (Computed("efuse UVLO turn-on", "R_UVLO_TOP", target_v, "V", ideal, chosen, "ohm", "E96", achieved,
                     "within", 0.02, "V_on = V_UVLO x (1 + R_top / R_bot)"), r_bot_ohm)


def buck_feedback() -> tuple[Computed, float]:
    """Carrier buck feedback divider (TPS54560B): R_HS = R_LS x (Vout / Vref - 1). Returns (record,
    R_LS in ohm); rule: Vout within `output_tolerance` of 5.1 V."""
    b = parts()["carrier_buck"]
    r_ls = b["feedback_low_ohm"]
    ideal = r_ls * (b["output_v"] / b["vref_v"] - 1)
    chosen = e_series(ideal, "E96")
    achieved = b["vref_v"] * (1 + chosen / r_ls)
    return (Computed("carrier 5.1 V set point", "R_FB_TOP", b["output_v"], "V", ideal, chosen, "ohm", "E96",
                     achieved, "within", b["output_tolerance"], "Vout = Vref x (1 + R_HS / R_LS)"), r_ls)


def buck_timing_resistor() -> Computed:
    """RT of the carrier buck: RT(kOhm) = C x fsw(kHz)^n (TPS54560B Equation 7)."""
    b = parts()["carrier_buck"]
    f_khz = b["switching_hz"] / 1e3
    ideal_kohm = b["rt_coefficient_kohm"] * f_khz ** b["rt_exponent"]
    chosen_kohm = e_series(ideal_kohm, "E96")
    achieved_khz = (chosen_kohm / b["rt_coefficient_kohm"]) ** (1 / b["rt_exponent"])
    return Computed("carrier buck switching frequency", "R_T", f_khz * 1e3, "Hz", ideal_kohm * 1e3, chosen_kohm * 1e3,
                    "ohm", "E96", achieved_khz * 1e3, "within", 0.05, "RT = 311890 x fsw^-1.0793 (kOhm, kHz)")


def buck_inductor(input_voltage_v: float, vin_max_factor: float = 1.1) -> Computed:
    """Carrier buck inductor: L = (Vin_max - Vout) / (Iout x K_IND) x Vout / (Vin_max x fsw), rounded
    up to E6; rule: ripple at Vin_max <= K_IND x Iout."""
    b = parts()["carrier_buck"]
    vin = input_voltage_v * vin_max_factor
    vout, iout, f = b["output_v"], b["current_max_a"], b["switching_hz"]
    ideal = (vin - vout) / (iout * b["ripple_fraction"]) * vout / (vin * f)
    chosen = e_series(ideal, "E6", "up")
    ripple = (vin - vout) * vout / (vin * chosen * f)
    return Computed("carrier buck inductor ripple", "L_BUCK", b["ripple_fraction"] * iout, "A", ideal, chosen, "H",
                    "E6", ripple, "<=", 0.0, "L = (Vin - Vout) / (Iout K) x Vout / (Vin fsw)")


def buck_output_capacitors() -> tuple[Computed, int]:
    """Carrier buck output capacitance for a load step: C >= 2 dI / (fsw x dV) (TPS54560B datasheet).
    Returns (record, number of 22 uF ceramics); rule: effective C (after DC bias) >= the minimum."""
    b = parts()["carrier_buck"]
    c_min = 2 * b["load_step_a"] / (b["switching_hz"] * b["load_step_droop_fraction"] * b["output_v"])
    per_cap = b["output_cap_f"] * b["output_cap_dc_bias_factor"]
    count = math.ceil(c_min / per_cap)
    return (Computed("carrier buck output capacitance", "C_OUT", c_min, "F", c_min, b["output_cap_f"], "F",
                     "E6", count * per_cap, ">=", 0.0, "Cout >= 2 dIout / (fsw dVout)"), count)


def logic_inductor(input_voltage_v: float, vin_max_factor: float = 1.1) -> Computed:
    """3.3 V logic buck inductor (AP63203): L = Vout (Vin - Vout) / (Vin x dIL x fsw), E6 up."""
    b = parts()["logic_buck"]
    vin = input_voltage_v * vin_max_factor
    vout, f = b["output_v"], b["switching_hz"]
    d_il = b["ripple_fraction"] * b["current_max_a"]
    ideal = vout * (vin - vout) / (vin * d_il * f)
    chosen = e_series(ideal, "E6", "up")
    ripple = vout * (vin - vout) / (vin * chosen * f)
    return Computed("3.3 V buck inductor ripple", "L_3V3", d_il, "A", ideal, chosen, "H", "E6", ripple, "<=", 0.0,
                    "L = Vout (Vin - Vout) / (Vin dIL fsw)")


def led_resistor() -> Computed:
    """Status LED series resistor from 3.3 V: R = (VDD - VF) / I_LED (E24); rule: current within 10 %."""
    led, vdd = parts()["led"], parts()["i2c"]["vdd_v"]
    ideal = (vdd - led["forward_voltage_v"]) / led["current_a"]
    chosen = e_series(ideal, "E24")
    return Computed("status LED current", "R_LED", led["current_a"], "A", ideal, chosen, "ohm", "E24",
                    (vdd - led["forward_voltage_v"]) / chosen, "within", led["tolerance"], "I = (VDD - VF) / R")


@dataclass(frozen=True)
class I2cBus:
    """The management bus: devices, capacitance (pF), pull-up (ohm) and rise time (s)."""

    device_count: int
    capacitance_pf: float
    pullup_ohm: float
    effective_pullup_ohm: float
    rp_min_ohm: float
    rp_max_ohm: float
    rise_time_s: float
    rise_time_max_s: float
    speed_hz: float
    sink_current_a: float


def i2c_bus_capacitance_pf(device_count: int, trace_length_mm: float) -> float:
    """Estimated bus capacitance (pF): every device pin (UM10204 Ci <= 10 pF), the slot 1 Pi, the
    traces (pF/mm estimate) and the management header."""
    i2c = parts()["i2c"]
    return (device_count * parts()["expander"]["pin_capacitance_pf"] + i2c["pi_pin_capacitance_pf"]
            + trace_length_mm * i2c["trace_capacitance_pf_per_mm"] + i2c["header_capacitance_pf"])


def i2c_pullup(device_count: int, trace_length_mm: float) -> tuple[Computed, I2cBus]:
    """The backplane's I2C pull-up (UM10204 7.1), in parallel with the Pi's own 1.8 kOhm when slot 1
    masters the bus. Rp(min) = (VDD - VOL) / IOL; Rp(max) = tr / (0.8473 Cb). The backplane resistor
    is the smallest E24 value whose parallel combination with the Pi's stays >= Rp(min); the rule is
    tr = 0.8473 x Rp x Cb <= tr(max)."""
    i2c = parts()["i2c"]
    cb_pf = i2c_bus_capacitance_pf(device_count, trace_length_mm)
    rp_min = (i2c["vdd_v"] - i2c["vol_max_v"]) / i2c["sink_current_a"]
    rp_max = i2c["rise_time_max_s"] / (i2c["rise_time_factor"] * cb_pf * 1e-12)
    pi = i2c["pi_pullup_ohm"]
    ideal = 1 / (1 / rp_min - 1 / pi) if rp_min < pi else rp_min
    chosen = e_series(ideal, "E24", "up")
    effective = 1 / (1 / chosen + 1 / pi)
    rise = i2c["rise_time_factor"] * effective * cb_pf * 1e-12
    bus = I2cBus(device_count, round(cb_pf, 3), chosen, round(effective, 3), round(rp_min, 3), round(rp_max, 3),
                 rise, i2c["rise_time_max_s"], i2c["speed_hz"], (i2c["vdd_v"] - i2c["vol_max_v"]) / effective)
    return (Computed("I2C rise time", "R_I2C_PULLUP", i2c["rise_time_max_s"], "s", ideal, chosen, "ohm", "E24",
                     rise, "<=", 0.0, "tr = 0.8473 x Rp x Cb"), bus)


def meets(c: Computed | dict) -> tuple[float, float, str]:
    """(value, limit, op) of a computed record as a check rule, in relative terms so that rules of
    different units compare: for "within", |achieved - target| / target against the tolerance;
    otherwise achieved / target against 1."""
    d = c.as_fact() if isinstance(c, Computed) else c
    if d["op"] == "within":
        return abs(d["achieved"] - d["target"]) / d["target"], d["tolerance"], "<="
    return d["achieved"] / d["target"], 1.0, d["op"]
