"""The build pipeline: design file -> resolved Design -> Layout -> pre-flight -> stages -> checks
-> report -> outputs.

1. The design is read and resolved, and the output folder is checked (`rackplane.outdir`):
   bad input or a folder rackplane may not write is refused (exit 2) before any work.
2. Pre-flight: the rules that need only Layout (`rackplane.checks.run_preflight`) run first; a
   design that breaks one stops there, in seconds, unless `force` asks for everything anyway.
3. Stages run in dependency order, two at a time when independent, in worker processes
   (`rackplane.workers`), each cached in the stage cache (`rackplane.cache`) under a key of what
   it reads: an unchanged stage is verified and copied, not rebuilt. A stage that raises becomes
   an error result; the stages and checks that need it say so.
4. The checks run, and the report is written. A complete build lands atomically: its outputs
   and report replace the previous output folder in one exchange. A build that could not
   complete (a stage failed, a pre-flight rule failed) leaves the previous outputs as they were
   and writes its report beside them as `report.failed.json` / `report.failed.html`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rackplane import __version__, outdir
from rackplane import checks as check_registry
from rackplane import stages as stage_registry
from rackplane.cache import StageCache, copy_tree, default_root
from rackplane.context import BuildContext
from rackplane.design import Design, load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_with_notes
from rackplane.runner import StageRun, StageRunner
from rackplane.toolenv import PROJECT_ROOT
from rackplane.workers import interruptible, signals_deferred

__all__ = ["BuildResult", "Progress", "StageRun", "build", "run_stages", "design_hash"]


@dataclass
class BuildResult:
    design: Design
    out_dir: Path
    results: list = field(default_factory=list)          # CheckResult
    stage_runs: list[StageRun] = field(default_factory=list)
    total_seconds: float = 0.0
    failed_stages: dict[str, str] = field(default_factory=dict)
    preflight_failed: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)   # how each "auto" was resolved
    report_path: Path | None = None
    context: BuildContext | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        """Whether every stage ran: the outputs landed."""
        return not self.failed_stages and not self.preflight_failed

    @property
    def exit_code(self) -> int:
        if not self.complete:
            return 1
        return 0 if all(r.status == check_registry.PASS for r in self.results) else 1


class Progress:
    """One line per stage on stderr: what runs, what came from the cache, how long it took."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def say(self, text: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.start:6.1f} s] {text}", file=sys.stderr, flush=True)


def design_hash(design: Design) -> str:
    """Short hash (8 hex digits) of the resolved design values."""
    blob = json.dumps(design.values, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:8]


def default_out_dir(design: Design) -> Path:
    return PROJECT_ROOT / "outputs" / design.name


def run_stages(design: Design, cache_root: Path, names: set[str] | None, progress: Progress,
               workers: int = 2) -> tuple[BuildContext, list[StageRun]]:
    """Run (or take from the cache) the named stages and what they need; return the context."""
    cache = StageCache(cache_root)
    cache.prepare()
    try:
        return StageRunner(design, compute_layout(design), cache, progress, workers).run(names)
    finally:
        cache.release_all()


def build(design_path: str | Path | None, out_dir: str | Path | None = None, *, full: bool = True,
          force: bool = False, progress: Progress | None = None, cache_root: Path | None = None,
          workers: int = 2) -> BuildResult:
    """Build a design. full=False runs only the stages the checks need (`rackplane check`).

    Raises DesignError on bad input, and on an output folder rackplane may not write, before
    anything is written; `rackplane.workers.Interrupted` on SIGINT/SIGTERM, with the previous
    outputs in place."""
    t0 = time.perf_counter()
    progress = progress or Progress()
    raw = load_design(design_path)
    design, notes = resolve_with_notes(raw)
    layout = compute_layout(design)
    cache = StageCache(Path(cache_root) if cache_root else default_root())
    protected = outdir.protected_paths(Path(design_path) if design_path else None, PROJECT_ROOT, cache.root)
    target = outdir.check_out_dir(str(out_dir) if out_dir is not None else str(default_out_dir(design)),
                                  protected)
    with interruptible():
        lock = outdir.OutputLock(target, cache.root / "locks")
        cache.prepare()
        lock.acquire(on_wait=lambda: progress.say(f"waiting for another build writing {target} ..."))
        try:
            outdir.clean_leftovers(target)
            target = outdir.check_out_dir(str(target), protected)
            result = _build_locked(design, layout, raw, target, cache, full, force, progress)
            result.notes = notes
            result.total_seconds = time.perf_counter() - t0
            _land(result, raw, cache, full)
            cache.prune()
        finally:
            cache.release_all()
            lock.release()
    return result


def _build_locked(design, layout, raw, target, cache, full, force, progress) -> BuildResult:
    ctx = BuildContext(design=design, layout=layout)
    progress.say("pre-flight rules ...")
    pre = check_registry.run_preflight(ctx)
    broken = [r.id for r in pre if r.status != check_registry.PASS]
    if broken and not force:
        progress.say(f"pre-flight: the design breaks {', '.join(broken)}; nothing generated (--force builds anyway)")
        results = check_registry.not_run(pre, f"the design breaks the pre-flight rule(s) {', '.join(broken)}, "
                                              "so nothing was generated (--force builds anyway)")
        return BuildResult(design=design, out_dir=target, results=results, preflight_failed=broken, context=ctx)
    runner = StageRunner(design, layout, cache, progress)
    wanted = None if full else {n for n, s in stage_registry.load_all().items() if s.for_checks}
    optional = set() if full else set(stage_registry.load_all()) - wanted
    ctx, runs = runner.run(wanted, optional=optional)
    progress.say("checks ...")
    results = check_registry.stage_errors(ctx, stage_registry.load_all()) + check_registry.run_checks(ctx)
    return BuildResult(design=design, out_dir=target, results=results, stage_runs=runs,
                       failed_stages=dict(ctx.stage_errors), context=ctx)


def _land(result: BuildResult, raw: Design, cache: StageCache, full: bool) -> None:
    """Write the outputs: a complete build replaces the output folder atomically; an incomplete
    one adds only its report (`report.failed.*`) beside the previous outputs."""
    from rackplane import report

    target = result.out_dir
    ctx = result.context
    marker = outdir.marker_data(result.design.name, design_hash(result.design), __version__, True)
    if not result.complete:
        target.mkdir(parents=True, exist_ok=True)
        if outdir.read_marker(target) is None:
            outdir.write_marker(target, {**marker, "complete": False})
        result.report_path = report.write_report(result, ctx, raw, target, stem=outdir.FAILED_REPORT_STEM)
        return
    staging = outdir.new_staging(target)
    try:
        for name, folder in sorted(ctx.stage_dirs.items()):
            copy_tree(folder, staging / stage_registry.STAGES[name].out_subdir)
        report.write_report(result, ctx, raw, staging)
        outdir.write_marker(staging, marker)
        with signals_deferred():
            outdir.land(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.report_path = target / "report.html"
