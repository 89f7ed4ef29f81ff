"""Cost model of the resident engine's averaging round, fitted to scripts/benchmark-exchange.sh's measurements.

Usage: python3 scripts/lib/cost_model.py BENCH_EXCHANGE_DIR

The exchange (PeerExchange) as built: each round, every worker sends N-1 slices of the vector (V floats) straight to
their owners, all at once, waits for the N-1 slices of its own part, averages, sends its mean to the N-1 peers at
once and waits for theirs. Nothing goes to the driver per round (measured: driverMessagesPerRound). So a round costs

    o(N)  = 2 * a  +  2 * (N - 1) * m  +  2 * (N - 1) / N * 4 * V / B

    a  latency of one message (two phases, each waits for the last of its N-1 parcels)
    m  cost of sending and receiving one parcel at a worker (CPU, system calls): N-1 of them per phase
    B  bytes per second a worker moves

a, m and 1/B are fitted by least squares to the median ms per round measured for N = 2..8 and two vector sizes (the
default LeNet job: 61,706 parameters + Nesterov momentum; the MLP: 235,146 parameters + Adam's two moments). On this
machine all N executor JVMs, the driver, the Master and the Workers share 2 cores, so the wall time of a round also
holds waiting for a core, which grows with N. The benchmark therefore also measures the CPU time each worker's JVM
spends per round (Netty's threads and GC included), and a second fit splits it the same way:

    cpu(N) = c0  +  2 * (N - 1) * m_cpu  +  2 * (N - 1) / N * 4 * V * beta

(c0 per round, m_cpu per parcel, beta per byte copied). On a machine with a core per worker a round costs its CPU
time plus the network's latency and transfer time, which is the LAN prediction:

    o_LAN(N) = 2 * a_LAN  +  cpu(N)  +  2 * (N - 1) / N * 4 * V / B_LAN

with a_LAN and B_LAN assumed (below) and everything else fitted to the measurements.

Per-round efficiency (weak scaling, the figure Horovod publishes) = a worker's compute per round / (compute per
round + o(N)), with compute per round = f * b * c: f minibatches of b = 32 examples at c seconds per example on one
core. c = 0.39 ms for LeNet-5 and 0.23 ms for the MLP: a 1-core standalone Worker's fitting time per example in epoch
2 (BENCHMARKS.md, "What bounds 2 Workers": 23.50 s for 60,000 examples; the MLP: 14.02 s). f is shown at 2 (the
former LeNet default) and as --averaging-frequency auto chooses it from o(N) and f*b*c (AutoFrequency.choose: the
exchange under 5 % of training, at most 8).
"""
import json
import math
import sys
from pathlib import Path

BATCH = 32
COMPUTE_PER_EXAMPLE = {"lenet": 23.50 / 60_000, "mlp": 14.02 / 60_000}
SHARE, FLOOR, CEILING = 0.05, 1, 8
PREDICT = [8, 32, 128]
# Assumed, not measured here: a 10 Gbit/s LAN with 0.2 ms per message (a round trip on a quiet network).
LAN = {"a": 0.2e-3, "inv_b": 1 / 1250e6}
HOROVOD = "90% (Inception V3, ResNet-101), 68% (VGG-16) at 512 GPUs (Horovod docs/benchmarks)"


def load(root):
    rows = []
    for f in sorted(root.glob("exchange-w*.jsonl")):
        for line in f.read_text().splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
    if not rows:
        sys.exit(f"cost_model: no exchange-w*.jsonl under {root}")
    if len({r["workers"] for r in rows}) < 2:
        sys.exit(f"cost_model: the measurements under {root} have one worker count; fitting latency, per-parcel cost"
                 " and bandwidth needs at least two (WORKERS=\"2 4\" or more)")
    return sorted(rows, key=lambda r: (r["model"], r["workers"]))


def features(n, floats):
    return [2.0, 2.0 * (n - 1), 2.0 * (n - 1) / n * 4 * floats]


