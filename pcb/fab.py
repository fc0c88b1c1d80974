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
