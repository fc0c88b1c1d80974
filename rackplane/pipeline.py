"""The build pipeline: design file -> resolved Design -> Layout -> stages -> checks -> report.

Stages run in dependency order, two at a time when they are independent (the PCB chain and the
frame chain), each in a worker process so that a crash in a tool binding cannot take the build
down. Workers are spawned, not forked: a fork of a process whose libraries already run threads
(numpy's BLAS, OCCT) can inherit a held lock and hang. Every stage is cached in `<outputs>/.cache/<stage>/<key>/` under a key of the design
values it depends on, the project's source code and its upstream keys: an unchanged stage is
copied, not rebuilt.

Outputs land atomically: everything is written into a staging folder beside the output folder,
which replaces the previous output folder only when the build completed. A build that fails
(a stage raised) or is interrupted leaves the previous outputs as they were.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rackplane import checks as check_registry
from rackplane import stages as stage_registry
from rackplane.context import BuildContext
from rackplane.design import Design, load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from rackplane.toolenv import PROJECT_ROOT

CACHE_DIRNAME = ".cache"
SOURCE_DIRS = ("rackplane", "pcb", "mechanical")


@dataclass
class StageRun:
    name: str
    seconds: float
    cached: bool
    error: str | None = None


@dataclass
class BuildResult:
    design: Design
    out_dir: Path
    results: list = field(default_factory=list)          # CheckResult
    stage_runs: list[StageRun] = field(default_factory=list)
    total_seconds: float = 0.0
    failed_stages: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.failed_stages:
            return 1
        return 0 if all(r.status == check_registry.PASS for r in self.results) else 1


def source_digest() -> str:
    """Digest of the project's code and data: a change anywhere invalidates cached stages."""
    h = hashlib.sha256()
    for top in SOURCE_DIRS:
        for path in sorted((PROJECT_ROOT / top).rglob("*")):
            if path.suffix in (".py", ".toml", ".json", ".html", ".csv") and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(PROJECT_ROOT)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def stage_key(spec: stage_registry.StageSpec, design: Design, upstream_keys: list[str], code: str) -> str:
    relevant = {k: v for k, v in sorted(design.values.items()) if spec.depends_on(k)}
    blob = json.dumps({"stage": spec.name, "design": relevant, "upstream": upstream_keys, "code": code},
                      sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _run_stage_in_worker(name: str, design_values: dict, workdir: str, upstream: dict) -> dict:
    """Entry point of a worker process: recompute Layout, run the stage, return its facts.

    The stage runs in a private scratch folder, so files a tool drops in its current folder
    (SKiDL's logs, for one) neither land in the user's folder nor collide with another build."""
    specs = stage_registry.load_all()
    design = Design(design_values)
    layout = compute_layout(design)
    inp = stage_registry.StageInput(
        design=design, layout=layout, workdir=Path(workdir),
        upstream={k: stage_registry.Upstream(facts=f, dir=Path(d)) for k, (f, d) in upstream.items()})
    scratch = tempfile.mkdtemp(prefix=f"rackplane-{name}-")
    home = os.getcwd()
    os.chdir(scratch)
    try:
        facts = specs[name].func(inp)
    finally:
        os.chdir(home)
        shutil.rmtree(scratch, ignore_errors=True)
    json.dumps(facts)  # facts must be JSON: fail here, in the stage, not later in the cache
    return facts


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a folder's files into dst, hard-linking where the file system allows it."""
    for path in sorted(src.rglob("*")):
        if path.is_dir() or path.name == "facts.json":
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


class Progress:
    """One line per stage on stderr: what runs, what came from the cache, how long it took."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()

    def say(self, text: str) -> None:
        if self.enabled:
            print(f"[{time.perf_counter() - self.start:6.1f} s] {text}", file=sys.stderr, flush=True)


def run_stages(design: Design, cache_root: Path, names: set[str] | None, progress: Progress,
               workers: int = 2) -> tuple[BuildContext, list[StageRun]]:
    """Run (or take from the cache) the named stages and what they need; return the context."""
    layout = compute_layout(design)
    ctx = BuildContext(design=design, layout=layout)
    specs = stage_registry.ordered(names)
    code = source_digest()
    keys: dict[str, str] = {}
    runs: list[StageRun] = []
    pending = {s.name: s for s in specs}
    running: dict[Future, tuple[stage_registry.StageSpec, Path, float]] = {}
    mp = multiprocessing.get_context("spawn")

    def ready(spec: stage_registry.StageSpec) -> bool:
        return all(d in ctx.facts or d in ctx.stage_errors for d in spec.needs)

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
        def start(spec: stage_registry.StageSpec) -> None:
            name = spec.name
            pending.pop(name)
            failed_deps = [d for d in spec.needs if d in ctx.stage_errors]
            if failed_deps:
                ctx.stage_errors[name] = f"needs {', '.join(failed_deps)}, which failed"
                runs.append(StageRun(name, 0.0, False, ctx.stage_errors[name]))
                return
            key = stage_key(spec, design, [keys[d] for d in spec.needs], code)
            keys[name] = key
            final = cache_root / name / key
            facts_file = final / "facts.json"
            if facts_file.exists():
                ctx.facts[name] = json.loads(facts_file.read_text())
                ctx.stage_dirs[name] = final
                runs.append(StageRun(name, 0.0, True))
                progress.say(f"{name}: unchanged, from cache")
                return
            work = final.with_name(f"{key}.tmp-{os.getpid()}")
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            upstream = {d: (ctx.facts[d], str(ctx.stage_dirs[d])) for d in spec.needs}
            progress.say(f"{name}: {spec.title} ...")
            fut = pool.submit(_run_stage_in_worker, name, design.values, str(work), upstream)
            running[fut] = (spec, work, time.perf_counter())

        while pending or running:
            progressed = True
            while progressed:  # a cache hit can make further stages ready: scan until none is
                progressed = False
                for name in sorted(pending):
                    spec = pending[name]
                    if ready(spec):
                        progressed = True
                        start(spec)
            if not running:
                if pending:  # nothing can start: unreachable with a valid dependency order
                    raise RuntimeError(f"stages cannot start: {sorted(pending)}")
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                spec, work, t0 = running.pop(fut)
                seconds = time.perf_counter() - t0
                try:
                    facts = fut.result()
                except BaseException as exc:  # noqa: BLE001 - the stage's failure is reported
                    msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                    ctx.stage_errors[spec.name] = msg
                    runs.append(StageRun(spec.name, seconds, False, msg))
                    progress.say(f"{spec.name}: FAILED after {seconds:.1f} s: {msg}")
                    shutil.rmtree(work, ignore_errors=True)
                    continue
                (work / "facts.json").write_text(json.dumps(facts, indent=1, sort_keys=True))
                final = cache_root / spec.name / keys[spec.name]
                shutil.rmtree(final, ignore_errors=True)
                work.rename(final)
                ctx.facts[spec.name] = facts
                ctx.stage_dirs[spec.name] = final
                runs.append(StageRun(spec.name, seconds, False))
                progress.say(f"{spec.name}: done in {seconds:.1f} s")
    return ctx, runs


def _prune_cache(cache_root: Path, ctx: BuildContext, keep: int = 3) -> None:
    """Keep the newest few entries of each stage so the cache does not grow without bound."""
    for stage_dir in cache_root.iterdir() if cache_root.exists() else []:
        entries = sorted((p for p in stage_dir.iterdir() if p.is_dir()),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        current = ctx.stage_dirs.get(stage_dir.name)
        for old in entries[keep:]:
            if old != current:
                shutil.rmtree(old, ignore_errors=True)


def default_out_dir(design: Design) -> Path:
    return PROJECT_ROOT / "outputs" / design.name


def build(design_path: str | Path | None, out_dir: Path | None = None, *, full: bool = True,
          progress: Progress | None = None,
          write_outputs: Callable[[BuildResult, BuildContext, Path], None] | None = None) -> BuildResult:
    """Build a design. full=False runs only the stages the checks need (`rackplane check`).

    Raises DesignError on bad input before anything is written.
    """
    from rackplane import report

    t0 = time.perf_counter()
    progress = progress or Progress()
    raw = load_design(design_path)
    design = resolve_design(raw)
    compute_layout(design)  # a Layout that cannot be computed is bad input: fail before writing
    out_dir = Path(out_dir).resolve() if out_dir else default_out_dir(design)
    cache_root = out_dir.parent / CACHE_DIRNAME / design.name
    names = None if full else {n for n, s in stage_registry.load_all().items() if s.for_checks}
    ctx, runs = run_stages(design, cache_root, names, progress)
    progress.say("checks ...")
    results = check_registry.run_checks(ctx)
    result = BuildResult(design=design, out_dir=out_dir, results=results, stage_runs=runs,
                         failed_stages=dict(ctx.stage_errors))
    result.total_seconds = time.perf_counter() - t0

    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        if full:
            for name, folder in sorted(ctx.stage_dirs.items()):
                _link_tree(folder, staging / stage_registry.STAGES[name].out_subdir)
        elif out_dir.exists():  # `check`: keep the artifacts a previous build wrote
            _link_tree(out_dir, staging)
        report.write_report(result, ctx, raw, staging)
        if write_outputs:
            write_outputs(result, ctx, staging)
        if result.failed_stages and full:
            # A stage failed: the build is incomplete, the previous outputs stay.
            shutil.rmtree(staging, ignore_errors=True)
        else:
            _replace_dir(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune_cache(cache_root, ctx)
    return result


def _replace_dir(new: Path, target: Path) -> None:
    """Put `new` in place of `target` with renames only, so a reader sees the old or the new."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
