"""Summarises scripts/benchmark-fits.sh runs (DIR/MODEL.log of scripts/lib/FitSession.java): for each model and each
fit of the estimator in its Spark session, the epochs' fit seconds (the fit's training rows, from the engine's
"on TRAIN[N x ..." line, over each epoch line's examples/s), epoch 1 / epoch 2, the whole fit's wall seconds and the
test accuracy after the last epoch (on the fit's held-out rows), as one markdown table.

Usage: scripts/lib/fits_table.py DIR"""
import re
import sys
from pathlib import Path

FIT = re.compile(r"FitSession: fit (\d+)$")
TOOK = re.compile(r"FitSession: fit (\d+) took ([\d.]+) s")
ROWS = re.compile(r"on TRAIN\[(\d+) x ")
EPOCH = re.compile(r"Listeners: epoch (\d+)/\d+ .* test acc ([\d.]+)%\s+(\d+) ex/s")


def fits(log):
    """[{"rows": N, "epochs": [seconds...], "acc": percent, "wall": seconds}] in the log's order."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if m := FIT.search(line):
            found.append({"rows": None, "epochs": [], "acc": None, "wall": None})
        elif found and (m := TOOK.search(line)):
            found[-1]["wall"] = float(m.group(2))
        elif found and (m := ROWS.search(line)):
            found[-1]["rows"] = int(m.group(1))
        elif found and found[-1]["rows"] and (m := EPOCH.search(line)):
            found[-1]["epochs"].append(found[-1]["rows"] / int(m.group(3)))
            found[-1]["acc"] = float(m.group(2))
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print("| model | fit in the session | epoch seconds | epoch 1 / epoch 2 | whole fit, s | test acc after last |")
    print("|---|---|---|---|---|---|")
    for log in sorted(Path(sys.argv[1]).glob("*.log")):
        for i, f in enumerate(fits(log), 1):
            e = f["epochs"]
            ratio = f"{e[0] / e[1]:.2f}" if len(e) > 1 else "-"
            wall = f"{f['wall']:.1f}" if f["wall"] is not None else "-"
            acc = f"{f['acc']:.2f} %" if f["acc"] is not None else "-"
            print(f"| {log.stem} | {i} | {' '.join(f'{s:.2f}' for s in e)} | {ratio} | {wall} | {acc} |")


if __name__ == "__main__":
    main()
