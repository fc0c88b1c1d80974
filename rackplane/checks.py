"""The check registry.

A check is a function of a `BuildContext` that returns one `CheckResult`. It reads artifacts and
facts that the stages produced (`ctx.facts[stage]`, `ctx.path(...)`), never re-derives them.
Register it with `@check(id, title, needs=(stage, ...))`; `run_checks` runs every check whose
stages are available, and turns any exception into an `error` result, never a pass.

Domain checks live beside their domain (`pcb/checks.py`, `mechanical/checks.py`); cross-domain
checks live in `rackplane/`. `load_all()` imports every module that registers checks.
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

PASS, FAIL, ERROR = "pass", "fail", "error"

CHECK_MODULES = (
    "rackplane.rack_checks",
    "rackplane.air_checks",
    "rackplane.mounting_checks",
    "pcb.checks",
    "pcb.elec_checks",
    "mechanical.checks",
)


@dataclass
class CheckResult:
    """One check's outcome. Field names are the report's (report.json) and stay stable.

    value and limit are in `unit`; margin is how far value is on the good side of limit (negative
    when failing), in the same unit.
    """

    id: str
    status: str
    value: float | None
    limit: float | None
    unit: str
    margin: float | None
    message: str
    parts: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def at_least(check_id: str, value: float, limit: float, unit: str, what: str,
             parts: Iterable[str] = (), details: list[dict] | None = None) -> CheckResult:
    """Result of `value >= limit`; the message names the rule, value, limit and parts."""
    return _compare(check_id, value, limit, unit, what, parts, details, value - limit, ">=")


def at_most(check_id: str, value: float, limit: float, unit: str, what: str,
            parts: Iterable[str] = (), details: list[dict] | None = None) -> CheckResult:
    """Result of `value <= limit`."""
    return _compare(check_id, value, limit, unit, what, parts, details, limit - value, "<=")


def _compare(check_id, value, limit, unit, what, parts, details, margin, op) -> CheckResult:
    parts = list(parts)
    ok = margin >= -1e-9
    where = f" [{', '.join(parts)}]" if parts else ""
    verdict = "ok" if ok else "FAILS"
    message = (f"{check_id}: {what} = {value:.4g} {unit}, rule {op} {limit:.4g} {unit}, "
               f"margin {margin:+.4g} {unit}: {verdict}{where}")
    return CheckResult(check_id, PASS if ok else FAIL, round(value, 6), round(limit, 6), unit,
                       round(margin, 6), message, parts, details or [])


def error(check_id: str, message: str, parts: Iterable[str] = ()) -> CheckResult:
    return CheckResult(check_id, ERROR, None, None, "", None, f"{check_id}: could not run: {message}",
                       list(parts))


@dataclass(frozen=True)
class CheckSpec:
    """A registered check. `preflight`, when set, is the part of the check that needs only the
    Layout (no stage): it runs before any generator, and a design that fails it stops there."""

    id: str
    title: str
    needs: tuple[str, ...]
    func: Callable
    preflight: Callable | None = None


REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, title: str, needs: tuple[str, ...] = (),
          preflight: Callable | bool | None = None) -> Callable:
    """Register a check. `needs` names the build stages whose artifacts it reads. `preflight`:
    True when the check itself reads only the Layout (it then runs before the stages), or a
    function of the context giving the Layout-only part of the check as a CheckResult."""

    def register(func: Callable) -> Callable:
        if check_id in REGISTRY and REGISTRY[check_id].func is not func:
            raise ValueError(f"check {check_id} registered twice")
        if preflight is True and needs:
            raise ValueError(f"check {check_id} reads stages {needs}: it cannot run before them")
        pre = func if preflight is True else (preflight or None)
        REGISTRY[check_id] = CheckSpec(check_id, title, tuple(needs), func, pre)
        return func

    return register


def load_all() -> dict[str, CheckSpec]:
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return REGISTRY


def run_check(spec: CheckSpec, ctx) -> CheckResult:
    missing = [s for s in spec.needs if s not in ctx.facts]
    if missing:
        failed = [s for s in missing if s in ctx.stage_errors]
        why = "; ".join(f"stage {s} failed: {ctx.stage_errors[s]}" for s in failed) or \
            f"stages not built: {', '.join(missing)}"
        return error(spec.id, why)
    try:
        result = spec.func(ctx)
    except Exception as exc:  # a check that cannot run is an error, never a pass
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return error(spec.id, tb)
    if not isinstance(result, CheckResult):
        return error(spec.id, f"check returned {type(result).__name__}, not a CheckResult")
    if result.id != spec.id:
        result.id = spec.id
    return result


def run_checks(ctx, only: Iterable[str] | None = None) -> list[CheckResult]:
    specs = load_all()
    wanted = set(only) if only else None
    return [run_check(spec, ctx) for cid, spec in sorted(specs.items())
            if wanted is None or cid in wanted]


def run_preflight(ctx) -> list[CheckResult]:
    """The Layout-only part of every check that has one, before any stage runs."""
    out = []
    for cid, spec in sorted(load_all().items()):
        if spec.preflight is not None:
            out.append(run_check(CheckSpec(cid, spec.title, (), spec.preflight), ctx))
    return out


def not_run(preflight: list[CheckResult], why: str) -> list[CheckResult]:
    """The pre-flight results, and an error for every other check: it did not run, and why."""
    done = {r.id for r in preflight}
    return sorted(preflight + [error(cid, f"not run: {why}") for cid in load_all() if cid not in done],
                  key=lambda r: r.id)


def stage_errors(ctx, stages: dict) -> list[CheckResult]:
    """One error result per failed stage (id `stage.<name>`), naming the stage and why."""
    out = []
    for name, why in sorted(ctx.stage_errors.items()):
        title = stages[name].title if name in stages else name
        out.append(CheckResult(f"stage.{name}", ERROR, None, None, "", None,
                               f"stage {name} ({title}) failed: {why}", [name]))
    return out


@dataclass(frozen=True)
class Rule:
    """One measured comparison inside a check: `value op limit` with op '>=' or '<='."""

    what: str
    value: float
    limit: float
    unit: str
    op: str
    parts: tuple[str, ...] = ()
    exact: bool = False  # a requirement met or not (a count, a matching rating): no margin to rank

    @property
    def margin(self) -> float:
        return self.value - self.limit if self.op == ">=" else self.limit - self.value

    @property
    def relative_margin(self) -> float:
        """Margin as a share of the limit, so rules in different units compare; an exact rule, or
        one against a zero limit (a count that must stay 0), has no scale and ranks last while
        it passes."""
        if self.exact or abs(self.limit) <= 1e-12:
            return self.margin if self.margin < -1e-9 else float("inf")
        return self.margin / abs(self.limit)


def worst_of(check_id: str, rules: list[Rule]) -> CheckResult:
    """A check made of several rules: reports the failing rule furthest past its limit, or, when
    all pass, the one closest to its limit (margins compared as shares of their limits, as the
    rules may have different units); lists them all in `details` and names every failing rule's
    parts."""
    if not rules:
        return error(check_id, "nothing to check")
    failing = [r for r in rules if r.margin < -1e-9]
    if failing:
        worst = min(failing, key=lambda r: (r.limit == 0, r.relative_margin))
    else:
        worst = min(rules, key=lambda r: (r.relative_margin, r.margin))
    parts: list[str] = []
    for r in (failing or [worst]):
        parts += [p for p in r.parts if p not in parts]
    details = [{"what": r.what, "value": round(r.value, 6), "limit": round(r.limit, 6), "unit": r.unit,
                "rule": r.op, "margin": round(r.margin, 6), "parts": list(r.parts)} for r in rules]
    compare = at_least if worst.op == ">=" else at_most
    result = compare(check_id, worst.value, worst.limit, worst.unit, worst.what, parts, details)
    if len(failing) > 1:
        result.message += f"; {len(failing)} of {len(rules)} rules fail: " + "; ".join(
            f"{r.what} = {r.value:.4g} {r.unit} (rule {r.op} {r.limit:.4g})" for r in failing[1:6])
    return result
