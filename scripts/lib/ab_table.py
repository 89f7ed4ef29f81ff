#!/usr/bin/env python3
"""Summary of an A/B directory written by scripts/benchmark-ab.sh: for each side ("before", "after") the median of
each epoch's fit seconds over the pairs (from each run's metrics.csv) and of their sum, then in how many pairs the
"after" run was faster, epoch by epoch and in sum. Only pairs where both runs finished count.

Usage: scripts/lib/ab_table.py DIR
"""
import csv
import os
import re
import statistics
import sys


def fits(path):
    """The fit seconds of each epoch of one run, in epoch order; None where the run left no metrics.csv."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    return [float(r["fit_seconds"]) for r in rows] or None


def pairs(directory):
    """{pair number: {"before": [...], "after": [...]}} for the pairs whose two runs both left their figures."""
    found = {}
    for entry in os.listdir(directory):
        m = re.fullmatch(r"(before|after)-(\d+)", entry)
        if m:
            seconds = fits(os.path.join(directory, entry, "metrics.csv"))
            if seconds is not None:
                found.setdefault(int(m.group(2)), {})[m.group(1)] = seconds
    return {p: v for p, v in found.items() if len(v) == 2 and len(v["before"]) == len(v["after"])}


def summary(directory):
    """The summary's lines."""
    complete = pairs(directory)
    if not complete:
        return [f"{directory}: no pair with both runs' metrics.csv"]
    keys = sorted(complete)
    epochs = len(complete[keys[0]]["before"])
    keys = [k for k in keys if len(complete[k]["before"]) == epochs]
    lines = [f"{len(keys)} pairs, fit seconds by epoch (medians), then their sum:"]
    for side in ("before", "after"):
        runs = [complete[k][side] for k in keys]
        by_epoch = " ".join(f"{statistics.median(col):.3f}" for col in zip(*runs))
        lines.append(f"  {side:6}  {by_epoch}  | sum {statistics.median(sum(r) for r in runs):.3f}")
    wins = [sum(1 for k in keys if complete[k]["after"][e] < complete[k]["before"][e]) for e in range(epochs)]
    total = sum(1 for k in keys if sum(complete[k]["after"]) < sum(complete[k]["before"]))
    lines.append(f"  after faster in: {' '.join(str(w) for w in wins)} (by epoch), {total} (sum) of {len(keys)} pairs")
    return lines


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: ab_table.py DIR")
    print("\n".join(summary(sys.argv[1])))
