# %% [markdown]
# # Lesson 07 (generalisation): solutions of the exercises ({{Track}})
#
# Worked answers to the five exercises at the end of `lessons/07_generalisation.py`, in
# {{Track}} (the other track's notebook solves them the same way with the other framework), on
# the lesson's data and network: the first `N_TRAIN` MNIST training images for training, the
# last `N_VAL` for validation, the MLP 784-512-512-10 with ReLU, Adam (0.001), batch size 64.
# The techniques are switched on as in the lesson: Keras uses
# `keras.callbacks.EarlyStopping(monitor=..., patience=..., restore_best_weights=True)`,
# `kernel_regularizer=keras.regularizers.L2(λ)`, `keras.layers.Dropout`,
# `keras.layers.BatchNormalization(momentum=0.9)` and `keras.layers.RandomTranslation`; PyTorch
# uses the hand-written early-stopping check in `train`, `torch.optim.Adam(..., weight_decay=2 * λ)`,
# `nn.Dropout`, `nn.BatchNorm1d` and `shift` (with `torch.roll`) on each training batch.
#
# **Fast mode** (`COURSE_FAST=1`) trains on at most 1,000 images for a few epochs: the printed
# numbers are noise, and only the code is checked. Run without `COURSE_FAST` for the real
# answers (several minutes on a 2-core CPU).

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

from course_utils.keras_callback import history_frame

LAYOUT = "NHWC"
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import pick_device
from course_utils.torch_training import evaluate, fit

LAYOUT = "NCHW"
device = pick_device()
print("PyTorch", torch.__version__, "device", device)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_utils import fast_mode, fast_or, load_mnist, seed_everything, set_cpu_threads

set_cpu_threads(1)  # on a busy 2-core machine one thread is faster than two for this small MLP
print("fast mode:", fast_mode())

N_TRAIN = fast_or(2_000, 500)
N_VAL = fast_or(10_000, 500)
EPOCHS = fast_or(40, 4)
PATIENCE = fast_or(5, 2)
BATCH, HIDDEN, LR, SHIFT = 64, 512, 1e-3, 2

mnist = load_mnist()  # fast mode: the first 2,000 training and 500 test images
x_all, y_all, x_test, y_test = mnist.arrays(normalize="unit", layout=LAYOUT)
x_val, y_val = x_all[-N_VAL:], y_all[-N_VAL:]  # the last images of the training set


# %% [markdown]
# ## The lesson's helpers
#
# `make_mlp` and `accuracy` as in the lesson (the Keras `accuracy` calls the model directly
# instead of `model.evaluate`, see its docstring). `train` is the lesson's, changed for the
# exercises: the number of training images `n_train`, the quantity early stopping watches
# (`monitor`, `"val_loss"` or `"val_accuracy"`; `None`: no early stopping) and its `patience`
# are arguments, there is no live plot, and it also returns the chosen model's validation
# accuracy and train-val gap. `summary` makes one table row of a run.

# %% tags=["keras"]
def make_mlp(dropout=0.0, l2=0.0, batchnorm=False, augment=False):
    """The 784-512-512-10 ReLU MLP; each option switches one technique on."""
    regularizer = keras.regularizers.L2(l2) if l2 else None  # weight decay: a penalty in the loss
    layers = [keras.Input(shape=(28, 28, 1))]
    if augment:  # a random shift of each image, active only in training (fit), not in evaluate
        layers.append(keras.layers.RandomTranslation(SHIFT / 28, SHIFT / 28, fill_mode="constant",
                                                     interpolation="nearest"))
    layers.append(keras.layers.Flatten())
    for _ in range(2):
        layers.append(keras.layers.Dense(HIDDEN, kernel_regularizer=regularizer))
        if batchnorm:  # momentum 0.9 = PyTorch's BatchNorm1d default, as in the lesson
            layers.append(keras.layers.BatchNormalization(momentum=0.9))
        layers.append(keras.layers.Activation("relu"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, kernel_regularizer=regularizer))  # 10 scores (logits)
    return keras.Sequential(layers, name="mlp")


