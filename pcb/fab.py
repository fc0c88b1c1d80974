"""Fabrication files for a board: Gerbers and drill files zipped by KiKit's fab-house preset.

`kikit fab <preset> --no-assembly board.kicad_pcb outdir` writes `outdir/gerbers.zip` and the
plotted files beside it; the preset comes from the fab house's catalogue entry (`kikit_preset`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

GERBER_ZIP = "gerbers.zip"


def kikit_executable() -> str:
    """The `kikit` program of this interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).parent / "kikit"
    if beside.exists():
        return str(beside)
    found = shutil.which("kikit")
    if found is None:
        raise RuntimeError("kikit is not installed: run scripts/setup")
    return found


def export_fab(board_path: Path, outdir: Path, kikit_preset: str, zip_name: str = GERBER_ZIP) -> dict:
    """Write `outdir/<zip_name>` for `board_path` with KiKit's `kikit_preset`; return facts:
    the zip's name, size in bytes and the files inside it (sorted)."""
    board_path = Path(board_path)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rackplane-fab-") as tmp:
        for sibling in board_path.parent.glob(board_path.stem + ".kicad_*"):
            shutil.copy2(sibling, Path(tmp) / sibling.name)
        plot_dir = Path(tmp) / "fab"
        proc = subprocess.run(
            [kikit_executable(), "fab", kikit_preset, "--no-assembly",
             str(Path(tmp) / board_path.name), str(plot_dir)],
            capture_output=True, text=True, timeout=300)
        produced = plot_dir / GERBER_ZIP
        if proc.returncode != 0 or not produced.exists():
            raise RuntimeError(f"kikit fab {kikit_preset} failed (exit {proc.returncode}): "
                               f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        shutil.copy2(produced, outdir / zip_name)
    with zipfile.ZipFile(outdir / zip_name) as zf:
        names = sorted(zf.namelist())
    return {"gerber_zip": zip_name, "bytes": (outdir / zip_name).stat().st_size, "files": names}


def _kicad_cli(args: list[str], what: str) -> None:
    from rackplane.toolenv import require_tool

    proc = subprocess.run([require_tool("kicad-cli"), *args], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"kicad-cli {what} failed (exit {proc.returncode}): "
                           f"{(proc.stderr or proc.stdout).strip()[-500:]}")


def export_step(board_path: Path, step_path: Path) -> Path:
    """Write the board's STEP model (kicad-cli, mm, board coordinates: x = u, y = -v, the F.Cu
    face up at z = board thickness) with a fixed header time stamp; return step_path."""
    from rackplane.stepfile import normalise_step_file

    board_path = Path(board_path)
    step_path = Path(step_path)
    step_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rackplane-step-") as tmp:
        for sibling in board_path.parent.glob(board_path.stem + ".kicad_*"):
            shutil.copy2(sibling, Path(tmp) / sibling.name)
        _kicad_cli(["pcb", "export", "step", "--force", "--no-dnp", "--subst-models", "-o", str(step_path),
                    str(Path(tmp) / board_path.name)], "export step")
    if not step_path.exists() or step_path.stat().st_size == 0:
        raise RuntimeError(f"kicad-cli export step wrote no file: {step_path}")
    return normalise_step_file(step_path)


def export_outputs(board_path: Path, outdir: Path) -> dict:
    """Beside the Gerbers: Excellon drill files, the placement file (CSV, both sides), a BOM
    (CSV, from the board's footprints) and top/bottom PNG renders (the STEP model is `pcb.step`'s).
    Returns the file names by kind (relative to `outdir`)."""
    import csv

    board_path = Path(board_path)
    outdir = Path(outdir)
    stem = board_path.stem
    drill_dir = outdir / f"{stem}_drill"
    drill_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rackplane-out-") as tmp:
        for sibling in board_path.parent.glob(board_path.stem + ".kicad_*"):
            shutil.copy2(sibling, Path(tmp) / sibling.name)
        board = str(Path(tmp) / board_path.name)
        _kicad_cli(["pcb", "export", "drill", "--format", "excellon", "--excellon-separate-th",
                    "-o", str(drill_dir) + "/", board], "export drill")
        pos = outdir / f"{stem}_pos.csv"
        _kicad_cli(["pcb", "export", "pos", "--format", "csv", "--units", "mm", "--side", "both",
                    "--exclude-dnp", "-o", str(pos), board], "export pos")
        renders = {}
        for side in ("top", "bottom"):
            png = outdir / f"{stem}_{side}.png"
            _kicad_cli(["pcb", "render", "--side", side, "--width", "1600", "--height", "900",
                        "-o", str(png), board], f"render {side}")
            renders[side] = png.name
    bom = outdir / f"{stem}_board_bom.csv"  # from the laid-out board; the netlist stage writes {stem}_bom.csv
    rows: dict[tuple[str, str], list[str]] = {}
    with open(pos, newline="") as fh:
        for row in csv.DictReader(fh):
            rows.setdefault((row["Val"], row["Package"]), []).append(row["Ref"])
    with open(bom, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Quantity", "Value", "Footprint", "References"])
        for (val, pkg), refs in sorted(rows.items()):
            w.writerow([len(refs), val, pkg, " ".join(sorted(refs))])
    return {"drill": sorted(p.name for p in drill_dir.iterdir()), "drill_dir": drill_dir.name,
            "placement": pos.name, "bom": bom.name, "renders": renders}
