"""The stage cache: entries are complete or absent, verified on every hit, copied (never linked)
into outputs, and pruning touches only the cache's own names."""

from __future__ import annotations

import os
import time

from rackplane.cache import StageCache, copy_tree

KEY = "0123456789abcdef0123"


def make_entry(cache: StageCache, stage: str, key: str, text: str = "board") -> None:
    assert cache.acquire(stage, key) == "exclusive"
    work = cache.workdir(stage, key)
    (work / "pcb").mkdir()
    (work / "pcb" / "board.kicad_pcb").write_text(text)
    cache.store(stage, key, work, {"answer": 42})
    cache.share(stage, key)


def test_a_stored_entry_is_found_with_its_facts(tmp_path):
    cache = StageCache(tmp_path)
    make_entry(cache, "pcb.board", KEY)
    assert cache.lookup("pcb.board", KEY, exclusive=False) == {"answer": 42}


def test_an_entry_whose_file_changed_is_a_miss_and_is_removed(tmp_path):
    cache = StageCache(tmp_path)
    make_entry(cache, "pcb.board", KEY)
    (cache.entry("pcb.board", KEY) / "pcb" / "board.kicad_pcb").write_text("edited in KiCad")
    assert cache.lookup("pcb.board", KEY, exclusive=False) is None
    assert cache.entry("pcb.board", KEY).exists()  # others may use it: only an exclusive holder deletes
    assert cache.lookup("pcb.board", KEY, exclusive=True) is None
    assert not cache.entry("pcb.board", KEY).exists()


def test_an_entry_with_an_extra_or_missing_file_is_a_miss(tmp_path):
    cache = StageCache(tmp_path)
    make_entry(cache, "pcb.board", KEY)
    (cache.entry("pcb.board", KEY) / "stray.txt").write_text("x")
    assert cache.lookup("pcb.board", KEY, exclusive=False) is None
    os.remove(cache.entry("pcb.board", KEY) / "stray.txt")
    os.remove(cache.entry("pcb.board", KEY) / "pcb" / "board.kicad_pcb")
    assert cache.lookup("pcb.board", KEY, exclusive=False) is None


def test_outputs_are_copies_not_links(tmp_path):
    cache = StageCache(tmp_path / "cache")
    make_entry(cache, "pcb.board", KEY)
    copy_tree(cache.entry("pcb.board", KEY), tmp_path / "out")
    out = tmp_path / "out" / "pcb" / "board.kicad_pcb"
    cached = cache.entry("pcb.board", KEY) / "pcb" / "board.kicad_pcb"
    assert out.stat().st_ino != cached.stat().st_ino and out.stat().st_nlink == 1
    out.write_text("edited")
    assert cached.read_text() == "board"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pcb"]  # no facts or manifest


def test_an_entry_another_build_makes_is_not_taken(tmp_path):
    mine, theirs = StageCache(tmp_path), StageCache(tmp_path)
    assert theirs.acquire("pcb.board", KEY) == "exclusive"
    assert mine.acquire("pcb.board", KEY) is None
    theirs.share("pcb.board", KEY)
    assert mine.acquire("pcb.board", KEY) == "shared"


def test_prune_keeps_the_newest_entries_and_touches_nothing_else(tmp_path):
    cache = StageCache(tmp_path)
    keys = [f"{i:020x}" for i in range(12)]
    for i, key in enumerate(keys):
        make_entry(cache, "pcb.board", key)
        os.utime(cache.entry("pcb.board", key), (time.time() - 1000 + i, time.time() - 1000 + i))
    cache.release_all()
    (tmp_path / "pcb.board" / "notes.txt").write_text("a plain file")
    (tmp_path / "pcb.board" / "my-folder").mkdir()
    (tmp_path / "pip").mkdir()
    for i in range(5):
        (tmp_path / "pip" / f"{i:020x}").mkdir()
    dead = tmp_path / "pcb.board" / f"{keys[0]}.tmp-999999"
    dead.mkdir()
    StageCache(tmp_path).prune(keep=8)
    left = sorted(p.name for p in (tmp_path / "pcb.board").iterdir() if p.is_dir())
    assert left == sorted(keys[4:] + ["my-folder"])
    assert (tmp_path / "pcb.board" / "notes.txt").exists()
    assert len(list((tmp_path / "pip").iterdir())) == 5


def test_prune_spares_entries_in_use(tmp_path):
    cache = StageCache(tmp_path)
    keys = [f"{i:020x}" for i in range(3)]
    for key in keys:
        make_entry(cache, "pcb.board", key)
    other = StageCache(tmp_path)
    other.prune(keep=0)
    assert all(cache.entry("pcb.board", k).exists() for k in keys)
    cache.release_all()
    other.prune(keep=0)
    assert not any(cache.entry("pcb.board", k).exists() for k in keys)
