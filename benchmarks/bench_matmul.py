"""Matrix product and 3×3 convolution: pure Python, numpy and torch, with fitted exponents.

The figures of the matmul_timing assignment (seed 003, 課題1/2): time against N and the
exponent k of t ≈ c·N^k on a log-log fit (expect about 3 for the product, 2 for the
convolution).

    python benchmarks/bench_matmul.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

from benchmarks._report import save


def matmul_python(a, b):
    n, m, p = len(a), len(b), len(b[0])
    out = [[0.0] * p for _ in range(n)]
    for i in range(n):
        row, a_i = out[i], a[i]
        for k in range(m):
            a_ik, b_k = a_i[k], b[k]
            for j in range(p):
                row[j] += a_ik * b_k[j]
    return out


def conv_python(x, k):
    n = len(x)
    return [
        [sum(x[i + u][j + v] * k[u][v] for u in range(3) for v in range(3)) for j in range(n - 2)]
        for i in range(n - 2)
    ]


def conv_numpy(x, k):
    n = x.shape[0]
    out = np.zeros((n - 2, n - 2))
    for u in range(3):
        for v in range(3):
            out += k[u, v] * x[u : u + n - 2, v : v + n - 2]
    return out


def main() -> int:
    import torch

    from course_utils.timing import fit_power_law, time_function

    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    cases = [
        (
            "matmul",
            "pure Python",
            lambda a, b: matmul_python(a, b),
            lambda n: (rng.random((n, n)).tolist(), rng.random((n, n)).tolist()),
            [32, 64, 96, 128, 192, 256],
        ),
        (
            "matmul",
            "numpy",
            np.matmul,
            lambda n: (rng.random((n, n)), rng.random((n, n))),
            [512, 1024, 1536, 2048, 3072, 4096],
        ),
        (
            "matmul",
            "torch",
            torch.matmul,
            lambda n: (torch.rand(n, n, dtype=torch.float64), torch.rand(n, n, dtype=torch.float64)),
            [512, 1024, 1536, 2048, 3072, 4096],
        ),
        (
            "conv3x3",
            "pure Python",
            conv_python,
            lambda n: (rng.random((n, n)).tolist(), rng.random((3, 3)).tolist()),
            [64, 128, 256, 384, 512],
        ),
        (
            "conv3x3",
            "numpy",
            conv_numpy,
            lambda n: (rng.random((n, n)), rng.random((3, 3))),
            [512, 1024, 2048, 3072, 4096],
        ),
        (
            "conv3x3",
            "torch",
            lambda x, k: torch.nn.functional.conv2d(x, k),
            lambda n: (
                torch.rand(1, 1, n, n, dtype=torch.float64),
                torch.rand(1, 1, 3, 3, dtype=torch.float64),
            ),
            [512, 1024, 2048, 3072, 4096],
        ),
    ]
    rows = []
    print(
        f"{'operation':8s} {'implementation':14s} {'largest N':>9s} {'time at N [s]':>13s} {'exponent':>8s} {'R²':>6s}"
    )
    for op, impl, fn, make, sizes in cases:
        df = time_function(fn, sizes, make, repeats=3, max_seconds=20, label=impl)
        law = fit_power_law(df["n"], df["min_s"], min_seconds=1e-4)
        last = df.iloc[-1]
        rows.append(
            {
                "operation": op,
                "implementation": impl,
                "largest_n": int(last["n"]),
                "seconds_at_largest_n": float(f"{last['min_s']:.3g}"),
                "exponent": round(law.exponent, 2),
                "r2": round(law.r2, 3),
            }
        )
        print(
            f"{op:8s} {impl:14s} {int(last['n']):9d} {last['min_s']:13.3g} {law.exponent:8.2f} {law.r2:6.3f}",
            flush=True,
        )
    save("matmul", rows, note="float64; min of 3 runs; exponent fitted on points above 0.1 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
