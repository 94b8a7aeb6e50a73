"""Series split into shards, and folders of Parquet shards written safely.

A *shard* holds whole series (every row of a series is in one shard). A folder of
shards is the input and the output of the distributed jobs: each shard file is
written under a temporary name and renamed into place when complete, and the
folder's ``_manifest.json`` is written last, listing every part with its series
and rows. A folder without a manifest, or whose manifest does not match its parts,
is unfinished (:func:`read_manifest` says so); no part file ever looks complete
before it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnncast.exceptions import DataError, listing

__all__ = [
    "MANIFEST",
    "clear_output",
    "read_manifest",
    "shard_files",
    "split_series",
    "write_manifest",
    "write_part",
]

MANIFEST = "_manifest.json"


def split_series(
    frame: pd.DataFrame, shards: int, id_col: str = "unique_id"
) -> list[pd.DataFrame]:
    """Split a long frame into ``shards`` frames of whole series, by a stable hash.

    A series goes to shard ``md5(str(id)) mod shards`` (the same shard on every
    machine and run); empty shards are dropped.
    """
    ids = frame[id_col].astype(str)
    codes, uniques = pd.factorize(ids)
    owner = np.array([_stable_hash(u) % shards for u in uniques], dtype=np.int64)
    shard_of = owner[codes]
    return [
        frame[shard_of == k].reset_index(drop=True)
        for k in range(shards)
        if (shard_of == k).any()
    ]


def shard_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the Parquet files of a folder of shards, sorted by name.

    Raises DataError when the folder does not exist or holds none.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{str(path)!r} is not a folder of Parquet shards.")
    files = sorted(p for p in path.iterdir() if p.suffix in {".parquet", ".pq"})
    if not files:
        raise DataError(
            f"{str(path)!r} holds no .parquet files; give a folder with one file per "
            "shard of whole series."
        )
    return files


def write_part(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    """Write one part under a temporary name, then rename it to ``name`` (atomic)."""
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    partial = folder / f".{name}.{uuid.uuid4().hex}.partial"
    frame.to_parquet(partial, index=False)
    os.replace(partial, final)
    return final


def write_manifest(folder: Path, parts: Sequence[dict[str, Any]], **about: Any) -> None:
    """Write the manifest last: the folder is complete once it exists.

    ``parts``: one entry per part (``file``, ``series``, ``rows``...); a series
    in two parts is an error (every series is written exactly once).
    """
    seen: dict[Hashable, str] = {}
    twice = []
    for part in parts:
        for uid in part.get("ids", []):
            if uid in seen:
                twice.append(uid)
            seen[uid] = part["file"]
    if twice:
        raise DataError(
            f"series {listing(twice)} are in more than one shard; each series must "
            "be whole in one shard file."
        )
    content = {
        "format": "rnncast-shards",
        "parts": [{k: v for k, v in p.items() if k != "ids"} for p in parts],
        "series": len(seen),
        "rows": int(sum(p["rows"] for p in parts)),
        **about,
    }
    partial = folder / f".{MANIFEST}.{uuid.uuid4().hex}.partial"
    partial.write_text(json.dumps(content, indent=1, default=str))
    os.replace(partial, folder / MANIFEST)


def clear_output(folder: Path, ours: Callable[[Path], bool], job: str) -> None:
    """Make ``folder`` ready for a job's output: new, empty, or an earlier output.

    ``ours(path)`` says whether an entry is the job's (a part, a subfolder of
    parts, a partial file); an earlier manifest goes first (so an interrupted
    run never looks complete), then the job's entries; a folder holding anything
    else is refused, never emptied.
    """
    if not folder.exists():
        folder.mkdir(parents=True)
        return
    if not folder.is_dir():
        raise DataError(f"{str(folder)!r} exists and is not a folder.")
    others = sorted(p.name for p in folder.iterdir() if not ours(p))
    if others:
        raise DataError(
            f"{str(folder)!r} holds {others[:3]}, which rnncast did not write; give "
            f"a new or empty folder, or the output folder of an earlier {job}."
        )
    (folder / MANIFEST).unlink(missing_ok=True)
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the manifest of a complete output folder.

    Raises DataError when it is missing (the job did not finish) or names a part
    that is not there.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DataError(
            f"{str(folder)!r} has no {MANIFEST}: the job that writes it did not "
            "finish, so its parts may be incomplete. Run it again."
        )
    content = json.loads(path.read_text())
    missing = [
        p["file"] for p in content["parts"] if not (Path(folder) / p["file"]).is_file()
    ]
    if missing:
        raise DataError(
            f"{str(folder)!r} lacks the parts {missing} its manifest lists."
        )
    return dict(content)


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "little")
