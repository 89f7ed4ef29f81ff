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

print("| model | how | epochs | s/epoch (median of epochs 1..N) | epoch-1 s | s/epoch (median of epochs 2..N)"
      " | examples/s | averaging overhead ms/round | overhead % of epoch | test acc after 1 epoch"
      " | test acc after N | test loss after N | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
HOW = {"local": "single JVM", "spark": "Spark local[2], dl4j master", "dl4j": "Spark local[2], dl4j master",
       "resident": "Spark local[2], resident engine"}
for (model, mode), reps in sorted(runs.items()):
    n = len(reps[0])
    med = statistics.median
    per_epoch = med([med([e["fitSeconds"] for e in r]) for r in reps])
    first = med([r[0]["fitSeconds"] for r in reps])
    throughput = med([med([e["examplesPerSecond"] for e in r]) for r in reps])
    acc1 = med([r[0]["testAccuracy"] for r in reps])
    accn = med([r[-1]["testAccuracy"] for r in reps])
    lossn = med([r[-1]["testLoss"] for r in reps])
    later = med([med([e["fitSeconds"] for e in r[1:]]) for r in reps]) if n > 1 else float("nan")
    overheads = [e.get("overheadMsPerRound") for r in reps for e in r[1:] or r]
    overheads = [o for o in overheads if o is not None]
    shares = [(e["fitSeconds"] - e.get("computeSeconds", e["fitSeconds"])) / e["fitSeconds"]
              for r in reps for e in (r[1:] or r) if e.get("averagingRounds")]
    ovh = f"{med(overheads):.1f}" if overheads else "-"
    share = f"{100 * med(shares):.0f}%" if shares else "-"
    how = HOW.get(mode, mode)
    print(f"| {model} | {how} | {n} | {per_epoch:.1f} | {first:.1f} | {later:.1f} | {throughput:.0f} | {ovh} "
          f"| {share} | {100*acc1:.2f}% | {100*accn:.2f}% | {lossn:.4f} | {len(reps)} |")
