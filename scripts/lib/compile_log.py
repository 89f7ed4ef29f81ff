#!/usr/bin/env python3
"""What the JIT compiled while a run trained: reads HotSpot's compilation log (-XX:+UnlockDiagnosticVMOptions
-XX:+LogCompilation -XX:LogFile=FILE) and the run's own log, and prints, for the time before training, each epoch's
training pass, each evaluation after it and the rest of the run, the compilations per tier (count, seconds from each
task's start to its end) and the C2 (tier 4) seconds by package.

Epoch windows come from the run's `Listeners: epoch N/M ... fit Fs  eval Es` lines (the line is printed when the
evaluation ends; with the app log's whole seconds each window is good to about a second, with milliseconds, as
scripts/profile-epochs.sh's SPARK_MNIST_LOG4J writes them, to a few).

Usage: scripts/lib/compile_log.py COMPILATION_LOG APP_LOG [TOP]
  e.g. SPARK_MNIST_JAVA_OPTS="-Xmx4g -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=/tmp/c.log" \\
         bash -c 'source scripts/lib/common.sh; run_app train --epochs 3 --data-dir data/mnist --output /tmp/o' \\
         > /tmp/run.log 2>&1; scripts/lib/compile_log.py /tmp/c.log /tmp/run.log
  (one JVM a log: scripts/train-local.sh starts a second JVM for its evaluation, which would write over the file)
"""
import collections
import re
import sys
import time


def tasks(path):
    """(start s since JVM start, seconds, tier, method) of every finished compilation, and the JVM's start in ms."""
    start_ms, found, current = None, [], None
    with open(path, errors="replace") as f:
        for line in f:
            if start_ms is None:
                m = re.search(r"<hotspot_log .*time_ms='(\d+)'", line)
                if m:
                    start_ms = int(m.group(1))
            if line.startswith("<task "):
                current = dict(re.findall(r"(\w+)='([^']*)'", line))
            elif line.startswith("<task_done") and current is not None:
                done = dict(re.findall(r"(\w+)='([^']*)'", line))
                begin = float(current["stamp"])
                found.append((begin, float(done["stamp"]) - begin, current.get("level", "4"), current["method"]))
                current = None
    if start_ms is None:
        sys.exit(f"{path}: not a HotSpot compilation log (no <hotspot_log time_ms=...>)")
    return start_ms, found


def windows(app_log, start_ms):
    """[(name, from, to)] in seconds since the JVM's start, from the epoch lines of the app's log."""
    # the app log's times are the JVM's local time of day: compare them with the JVM's start in the same terms
    started = time.localtime(start_ms / 1000)
    start_of_day = started.tm_hour * 3600 + started.tm_min * 60 + started.tm_sec + (start_ms % 1000) / 1000
    epoch_line = re.compile(r"^(\d\d:\d\d:\d\d(?:\.\d+)?) INFO\s+Listeners: epoch (\d+)/\d+ .* fit ([\d.]+)s\s+eval ([\d.]+)s")
    spans = []
    with open(app_log, errors="replace") as f:
        for line in f:
            m = epoch_line.search(line)
            if m:
                h, mi, se = (float(x) for x in m.group(1).split(":"))
                end = (h * 3600 + mi * 60 + se - start_of_day) % 86400  # a run past midnight
                fit, ev = float(m.group(3)), float(m.group(4))
                spans.append((int(m.group(2)), end - ev - fit, end - ev, end))
    if not spans:
        sys.exit(f"{app_log}: no 'Listeners: epoch N/M ... fit Fs eval Es' lines")
    out = [("before training", 0.0, spans[0][1])]
    for n, fit_from, fit_to, end in spans:
        fit_from = max(fit_from, out[-1][2])  # whole seconds: keep the windows from overlapping
        out += [(f"epoch {n} training", fit_from, fit_to), (f"epoch {n} evaluation", fit_to, end)]
    out.append(("after training", spans[-1][3], float("inf")))
    return out


def package(method):
    cls = method.split(" ")[0].split(".")
    return ".".join(cls[:3]) if len(cls) > 3 else ".".join(cls)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    start_ms, found = tasks(sys.argv[1])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    total = collections.Counter()
    for name, lo, hi in windows(sys.argv[2], start_ms):
        sel = [t for t in found if lo <= t[0] < hi]
        count, seconds, c2 = collections.Counter(), collections.Counter(), collections.Counter()
        for _, d, tier, method in sel:
            count[tier] += 1
            seconds[tier] += d
            total[tier] += d
            if tier == "4":
                c2[package(method)] += d
        tiers = "  ".join(f"tier {t}: {count[t]} in {seconds[t]:.2f} s" for t in sorted(count))
        print(f"{name} [{lo:.1f} s, {hi:.1f} s): {tiers}")
        for p, d in c2.most_common(top):
            print(f"    C2 {d:6.2f} s  {p}")
    print("whole run: " + "  ".join(f"tier {t}: {total[t]:.2f} s" for t in sorted(total)))


if __name__ == "__main__":
    main()
