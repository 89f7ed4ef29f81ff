"""Summarises benchmark-cluster.sh runs (DIR/MODEL-wN/metrics.json) as a markdown table."""
import json
import statistics
import sys
from pathlib import Path

root = Path(sys.argv[1])
rows = {}
for metrics in sorted(root.glob("*-w*/metrics.json")):
    model, workers = metrics.parent.name.rsplit("-w", 1)
    epochs = json.loads(metrics.read_text())["epochs"]
    rows[(model, int(workers))] = epochs

print("| model | workers | epochs | s/epoch (median) | examples/s (median) | test acc after last epoch | 2-worker / 1-worker throughput |")
print("|---|---|---|---|---|---|---|")
for (model, workers), epochs in sorted(rows.items()):
    med_s = statistics.median(e["fitSeconds"] for e in epochs)
    med_x = statistics.median(e["examplesPerSecond"] for e in epochs)
    ratio = ""
    if workers == 2 and (model, 1) in rows:
        one = statistics.median(e["examplesPerSecond"] for e in rows[(model, 1)])
        ratio = f"{med_x / one:.2f}x"
    print(f"| {model} | {workers} | {len(epochs)} | {med_s:.1f} | {med_x:.0f} | {100 * epochs[-1]['testAccuracy']:.2f}% | {ratio} |")
