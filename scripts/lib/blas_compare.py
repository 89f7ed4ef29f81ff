#!/usr/bin/env python3
"""The dense layers' matrix products of the MLP (784-256-128-10) on two OpenBLAS builds, side by side, one thread each:
the one ND4J bundles (javacpp's openblas 0.3.19, from its cache under ~/.javacpp, made by any training run) and
Debian's (libopenblas0-pthread, which the PyTorch peer of scripts/benchmark-peer.sh already needs). Per step: the
first layer's forward product (B x 784 by 784 x 256), its weight gradient (784 x B by B x 256) and the second
layer's forward product (B x 256 by 256 x 128), as HostBlas calls them (row-major, beta 0).

Usage: /usr/bin/python3 scripts/lib/blas_compare.py [BATCH]   (numpy: a dependency of python3-torch)
"""
import ctypes
import glob
import os
import sys
import time

import numpy as np

LIBS = {
    "javacpp (ND4J's)": next(iter(glob.glob(os.path.expanduser(
        "~/.javacpp/cache/openblas-*/org/bytedeco/openblas/linux-x86_64/libopenblas_nolapack.so.0"))), None),
    "Debian's": next(iter(sorted(glob.glob("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r*.so"))), None),
}
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def sgemm(lib, ta, tb, m, n, k, a, lda, b, ldb, c, ldc):
    lib.cblas_sgemm(ROW_MAJOR, ta, tb, m, n, k, ctypes.c_float(1.0), a.ctypes.data_as(ctypes.c_void_p), lda,
                    b.ctypes.data_as(ctypes.c_void_p), ldb, ctypes.c_float(0.0), c.ctypes.data_as(ctypes.c_void_p), ldc)


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    libs = {}
    for name, path in LIBS.items():
        if path is None:
            sys.exit(f"blas_compare: {name} OpenBLAS not found (run a training first; apt-get install"
                     " libopenblas0-pthread)")
        lib = ctypes.CDLL(path)
        lib.openblas_set_num_threads(1)
        libs[name] = (lib, path)
    rng = np.random.default_rng(1)
    x = rng.random((batch, 784), dtype=np.float32)
    w1 = rng.random((784, 256), dtype=np.float32)
    z1 = np.zeros((batch, 256), np.float32)
    d1 = rng.random((batch, 256), dtype=np.float32)
    g1 = np.zeros((784, 256), np.float32)
    w2 = rng.random((256, 128), dtype=np.float32)
    z2 = np.zeros((batch, 128), np.float32)

    def step(lib):
        sgemm(lib, NO_TRANS, NO_TRANS, batch, 256, 784, x, 784, w1, 256, z1, 256)
        sgemm(lib, TRANS, NO_TRANS, 784, 256, batch, x, 784, d1, 256, g1, 256)
        sgemm(lib, NO_TRANS, NO_TRANS, batch, 128, 256, z1, 256, w2, 128, z2, 128)

    times = {name: [] for name in libs}
    for _ in range(15):  # alternating, so that both see the same machine
        for name, (lib, _) in libs.items():
            for _ in range(20):
                step(lib)
            t0 = time.perf_counter()
            for _ in range(200):
                step(lib)
            times[name].append((time.perf_counter() - t0) / 200)
    flops = 2 * (batch * 256 * 784 * 2 + batch * 128 * 256)
    for name, t in times.items():
        t = sorted(t)
        print(f"{name} ({os.path.basename(libs[name][1])}): batch {batch}, a step's products median"
              f" {t[len(t) // 2] * 1e3:.3f} ms, min {t[0] * 1e3:.3f} ms ({flops / t[0] / 1e9:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
