"""A build with the real tools is safe to interrupt, kill, run twice at once and edit around:
outputs are copies, cache entries are verified, the previous outputs survive anything but a
complete build."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from rackplane import __version__, outdir
from rackplane.cache import default_root
from rackplane.cli import main
from tests.conftest import ROOT, variant_table
from tests.test_outdir import tree_digest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def default_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("safety") / "default"
    assert main(["build", "--out", str(out), "--quiet"]) == 0
    return out


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def test_outputs_are_independent_copies_of_the_cache(default_out):
    board = default_out / "pcb" / "carrier.kicad_pcb"
    assert board.stat().st_nlink == 1
    cached = [p for p in default_root().glob("pcb.carrier_board/*/carrier.kicad_pcb")
              if p.read_bytes() == board.read_bytes()]
    assert cached and all(p.stat().st_ino != board.stat().st_ino for p in cached)


def test_an_edited_output_board_does_not_reach_the_next_build(default_out, tmp_path):
    generated = (default_out / "pcb" / "carrier.kicad_pcb").read_bytes()
    with open(default_out / "pcb" / "carrier.kicad_pcb", "ab") as fh:
        fh.write(b"\n(edited in KiCad)\n")
    fresh = tmp_path / "fresh"
    assert main(["build", "--out", str(fresh), "--quiet"]) == 0
    assert (fresh / "pcb" / "carrier.kicad_pcb").read_bytes() == generated


def test_a_cache_entry_that_changed_is_rebuilt(default_out, tmp_path):
    key_dirs = [p.parent for p in default_root().glob("air.model/*/airflow.json")]
    for entry in key_dirs:
        (entry / "airflow.json").write_text('{"tampered": true}')
    out = tmp_path / "again"
    assert main(["build", "--out", str(out), "--quiet"]) == 0
    runs = {s["name"]: s for s in report(out)["stages"]}
    assert runs["air.model"]["cached"] is False
    assert "tampered" not in (out / "airflow" / "airflow.json").read_text()


def test_check_into_another_designs_folder_keeps_none_of_its_files(default_out, tmp_path, write_design):
    out = tmp_path / "shared"
    assert main(["build", "--out", str(out), "--quiet"]) == 0
    assert (out / "pcb" / "gerbers.zip").exists()
    path = write_design(variant_table("other", slots={"count": 2}), "other.toml")
    main(["check", str(path), "--out", str(out), "--quiet"])
    assert report(out)["design"]["slots"]["count"] == 2
    assert not (out / "pcb" / "gerbers.zip").exists()  # the default's Gerbers would describe another board
    assert f"other v{__version__}" in (out / "pcb" / "backplane.kicad_pcb").read_text()
    assert outdir.read_marker(out)["design"] == "other"


def test_leftovers_of_killed_builds_are_cleaned(default_out, tmp_path):
    out = tmp_path / "out"
    for name in (".out.rackplane-staging-123", ".out.staging-456", ".out.old-789"):
        (tmp_path / name).mkdir()
    assert main(["build", "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_two_builds_into_one_folder_at_once_both_succeed(default_out, tmp_path):
    out = tmp_path / "twice"
    cmd = [sys.executable, "-m", "rackplane.cli", "build", "--out", str(out), "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0, 0], [p.stderr.read().decode()[-2000:] for p in procs]
    assert report(out)["summary"]["status"] == "pass"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice"]


# --- signals: a cold build (own cache) interrupted while its first stages run -----------------

def _tagged_processes(tag: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if tag.encode() in (proc / "environ").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def _start_cold_build(tmp_path: Path, out: Path) -> tuple[subprocess.Popen, str, list[str]]:
    tag = f"RACKPLANE_TEST_TAG={uuid.uuid4().hex}"
    env = {**os.environ, "RACKPLANE_CACHE_DIR": str(tmp_path / "cold-cache"), tag.split("=")[0]: tag.split("=")[1]}
    proc = subprocess.Popen([sys.executable, "-m", "rackplane.cli", "build", "--out", str(out)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    deadline = time.monotonic() + 120
    while sum(" ..." in line for line in lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # two stages started: workers and tools are running
    time.sleep(2.0)
    return proc, tag, lines


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_a_signal_ends_the_build_its_workers_and_tools_and_keeps_the_previous_outputs(signum, code, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text('{"previous": "complete outputs"}')
    outdir.write_marker(out, outdir.marker_data("default", "0", "0", True))
    before = tree_digest(out)
    proc, tag, lines = _start_cold_build(tmp_path, out)
    assert proc.poll() is None, "".join(lines)
    assert len(_tagged_processes(tag)) >= 3  # main, watchdog, workers
    t0 = time.monotonic()
    proc.send_signal(signum)
    assert proc.wait(timeout=10) == code
    assert time.monotonic() - t0 < 5
    deadline = time.monotonic() + 5
    while _tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _tagged_processes(tag) == []
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", "cold-cache"]) or \
        signum == signal.SIGKILL  # a killed build leaves its staging folder to the next build's cleanup
