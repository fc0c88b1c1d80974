"""What checks see: the resolved design, its Layout, and each stage's facts and folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class BuildContext:
    design: Any                                   # resolved rackplane.design.Design
    layout: Any                                   # rackplane.layout.Layout
    facts: dict[str, dict] = field(default_factory=dict)        # stage name -> facts
    stage_dirs: dict[str, Path] = field(default_factory=dict)   # stage name -> its artifact folder
    stage_errors: dict[str, str] = field(default_factory=dict)  # stage name -> why it failed

    def path(self, stage: str, relpath: str) -> Path:
        """An artifact of a stage (relative to the stage's folder)."""
        return self.stage_dirs[stage] / relpath
