"""Running stages: in dependency order, from the cache where their key matches, else in a worker.

A stage's key is a digest of its name, the design values it reads (`StageSpec.design_keys`), its
upstream stages' keys and the project's code: an entry under that key in the stage cache was made
from exactly these inputs. Two builds that need one entry share it: the first makes it under an
exclusive lock while the second waits, then takes it from the cache.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from rackplane import stages as stage_registry
from rackplane.cache import StageCache
from rackplane.context import BuildContext
from rackplane.design import Design
from rackplane.layout import compute_layout
from rackplane.toolenv import PROJECT_ROOT
from rackplane.workers import WorkerPool

SOURCE_DIRS = ("rackplane", "pcb", "mechanical")
POLL_S = 0.2


@dataclass
class StageRun:
    name: str
    seconds: float      # from the stage's start in its worker to its end; 0 from the cache
    cached: bool
    error: str | None = None


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


def _run_stage_in_worker(name: str, module: str, design_values: dict, workdir: str,
                         upstream: dict) -> tuple[dict, float]:
    """Entry point of a worker process: import the stage's module, recompute Layout, run the
    stage; return its facts and the seconds it took.

    The stage runs in a private scratch folder, so files a tool drops in its current folder
    (SKiDL's logs, for one) neither land in the user's folder nor collide with another build."""
    t0 = time.perf_counter()
    importlib.import_module(module)
    specs = stage_registry.STAGES
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
    return facts, time.perf_counter() - t0


@dataclass
class _Running:
    spec: stage_registry.StageSpec
    work: Path
    retried: bool


class StageRunner:
    """Runs a set of stages for one design into a context (facts, folders, errors)."""

    def __init__(self, design: Design, layout, cache: StageCache, progress, workers: int = 2) -> None:
        self.design = design
        self.cache = cache
        self.progress = progress
        self.workers = workers
        self.ctx = BuildContext(design=design, layout=layout)
        self.code = source_digest()
        self.keys: dict[str, str] = {}
        self.runs: list[StageRun] = []
        self.running: dict[Future, _Running] = {}

    def run(self, names: set[str] | None, optional: set[str] = frozenset()) -> tuple[BuildContext, list[StageRun]]:
        """The named stages (all when None) and what they need; `optional` stages only when the
        cache already holds them."""
        specs = stage_registry.ordered(names)
        self.pending = {s.name: s for s in specs}
        self.optional = [s for s in stage_registry.ordered(None) if s.name in optional]
        pool = WorkerPool(self.workers)
        try:
            self._loop(pool)
        except BaseException:
            pool.kill()
            raise
        pool.close()
        self._take_optional()
        return self.ctx, self.runs

    def _loop(self, pool: WorkerPool) -> None:
        while self.pending or self.running:
            waiting = self._start_ready(pool)
            if not self.pending and not self.running:
                break
            if not self.running:
                if not waiting:
                    raise RuntimeError(f"stages cannot start: {sorted(self.pending)}")
                time.sleep(POLL_S)  # another build holds a cache entry we need
                continue
            done, _ = wait(list(self.running), timeout=POLL_S if waiting else None,
                           return_when=FIRST_COMPLETED)
            for fut in done:
                self._finish(fut, pool)

    def _ready(self, spec) -> bool:
        return all(d in self.ctx.facts or d in self.ctx.stage_errors for d in spec.needs)

    def _start_ready(self, pool: WorkerPool) -> bool:
        """Start every stage whose inputs are there (a cache hit can make further stages ready:
        scan until none is). Returns whether a stage waits for another build's cache entry."""
        waiting = False
        progressed = True
        while progressed:
            progressed = False
            for name in sorted(self.pending):
                spec = self.pending[name]
                if self._ready(spec):
                    started = self._start(spec, pool)
                    waiting |= not started
                    progressed |= started
        return waiting

    def _start(self, spec, pool: WorkerPool) -> bool:
        """Take the stage from the cache or submit it; False when another build is making it."""
        name = spec.name
        failed = [d for d in spec.needs if d in self.ctx.stage_errors]
        if failed:
            self._fail(name, f"needs {', '.join(failed)}, which failed", 0.0)
            return True
        key = self.keys.setdefault(name, stage_key(spec, self.design, [self.keys[d] for d in spec.needs],
                                                   self.code))
        mode = self.cache.acquire(name, key)
        if mode is None:
            return False
        if self._take_cached(name, key, exclusive=mode == "exclusive"):
            return True
        if mode == "shared":  # others use an entry that no longer verifies: wait for them
            self.cache.unlock(name, key)
            return False
        self._submit(spec, pool, retried=False)
        return True

    def _take_cached(self, name: str, key: str, exclusive: bool) -> bool:
        facts = self.cache.lookup(name, key, exclusive)
        if facts is None:
            return False
        if exclusive:
            self.cache.share(name, key)
        self.pending.pop(name, None)
        self.ctx.facts[name] = facts
        self.ctx.stage_dirs[name] = self.cache.entry(name, key)
        self.runs.append(StageRun(name, 0.0, True))
        self.progress.say(f"{name}: unchanged, from cache")
        return True

    def _submit(self, spec, pool: WorkerPool, retried: bool) -> None:
        self.pending.pop(spec.name, None)
        work = self.cache.workdir(spec.name, self.keys[spec.name])
        upstream = {d: (self.ctx.facts[d], str(self.ctx.stage_dirs[d])) for d in spec.needs}
        self.progress.say(f"{spec.name}: {spec.title} ...")
        fut = pool.submit(_run_stage_in_worker, spec.name, spec.func.__module__, self.design.values, str(work),
                          upstream)
        self.running[fut] = _Running(spec, work, retried)

    def _finish(self, fut: Future, pool: WorkerPool) -> None:
        job = self.running.pop(fut)
        name = job.spec.name
        try:
            facts, seconds = fut.result()
        except BrokenProcessPool:
            shutil.rmtree(job.work, ignore_errors=True)
            if job.retried:
                self._fail(name, "its worker process died twice (a crash in a tool binding)", 0.0)
                return
            self.progress.say(f"{name}: a worker process died; running it again")
            pool.renew()
            self._submit(job.spec, pool, retried=True)
            return
        except Exception as exc:  # noqa: BLE001 - the stage's failure is reported, not raised
            shutil.rmtree(job.work, ignore_errors=True)
            msg = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self._fail(name, msg, 0.0)
            return
        final = self.cache.store(name, self.keys[name], job.work, facts)
        self.cache.share(name, self.keys[name])
        self.ctx.facts[name] = facts
        self.ctx.stage_dirs[name] = final
        self.runs.append(StageRun(name, seconds, False))
        self.progress.say(f"{name}: done in {seconds:.1f} s")

    def _fail(self, name: str, msg: str, seconds: float) -> None:
        self.pending.pop(name, None)
        self.ctx.stage_errors[name] = msg
        self.runs.append(StageRun(name, seconds, False, msg))
        self.progress.say(f"{name}: FAILED: {msg}")

    def _take_optional(self) -> None:
        """Optional stages whose inputs are all here and whose entry the cache already holds."""
        for spec in self.optional:
            if spec.name in self.ctx.facts or not all(d in self.ctx.facts for d in spec.needs):
                continue
            key = stage_key(spec, self.design, [self.keys[d] for d in spec.needs], self.code)
            mode = self.cache.acquire(spec.name, key)
            if mode is None:
                continue
            self.keys[spec.name] = key
            if not self._take_cached(spec.name, key, exclusive=mode == "exclusive"):
                self.cache.unlock(spec.name, key)
