#!/usr/bin/env python3
"""Where the training thread's time goes, epoch by epoch, in a run profiled by scripts/profile-epochs.sh: reads
`perf script -F tid,time,ip,sym,dso -G` of the whole JVM (perf record -k CLOCK_MONOTONIC, -XX:+DumpPerfMapAtExit), the
run's log (times in milliseconds) and metrics.json, cuts the samples to each epoch's fit (the epoch's log line, less
its evaluation and fit seconds), takes the thread with the most samples in epoch 1 as the training thread, and prints
its samples (1 ms each at perf's -F 1000) by kind of code, epoch by epoch:

  interpreter              HotSpot's interpreter (Java code not compiled yet)
  jit:ours / jit:nd4j-dl4j / jit:other
                           compiled Java (ours; ND4J's and DL4J's; the JDK's and the rest), by HotSpot's perf map
  jit:gone                 HotSpot's code cache, no name: code thrown away before the JVM ended (C1's, replaced by
                           C2's) and stubs
  anon-jit                 executable memory outside the code cache: oneDNN's generated kernels
  a library's name         native code (libnd4jcpu.so: ND4J's and oneDNN's; libjvm.so: class loading, linking, the
                           JIT's runtime calls; [kernel.kallsyms]: page faults, system calls)

then epoch 1's first seconds in quarter-second bins (how long each kind lasts), and the symbols with the most samples
more in epoch 1 than in epoch 2.

Usage: scripts/lib/epoch_profile.py PERF_SCRIPT_OUTPUT PERF_MAP RUN_LOG METRICS_JSON CLOCK_OFFSET [TOP]
  CLOCK_OFFSET: the Unix time less CLOCK_MONOTONIC's, in seconds, taken while the JVM ran
"""
import collections
import datetime
import json
import re
import sys

SAMPLE = re.compile(r"\s*(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")
EPOCH_LINE = r"^(\d\d:\d\d:\d\d\.\d\d\d) INFO  Listeners: epoch %d/"
BIN = 0.25


def epoch_windows(log_path, metrics_path, offset, reference):
    """[(start, end)] of each epoch's fit, in CLOCK_MONOTONIC seconds; the log's times of day are taken on the UTC day
    (the one before or after included) that puts them nearest to `reference`, a sample's Unix time."""
    log = open(log_path, errors="replace").read()
    epochs = json.load(open(metrics_path))["epochs"]
    day = datetime.datetime.fromtimestamp(reference, datetime.timezone.utc).date()
    windows = []
    for e in epochs:
        m = re.search(EPOCH_LINE % e["epoch"], log, re.M)
        if not m:
            sys.exit("no line of epoch %d with a time in milliseconds in %s" % (e["epoch"], log_path))
        clock = datetime.datetime.strptime(m.group(1), "%H:%M:%S.%f").time()
        at = min((datetime.datetime.combine(day + datetime.timedelta(days=d), clock,
                                            tzinfo=datetime.timezone.utc).timestamp() for d in (-1, 0, 1)),
                 key=lambda t: abs(t - reference))
        end = at - e["evalSeconds"] - offset
        windows.append((end - e["fitSeconds"], end))
    return windows


def code_cache(map_path):
    """The address range HotSpot's perf map covers: its code cache, as far as the map knows it."""
    lo, hi = None, None
    with open(map_path) as f:
        for line in f:
            parts = line.split()
            start, size = int(parts[0], 16), int(parts[1], 16)
            lo = start if lo is None else min(lo, start)
            hi = start + size if hi is None else max(hi, start + size)
    return lo, hi


def kind(ip, sym, dso, cache):
    if sym == "Interpreter":
        return "interpreter"
    if "perf-" in dso or "[JIT]" in dso:
        if not cache[0] <= ip < cache[1]:
            return "anon-jit"
        if sym.startswith("[unknown]"):
            return "jit:gone"
        if "dev.sparkmnist" in sym:
            return "jit:ours"
        if "org.nd4j" in sym or "org.deeplearning4j" in sym:
            return "jit:nd4j-dl4j"
        return "jit:other"
    return dso.rsplit("/", 1)[-1]


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    script, map_path, log_path, metrics_path, offset = sys.argv[1:6]
    top = int(sys.argv[6]) if len(sys.argv) > 6 else 20
    samples = []
    with open(script, errors="replace") as f:
        for line in f:
            m = SAMPLE.match(line)
            if m:
                samples.append((m.group(1), float(m.group(2)), int(m.group(3), 16), m.group(4), m.group(5)))
    if not samples:
        sys.exit("no samples in " + script)
    windows = epoch_windows(log_path, metrics_path, float(offset), float(offset) + samples[0][1])
    cache = code_cache(map_path)
    rows = []
    for tid, t, ip, sym, dso in samples:
        for i, (start, end) in enumerate(windows):
            if start <= t < end:
                rows.append((i, tid, t, ip, sym, dso))
                break
    per_thread = collections.Counter(r[1] for r in rows if r[0] == 0)
    if not per_thread:
        sys.exit("no samples in epoch 1's window: was perf recording then?")
    main_tid = per_thread.most_common(1)[0][0]
    kinds = [collections.Counter() for _ in windows]
    symbols = [collections.Counter() for _ in windows]
    bins = collections.defaultdict(collections.Counter)
    for i, tid, t, ip, sym, dso in rows:
        if tid != main_tid:
            continue
        k = kind(ip, sym, dso, cache)
        kinds[i][k] += 1
        symbols[i][(k, sym)] += 1
        if i == 0:
            bins[int((t - windows[0][0]) / BIN)][k] += 1
    print("training thread %s; epochs' fit seconds: %s" % (
        main_tid, " ".join("%.3f" % (end - start) for start, end in windows)))
    names = sorted(set().union(*kinds), key=lambda k: (-sum(c[k] for c in kinds), k))
    print("%-28s" % "samples" + "".join("%9s" % ("epoch %d" % (i + 1)) for i in range(len(windows))))
    for k in names:
        print("%-28s" % k + "".join("%9d" % c[k] for c in kinds))
    print("%-28s" % "all" + "".join("%9d" % sum(c.values()) for c in kinds))
    shown = names[:7]
    print("\nepoch 1 by %.2f s: all, then %s" % (BIN, ", ".join(shown)))
    for b in sorted(bins):
        c = bins[b]
        print("%5.2f s %5d  " % (b * BIN, sum(c.values())) + " ".join("%6d" % c[k] for k in shown))
    if len(windows) > 1:
        print("\nsymbols with the most samples more in epoch 1 than in epoch 2 (epoch 1, epoch 2):")
        more = sorted(symbols[0].items(), key=lambda kv: (-(kv[1] - symbols[1].get(kv[0], 0)), kv[0]))[:top]
        for (k, sym), n in more:
            print("%6d %6d  %-14s %s" % (n, symbols[1].get((k, sym), 0), k, sym[:120]))


if __name__ == "__main__":
    main()
