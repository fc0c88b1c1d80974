"""SKiDL, imported once and set up for KiCad 9 without writing files or console noise.

SKiDL 3.0 defaults to KiCad 10, opens `<script>.log` / `.erc` files in the current folder at
import, and prints warnings about symbol and footprint tables to stderr. `skidl()` returns the
module with the tool set to KiCad 9, KiCad's symbol folder on the search path, those log files
closed (SKiDL deletes them) and its console handlers removed: callers capture SKiDL's messages
with `capture_messages`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from typing import Iterator

KICAD_SYMBOL_DIR = "/usr/share/kicad/symbols"

_module = None


def skidl():
    """The configured skidl module (imported on first use)."""
    global _module
    if _module is None:
        for version in ("", "5", "6", "7", "8", "9", "10"):
            os.environ.setdefault(f"KICAD{version}_SYMBOL_DIR", KICAD_SYMBOL_DIR)
        with contextlib.redirect_stderr(io.StringIO()):  # import-time table warnings
            import skidl as sk
        sk.set_default_tool(sk.KICAD9)
        if KICAD_SYMBOL_DIR not in sk.lib_search_paths[sk.KICAD9]:
            sk.lib_search_paths[sk.KICAD9].append(KICAD_SYMBOL_DIR)
        sk.logger.stop_log_file_output()
        for logger in (sk.logger.rt_logger, sk.erc_logger):
            for handler in list(logger.handlers):
                if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                    logger.removeHandler(handler)
        _module = sk
    return _module


_libraries: dict[str, object] = {}


def symbol_library(name: str):
    """A KiCad symbol library (`/usr/share/kicad/symbols/<name>.kicad_sym`) loaded once per process.

    SKiDL clears its own library cache whenever a Circuit is created, so without this every
    build would re-read each library (about 0.5 s each)."""
    if name not in _libraries:
        _libraries[name] = skidl().SchLib(name)
    return _libraries[name]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname, record.getMessage().strip()))


@contextlib.contextmanager
def capture_messages() -> Iterator[list[tuple[str, str]]]:
    """Collect (level, message) of everything SKiDL logs inside the block."""
    sk = skidl()
    handler = _Collect()
    loggers = (sk.logger.rt_logger, sk.erc_logger)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
