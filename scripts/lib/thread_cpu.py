#!/usr/bin/env python3
"""Where a running JVM's CPU time goes, thread by thread. `record` samples /proc/PID/task/*/stat once a second (one
process, no forks, so the sampling itself costs little) until the process ends and writes the samples to a file;
`summary` prints each thread name's CPU seconds between two wall-clock times (by default the whole recording): Spark's
task threads, the JIT's compiler threads, the garbage collector..., and the share of the machine's cores they used.

Usage: scripts/lib/thread_cpu.py record PID FILE
       scripts/lib/thread_cpu.py summary FILE [FROM [TO]]
  FROM, TO: times of day (HH:MM:SS, UTC, as the app's log prints them), e.g. the log lines of epochs 2 and 8:
  (source scripts/lib/common.sh; run_app train ... > /tmp/run.log 2>&1 &); sleep 2
  scripts/lib/thread_cpu.py record "$(pgrep -f 'dev.sparkmnist.app.Main train')" /tmp/threads.json
  scripts/lib/thread_cpu.py summary /tmp/threads.json 14:15:37 14:15:42
(A JVM that writes the scripts' class-data archive at its exit spends seconds in its "VM Thread" then.)
"""
import collections
import datetime
import json
import os
import sys
import time


def sample(pid):
    """[(unix time, {tid: (cpu ticks, thread name)})] until the process ends."""
    samples = []
    while os.path.exists(f"/proc/{pid}"):
        now, threads = time.time(), {}
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            break
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            threads[tid] = (int(fields[11]) + int(fields[12]), name)  # utime + stime
        samples.append((now, threads))
        time.sleep(1.0)
    return samples


def at(day, hms):
    """Unix time of HH:MM:SS (UTC) on the day of the unix time `day`."""
    d = datetime.datetime.fromtimestamp(day, datetime.timezone.utc).date()
    try:
        t = datetime.datetime.strptime(hms, "%H:%M:%S").time()
    except ValueError:
        sys.exit(f"{hms}: not a time of day HH:MM:SS (as the app's log prints it)")
    return datetime.datetime.combine(d, t, datetime.timezone.utc).timestamp()


def summary(samples, start_hms=None, end_hms=None):
    """Prints each thread name's CPU seconds between the samples nearest the two times of day."""
    start, end = samples[0], samples[-1]
    if start_hms:
        want = at(start[0], start_hms)
        start = min(samples, key=lambda s: abs(s[0] - want))
    if end_hms:
        want = at(start[0], end_hms)
        end = min(samples, key=lambda s: abs(s[0] - want))
    seconds = end[0] - start[0]
    if seconds <= 0:
        sys.exit("FROM must come before TO, and the recording must hold two samples between them")
    ticks = os.sysconf("SC_CLK_TCK")
    by_name, threads = collections.Counter(), collections.Counter()
    for tid, (cpu, name) in end[1].items():
        used = cpu - start[1].get(tid, (0, name))[0]
        by_name[name] += used
        threads[name] += used > 0
    total = sum(by_name.values())
    cores = os.cpu_count()
    print(f"{seconds:.2f} s of wall time, {cores} cores: {total / ticks:.2f} CPU seconds "
          f"({100 * total / ticks / seconds / cores:.0f} % of the cores)")
    for name, cpu in by_name.most_common():
        if cpu > 0:
            print(f"  {cpu / ticks:7.2f} s  {100 * cpu / ticks / seconds:5.1f} % of a core  {name}"
                  + (f" ({threads[name]} threads)" if threads[name] > 1 else ""))


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "record" and args[1].isdigit():
        samples = sample(args[1])
        if len(samples) < 2:
            sys.exit(f"process {args[1]}: fewer than two samples (it ended, or it is not running)")
        with open(args[2], "w") as f:
            json.dump(samples, f)
    elif 2 <= len(args) <= 4 and args[0] == "summary":
        try:
            with open(args[1]) as f:
                samples = [(t, {tid: tuple(v) for tid, v in threads.items()}) for t, threads in json.load(f)]
        except (OSError, ValueError, TypeError, AttributeError) as e:
            sys.exit(f"{args[1]}: not a recording of thread_cpu.py record ({e.__class__.__name__})")
        if len(samples) < 2:
            sys.exit(f"{args[1]}: not a recording of thread_cpu.py record (fewer than two samples)")
        summary(samples, *args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
