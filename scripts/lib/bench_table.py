"""Summarises benchmark runs (DIR/MODEL-MODE-REPEAT/metrics.json) as a markdown table of medians."""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

root = Path(sys.argv[1])
runs = defaultdict(list)
for metrics in sorted(root.glob("*/metrics.json")):
    model, mode, _ = metrics.parent.name.rsplit("-", 2)
    runs[(model, mode)].append(json.loads(metrics.read_text())["epochs"])

print("| model | how | epochs | s/epoch (median of epochs 1..N) | epoch-1 s | examples/s | test acc after 1 epoch"
      " | test acc after N | test loss after N | runs |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (model, mode), reps in sorted(runs.items()):
    n = len(reps[0])
    med = statistics.median
    per_epoch = med([med([e["fitSeconds"] for e in r]) for r in reps])
    first = med([r[0]["fitSeconds"] for r in reps])
    throughput = med([med([e["examplesPerSecond"] for e in r]) for r in reps])
    acc1 = med([r[0]["testAccuracy"] for r in reps])
    accn = med([r[-1]["testAccuracy"] for r in reps])
    lossn = med([r[-1]["testLoss"] for r in reps])
    how = "single JVM" if mode == "local" else "Spark local[2]"
    print(f"| {model} | {how} | {n} | {per_epoch:.1f} | {first:.1f} | {throughput:.0f} | {100*acc1:.2f}% "
          f"| {100*accn:.2f}% | {lossn:.4f} | {len(reps)} |")