def solve(rows, key="medianMsPerRound"):
    """Least squares for the three coefficients of features() (seconds, seconds, seconds per byte)."""
    ata = [[0.0] * 3 for _ in range(3)]
    atb = [0.0] * 3
    for r in rows:
        x = features(r["workers"], r["floats"])
        y = r[key] / 1000
        for i in range(3):
            atb[i] += x[i] * y
            for j in range(3):
                ata[i][j] += x[i] * x[j]
    # Gaussian elimination on the 3x3 normal equations
    m = [row[:] + [atb[i]] for i, row in enumerate(ata)]
    for c in range(3):
        p = max(range(c, 3), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(3):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [a - f * b for a, b in zip(m[r], m[c])]
    return [max(0.0, m[i][3] / m[i][i]) for i in range(3)]


def round_cost(p, n, floats):
    return sum(a * b for a, b in zip(p, features(n, floats)))


def auto_frequency(compute_per_minibatch, exchange):
    f = math.ceil(exchange * (1 - SHARE) / (SHARE * compute_per_minibatch))
    return max(FLOOR, min(CEILING, f))


def efficiency(model, exchange, f):
    work = f * BATCH * COMPUTE_PER_EXAMPLE[model]
    return work / (work + exchange)


def main(root):
    rows = load(root)
    a, m, inv_b = solve(rows)
    cpu = solve(rows, "cpuMsPerRound") if all("cpuMsPerRound" in r for r in rows) else None
    print("Measured (median over workers of each worker's median round; driver messages counted by DriverMessages):")
    print()
    print("| model | N | floats | median ms/round | p90 ms/round | model ms/round | CPU ms/round (a worker's JVM) |"
          " KB per worker per round | driver messages per round | driver messages per stage |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        fit = 1000 * round_cost((a, m, inv_b), r["workers"], r["floats"])
        print(f"| {r['model']} | {r['workers']} | {r['floats']:,} | {r['medianMsPerRound']:.2f} |"
              f" {r['p90MsPerRound']:.2f} | {fit:.2f} | {r.get('cpuMsPerRound', float('nan')):.2f} |"
              f" {r['bytesPerWorkerPerRound'] / 1024:.0f} |"
              f" {r['driverMessagesPerRound']:.2f} | {r['driverMessagesPerStage']:.0f} |")
    print()
    print(f"fitted here (2 cores shared by all JVMs): a = {a * 1e3:.3f} ms per message latency, m = {m * 1e3:.3f} ms"
          f" per parcel, B = {(1 / inv_b / 1e6) if inv_b > 0 else float('inf'):.0f} MB/s")
    print()
    if cpu is None:
        sys.exit("cost_model: the measurements have no cpuMsPerRound; rerun scripts/benchmark-exchange.sh")
    c0, m_cpu, beta = cpu
    print(f"CPU per round fitted here: c0 = {c0 * 2e3:.3f} ms per round, m_cpu = {m_cpu * 1e3:.3f} ms per parcel,"
          f" {beta * 1e9:.2f} ns per byte")
    print()
    print(f"predicted on a 10 Gbit/s LAN with a core per worker (assumed: a = {LAN['a'] * 1e3:.1f} ms per message,"
          " B = 1250 MB/s; fitted: the CPU per round above), compute per example of a 1-core Worker here:")
    print()
    print("| model | N | ms/round | per-round efficiency at f=2 | auto f | per-round efficiency at auto f |")
    print("|---|---|---|---|---|---|")
    for model in ("lenet", "mlp"):
        floats = next(r["floats"] for r in rows if r["model"] == model)
        for n in PREDICT:
            o = round_cost(cpu, n, floats) + 2 * LAN["a"] + 2 * (n - 1) / n * 4 * floats * LAN["inv_b"]
            f = auto_frequency(BATCH * COMPUTE_PER_EXAMPLE[model], o)
            print(f"| {model} | {n} | {o * 1e3:.2f} | {100 * efficiency(model, o, 2):.0f}% | {f} |"
                  f" {100 * efficiency(model, o, f):.0f}% |")
    print()
    print(f"Horovod, for scale: {HOROVOD}.")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
