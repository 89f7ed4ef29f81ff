"""Summarises benchmark-cluster.sh runs (DIR/MODEL-ENGINE-wN/metrics.json) as a markdown table."""
import json
import statistics
import sys
from pathlib import Path

root = Path(sys.argv[1])
rows = {}
for metrics in sorted(root.glob("*-w*/metrics.json")):
    name, workers = metrics.parent.name.rsplit("-w", 1)
    model, engine = name.rsplit("-", 1) if "-" in name else (name, "dl4j")
    rows[(model, engine, int(workers))] = json.loads(metrics.read_text())["epochs"]

med = statistics.median
print("| model | engine | workers | epochs | s/epoch (median) | last epoch s | examples/s (median) "
      "| overhead ms/round (median) | test acc after last epoch | 2-worker / 1-worker throughput |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (model, engine, workers), epochs in sorted(rows.items()):
    med_s = med(e["fitSeconds"] for e in epochs)
    med_x = med(e["examplesPerSecond"] for e in epochs)
    overheads = [e.get("overheadMsPerRound") for e in epochs if e.get("overheadMsPerRound") is not None]
    ovh = f"{med(overheads):.1f}" if overheads else "-"
    ratio = ""
    if workers == 2 and (model, engine, 1) in rows:
        one = med(e["examplesPerSecond"] for e in rows[(model, engine, 1)])
        ratio = f"{med_x / one:.2f}x"
    print(f"| {model} | {engine} | {workers} | {len(epochs)} | {med_s:.1f} | {epochs[-1]['fitSeconds']:.1f} "
          f"| {med_x:.0f} | {ovh} | {100 * epochs[-1]['testAccuracy']:.2f}% | {ratio} |")
