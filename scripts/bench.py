"""Times the default build cold and warm, `check` alone, and each stage; prints a table.

Each run is a separate `rackplane` process, so import times count as a user sees them, with a
stage cache of its own, so the cold build is cold. Peak
memory is the largest resident set of any process of the run (the build and its workers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RACKPLANE = ROOT / ".venv" / "bin" / "rackplane"
TARGETS_S = {"cold build": 60.0, "unchanged rebuild": 3.0, "check (artifacts exist)": 10.0}


CACHE_ENV: dict[str, str] = {}


def run(args: list[str]) -> tuple[float, int, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([str(RACKPLANE), *args, "--quiet"], capture_output=True, text=True,
                          env={**os.environ, **CACHE_ENV})
    seconds = time.perf_counter() - t0
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    if proc.returncode not in (0, 1):
        sys.exit(f"rackplane {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return seconds, proc.returncode, peak_mb


def design_file(folder: Path, slots: int | None) -> Path | None:
    if slots is None:
        return None
    text = (ROOT / "designs" / "default.toml").read_text()
    text = text.replace('name = "default"', f'name = "bench{slots}"').replace("count = 10", f"count = {slots}")
    path = folder / f"bench{slots}.toml"
    path.write_text(text)
    return path


def bench_design(folder: Path, slots: int | None, warm: bool = True) -> list[tuple[str, float, str]]:
    out = folder / "out" / (f"bench{slots}" if slots else "default")
    design = design_file(folder, slots)
    base = [str(design)] if design else []
    rows = []
    seconds, code, peak = run(["build", *base, "--out", str(out)])
    rows.append(("cold build", seconds, f"exit {code}, peak RSS {peak:.0f} MB"))
    stages = json.loads((out / "report.json").read_text())["stages"]
    for st in stages:
        rows.append((f"  stage {st['name']}", st["seconds"], "cache" if st["cached"] else "built"))
    if warm:
        seconds, code, _ = run(["build", *base, "--out", str(out)])
        rows.append(("unchanged rebuild", seconds, f"exit {code}"))
        seconds, code, _ = run(["check", *base, "--out", str(out)])
        rows.append(("check (artifacts exist)", seconds, f"exit {code}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scaling", action="store_true", help="also time 4, 8, 12 and 16 slots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rackplane-bench-") as tmp:
        folder = Path(tmp)
        CACHE_ENV["RACKPLANE_CACHE_DIR"] = str(folder / "cache")  # cold: a cache of its own
        rows = bench_design(folder, None)
        if args.scaling:
            for slots in (4, 8, 12, 16):
                seconds = bench_design(folder, slots, warm=False)[0][1]
                rows.append((f"cold build, {slots} slots", seconds, ""))
        shutil.rmtree(folder / "out", ignore_errors=True)
    print(f"{'what':<34} {'seconds':>8}  {'target':>7}  note")
    for what, seconds, note in rows:
        target = TARGETS_S.get(what)
        print(f"{what:<34} {seconds:8.2f}  {('<= %g' % target) if target else '':>7}  {note}")


if __name__ == "__main__":
    main()
