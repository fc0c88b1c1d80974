"""Helpers for the PCB tests: run the registered PCB stages for a design, as the pipeline does."""

from __future__ import annotations

from pathlib import Path

from rackplane.context import BuildContext
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from rackplane.stages import STAGES, StageInput, Upstream, load_all


def variant(**changes):
    """Resolved design and Layout of the default design with some keys changed."""
    design = resolve_design(load_design().replace(**changes))
    return design, compute_layout(design)


def run_stages(design, layout, root: Path, names: tuple[str, ...]) -> BuildContext:
    """Run the named stages in order, each in its own folder under `root`; return the context."""
    load_all()
    ctx = BuildContext(design=design, layout=layout)
    for name in names:
        spec = STAGES[name]
        workdir = root / name
        workdir.mkdir(parents=True, exist_ok=True)
        upstream = {n: Upstream(ctx.facts[n], ctx.stage_dirs[n]) for n in spec.needs}
        ctx.facts[name] = spec.func(StageInput(design=design, layout=layout, workdir=workdir,
                                               upstream=upstream))
        ctx.stage_dirs[name] = workdir
    return ctx


MANAGEMENT_STAGES = ("pcb.management_board", "pcb.management_drc")


def with_management(ctx: BuildContext, management: BuildContext) -> BuildContext:
    """`ctx` with the management board's stages taken from `management` (a build of the default
    design): pcb.drc and pcb.copper cover that board too, and the tests of the backplane and the
    carrier share one build of it, as they share one carrier across slot counts."""
    for name in MANAGEMENT_STAGES:
        ctx.facts[name] = management.facts[name]
        ctx.stage_dirs[name] = management.stage_dirs[name]
    return ctx


def gerbers_without_dates(zip_path) -> dict[str, list[bytes]]:
    """Every file of a Gerber zip, minus the lines that carry the export time."""
    import re
    import zipfile

    stamp = re.compile(rb"CreationDate|\bdate\b|Created on", re.IGNORECASE)
    with zipfile.ZipFile(zip_path) as zf:
        return {name: [line for line in zf.read(name).splitlines() if not stamp.search(line)]
                for name in sorted(zf.namelist()) if not name.endswith("/")}
