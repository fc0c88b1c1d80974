"""Output folder safety: rackplane replaces only folders it wrote, refuses its own and the user's
important folders before any work, and swaps outputs atomically."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rackplane import outdir
from rackplane.cli import main
from rackplane.design import DesignError
from rackplane.toolenv import PROJECT_ROOT
from tests.conftest import variant_table


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file and link under folder with its content hash (links by their target)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


@pytest.fixture
def user_folder(tmp_path):
    folder = tmp_path / "my-files"
    (folder / "sub").mkdir(parents=True)
    (folder / "thesis.txt").write_text("years of work")
    (folder / "sub" / "photo.jpg").write_bytes(b"\xff\xd8 not really a photo")
    return folder


def run_cli(args, capsys) -> tuple[int, str]:
    code = main([*args, "--quiet"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("command", ["build", "check"])
def test_a_folder_of_user_files_is_refused_and_left_byte_identical(command, user_folder, write_design, capsys):
    before = tree_digest(user_folder)
    code, err = run_cli([command, str(write_design(variant_table("x"))), "--out", str(user_folder)], capsys)
    assert code == 2
    assert "--out" in err and "rackplane wrote" in err
    assert tree_digest(user_folder) == before


def test_a_symlink_to_user_files_is_refused(user_folder, tmp_path, write_design, capsys):
    link = tmp_path / "link"
    link.symlink_to(user_folder)
    before = tree_digest(user_folder)
    code, err = run_cli(["build", str(write_design(variant_table("x"))), "--out", str(link)], capsys)
    assert code == 2 and str(user_folder) in err
    assert tree_digest(user_folder) == before and link.is_symlink()


def test_a_regular_file_is_refused(tmp_path, write_design, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    code, err = run_cli(["build", str(write_design(variant_table("x"))), "--out", str(target)], capsys)
    assert code == 2 and "is a file" in err
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("which", ["current folder", "empty path", "root", "home", "project", "design's folder",
                                   "ancestor of the current folder"])
def test_protected_folders_are_refused_at_once(which, tmp_path, monkeypatch, write_design, capsys):
    home = tmp_path / "home"
    (home / "docs").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work" / "deep"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    design = write_design(variant_table("x"))
    out = {"current folder": ".", "empty path": "", "root": "/", "home": str(home), "project": str(PROJECT_ROOT),
           "design's folder": str(design.parent), "ancestor of the current folder": ".."}[which]
    before = tree_digest(tmp_path)
    code, err = run_cli(["build", str(design), "--out", out], capsys)
    assert code == 2, err
    assert "bad input: --out" in err
    assert tree_digest(tmp_path) == before


def test_the_cache_and_folders_inside_it_are_refused(tmp_path, write_design, capsys, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RACKPLANE_CACHE_DIR", str(cache))
    design = write_design(variant_table("x"))
    for out in (cache, cache / "pcb.board"):
        code, err = run_cli(["build", str(design), "--out", str(out)], capsys)
        assert code == 2 and "cache" in err


def test_check_out_dir_accepts_new_empty_and_marked_folders(tmp_path):
    protected = outdir.protected_paths(None, PROJECT_ROOT, tmp_path / "cache")
    assert outdir.check_out_dir(str(tmp_path / "new" / "deeper"), protected) == tmp_path / "new" / "deeper"
    (tmp_path / "empty").mkdir()
    assert outdir.check_out_dir(str(tmp_path / "empty"), protected) == tmp_path / "empty"
    marked = tmp_path / "marked"
    marked.mkdir()
    (marked / "report.json").write_text("{}")
    with pytest.raises(DesignError):
        outdir.check_out_dir(str(marked), protected)
    outdir.write_marker(marked, outdir.marker_data("x", "00000000", "0", True))
    assert outdir.check_out_dir(str(marked), protected) == marked


def test_a_marker_that_is_not_rackplanes_does_not_count(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / outdir.MARKER).write_text('{"tool": "something else"}')
    (folder / "data").write_text("x")
    with pytest.raises(DesignError):
        outdir.check_out_dir(str(folder), outdir.protected_paths(None, PROJECT_ROOT, tmp_path / "c"))


def _marked(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(text)
    outdir.write_marker(folder, outdir.marker_data("x", "0", "0", True))
    return folder


def test_land_exchanges_the_folders_in_one_step(tmp_path):
    target = _marked(tmp_path / "out", "old")
    staging = outdir.new_staging(target)
    (staging / "report.json").write_text("new")
    outdir.land(staging, target)
    assert (target / "report.json").read_text() == "new"
    assert not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_leftovers_of_killed_builds_are_removed_and_a_moved_output_is_put_back(tmp_path):
    target = tmp_path / "out"
    old = _marked(tmp_path / ".out.rackplane-old-123", "previous")  # killed between two renames
    for name in (".out.rackplane-staging-7", ".out.staging-8", ".out.old-9"):
        (tmp_path / name).mkdir()
    (tmp_path / ".other.rackplane-staging-7").mkdir()   # another output's: not ours to touch
    (tmp_path / "out-notes.txt").write_text("user file")
    outdir.clean_leftovers(target)
    assert (target / "report.json").read_text() == "previous"
    assert not old.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.rackplane-staging-7", "out", "out-notes.txt"]


def test_the_output_lock_is_exclusive(tmp_path):
    import fcntl

    lock = outdir.OutputLock(tmp_path / "out", tmp_path / "locks")
    lock.acquire()
    other = os.open(lock.path, os.O_RDWR)
    with pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    lock.release()
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(other)
