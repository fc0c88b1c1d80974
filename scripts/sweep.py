"""Sweep the design space: build designs sampled from the parameter contract, print a table.

Each design runs as its own `rackplane build` process (or `check` with --check) and is judged
by its report: exit code, the checks that fail, the stages that raised. A sweep passes when no
build crashes (exit 0 or 1 with a report) and no stage raises; every exit 1 then names the
rules the design breaks, for a reader to confirm that they really are broken.

The sample (fixed seed) covers every node model, 1 to 16 slots, 1U to 6U, every fan size and
"auto", beds from 150 to 350 mm, every material, pitches from the minimum to twice it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Corner designs: small and large, every model, tall and short chassis, small beds, split boards.
CORNERS: dict[str, dict] = {
    "corner-1-pi3": {"node": {"model": "pi3bplus", "heatsink_height_mm": 0.0}, "slots": {"count": 1}},
    "corner-16-pi5": {"node": {"model": "pi5"}, "slots": {"count": 16}, "power": {"input_voltage_v": 12.0}},
    "corner-3u-120": {"rack": {"units": 3}, "cooling": {"fan_size_mm": 120}, "slots": {"count": 6}},
    "corner-bed-180": {"printer": {"bed_mm": [180, 180, 180], "material": "ASA"}, "slots": {"count": 5}},
    "corner-split": {"slots": {"count": 12}, "pcb": {"max_board_length_mm": 160.0}, "node": {"model": "pi5"}},
    "corner-wide-pitch": {"slots": {"count": 7, "pitch_mm": 50.0}, "node": {"heatsink_height_mm": 25.0}},
}


def _toml_value(v) -> str:
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def to_toml(name: str, sections: dict) -> str:
    lines = [f"name = {json.dumps(name)}"]
    for section, table in sections.items():
        lines.append(f"\n[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def sample(rng: random.Random) -> dict:
    """One design from the contract's ranges."""
    from rackplane import catalogue
    from rackplane.design import design_from_table
    from rackplane.layout import min_pitch_mm

    model = rng.choice(catalogue.node_models())
    heatsink = rng.choice([0.0, 5.0, 10.0, 10.0, 15.0, 25.0])
    count = rng.randint(1, 16)
    sections = {"node": {"model": model, "heatsink_height_mm": heatsink}, "slots": {"count": count},
                "cooling": {}, "printer": {}, "rack": {}}
    if rng.random() < 0.4:
        probe = design_from_table({"name": "probe", **{k: v for k, v in sections.items() if v}})
        sections["slots"]["pitch_mm"] = round(min_pitch_mm(probe) * rng.uniform(1.0, 2.0), 1)
    if rng.random() < 0.5:
        sections["rack"]["units"] = rng.randint(1, 6)
    if rng.random() < 0.6:
        sections["cooling"]["fan_size_mm"] = rng.choice(catalogue.fan_sizes())
    if rng.random() < 0.2:
        sections["cooling"]["fan_count"] = rng.randint(1, 6)
    bed_x = rng.choice([150, 180, 210, 220, 250, 256, 300, 350])
    sections["printer"]["bed_mm"] = [bed_x, rng.choice([bed_x, 150, 210, 250, 350]), rng.choice([150, 180, 250, 350])]
    sections["printer"]["material"] = rng.choice(catalogue.material_names())
    if rng.random() < 0.2:
        sections["pcb"] = {"max_board_length_mm": float(rng.choice([150, 200, 250, 300]))}
    return {k: v for k, v in sections.items() if v}


def run_one(name: str, sections: dict, folder: Path, command: str) -> dict:
    path = folder / f"{name}.toml"
    path.write_text(to_toml(name, sections))
    out = folder / "out" / name
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "rackplane.cli", command, str(path), "--out", str(out), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True)
    row = {"design": name, "exit": proc.returncode, "seconds": round(time.perf_counter() - t0, 1),
           "params": sections, "failing": [], "stage_errors": [], "crash": ""}
    report = out / "report.json"
    if not report.exists():
        report = out / "report.failed.json"
    if report.exists():
        data = json.loads(report.read_text())
        row["failing"] = [f"{c['id']}: {c['message'][:160]}" for c in data["checks"]
                          if c["status"] != "pass" and not c["id"].startswith("stage.")
                          and "could not run: not run:" not in c["message"]]
        row["stage_errors"] = [f"{s['name']}: {s['error'][:200]}" for s in data["stages"] if s["error"]]
    if proc.returncode not in (0, 1) or not report.exists() or "Traceback" in proc.stderr:
        row["crash"] = proc.stderr[-1500:]
    return row


def print_table(rows: list[dict]) -> None:
    print(f"{'design':<16} {'exit':>4} {'s':>6}  failing checks / stage errors")
    for r in rows:
        what = [f.split(":")[0] for f in r["failing"]]
        flag = " STAGE ERRORS: " + "; ".join(r["stage_errors"]) if r["stage_errors"] else ""
        crash = " CRASH" if r["crash"] else ""
        print(f"{r['design']:<16} {r['exit']:>4} {r['seconds']:>6}  {', '.join(what) or '-'}{flag}{crash}")
    bad = [r for r in rows if r["stage_errors"] or r["crash"]]
    print(f"\n{len(rows)} designs: {sum(r['exit'] == 0 for r in rows)} pass, "
          f"{sum(r['exit'] == 1 for r in rows)} break a rule, {len(bad)} with stage errors or crashes")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=40, help="designs to sample (default 40)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corners", action="store_true", help="build the fixed corner designs instead")
    ap.add_argument("--check", action="store_true", help="run `rackplane check` instead of `build`")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                    help="designs at a time (each build runs two workers)")
    ap.add_argument("--json", type=Path, help="write the rows as JSON here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    designs = CORNERS if args.corners else {f"sweep-{args.seed}-{i:02d}": sample(rng) for i in range(args.n)}
    with tempfile.TemporaryDirectory(prefix="rackplane-sweep-") as tmp:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(lambda item: run_one(*item, Path(tmp), "check" if args.check else "build"),
                                 designs.items()))
    print_table(rows)
    for r in rows:
        if r["failing"] or r["stage_errors"] or r["crash"]:
            print(f"\n{r['design']} {json.dumps(r['params'])}")
            for line in r["failing"] + r["stage_errors"]:
                print(f"  {line}")
            if r["crash"]:
                print("  " + r["crash"].replace("\n", "\n  "))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 1 if any(r["stage_errors"] or r["crash"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
