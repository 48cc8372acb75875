"""CIFAR-10: the PyTorch tutorial's LeNet (seed 000) after 2 epochs, and an improved CNN.

The seed reports 56 % (2 epochs) and 62 % (10 epochs) for LeNet on the full 50,000 images,
and 81.4 % for its own larger CNN (seed 001). Offline, the course data holds 10,000 of the
50,000 training images (JPEG-decoded) and 2,000 test images; the report says so.

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_cifar10.py [--improved-epochs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks._report import save


def lenet():
    from torch import nn

    return nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))  # fmt: skip


def improved():
    from torch import nn

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                nn.MaxPool2d(2), nn.Dropout(0.2)]  # fmt: skip

    return nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128), nn.Flatten(),
                         nn.Linear(128 * 4 * 4, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10))  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--improved-epochs", type=int, default=10)
    args = parser.parse_args(argv)
    os.environ.pop("COURSE_FAST", None)
    import torch

    from course_utils import load_cifar10, seed_everything
    from course_utils.torch_training import fit

    ds = load_cifar10()
    notes = "; ".join(ds.notes) or f"{len(ds.x_train)} train / {len(ds.x_test)} test"
    print(f"data: {notes}")
    rows = []
    seed_everything(0)
    train, test = ds.torch_loaders(batch_size=4, normalize="symmetric")  # the tutorial's settings
    model = lenet()
    t0 = time.perf_counter()
    h = fit(model, train, test, optimizer=torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9),
            epochs=2, live=False, verbose=False)  # fmt: skip
    rows.append({"model": "LeNet (tutorial), SGD, batch 4", "epochs": 2, "train_s": round(time.perf_counter() - t0, 1),
                 "test_accuracy": round(float(h.val_accuracy.iloc[-1]), 4), "seed_says": "56 % (full data)"})  # fmt: skip
    print(rows[-1], flush=True)

    seed_everything(0)
    # augmentation: random horizontal flips, applied per batch
    train, test = ds.torch_loaders(batch_size=64, normalize="symmetric")

    class Flip(torch.utils.data.Dataset):
        def __init__(self, base):
            self.base = base

        def __len__(self):
            return len(self.base)

        def __getitem__(self, i):
            x, y = self.base[i]
            return (x.flip(-1) if torch.rand(()) < 0.5 else x), y

    train = torch.utils.data.DataLoader(Flip(train.dataset), batch_size=64, shuffle=True)
    model = improved()
    t0 = time.perf_counter()
    h = fit(model, train, test, optimizer=torch.optim.Adam(model.parameters(), 1e-3), epochs=args.improved_epochs,
            live=False, verbose=True)  # fmt: skip
    rows.append({"model": "improved CNN (3 conv blocks, BN, dropout, flips), Adam", "epochs": args.improved_epochs,
                 "train_s": round(time.perf_counter() - t0, 1),
                 "test_accuracy": round(float(h.val_accuracy.iloc[-1]), 4),
                 "seed_says": "81.4 % (seed 001, full data)"})  # fmt: skip
    print(rows[-1], flush=True)
    save("cifar10", rows, data=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
