"""Print locust's CSV summary as the Markdown table used in docs/performance.md."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

COLUMNS = ["Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%"]


def main(path: str) -> None:
    with Path(path).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    print("| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        values = [row[c] for c in COLUMNS]
        values[2] = f"{float(values[2]):.1f}"
        print(f"| {row['Name']} | " + " | ".join(values) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
