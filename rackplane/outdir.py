"""The output folder: which folders rackplane may replace, its lock, and the atomic swap.

A build writes everything into a staging folder beside the output folder and, when it is
complete, exchanges the two in one `renameat2(RENAME_EXCHANGE)` system call: a reader (or a
build killed at any moment) sees the previous outputs or the new ones, never a mix and never
none. Every output folder carries a marker file (`MARKER`) naming the design it holds; rackplane
only ever replaces a folder that is empty or carries that marker, and never one that is, or
contains, the current folder, the home folder, the project, the design file or the cache.

A lock (`fcntl.flock`, in the cache root so that nothing is left beside the user's folders)
serialises builds into one output folder; holding it, a build removes the staging and swap
folders that killed builds left behind.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from rackplane.design import DesignError

MARKER = ".rackplane-output.json"
FAILED_REPORT_STEM = "report.failed"
_STAGING = "rackplane-staging"
_OLD = "rackplane-old"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _refuse(out: str, why: str) -> DesignError:
    return DesignError("--out", out, why)


def protected_paths(design_path: Path | None, project_root: Path, cache_root: Path) -> dict[str, Path]:
    """Folders (and the design file) that an output folder may neither be nor contain."""
    paths = {"the current folder": Path.cwd(), "the home folder": Path.home(),
             "the rackplane project": project_root, "the stage cache": cache_root}
    if design_path is not None:
        paths["the design file"] = Path(design_path)
    return {what: Path(os.path.realpath(p)) for what, p in paths.items()}


def read_marker(folder: Path) -> dict | None:
    """The marker of an output folder rackplane wrote, or None."""
    path = folder / MARKER
    try:
        if not path.is_file() or path.stat().st_size > 65536:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("tool") == "rackplane" else None


def check_out_dir(out: str, protected: dict[str, Path]) -> Path:
    """The output folder `out` resolved (symlinks followed), or DesignError (exit 2) when
    rackplane must not write there. Nothing is created or changed."""
    if not out or not out.strip():
        raise _refuse(out, "a folder path (an empty path is not one)")
    target = Path(os.path.realpath(os.path.abspath(out)))
    for what, path in protected.items():
        if target == path or target in path.parents:
            relation = "is" if target == path else "contains"
            raise _refuse(out, f"a folder of rackplane's own: {target} {relation} {what} ({path})")
        if path in target.parents and what == "the stage cache":
            raise _refuse(out, f"a folder outside the stage cache ({path})")
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise _refuse(out, f"a folder: {target} is a file")
        if any(target.iterdir()) and read_marker(target) is None:
            raise _refuse(out, f"an empty folder or one that rackplane wrote: {target} holds files and no "
                               f"{MARKER}; choose a new folder")
    return target


def marker_data(design_name: str, design_hash: str, version: str, complete: bool) -> dict:
    return {"tool": "rackplane", "version": version, "design": design_name, "design_hash": design_hash,
            "complete": complete}


def write_marker(folder: Path, data: dict) -> None:
    write_atomic(folder / MARKER, json.dumps(data, indent=1, sort_keys=True) + "\n")


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class OutputLock:
    """An exclusive lock on one output folder, held for a whole build (released when the process
    ends, however it ends). The lock file lives in `lock_dir`, named by the folder's path."""

    def __init__(self, target: Path, lock_dir: Path) -> None:
        lock_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(target).encode()).hexdigest()[:24]
        self.path = lock_dir / f"out-{name}.lock"
        self.fd: int | None = None

    def acquire(self, on_wait=None) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _sibling(target: Path, kind: str) -> Path:
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}")


def _leftovers(target: Path) -> list[Path]:
    """Staging and swap folders of earlier, killed builds into `target` (and the names older
    versions of rackplane used)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.({_STAGING}|{_OLD}|staging|old)-\d+$")
    parent = target.parent
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if pattern.match(p.name))


def clean_leftovers(target: Path) -> None:
    """Remove what killed builds left beside `target`; call with the output lock held. A
    folder moved aside by a build killed mid-swap, with no output folder in its place, is put
    back first."""
    leftovers = _leftovers(target)
    if not target.exists():
        old = [p for p in leftovers if (f".{_OLD}-" in p.name or ".old-" in p.name) and read_marker(p) is not None]
        if old:
            newest = max(old, key=lambda p: p.stat().st_mtime)
            newest.rename(target)
            leftovers.remove(newest)
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def new_staging(target: Path) -> Path:
    staging = _sibling(target, _STAGING)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when the file system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def land(staging: Path, target: Path) -> None:
    """Put the complete `staging` folder in place of `target` atomically, then delete the
    previous outputs. Call with the output lock held."""
    if not target.exists():
        staging.rename(target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = _sibling(target, _OLD)  # two renames: clean_leftovers restores `old` if killed between
    target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
