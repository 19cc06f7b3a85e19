"""What the benchmarks share: run one measurement in a fresh Python process.

A runner is Python source in two parts split by a ``# run`` line: setup (imports, not
timed) and the timed body, which sets ``events`` (and may set ``quarantined``). SRC and
DB name the input file and a fresh workspace file in a temporary folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PROBE = """
import resource, time, json
{setup}
quarantined = 0
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
print(json.dumps({{"events": events, "quarantined": quarantined, "seconds": elapsed,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(runner: str, source: Path, label: str) -> dict:
    """Run ``runner`` on ``source`` in a fresh process; its events, seconds and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        setup, body = textwrap.dedent(runner).split("# run\n")
        setup = f"SRC = {str(source)!r}\nDB = {str(db)!r}\n" + setup
        program = PROBE.format(setup=setup, body=body)
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{label} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])
