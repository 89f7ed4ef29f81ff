"""Summarises scripts/benchmark-peer.sh runs (DIR/MODEL-torch-R.jsonl, DIR/MODEL-{local,resident}-R/metrics.json)
as one markdown table of medians over repeats: epoch-1 and epoch-2 fit seconds, examples/s and test accuracy after
the last epoch, each row's epoch-2 time as a multiple of PyTorch's best (the faster of its rows), and the resident
engine's averaging rounds in epoch 2 (with --averaging-frequency auto they follow the probe's choice, which varies from
run to run: fewer rounds, less averaging)."""
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

root = Path(sys.argv[1])
runs = defaultdict(list)  # (model, who) -> [epochs as dicts]
for f in sorted(root.glob("*.jsonl")):
    model, who, _ = f.stem.rsplit("-", 2)
    runs[(model, who)].append([json.loads(line) for line in f.read_text().splitlines() if line.strip()])
for f in sorted(root.glob("*/metrics.json")):
    model, who, _ = f.parent.name.rsplit("-", 2)
    runs[(model, who)].append(json.loads(f.read_text())["epochs"])

machine = root / "machine.txt"  # written by benchmark-peer.sh: the ratios move with the machine
if machine.exists():
    print("machine: " + machine.read_text().strip() + "\n")

BATCH = {"lenet": 64, "mlp": 128}
WHO = {"torch1": "PyTorch {v}, 1 thread", "torch": "PyTorch {v}, {t} threads (OpenBLAS 1)", "local": "ours, one JVM (`--mode local`)",
       "resident": "ours, resident engine `local[2]` (2 workers x {half})"}
print("| model | global batch | who | epoch-1 s | epoch-2 s | examples/s (epoch 2) | x PyTorch's best (epoch 2)"
      " | epoch 1 / epoch 2 | test acc after last | averaging rounds (epoch 2) | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
med = statistics.median
def epoch2(reps):
    return med([r[1]["fitSeconds"] for r in reps]) if all(len(r) > 1 for r in reps) else float("nan")


for model in sorted({m for m, _ in runs}):
    torch_rows = [epoch2(runs[(model, w)]) for w in ("torch1", "torch") if (model, w) in runs]
    base = min(torch_rows) if torch_rows else None
    for who in ("torch1", "torch", "local", "resident"):
        reps = runs.get((model, who))
        if not reps:
            continue
        e1 = med([r[0]["fitSeconds"] for r in reps])
        e2 = epoch2(reps)
        eps = med([r[1]["examplesPerSecond"] for r in reps]) if all(len(r) > 1 for r in reps) else float("nan")
        acc = med([r[-1]["testAccuracy"] for r in reps])
        ratio = f"{e2 / base:.2f}x" if base else "-"
        rounds = sorted(r[1]["averagingRounds"] for r in reps if len(r) > 1 and r[1].get("averagingRounds"))
        rounds = " / ".join(str(n) for n in rounds) if rounds else "-"
        label = WHO[who].format(v=reps[0][0].get("torch", "?"), t=reps[0][0].get("threads", "?"),
                                half=BATCH[model] // 2)
        print(f"| {model} | {BATCH[model]} | {label} | {e1:.1f} | {e2:.1f} | {eps:,.0f} | {ratio} | {e1 / e2:.2f}"
              f" | {100 * acc:.2f} % | {rounds} | {len(reps)} |")
