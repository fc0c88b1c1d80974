"""rackplane: Raspberry Pi clusters for a 19-inch rack, as code."""

from rackplane.toolenv import ensure_kicad_env

ensure_kicad_env()

__version__ = "0.1.0"
