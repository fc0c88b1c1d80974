"""Build stages: pure functions of the resolved design that write artifacts and return facts.

A stage is registered with `@stage(name, needs=..., out_subdir=..., design_keys=...)` on a
function `run(inp: StageInput) -> dict`. The function writes its files into `inp.workdir` and
returns JSON-serialisable facts for the checks. Upstream stages' facts and folders are in
`inp.upstream[name]`.

The pipeline (`rackplane.pipeline`) caches every stage under a key made of the stage's name, the
design values it depends on (`design_keys`, prefixes of dotted keys; all when empty), the
project's source code and its upstream keys; an unchanged stage is never run twice.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

STAGE_MODULES = ("pcb.stages", "mechanical.stages", "rackplane.air_stage")


@dataclass(frozen=True)
class Upstream:
    facts: dict
    dir: Path

    def path(self, relpath: str) -> Path:
        return self.dir / relpath


@dataclass
class StageInput:
    design: Any           # resolved rackplane.design.Design
    layout: Any           # rackplane.layout.Layout
    workdir: Path         # write artifacts here (relative paths become out/<out_subdir>/...)
    upstream: dict[str, Upstream] = field(default_factory=dict)


@dataclass(frozen=True)
class StageSpec:
    name: str
    func: Callable[[StageInput], dict]
    needs: tuple[str, ...]
    out_subdir: str
    design_keys: tuple[str, ...]
    for_checks: bool      # False: only `build` runs it (fabrication files, renders)
    title: str

    def depends_on(self, key: str) -> bool:
        return not self.design_keys or any(key == k or key.startswith(k.rstrip(".") + ".")
                                           for k in self.design_keys)


STAGES: dict[str, StageSpec] = {}


def stage(name: str, *, title: str, needs: tuple[str, ...] = (), out_subdir: str = "",
          design_keys: tuple[str, ...] = (), for_checks: bool = True) -> Callable:
    def register(func: Callable) -> Callable:
        STAGES[name] = StageSpec(name, func, tuple(needs), out_subdir, tuple(design_keys),
                                 for_checks, title)
        return func

    return register


def load_all() -> dict[str, StageSpec]:
    for module in STAGE_MODULES:
        importlib.import_module(module)
    return STAGES


def ordered(names: set[str] | None = None) -> list[StageSpec]:
    """Stages in dependency order; with `names`, those stages and everything they need."""
    specs = load_all()
    wanted: set[str] = set()

    def want(n: str) -> None:
        if n in wanted:
            return
        if n not in specs:
            raise KeyError(f"unknown stage {n}")
        wanted.add(n)
        for dep in specs[n].needs:
            want(dep)

    for n in (names if names is not None else specs):
        want(n)
    out: list[StageSpec] = []
    done: set[str] = set()
    while len(out) < len(wanted):
        progressed = False
        for n in sorted(wanted):
            if n not in done and all(d in done for d in specs[n].needs):
                out.append(specs[n])
                done.add(n)
                progressed = True
        if not progressed:
            raise ValueError(f"stage dependency cycle among {sorted(wanted - done)}")
    return out
