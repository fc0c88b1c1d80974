"""Environment for KiCad and the other external tools, kept inside the project.

KiCad writes its configuration to ~/.config/kicad unless KICAD_CONFIG_HOME is set; rackplane
points it at `<project>/.kicad-config` (scripts/setup fills it with the library tables).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KICAD_CONFIG_HOME = PROJECT_ROOT / ".kicad-config"


def ensure_kicad_env() -> None:
    """Set KICAD_CONFIG_HOME for this process and its children (idempotent)."""
    os.environ.setdefault("KICAD_CONFIG_HOME", str(KICAD_CONFIG_HOME))
    cfg = Path(os.environ["KICAD_CONFIG_HOME"]) / "9.0"
    if not (cfg / "fp-lib-table").exists():
        cfg.mkdir(parents=True, exist_ok=True)
        for table in ("fp-lib-table", "sym-lib-table"):
            src = Path("/usr/share/kicad/template") / table
            if src.exists():
                shutil.copy(src, cfg / table)


def require_tool(name: str) -> str:
    """Path of an external program, or a clear error naming what installs it."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed: run scripts/setup")
    return path
