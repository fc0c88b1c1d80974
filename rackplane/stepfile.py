"""STEP (ISO 10303-21) header normalisation: the export time in FILE_NAME is replaced by a fixed
value, so the same model gives byte-identical files (OCCT and kicad-cli both stamp the time)."""

from __future__ import annotations

import re
from pathlib import Path

STEP_TIME_STAMP = "2000-01-01T00:00:00"
_FILE_NAME = re.compile(r"(FILE_NAME\('[^']*',')[^']*(')")


def fixed_time_stamp(text: str) -> str:
    """The STEP text with its FILE_NAME time stamp set to STEP_TIME_STAMP."""
    return _FILE_NAME.sub(lambda m: m.group(1) + STEP_TIME_STAMP + m.group(2), text, count=1)


def normalise_step_file(path: Path) -> Path:
    """Rewrite the STEP file at path with a fixed time stamp; return path."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    path.write_text(fixed_time_stamp(text), encoding="utf-8", errors="surrogateescape")
    return path
