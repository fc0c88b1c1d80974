"""The stage cache: one folder per (stage, key) holding the stage's artifacts and facts.

The root is `$RACKPLANE_CACHE_DIR`, else `$XDG_CACHE_HOME/rackplane`, else `~/.cache/rackplane`:
one place per user that rackplane owns, whatever `--out` is, so a cache never lands inside a
user's folder, two output folders share their entries, and deleting an output folder loses no
cached work. A key is a digest of everything a stage reads (its design values, its upstream
keys, the code), so two designs or two output folders never collide: equal keys mean equal
content.

Entries are written into a temporary folder and renamed into place, so an entry is complete or
absent. Each carries a manifest of its files' SHA-256; every hit is verified against it and an
entry that changed is deleted and rebuilt. Output folders receive copies (reflinks where the
file system has them), never links, so editing an output cannot reach the cache.

Locks (`fcntl.flock` on `<stage>/<key>.lock`): a build holds a shared lock on every entry it
uses until it ends and an exclusive one on every entry it makes; pruning deletes only entries
it can lock exclusively, and only names that match the cache's own patterns.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

MANIFEST = "manifest.json"
FACTS = "facts.json"
KEY_RE = re.compile(r"^[0-9a-f]{20}$")
TMP_RE = re.compile(r"^(?P<key>[0-9a-f]{20})\.tmp-(?P<pid>\d+)$")
LOCK_RE = re.compile(r"^(?P<key>[0-9a-f]{20})\.lock$")
STAGE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
KEEP_PER_STAGE = 8
_FICLONE = 0x40049409


def default_root() -> Path:
    env = os.environ.get("RACKPLANE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "rackplane"


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def copy_file(src: Path, dst: Path) -> None:
    """An independent copy of src at dst: a reflink where the file system can, else bytes."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
            return
        except OSError:
            pass
        shutil.copyfileobj(fin, fout, 1 << 20)


def copy_tree(src: Path, dst: Path, skip: tuple[str, ...] = (MANIFEST, FACTS)) -> None:
    """Copy every file of src into dst (same relative paths), except the cache's own files."""
    for path in _files(src):
        rel = path.relative_to(src)
        if len(rel.parts) == 1 and rel.name in skip:
            continue
        copy_file(path, dst / rel)


class StageCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[Path, int] = {}   # lock file -> open descriptor
        self._held: set[Path] = set()       # lock files this build holds a lock on

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tag = self.root / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                           "# rackplane's stage cache: safe to delete; see rackplane/cache.py\n")

    def entry(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    # --- locks ------------------------------------------------------------------------------
    def _lock(self, stage: str, key: str, mode: int) -> bool:
        path = self.root / stage / f"{key}.lock"
        fd = self._locks.get(path)
        if fd is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            self._locks[path] = fd
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held.add(path)
        return True

    def acquire(self, stage: str, key: str) -> str | None:
        """Lock an entry: "exclusive" when no other build holds it (this build may make, verify
        and delete it), "shared" when other builds only use it, None while another makes it."""
        if self._lock(stage, key, fcntl.LOCK_EX):
            return "exclusive"
        if self._lock(stage, key, fcntl.LOCK_SH):
            return "shared"
        return None

    def share(self, stage: str, key: str) -> None:
        """Turn this build's exclusive lock on an entry into a shared one (it now only uses it)."""
        self._lock(stage, key, fcntl.LOCK_SH)

    def unlock(self, stage: str, key: str) -> None:
        path = self.root / stage / f"{key}.lock"
        fd = self._locks.get(path)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            self._held.discard(path)

    def _in_use(self, lock_path: Path) -> bool:
        """Whether this build locked the entry before pruning began (it uses or made it)."""
        return lock_path in self._held

    def release_all(self) -> None:
        for fd in self._locks.values():
            os.close(fd)
        self._locks.clear()
        self._held.clear()

    # --- entries ----------------------------------------------------------------------------
    def lookup(self, stage: str, key: str, exclusive: bool) -> dict | None:
        """The facts of a complete, unchanged entry (marking it used), or None. An entry whose
        files differ from its manifest is removed when this build holds it exclusively."""
        final = self.entry(stage, key)
        if not (final / MANIFEST).is_file():
            return None
        if not self._verified(final):
            if exclusive:
                shutil.rmtree(final, ignore_errors=True)
            return None
        os.utime(final)
        return json.loads((final / FACTS).read_text())

    def _verified(self, final: Path) -> bool:
        try:
            manifest = json.loads((final / MANIFEST).read_text())["files"]
            present = {str(p.relative_to(final)) for p in _files(final)} - {MANIFEST}
            if present != set(manifest):
                return False
            return all(file_digest(final / rel) == digest for rel, digest in manifest.items())
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def workdir(self, stage: str, key: str) -> Path:
        work = self.root / stage / f"{key}.tmp-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        return work

    def store(self, stage: str, key: str, work: Path, facts: dict) -> Path:
        """Seal `work` as the entry (stage, key): facts, manifest, one rename."""
        (work / FACTS).write_text(json.dumps(facts, indent=1, sort_keys=True))
        files = {str(p.relative_to(work)): file_digest(p) for p in _files(work)}
        (work / MANIFEST).write_text(json.dumps({"files": files}, indent=1, sort_keys=True))
        final = self.entry(stage, key)
        shutil.rmtree(final, ignore_errors=True)  # a stale, unverifiable entry: we hold its lock
        work.rename(final)
        return final

    # --- pruning ----------------------------------------------------------------------------
    def prune(self, keep: int = KEEP_PER_STAGE) -> None:
        """Per stage, delete all but the `keep` most recently used entries that no build uses,
        and the temporary folders of builds that are gone. Touches only the cache's own names."""
        if not self.root.is_dir():
            return
        for stage_dir in sorted(self.root.iterdir()):
            if stage_dir.is_dir() and not stage_dir.is_symlink() and STAGE_RE.match(stage_dir.name):
                self._prune_stage(stage_dir, keep)

    def _prune_stage(self, stage_dir: Path, keep: int) -> None:
        for path in stage_dir.iterdir():
            m = TMP_RE.match(path.name)
            if m and path.is_dir() and not _alive(int(m["pid"])):
                shutil.rmtree(path, ignore_errors=True)
        entries = sorted((p for p in stage_dir.iterdir() if p.is_dir() and KEY_RE.match(p.name)),
                         key=_mtime, reverse=True)
        for old in entries[keep:]:
            if self._in_use(stage_dir / f"{old.name}.lock"):
                continue
            if self._lock(stage_dir.name, old.name, fcntl.LOCK_EX):
                shutil.rmtree(old, ignore_errors=True)
                (stage_dir / f"{old.name}.lock").unlink(missing_ok=True)
        for path in stage_dir.iterdir():  # locks of entries that are gone
            m = LOCK_RE.match(path.name)
            if m and not (stage_dir / m["key"]).exists() and path.is_file() and not self._in_use(path):
                if self._lock(stage_dir.name, m["key"], fcntl.LOCK_EX):
                    path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
