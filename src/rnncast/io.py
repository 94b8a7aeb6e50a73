"""Atomic file output: write to a temporary file beside the target, then rename.

Imports nothing heavy, so the command line can check output names before it
loads pandas or torch.

``os.replace`` is atomic on POSIX and Windows when source and target are on the same
file system, so an interrupted run leaves either the old file or the new one, never a
half-written file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rnncast.exceptions import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TABLE_FORMATS",
    "atomic_path",
    "atomic_replace_dir",
    "interrupted_replacement",
    "output_mode",
    "table_format",
    "write_frame",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary name keeps the suffix of ``path`` so that writers which choose
    their format from the suffix (matplotlib, pandas) still work. On an exception
    the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    if not target.parent.exists():
        raise DataError(
            f"cannot write {str(target)!r}: folder {str(target.parent)!r} does not "
            "exist. Create it first or choose another output path."
        )
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, output_mode())  # mkstemp creates 0600; outputs get normal modes
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def output_mode() -> int:
    """Return the mode of a new file: ``0o666`` less the process's umask."""
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def atomic_replace_dir(build: Path, target: Path) -> None:
    """Move the finished folder ``build`` onto ``target``, replacing any old one.

    On Linux the two folders are swapped in one atomic step (``renameat2`` with
    ``RENAME_EXCHANGE``) and the old one, now under the build name, is removed.
    Where that is not available the old folder is renamed aside first (to
    ``.NAME.old-XXXXXXXX``, see :func:`interrupted_replacement`) and removed only
    after the new one is in place, so at every moment a complete folder exists
    under one of the two names.
    """
    if not target.exists():
        os.replace(build, target)
    elif _exchange(build, target):
        shutil.rmtree(build, ignore_errors=True)  # now holds the old folder
    else:
        aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, aside)
        os.replace(build, target)
        shutil.rmtree(aside, ignore_errors=True)


def interrupted_replacement(target: Path) -> Path | None:
    """Return the old folder an interrupted :func:`atomic_replace_dir` left aside.

    Only when ``target`` itself is missing: the process stopped between moving
    the old folder aside and moving the new one in.
    """
    if target.exists():
        return None
    aside = sorted(target.parent.glob(f".{target.name}.old-*"))
    return aside[-1] if aside else None


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # no glibc 2.28+ (e.g. musl)
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(
        at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # the file system or kernel cannot exchange
    raise OSError(code, os.strerror(code), str(second))


# the table formats write_frame knows, by file suffix
TABLE_FORMATS = {
    ".csv": "CSV",
    ".parquet": "Parquet",
    ".pq": "Parquet",
    ".json": "JSON (one record per row)",
}


def table_format(path: str | os.PathLike[str]) -> str:
    """Return the suffix of ``path`` that names its table format; DataError if none.

    ``"-"`` (standard output) is CSV.
    """
    if str(path) == "-":
        return ".csv"
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        known = ", ".join(TABLE_FORMATS)
        raise DataError(
            f"cannot tell which format to write to {str(path)!r} from its suffix "
            f"{suffix or '(none)'!r}; name the file with one of {known}, or - for "
            "CSV on standard output."
        )
    return suffix


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` atomically, in the format of the suffix (:data:`TABLE_FORMATS`).

    ``.json`` writes one record per row with ISO timestamps; ``"-"`` writes CSV to
    standard output.
    """
    suffix = table_format(path)
    if str(path) == "-":
        frame.to_csv(sys.stdout, index=False)
        return
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        elif suffix == ".json":
            frame.to_json(tmp, orient="records", date_format="iso", indent=None)
        else:
            frame.to_parquet(tmp, index=False)
