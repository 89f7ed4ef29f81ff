"""Summarises scripts/benchmark-peer.sh runs (DIR/MODEL-torch-R.jsonl, DIR/MODEL-{local,resident}-R/metrics.json)
as one markdown table of medians over repeats: epoch-1 and epoch-2 fit seconds, the later epochs' (3 and on, with
EPOCHS >= 3: the median over those epochs of every run), examples/s and test accuracy after the last epoch, each row's
epoch-2 time (and later epochs') as a multiple of PyTorch's best (the faster of its rows), and the resident engine's
averaging rounds in epoch 2 (with --averaging-frequency auto they follow the probe's choice, which varies from run to
run: fewer rounds, less averaging). "epoch 1 / epoch 2" is the median of each run's own ratio (until round 37 the
ratio of the two medians). The rows localwarm and residentwarm are each a second run in a JVM that ran the same
command before (scripts/lib/WarmJvm.java).

The multiples are medians of per-set ratios: repeat R of every row ran one after another, so each of ours is divided
by PyTorch's best of the same repeat. This machine's speed drifts between sets (PyTorch's one-thread MLP epoch took
0.69-1.07 s in one table, BENCHMARKS.md round 26), and a ratio of medians taken from different sets moved with it."""
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
       "resident": "ours, resident engine `local[2]` (2 workers x {half})",
       "localwarm": "ours, one JVM, its second run (a warm JVM)",
       "residentwarm": "ours, resident `local[2]`, its second run (a warm JVM)"}
print("| model | global batch | who | epoch-1 s | epoch-2 s | epochs 3+ s | examples/s (epoch 2)"
      " | x PyTorch's best (epoch 2) | x PyTorch's best (epochs 3+) | epoch 1 / epoch 2 | test acc after last"
      " | averaging rounds (epoch 2) | runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
med = statistics.median
NAN = float("nan")


def epoch2(reps):
    return med([r[1]["fitSeconds"] for r in reps]) if all(len(r) > 1 for r in reps) else NAN


def later(run):
    """The median fit seconds of a run's epochs 3 and on (NaN with fewer than 3 epochs)."""
    return med([e["fitSeconds"] for e in run[2:]]) if len(run) > 2 else NAN


def per_set(model, reps, figure):
    """The median over repeats of figure(our run) / figure(PyTorch's faster run of the same repeat)."""
    ratios = []
    for i, run in enumerate(reps):
        peers = [figure(runs[(model, w)][i]) for w in ("torch1", "torch") if len(runs.get((model, w), [])) > i]
        peers = [p for p in peers if p == p]
        ours = figure(run)
        if peers and ours == ours:
            ratios.append(ours / min(peers))
    return f"{med(ratios):.2f}x" if ratios else "-"


def seconds(run_epoch):
    return lambda run: run[run_epoch]["fitSeconds"] if len(run) > run_epoch else NAN



for model in sorted({m for m, _ in runs}):
    for who in ("torch1", "torch", "local", "resident", "localwarm", "residentwarm"):
        reps = runs.get((model, who))
        if not reps:
            continue
        e1 = med([r[0]["fitSeconds"] for r in reps])
        e2 = epoch2(reps)
        rest = [later(r) for r in reps]
        rest = med(rest) if all(x == x for x in rest) else NAN
        eps = med([r[1]["examplesPerSecond"] for r in reps]) if all(len(r) > 1 for r in reps) else float("nan")
        acc = med([r[-1]["testAccuracy"] for r in reps])
        ratio, ratio_later = per_set(model, reps, seconds(1)), per_set(model, reps, later)
        rounds = sorted(r[1]["averagingRounds"] for r in reps if len(r) > 1 and r[1].get("averagingRounds"))
        rounds = " / ".join(str(n) for n in rounds) if rounds else "-"
        label = WHO[who].format(v=reps[0][0].get("torch", "?"), t=reps[0][0].get("threads", "?"),
                                half=BATCH[model] // 2)
        rest = f"{rest:.2f}" if rest == rest else "-"
        warm_up = med([r[0]["fitSeconds"] / r[1]["fitSeconds"] for r in reps]) if e2 == e2 else NAN
        print(f"| {model} | {BATCH[model]} | {label} | {e1:.2f} | {e2:.2f} | {rest} | {eps:,.0f} | {ratio}"
              f" | {ratio_later} | {warm_up:.2f} | {100 * acc:.2f} % | {rounds} | {len(reps)} |")