def accuracy(model, x, y):
    """Fraction of images classified right (Dropout off, BatchNormalization in inference mode).

    The lesson's `model.evaluate(x, y)[1]`, computed with one direct call of the model instead:
    `evaluate` builds a new graph function for every model, and with 18 models in this notebook
    that costs more than the predictions themselves."""
    scores = keras.ops.convert_to_numpy(model(x, training=False))
    return float(np.mean(scores.argmax(axis=1) == y))


def train(n_train=N_TRAIN, monitor=None, patience=PATIENCE, seed=0, **options):
    """The lesson's run: early stopping on `monitor` ("val_loss" or "val_accuracy") if given."""
    seed_everything(seed)
    x_train, y_train = x_all[:n_train], y_all[:n_train]
    model = make_mlp(**options)
    model.compile(optimizer=keras.optimizers.Adam(LR), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callbacks = []
    if monitor:  # mode "auto": a loss must fall, an accuracy must rise
        stopper = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                restore_best_weights=True)
        callbacks.append(stopper)
    t0 = time.perf_counter()
    result = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=BATCH,
                       epochs=EPOCHS, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - t0
    history = history_frame(result)
    val = accuracy(model, x_val, y_val)
    return {"history": history, "chosen": stopper.best_epoch + 1 if monitor else len(history),
            "model": model, "val acc %": 100 * val, "best val acc %": 100 * history.val_accuracy.max(),
            "train-val gap": 100 * (accuracy(model, x_train, y_train) - val), "seconds": seconds}


# %% tags=["pytorch"]
def loader(x, y, batch_size=1000, shuffle=False):
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                      batch_size=batch_size, shuffle=shuffle)


val_loader = loader(x_val, y_val)


def make_mlp(dropout=0.0, batchnorm=False):
    """The 784-512-512-10 ReLU MLP; dropout and batch normalisation are layers of the model."""
    layers, width = [nn.Flatten()], 28 * 28
    for _ in range(2):
        layers += [nn.Linear(width, HIDDEN)] + ([nn.BatchNorm1d(HIDDEN)] if batchnorm else [])
        layers += [nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
        width = HIDDEN
    return nn.Sequential(*layers, nn.Linear(width, 10))


def shift(images):
    """Shift each image by its own random offset of -SHIFT..SHIFT pixels in each direction."""
    offsets = torch.randint(-SHIFT, SHIFT + 1, (len(images), 2)).tolist()
    return torch.stack([torch.roll(image, (dy, dx), dims=(1, 2))
                        for image, (dy, dx) in zip(images, offsets, strict=True)])


class Shifted:
    """Wrap a DataLoader so that every training batch is augmented afresh."""

    def __init__(self, loader):
        self.loader = loader

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield shift(x), y


def accuracy(model, x, y):
    """Fraction of images classified right (model.eval(): Dropout off, BatchNorm's running stats)."""
    return evaluate(model, loader(x, y))[1]


def train(n_train=N_TRAIN, monitor=None, patience=PATIENCE, weight_decay=0.0, augment=False,
          seed=0, **options):
    """The lesson's run: early stopping on `monitor` ("val_loss" or "val_accuracy") if given."""
    seed_everything(seed)
    x_train, y_train = x_all[:n_train], y_all[:n_train]
    train_loader = loader(x_train, y_train, batch_size=BATCH, shuffle=True)
    model = make_mlp(**options).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=weight_decay)
    batches = Shifted(train_loader) if augment else train_loader
    sign = -1 if monitor == "val_accuracy" else 1  # lower is better for a loss, higher for accuracy
    rows, best, best_epoch, best_state = [], float("inf"), 0, None
    t0 = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        row = fit(model, batches, val_loader, optimizer=optimizer, epochs=1, live=False,
                  verbose=False).iloc[0]
        rows.append(row)
        if monitor:
            if sign * row[monitor] < best:
                best, best_epoch, best_state = sign * row[monitor], epoch, copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= patience:
                break
    if monitor:
        model.load_state_dict(best_state)  # back to the weights of the best epoch
    seconds = time.perf_counter() - t0
    history = pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="epoch"))
    val = accuracy(model, x_val, y_val)
    return {"history": history, "chosen": best_epoch if monitor else len(history), "model": model,
            "val acc %": 100 * val, "best val acc %": 100 * history.val_accuracy.max(),
            "train-val gap": 100 * (accuracy(model, x_train, y_train) - val), "seconds": seconds}


