"""Lesson 05, section 7 and exercise 5: the lesson's CNN on the twenty digit photos of
``lessons/data/my_digits``, in both tracks, read exactly as the lesson reads them.

The CNN (Conv 16@5×5 same → MaxPool → Dense 1024 → Dense 10, the report's truncated-normal
start, seed 20190222) trains as in the lesson's full mode: 55,000 MNIST digits, 5,000 held out
for validation, Adam, batch 128, ``--epochs`` (10). Then it classifies the twenty pictures three
ways and prints how many it gets right: as read (dark ink on light paper), inverted and
stretched (section 7), and prepared as MNIST (exercise 5's solution: 20×20 box, centre of mass).

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_own_digits.py [--epochs 10]
"""

from __future__ import annotations

import argparse
import ast
import sys
import time

from benchmarks._report import ROOT, run_script, save

FOLDER = ROOT / "lessons" / "data" / "my_digits"
SOLUTION = ROOT / "solutions" / "lectures" / "src" / "05_mnist.py"

# the three preparations, on N×H×W pictures 0…1 (N×96×96 for as_mnist) → N×28×28
COMMON = r"""
import json, sys
import numpy as np
from PIL import Image
from course_utils import load_mnist, seed_everything
exec(AS_MNIST)  # inverted() and as_mnist() of the exercise's solution

def stretched(x):
    x = 1.0 - x
    low, high = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    return (x - low) / (high - low)

mnist = load_mnist()
dev = mnist.holdout(5000)
"""

KERAS = r"""
import keras
x_train, y_train, x_val, y_val = dev.arrays(normalize="unit", layout="NHWC")
seed_everything(20190222)
init = keras.initializers.TruncatedNormal
cnn = keras.Sequential([keras.Input(shape=(28, 28, 1)),
    keras.layers.Conv2D(16, (5, 5), padding="same", kernel_initializer=init(), activation="relu"),
    keras.layers.MaxPooling2D((2, 2)), keras.layers.Flatten(),
    keras.layers.Dense(1024, activation="relu", kernel_initializer=init()),
    keras.layers.Dense(10, activation="softmax")])
cnn.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
h = cnn.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=128, epochs=EPOCHS, verbose=0)
val = h.history["val_accuracy"][-1]
def read(size):
    ds = keras.utils.image_dataset_from_directory(FOLDER, color_mode="grayscale", image_size=(size, size),
                                                  batch_size=32, shuffle=False, verbose=False)
    b = list(ds.as_numpy_iterator())
    return np.concatenate([x for x, _ in b])[..., 0] / 255.0, np.concatenate([y for _, y in b])
small, y = read(28)
big, _ = read(96)
guess = lambda x: cnn.predict(x[..., None], verbose=0).argmax(axis=1)
"""

TORCH = r"""
from collections import OrderedDict
import torch
from torch import nn
from torchvision import datasets
from torchvision.transforms import v2
from course_utils.models import predict_proba
from course_utils.torch_training import fit
seed_everything(20190222)
cnn = nn.Sequential(OrderedDict([("conv_filter", nn.Conv2d(1, 16, 5, padding="same")), ("relu", nn.ReLU()),
    ("max_pooling", nn.MaxPool2d(2)), ("flatten", nn.Flatten()), ("hidden", nn.Linear(16 * 14 * 14, 1024)),
    ("hidden_relu", nn.ReLU()), ("output", nn.Linear(1024, 10))]))
for name in ("conv_filter", "hidden"):
    nn.init.trunc_normal_(cnn.get_submodule(name).weight, std=0.05, a=-0.1, b=0.1)
train_loader, val_loader = dev.torch_loaders(batch_size=128, normalize="unit")
h = fit(cnn, train_loader, val_loader, optimizer=torch.optim.Adam(cnn.parameters()),
        loss_fn=nn.CrossEntropyLoss(), epochs=EPOCHS, live=False, verbose=False)
val = float(h.val_accuracy.iloc[-1])
def read(size):
    steps = [v2.Grayscale()] + ([v2.Resize((size, size), antialias=True)] if size != 96 else [])
    ds = datasets.ImageFolder(FOLDER, transform=v2.Compose([*steps, v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]))
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=False)
    return torch.cat([x for x, _ in loader]).numpy()[:, 0], torch.cat([y for _, y in loader]).numpy()
small, y = read(28)
big, _ = read(96)
guess = lambda x: predict_proba(cnn, x[:, None].astype(np.float32)).argmax(axis=1)
"""

RESULT = r"""
centred = np.stack([as_mnist(p) for p in big])
out = {"val_accuracy": val}
for key, x in (("as_read", small), ("inverted_stretched", stretched(small)), ("as_mnist", centred)):
    g = guess(x)
    out[key] = int((g == y).sum())
    out[key + "_guesses"] = g.tolist()
print("RESULT" + json.dumps(out))
"""


def as_mnist_code() -> str:
    """``inverted`` and ``as_mnist`` exactly as the exercise's solution defines them."""
    text = SOLUTION.read_text()
    found = {
        node.name: ast.get_source_segment(text, node)
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef) and node.name in ("inverted", "as_mnist")
    }
    missing = {"inverted", "as_mnist"} - found.keys()
    if missing:
        raise RuntimeError(
            f"{SOLUTION.name} no longer defines {sorted(missing)} at top level: "
            "keep exercise 5's solution functions there, or update this benchmark"
        )
    return "\n\n".join(found[name] for name in ("inverted", "as_mnist"))


def run(framework: str, epochs: int) -> dict:
    code = (COMMON + (KERAS if framework == "keras" else TORCH) + RESULT).replace("EPOCHS", str(epochs))
    code = code.replace("FOLDER", repr(str(FOLDER))).replace("AS_MNIST", repr(as_mnist_code()))
    return run_script(code, framework)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tracks", nargs="+", default=["keras", "pytorch"])
    args = parser.parse_args(argv)
    rows = []
    print(
        f"{'track':8s} {'epochs':>6s} {'val acc':>8s} {'as read':>8s} {'inverted':>9s} {'as MNIST':>9s} {'s':>6s}"
    )
    for track in args.tracks:
        t0 = time.perf_counter()
        r = run(track, args.epochs)
        seconds = round(time.perf_counter() - t0, 1)
        rows.append(
            {
                "track": track,
                "epochs": args.epochs,
                "val_accuracy": round(r["val_accuracy"], 4),
                "as_read": r["as_read"],
                "inverted_stretched": r["inverted_stretched"],
                "as_mnist": r["as_mnist"],
                "of": 20,
                "wall_s": seconds,
            }
        )
        print(
            f"{track:8s} {args.epochs:6d} {r['val_accuracy']:8.4f} {r['as_read']:5d}/20 {r['inverted_stretched']:6d}/20 "
            f"{r['as_mnist']:6d}/20 {seconds:6.0f}",
            flush=True,
        )
        for key in ("as_read", "inverted_stretched", "as_mnist"):
            print(f"         {key}: {r[key + '_guesses']}")
    save("own_digits", rows, data="full MNIST (55,000 train / 5,000 validation), lessons/data/my_digits (20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
