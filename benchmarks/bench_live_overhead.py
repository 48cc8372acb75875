"""Live-plot overhead: train the same small MNIST CNN with and without LivePlot.

Runs inside a real Jupyter kernel (nbclient, inline backend), so every render is a
PNG sent over a display handle, as for a student. Runs are interleaved
(off, on, off, on, ...) to cancel drift, and the ratio of median times is printed, of wall
time and of the kernel's CPU time (all its threads): on a shared machine other jobs stretch
the wall time of both runs, the CPU time much less.

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_live_overhead.py [--pairs 3] [--only short]
"""

from __future__ import annotations

import argparse
import json
import sys

import nbformat

from benchmarks._report import ROOT, save
from coursekit.execute import run_notebook  # one way to start kernels: IPC transport

KERNEL_CODE = r"""
import json, time, statistics
import torch
from torch import nn
from course_utils import load_mnist, seed_everything, LivePlot
from course_utils.torch_training import fit

torch.set_num_threads(2)
data = load_mnist(n_train={n_train}, n_test=1000)
train_loader, test_loader = data.torch_loaders(batch_size=64)

def make_model():
    seed_everything(0)
    # the lecture's MNIST CNN (seed 004): Conv 16@5x5 same -> MaxPool -> Dense 1024 -> Dense 10
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 14 * 14, 1024), nn.ReLU(), nn.Linear(1024, 10))

def run(live):
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    plot = LivePlot(xlabel="epoch") if live else False
    t0, c0 = time.perf_counter(), time.process_time()
    fit(model, train_loader, test_loader, optimizer=opt, epochs={epochs}, live=plot, verbose=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, (plot.renders if live else 0), (plot.render_seconds if live else 0.0), cpu

run(False); run(True)  # warm-up, both ways: thread pools, matplotlib's fonts (once per process)
off, on, renders, render_s, cpu_off, cpu_on = [], [], [], [], [], []
for _ in range({pairs}):
    s, _, _, c = run(False)
    off.append(s); cpu_off.append(c)
    s, r, rs, c = run(True)
    on.append(s); renders.append(r); render_s.append(rs); cpu_on.append(c)
print("RESULT" + json.dumps(dict(off=off, on=on, renders=renders, render_s=render_s,
      cpu_off=cpu_off, cpu_on=cpu_on, steps=len(train_loader) * {epochs})))
"""


def measure(n_train: int, epochs: int, pairs: int) -> dict:
    code = KERNEL_CODE.format(n_train=n_train, epochs=epochs, pairs=pairs)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    run_notebook(nb, ROOT, timeout=3600)
    for out in nb.cells[0].outputs:
        if out.output_type == "stream" and "RESULT" in out.text:
            return json.loads(out.text.split("RESULT", 1)[1].splitlines()[0])
    raise RuntimeError("The benchmark notebook printed no RESULT line.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--only", choices=["short", "long"], help="one workload only")
    args = parser.parse_args(argv)
    import statistics

    rows, raw = [], {}
    workloads = [
        ("short: 125 steps (8,000 images, 1 epoch)", 8000, 1),
        ("long: 938 steps (60,000 images, 1 epoch)", 60000, 1),
    ]
    workloads = [w for w in workloads if args.only in (None, w[0].split(":")[0])]
    print(
        f"{'workload':46s} {'off [s]':>8s} {'on [s]':>8s} {'ratio':>6s} {'cpu ratio':>9s} {'renders':>7s} "
        f"{'ms/render':>9s}"
    )
    for label, n_train, epochs in workloads:
        r = measure(n_train, epochs, args.pairs)
        raw[label.split(":")[0]] = {
            "off": [round(t, 3) for t in r["off"]],
            "on": [round(t, 3) for t in r["on"]],
        }
        off, on = statistics.median(r["off"]), statistics.median(r["on"])
        per_render = 1000 * sum(r["render_s"]) / max(1, sum(r["renders"]))
        cpu_ratio = statistics.median(r["cpu_on"]) / statistics.median(r["cpu_off"])
        print(
            f"{label:46s} {off:8.2f} {on:8.2f} {on / off:6.3f} {cpu_ratio:9.3f} "
            f"{statistics.median(r['renders']):7.0f} {per_render:9.1f}",
            flush=True,
        )
        rows.append(
            {
                "workload": label,
                "off_s": round(off, 2),
                "on_s": round(on, 2),
                "ratio": round(on / off, 3),
                "cpu_ratio": round(cpu_ratio, 3),
                "renders": statistics.median(r["renders"]),
                "ms_per_render": round(per_render, 1),
            }
        )
        raw[label.split(":")[0]].update(
            cpu_off=[round(t, 3) for t in r["cpu_off"]], cpu_on=[round(t, 3) for t in r["cpu_on"]]
        )
    save(
        "live_overhead",
        rows,
        pairs=args.pairs,
        runs_s=raw,
        note="median of interleaved runs in one Jupyter kernel (nbclient, inline backend)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