# %%
def summary(label, run, test=False):
    row = {"run": label, "epochs run": len(run["history"]), "chosen epoch": run["chosen"],
           "best val acc %": run["best val acc %"], "val acc %": run["val acc %"],
           "train-val gap": run["train-val gap"], "seconds": run["seconds"]}
    if test:  # only for runs that were already chosen by validation, or for the record
        row["test acc %"] = 100 * accuracy(run["model"], x_test, y_test)
    return row


# %% [markdown]
# ## Exercise 1
#
# *Early stopping watches `val_loss`. Let it watch the validation accuracy instead, and try
# patience 2 and 10. Which epoch is chosen, and how do validation and test accuracy change?*

# %%
rows = []
for monitor in ("val_loss", "val_accuracy"):
    for patience in (2, 10):
        run = train(monitor=monitor, patience=patience)
        rows.append(summary(f"{monitor}, patience {patience}", run, test=True))
table = pd.DataFrame(rows)
print(table.round(2).to_string(index=False))

# %% [markdown]
# **Answer (table above).** The validation loss of an over-fitting network reaches its minimum
# early, while the validation accuracy still creeps up for a while afterwards: the network keeps
# getting more images right, but is confidently wrong on the others, which the loss punishes
# and the accuracy does not see. So watching `val_loss` stops earliest (small chosen epoch),
# watching `val_accuracy` later, usually with a slightly higher accuracy. A small patience
# stops at the first bump of a noisy curve; a large one trains longer but, because the weights
# of the best epoch are restored at the end (Keras: `restore_best_weights=True`; PyTorch: the
# `load_state_dict(best_state)` in `train`), never returns worse weights, only costs time.
# Compare `val acc %` and `test acc %`: the test accuracy follows the validation accuracy,
# within the noise of a few thousand images, because nothing was chosen with the test set.
# (In Keras, `val_loss` of a model with `L2` also contains the penalty; here no run of this
# exercise uses weight decay, so both tracks watch the plain cross-entropy.)

# %% [markdown]
# ## Exercise 2
#
# *Switch on all techniques together (early stopping, weight decay, dropout, batch
# normalisation, augmentation). Is the gain the sum of the single gains?*
#
# Weight decay as in the lesson: λ = 1e-4, that is `L2(1e-4)` in Keras and
# `weight_decay=2e-4` in PyTorch.

# %% tags=["keras"]
single = {"none": {}, "weight decay": {"l2": 1e-4}, "dropout": {"dropout": 0.5},
          "batch normalisation": {"batchnorm": True}, "data augmentation": {"augment": True}}
together = {"monitor": "val_loss", "l2": 1e-4, "dropout": 0.5, "batchnorm": True, "augment": True}

# %% tags=["pytorch"]
single = {"none": {}, "weight decay": {"weight_decay": 2e-4}, "dropout": {"dropout": 0.5},
          "batch normalisation": {"batchnorm": True}, "data augmentation": {"augment": True}}
together = {"monitor": "val_loss", "weight_decay": 2e-4, "dropout": 0.5, "batchnorm": True,
            "augment": True}

# %%
rows = [summary(label, train(**options)) for label, options in single.items()]
rows.append(summary("all together (+ early stopping)", train(**together)))
table = pd.DataFrame(rows)
base = table.loc[0, "val acc %"]
table["gain (points)"] = table["val acc %"] - base
print(table.round(2).to_string(index=False))
print(f"sum of the single gains: {table['gain (points)'].iloc[1:-1].sum():.2f} points; "
      f"all together: {table['gain (points)'].iloc[-1]:.2f} points")

# %% [markdown]
# **Answer.** Compare the last two printed numbers. The gains do not add up: the techniques
# attack the same problem (too many weights for too few images), and once one of them has
# closed part of the train-val gap there is less left for the next. Some combinations even
# work against each other (dropout changes the statistics that batch normalisation collects
# during training; strong regularisation together with dropout can make the network
# under-fit, visible as a train-val gap near zero and a lower accuracy). The combined network
# also learns more slowly per epoch, so with a fixed budget it may need more epochs. Choose the
# combination on the validation set, as always. One difference between the tracks: in Keras
# the L2 penalty is part of `val_loss`, so the early stopping of the combined run watches
# cross-entropy + penalty; in PyTorch (`weight_decay` acts in the optimiser) it watches the
# plain cross-entropy.

