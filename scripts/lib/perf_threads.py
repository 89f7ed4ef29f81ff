#!/usr/bin/env python3
"""Where a resident run's cores went, epoch by epoch: reads `perf script -F comm,tid,time,ip,sym,dso` of a whole run
(perf record -F 1999 of the java command, with -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit so that compiled
Java methods have names), finds the windows in which the workers' task threads ran (gaps longer than GAP seconds
between their samples split them: epochs, evaluations, the probe), and prints for each window the samples per thread
and the workers' samples per library. With THREAD (a prefix of a thread's name, e.g. slice-reader), FROM and TO (seconds
since the first sample) it prints that thread's top symbols in that span instead.

Usage: scripts/lib/perf_threads.py SCRIPT_OUTPUT [GAP]
       scripts/lib/perf_threads.py SCRIPT_OUTPUT THREAD FROM TO [TOP]
  e.g. SPARK_MNIST_JAVA_OPTS="-Xmx4g ... -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit" perf record -o /tmp/p.data \\
         -F 1999 -- bash -c "source scripts/lib/common.sh; run_app train --mode spark --engine resident ..." > /tmp/r.log
       perf script -i /tmp/p.data -F comm,tid,time,ip,sym,dso > /tmp/p.txt; scripts/lib/perf_threads.py /tmp/p.txt 0.04
"""
import collections
import re
import sys

WORKERS = "Executor task"  # Spark's "Executor task launch worker for task N", cut to 15 characters by the kernel
LINE = re.compile(r"\s*(.+?)\s+(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def samples(path):
    rows = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if m:
                rows.append((m.group(1), float(m.group(3)), m.group(5), m.group(6)))
    if not rows:
        sys.exit(f"{path}: no samples (expected `perf script -F comm,tid,time,ip,sym,dso` output)")
    t0 = min(r[1] for r in rows)
    return [(comm, t - t0, sym, dso) for comm, t, sym, dso in rows]


def library(dso):
    if "perf-" in dso or "JIT" in dso:
        return "Java (compiled, interpreter, stubs)"
    for key, name in (("libjvm", "the JVM"), ("openblas", "OpenBLAS"), ("nd4j", "libnd4j"), ("libc", "libc"),
                      ("kernel", "the kernel")):
        if key in dso:
            return name
    return dso.split("/")[-1]


def windows(rows, gap):
    times = sorted(t for comm, t, _, _ in rows if comm.startswith(WORKERS))
    spans = [[times[0], times[0], 0]]
    for t in times:
        if t - spans[-1][1] > gap:
            spans.append([t, t, 0])
        spans[-1][1] = t
        spans[-1][2] += 1
    return [s for s in spans if s[2] > 200]


def main(argv):
    rows = samples(argv[1])
    if len(argv) >= 5:
        who, a, b = argv[2], float(argv[3]), float(argv[4])
        top = int(argv[5]) if len(argv) > 5 else 20
        count = collections.Counter((sym[:110], dso.split("/")[-1][:24]) for comm, t, sym, dso in rows
                                    if comm.startswith(who) and a <= t <= b)
        total = sum(count.values())
        print(f"{who} in [{a}, {b}] s: {total} samples")
        for (sym, dso), n in count.most_common(top):
            print(f"  {100 * n / total:5.1f} % {n:6d}  {sym}  [{dso}]")
        return
    gap = float(argv[2]) if len(argv) > 2 else 0.04
    for i, (a, b, _) in enumerate(windows(rows, gap)):
        threads, libs = collections.Counter(), collections.Counter()
        for comm, t, sym, dso in rows:
            if a <= t <= b:
                threads[comm.split(" ")[0] if comm.startswith(("C1 ", "C2 ")) else comm[:15]] += 1
                if comm.startswith(WORKERS):
                    libs[library(dso)] += 1
        total = sum(libs.values())
        print(f"window {i}: [{a:.2f}, {b:.2f}] s, {b - a:.2f} s; samples by thread: "
              + ", ".join(f"{k} {v}" for k, v in threads.most_common(7)))
        print("   the workers' samples: " + ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in libs.most_common(6)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv)
