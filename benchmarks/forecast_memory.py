"""Peak memory and time of forecasting a folder of Parquet shards, by panel size.

Usage: python benchmarks/forecast_memory.py [--series 10000 100000] [--shards 8]

The panel is benchmarks/scale.py's (Tourism monthly tiled to 200 values); a
``Forecaster(horizon=12)`` fitted on 2,000 of its series is saved, the panel of
each size written as ``--shards`` Parquet files, and
``rnncast.distributed.forecast_files`` run in a fresh Python process (the local
engine: one shard after the other), which reports its own peak resident memory
(``VmHWM``) and wall time. What grows with the series is the shard in
memory and its forecasts, so the peak tracks the shard size, not the panel.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rnncast import Forecaster
from rnncast.distributed import split_series
from scale import panel

# VmHWM, not ru_maxrss: Linux keeps the parent's high-water mark in a child's
# ru_maxrss across fork and exec, while VmHWM belongs to the new program
CHILD = """
import re, sys, time
from pathlib import Path
from rnncast.distributed import forecast_files
start = time.perf_counter()
forecast_files(sys.argv[1], sys.argv[2], sys.argv[3], engine="local")
seconds = time.perf_counter() - start
status = Path("/proc/self/status").read_text()
print(seconds, int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", nargs="+", type=int, default=[10000, 100000])
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rnncast-memory-"))
    try:
        Forecaster(horizon=12, seed=0).fit(panel(2000, 200)).save(work / "model")
        print("| series | shards | seconds | ms per series | peak memory (MiB) |")
        print("|---|---|---|---|---|")
        for n in args.series:
            source = work / f"in-{n}"
            source.mkdir()
            for k, shard in enumerate(split_series(panel(n, 200, seed=1), args.shards)):
                shard.to_parquet(source / f"shard-{k}.parquet", index=False)
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(work / "model"),
                    str(source),
                    str(work / f"out-{n}"),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            seconds, peak = float(out[-2]), float(out[-1])
            print(
                f"| {n:,} | {args.shards} | {seconds:.1f} | "
                f"{1000 * seconds / n:.2f} | {peak:,.0f} |",
                flush=True,
            )
            shutil.rmtree(source)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