# %% [markdown]
# ## Exercise 3
#
# *"Use a larger data set" (大規模データセットの利用): train the baseline on 500, 2,000 and 8,000
# images. How do the best validation accuracy and the train-val gap change?*

# %%
sizes = fast_or([500, 2_000, 8_000], [250, 500, 1_000])
assert max(sizes) + N_VAL <= len(x_all)
rows = []
for n in sizes:
    row = summary(f"{n:,} images", train(n_train=n))
    rows.append(row | {"training images": n})
table = pd.DataFrame(rows)
print(table.round(2).to_string(index=False))
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(table["training images"], table["best val acc %"], "o-", label="best val acc %")
ax.plot(table["training images"], table["train-val gap"], "s-", label="train-val gap (points)")
ax.set(xscale="log", xlabel="training images")
ax.legend()
plt.show()

# %% [markdown]
# **Answer.** More data is the most reliable technique of column B: with every fourfold
# increase the best validation accuracy rises and the train-val gap shrinks (read both off the
# table and the plot; the training accuracy, `val acc %` + `train-val gap`, stays high for all
# sizes, so the gap shrinks because the validation accuracy catches up). The price is time: an
# epoch over 8,000 images costs about four times as much as over 2,000 (`seconds`).

# %% [markdown]
# ## Exercise 4
#
# *Weight decay is a strength you must choose. Try λ = 1e-5, 1e-4, 1e-3 and 1e-2 (PyTorch:
# `weight_decay = 2 * λ`). Which is best on the validation set, and what happens when λ is too
# large?*

# %% tags=["keras"]
rows = [summary(f"λ = {lam:g}", train(l2=lam))
        for lam in (0.0, 1e-5, 1e-4, 1e-3, 1e-2)]

# %% tags=["pytorch"]
rows = [summary(f"λ = {lam:g}", train(weight_decay=2 * lam))
        for lam in (0.0, 1e-5, 1e-4, 1e-3, 1e-2)]

# %%
table = pd.DataFrame(rows)
print(table.round(2).to_string(index=False))
best = table.iloc[int(np.argmax(table["val acc %"]))]
print(f"best on the validation set: {best.run}")

# %% [markdown]
# **Answer.** A very small λ changes nothing (the curves are those of the baseline). Growing λ
# shrinks the train-val gap: the weights are kept small, so the network cannot fit every pixel of
# every training image. Too large a λ pulls the weights so hard towards 0 that the network can
# no longer fit even the training images: training and validation accuracy both fall, the gap
# is small but for the wrong reason. This is **under-fitting**. The best λ lies in between, and
# the only fair way to find it is the validation set (the printed "best" line); the test set
# would then measure that one choice once. The same λ is the same pull on the weights in both
# tracks (Keras' `L2(λ)` adds λ·Σw² to the loss, PyTorch's `weight_decay = 2λ` adds 2λ·w to
# the gradient), but not an identical run: PyTorch also decays the biases, Keras only the
# kernels, and the two frameworks start from different random weights, so the printed tables
# of the two notebooks differ a little.

# %% [markdown]
# ## Exercise 5
#
# *Early stopping from a file: keep the best epoch in a checkpoint file instead of in memory,
# load that file when the run ends, and check that the loaded model's validation accuracy is the
# one the history shows for the chosen epoch. Why is this the version to use for a run of hours?*

# %%
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp(prefix="lesson07-ex5-"))  # on Colab: a folder of your Google Drive

# %% tags=["keras"]
def train_from_file(patience=PATIENCE, **options):
    """Early stopping on val_loss; the best epoch lives in best.keras, not in memory."""
    seed_everything(0)
    x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
    model = make_mlp(**options)
    model.compile(optimizer=keras.optimizers.Adam(LR), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience),  # stops only
                 keras.callbacks.ModelCheckpoint(str(folder / "best.keras"), monitor="val_loss",
                                                 save_best_only=True)]  # keeps the best, on disk
    result = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=BATCH,
                       epochs=EPOCHS, callbacks=callbacks, verbose=0)
    history = history_frame(result)
    return keras.models.load_model(folder / "best.keras"), history


