#!/usr/bin/env python3
"""Checks a scripts/soak-cluster.sh run: the job completed, every epoch counted every example exactly once, nothing
was left running, and (with a baseline) the accuracy is within noise of the undisturbed run. Writes OUT/soak.json,
prints one summary line, exits 1 when a check fails.
Usage: soak_check.py OUT_DIR EXPECTED_EXAMPLES_PER_EPOCH"""
import json
import os
import sys

ACCURACY_NOISE = 0.005  # seeds move the default job's accuracy by up to ~0.1 point; retries should move it by ~0


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out, expected = sys.argv[1], int(sys.argv[2])
    faults = load(os.path.join(out, "soak.faults.json"))
    problems = []
    if faults["exit"] != 0:
        problems.append("the job exited %d (see %s)" % (faults["exit"], os.path.join(out, "soak.log")))
    if faults["processesLeft"] != 0:
        problems.append("%d cluster processes still running after stop" % faults["processesLeft"])
    summary = {"faults": faults}
    metrics_path = os.path.join(out, "soak", "metrics.json")
    if os.path.exists(metrics_path):
        metrics = load(metrics_path)
        epochs = metrics["epochs"]
        for e in epochs:
            if e["examplesTrained"] != expected:
                problems.append("epoch %d counted %d examples, expected %d" % (e["epoch"], e["examplesTrained"],
                                                                               expected))
        summary.update(epochs=len(epochs), stageRetries=sum(e["stageRetries"] for e in epochs),
                       accuracy=metrics["test"]["accuracy"], fitSeconds=sum(e["fitSeconds"] for e in epochs))
    else:
        problems.append("no metrics.json: the job did not complete")
    base_path = os.path.join(out, "baseline", "metrics.json")
    if os.path.exists(base_path) and "accuracy" in summary:
        base = load(base_path)
        base_faults = load(os.path.join(out, "baseline.faults.json"))
        summary.update(baselineAccuracy=base["test"]["accuracy"],
                       baselineFitSeconds=sum(e["fitSeconds"] for e in base["epochs"]),
                       secondsLost=faults["wallSeconds"] - base_faults["wallSeconds"])
        if abs(summary["accuracy"] - summary["baselineAccuracy"]) > ACCURACY_NOISE:
            problems.append("accuracy %.4f vs %.4f undisturbed" % (summary["accuracy"], summary["baselineAccuracy"]))
    summary["problems"] = problems
    with open(os.path.join(out, "soak.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("soak: %s; executors killed %d, workers killed %d, faults that failed their stage %s, stage retries %s, "
          "epochs %s, accuracy %s%s, wall %d s%s"
          % ("OK" if not problems else "FAILED: " + "; ".join(problems), faults["executorsKilled"],
             faults["workersKilled"], faults.get("faultsLanded", "?"), summary.get("stageRetries"), summary.get("epochs"), summary.get("accuracy"),
             " (undisturbed %s)" % summary["baselineAccuracy"] if "baselineAccuracy" in summary else "",
             faults["wallSeconds"],
             ", %d s lost against the undisturbed run" % summary["secondsLost"] if "secondsLost" in summary else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