# %% tags=["pytorch"]
def train_from_file(patience=PATIENCE, **options):
    """Early stopping on val_loss; the best epoch lives in best.pt, not in memory."""
    seed_everything(0)
    train_loader = loader(x_all[:N_TRAIN], y_all[:N_TRAIN], batch_size=BATCH, shuffle=True)
    model = make_mlp(**options).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    rows, best_loss, best_epoch = [], float("inf"), 0
    for epoch in range(1, EPOCHS + 1):
        row = fit(model, train_loader, val_loader, optimizer=optimizer, epochs=1, live=False,
                  verbose=False).iloc[0]
        rows.append(row)
        if row.val_loss < best_loss:  # instead of copy.deepcopy(model.state_dict()): a file
            best_loss, best_epoch = float(row.val_loss), epoch  # a Python float, not numpy's
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch, "best_loss": best_loss}, folder / "best.pt")
        elif epoch - best_epoch >= patience:
            break
    history = pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="epoch"))
    state = torch.load(folder / "best.pt", weights_only=True)
    best = make_mlp(**options).to(device)
    best.load_state_dict(state["model"])
    return best, history


# %%
model, history = train_from_file()
chosen = int(history.val_loss.idxmin())
loaded = accuracy(model, x_val, y_val)
print(f"{len(history)} epochs run; best val_loss in epoch {chosen}")
print(f"validation accuracy of the loaded model {loaded:.4f}; the history's for epoch {chosen}: "
      f"{history.val_accuracy[chosen]:.4f}")
assert abs(loaded - history.val_accuracy[chosen]) < 1e-3, "the file holds another epoch's weights"

# %% [markdown]
# **Answer.** The loaded model is the chosen epoch's: its validation accuracy, measured again,
# is the one in the history (to rounding). The file costs one save per improvement and nothing
# else, and it is what a long run needs: if the kernel dies in hour three, early stopping's
# in-memory copy dies with it, while the file still holds the best model so far (and, with the
# optimiser's state and the epoch in it, lets the run go on, as section 6 of the lesson shows).
# A file also documents the run: it can be loaded in another notebook, or by the grader.

# %% [markdown]
# ## Exercise 6
#
# *Repeat the dropout run with the seeds of section 7 and compare it with the baseline seed by
# seed: the difference (dropout minus baseline) for each seed, their mean and standard
# deviation. Is dropout's gain larger than twice the standard error of that mean? Why is
# comparing seed by seed fairer than comparing two means?*
#
# `train` (this notebook's, above) takes the seed, and the lesson's dropout is 0.5; with the
# same seed both runs start from the same weights and see the images in the same first order.

# %%
SEEDS = fast_or([0, 1, 2, 3, 4], [0, 1])
pairs = pd.DataFrame([{"seed": seed, "baseline val acc %": train(seed=seed)["val acc %"],
                       "dropout val acc %": train(seed=seed, dropout=0.5)["val acc %"]}
                      for seed in SEEDS])
pairs["difference"] = pairs["dropout val acc %"] - pairs["baseline val acc %"]
print(pairs.round(2).to_string(index=False))
n = len(pairs)
mean, sd = pairs["difference"].mean(), pairs["difference"].std()
standard_error = sd / np.sqrt(n)
print(f"dropout - baseline: {mean:+.2f} points on average over {n} seeds, sd {sd:.2f}, "
      f"standard error {standard_error:.2f}")
print("larger than 2 standard errors" if abs(mean) > 2 * standard_error else
      "within 2 standard errors: these seeds cannot tell dropout from the baseline")
for column in ("baseline val acc %", "dropout val acc %"):
    print(f"{column}: {pairs[column].mean():.2f} ± {pairs[column].std():.2f}")

# %% [markdown]
# **Answer.** Read the verdict printed above: it depends on the run (in fast mode, two seeds
# of 4 epochs on 500 images, the gain is usually inside the noise). Seed by seed is fairer
# because each pair shares what the seed decides (the first weights, the order of the images):
# the difference removes the part of the spread that both runs have in common, so the standard
# deviation of the *differences* is usually smaller than that of either column, and a real
# effect shows with fewer seeds. Comparing two means ignores that pairing and needs more runs
# to see the same effect. With n = 3 or 5 seeds the standard error itself is rough; a report
# says how many seeds, and shows the single values.
