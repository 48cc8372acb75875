# %% [markdown]
# # Lesson 7 — Generalisation: over-fitting and what helps against it ({{Track}})
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{colab}})
#
# **Learning goals.** After this lesson you can
#
# 1. split data into **training, validation and test** sets, and explain why settings chosen on
#    the test set give a test score that is too good to be true;
# 2. recognise **over-fitting** in the two curves of a training run (training vs validation loss
#    and accuracy), and measure it as the gap between training and validation accuracy;
# 3. switch on **early stopping, weight decay (L2), dropout, batch normalisation and data
#    augmentation** in your framework, one at a time, and compare them fairly: same model, same
#    data, same budget, one table and one plot;
# 4. place these tools in the lecture's map of deep-learning techniques (its table A / B / C);
# 5. save **checkpoints** (weights, optimiser state, epoch) during training, resume an
#    interrupted run from the last one, and reload the best epoch's model from its file;
# 6. repeat a run with several **seeds**, report mean ± standard deviation, and say what a seed
#    does and does not make repeatable.
#
# Sources: 知能工学特別講義 第3講 (汎化誤差を小さくするための技術: generalisation error, the
# A/B/C classification of techniques, early stopping, dropout, regularisation, batch
# normalisation); lesson 5 (MNIST) and lesson 6 (the improved CIFAR-10 network, which already
# used batch normalisation, dropout and augmentation together).
#
# **Budget.** Full mode trains six small networks for section 5, the baseline once more for
# section 6 and five times for section 7 (the whole notebook took 339 s in Keras and 122 s in
# PyTorch on an idle 2-core CPU without GPU, 2026-12-06). Fast mode (`COURSE_FAST=1`) uses 500
# training images and 4 epochs, only to check that the code runs: its numbers are noise.

# %% [markdown]
# ## Setup

# %%
# {{install}}

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

from course_utils.keras_callback import LivePlotCallback, history_frame

LAYOUT = "NHWC"
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import fast_mode, pick_device
from course_utils.torch_training import evaluate, fit

LAYOUT = "NCHW"
device = pick_device()  # "cuda" on a Colab GPU
if fast_mode():  # CI runs on small shared CPUs, where one thread beats two by far
    torch.set_num_threads(1)
print("PyTorch", torch.__version__, "device", device)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_utils import LivePlot, fast_mode, fast_or, load_mnist, seed_everything

seed_everything(0)
print("fast mode:", fast_mode())

# %% [markdown]
# ## 1. Generalisation error, and three sets of data
#
# The lecture (第3講) puts the goal in one sentence: *訓練データに含まれない初見のデータに対して
# 適切な出力を与えることが望ましい* — we want the right output for data **seen for the first
# time**, data that is not in the training set. The error on such data is the **generalisation
# error** (汎化誤差). The training error cannot measure it: a network with enough weights can
# learn the training images by heart.
#
# So we hold data back, in two portions:
#
# | set | used for | how often we look at it |
# |---|---|---|
# | **training** | the gradient steps | every batch |
# | **validation** | every choice we make: which epoch to stop at, which technique, which strength | after every epoch, as often as we like |
# | **test** | one honest estimate of the generalisation error, at the very end | **once** |
#
# **Why not choose settings on the test set?** Every choice made by looking at a score is a
# little piece of training: picking the best of six runs (or the best epoch of forty) by their
# test accuracy picks, among other things, the run that happened to be lucky on those particular
# test images. Its test accuracy is then the *maximum* of several noisy numbers, and that is
# biased upwards: it promises more than the network will deliver on new data. The test set is
# only an unbiased estimate as long as nothing was chosen with it. (The lecture's MNIST code
# measures its accuracy on the test data, with the remark *テストデータを利用することに注意*,
# "note that the test data is used": that is fine for one final number, but not for tuning.)
#
# MNIST comes with a training set (60,000 images) and a test set (10,000). We carve the
# validation set out of the **training** set and leave the test set alone until section 5.
# To make over-fitting easy to see we train on a small part only.

# %%
N_TRAIN = fast_or(2_000, 500)  # training images: few, so that the network can memorise them
N_VAL = fast_or(10_000, 500)   # validation images, carved out of MNIST's training set
EPOCHS = fast_or(40, 4)          # the same budget for every run
PATIENCE = fast_or(5, 2)         # early stopping: epochs without a better val_loss before we stop
BATCH = 64
HIDDEN = 512                     # units per hidden layer
LR = 1e-3                        # Adam's learning rate
DROPOUT = 0.5                    # fraction of hidden units switched off in each training step
L2 = 1e-4                        # weight decay: the loss gets L2 * (sum of squared weights)
SHIFT = 2                        # augmentation: shift each image by up to 2 pixels

mnist = load_mnist()  # fast mode: the first 2,000 training and 500 test images
print(mnist)
x_all, y_all, x_test, y_test = mnist.arrays(normalize="unit", layout=LAYOUT)
assert N_TRAIN + N_VAL <= len(x_all), "training and validation images must not overlap"
x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]  # the first images of the training set
x_val, y_val = x_all[-N_VAL:], y_all[-N_VAL:]        # its last images: never trained on
print(f"train {len(x_train):,}   validation {len(x_val):,}   test {len(x_test):,} (kept for the end)")
print("training images per class:", np.bincount(y_train, minlength=10))

# %% [markdown]
# ## 2. A network that over-fits
#
# A multi-layer perceptron (MLP) 784-512-512-10 with ReLU has about 670,000 weights for a few
# thousand images: plenty to memorise them. We train it with Adam and watch both curves. Every
# run in this lesson goes through the same function `train`, with one option switched on or
# none; it returns the model, its history (one row per epoch), the seconds it took and the
# **chosen epoch**: the last one, or, with early stopping, the best one.

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
        if batchnorm:  # momentum 0.9 = PyTorch's BatchNorm1d default (its momentum=0.1 means the same)
            layers.append(keras.layers.BatchNormalization(momentum=0.9))
        layers.append(keras.layers.Activation("relu"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, kernel_regularizer=regularizer))  # 10 scores (logits)
    return keras.Sequential(layers, name="mlp")


class ValCurve(keras.callbacks.Callback):
    """After each epoch, send the validation accuracy to a LivePlot, under the run's name."""

    def __init__(self, live, name):
        super().__init__()
        self.live, self.name = live, name

    def on_epoch_end(self, epoch, logs=None):
        self.live.update({self.name: logs["val_accuracy"]}, step=epoch + 1)


def train(name, live, all_curves=False, early_stopping=False, seed=0, **options):
    """Train one MLP on the training set, validate after every epoch; return a dict."""
    seed_everything(seed)  # the same start for every run (section 7 changes it)
    model = make_mlp(**options)
    model.compile(optimizer=keras.optimizers.Adam(LR), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callbacks = [LivePlotCallback(live, per_batch=False, verbose=False) if all_curves
                 else ValCurve(live, name)]
    if early_stopping:
        stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE,
                                                restore_best_weights=True)
        callbacks.append(stopper)
    t0 = time.perf_counter()
    result = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=BATCH,
                       epochs=EPOCHS, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - t0
    history = history_frame(result)
    chosen = stopper.best_epoch + 1 if early_stopping else len(history)  # best_epoch counts from 0
    return {"model": model, "history": history, "seconds": seconds, "chosen": chosen}


def accuracy(model, x, y):
    """Fraction of images classified right (Dropout off, BatchNormalization in inference mode)."""
    return float(model.evaluate(x, y, batch_size=1000, verbose=0)[1])


# %% tags=["pytorch"]
def make_mlp(dropout=0.0, batchnorm=False):
    """The 784-512-512-10 ReLU MLP; dropout and batch normalisation are layers of the model."""
    layers, width = [nn.Flatten()], 28 * 28
    for _ in range(2):
        layers.append(nn.Linear(width, HIDDEN))
        if batchnorm:
            layers.append(nn.BatchNorm1d(HIDDEN))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = HIDDEN
    layers.append(nn.Linear(width, 10))  # 10 scores; the softmax is inside CrossEntropyLoss
    return nn.Sequential(*layers)


def shift(images):
    """Shift each image by its own random offset of -SHIFT..SHIFT pixels in each direction.

    torch.roll moves the pixels that leave one side in at the other; MNIST digits have an empty
    border, so only background wraps around."""
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
            x, y = x.to(device), y.to(device)  # shift on the GPU, where the batch will be
            yield shift(x), y


def loader(x, y, batch_size=1000, shuffle=False):
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                      batch_size=batch_size, shuffle=shuffle)


train_loader = loader(x_train, y_train, batch_size=BATCH, shuffle=True)
val_loader = loader(x_val, y_val)


def train(name, live, all_curves=False, early_stopping=False, weight_decay=0.0, augment=False,
          seed=0, **options):
    """Train one MLP on the training set, validate after every epoch; return a dict."""
    # the same start and the same batches in epoch 1 (section 7 changes the seed). The shifts
    # (and dropout on the CPU) draw from the generator that also shuffles the data, so from
    # epoch 2 those runs see other batches
    seed_everything(seed)
    model = make_mlp(**options).to(device)
    # weight decay (coupled L2): Adam adds weight_decay * weight to each gradient, then rescales
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=weight_decay)
    batches = Shifted(train_loader) if augment else train_loader
    rows, best_loss, best_epoch, best_state = [], float("inf"), 0, None
    t0 = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        row = fit(model, batches, val_loader, optimizer=optimizer, epochs=1, live=False,
                  verbose=False).iloc[0]  # one epoch, then the validation loss and accuracy
        rows.append(row)
        live.update(row.drop("time_s").to_dict() if all_curves else {name: row.val_accuracy},
                    step=epoch)
        if early_stopping:  # the hand-written check: keep the best weights, stop when no progress
            if row.val_loss < best_loss:
                best_loss, best_epoch = row.val_loss, epoch
                best_state = copy.deepcopy(model.state_dict())
            elif epoch - best_epoch >= PATIENCE:
                break
    if early_stopping:
        model.load_state_dict(best_state)  # back to the weights of the best epoch
    seconds = time.perf_counter() - t0
    live.finish()
    history = pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="epoch"))
    chosen = best_epoch if early_stopping else len(history)
    return {"model": model, "history": history, "seconds": seconds, "chosen": chosen}


def accuracy(model, x, y):
    """Fraction of images classified right (model.eval(): Dropout off, BatchNorm's running stats)."""
    return evaluate(model, loader(x, y))[1]


# %% [markdown]
# The baseline: no technique switched on. The live plot shows the training values (measured
# while the weights change, averaged over the epoch) and the validation values after each epoch.

# %%
runs = {}
runs["none (baseline)"] = train("none (baseline)", LivePlot(xlabel="epoch"), all_curves=True)
baseline = runs["none (baseline)"]["history"]
best = int(baseline.val_loss.idxmin())
print(baseline.loc[sorted({1, best, len(baseline)})].round(4).to_string())  # first, best, last
print(f"lowest validation loss after epoch {best}; after epoch {len(baseline)}: training accuracy "
      f"{baseline.accuracy.iloc[-1]:.2%}, validation accuracy {baseline.val_accuracy.iloc[-1]:.2%}")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
baseline.plot(y=["loss", "val_loss"], ax=ax_loss, marker=".", title="loss")
baseline.plot(y=["accuracy", "val_accuracy"], ax=ax_acc, marker=".", title="accuracy")
for ax in (ax_loss, ax_acc):
    ax.axvline(best, color="grey", linestyle=":", label=f"lowest val_loss (epoch {best})")
    ax.legend()
plt.show()

# %% [markdown]
# Read the two curves (in full mode; the fast-mode run is too short to show it):
#
# - the **training** loss keeps falling towards 0, and the training accuracy climbs to 100 %:
#   the network has memorised its training images;
# - the **validation** loss falls only for the first epochs, then **rises** again, while the
#   validation accuracy stops improving. From there on, further training makes the network more
#   confident on the training images and more often confidently wrong on new ones. This is
#   **over-fitting** (過学習).
#
# The vertical distance between the accuracy curves, the **train-val gap**, is our measure of it.
#
# ## 3. The lecture's map of techniques
#
# There are many tools, and some have more than one purpose. The lecture sorts them in a table
# (第3講, 深層学習技術の分類, "a classification of deep-learning techniques"): *要素技術が大量に
# あるので、目的ごとに整理して理解しておくとよい* — "there are a great many component techniques,
# so it pays to sort them by purpose":
#
# | A. 関数近似のための最適化技術<br>optimisation techniques for function approximation | B. 汎化誤差を小さくするための技術<br>techniques that reduce the generalisation error | C. 表現学習のための技術<br>techniques for representation learning |
# |---|---|---|
# | 確率的勾配法 stochastic gradient descent | 正則化 regularisation | 畳み込みネットワーク convolutional networks |
# | 誤差逆伝播法 backpropagation | 重み共有 weight sharing | ネットワーク構造 network structure (architecture) |
# | 勾配消失を抑制する活性化関数 activation functions that suppress vanishing gradients | バッチ正規化 batch normalisation | |
# | スキップ構造 (ResNet) skip connections (ResNet) | ドロップアウト dropout | |
# | バッチ正規化 batch normalisation | 大規模データセットの利用 use of large data sets | |
# | | データ拡張 data augmentation | |
#
# Batch normalisation is in two columns: it makes training easier (A) and it also tends to reduce
# over-fitting (B). This lesson is about column B; lessons 1 and 5 were about column A, lessons
# 3 to 6 about column C.
#
# The lecture's slide 汎化誤差を小さくするための技術 ("techniques for reducing the generalisation
# error") then describes four of them:
#
# - **早期学習停止 early stopping**: *stop the learning process just before over-fitting sets in
#   (but in general it is hard to know when over-fitting will start).*
# - **ドロップアウト dropout**: *during training, randomly thin out elements of the matrix $W$
#   while learning.* (The `Dropout` layers of Keras and PyTorch switch off whole units, the
#   outputs of a layer: that is the same as removing a whole column of the next $W$. Each unit
#   is dropped with probability $p$ in each training step, the survivors are scaled by
#   $1/(1-p)$, and at evaluation time nothing is dropped.)
# - **正則化 regularisation**: *impose some constraint on the matrix $W$ during training (for
#   example that its Frobenius norm be small).* Weight decay (L2) adds $\lambda \sum w^2$ (the
#   squared Frobenius norm of each $W$) to the loss, so every step also pulls the weights towards 0.
# - **バッチ正規化 batch normalisation**: *normalise, each time, the mean and variance (and so on)
#   of every mini-batch passing through each layer.* At evaluation time the running averages
#   collected during training are used instead of the batch's own statistics.
#
# From column B we add **data augmentation** (データ拡張): show the network slightly changed
# copies of the training images (here: shifted by up to 2 pixels), so that it cannot memorise
# the exact pixels. It is a cheap form of "use a larger data set" (大規模データセットの利用).
#
# ## 4. One technique at a time
#
# Each run below is the baseline with **one** change. Everything else is identical: the
# network, the training and validation images, the optimiser, the seed, the number of epochs.
#
# | technique | Keras | PyTorch |
# |---|---|---|
# | early stopping | `keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)` | the check in `train`: remember the best weights, stop after `PATIENCE` epochs without a lower `val_loss`, load the best weights |
# | weight decay (L2) | `kernel_regularizer=keras.regularizers.L2(1e-4)` on each `Dense` | `torch.optim.Adam(..., weight_decay=2e-4)` |
# | dropout | `keras.layers.Dropout(0.5)` after each hidden layer | `nn.Dropout(0.5)` after each hidden layer |
# | batch normalisation | `keras.layers.BatchNormalization(momentum=0.9)` before each ReLU | `nn.BatchNorm1d(512)` before each ReLU |
# | data augmentation | a `keras.layers.RandomTranslation` layer at the input | `shift` (with `torch.roll`) on each training batch |
#
# **Weight decay in the two frameworks.** Keras' `L2(λ)` adds $\lambda \sum w^2$ to the loss;
# its gradient is $2\lambda w$. PyTorch's `Adam(weight_decay=wd)` adds $\text{wd} \cdot w$ to
# the gradient directly. So `weight_decay = 2 * L2` adds the same term to the gradient. (PyTorch
# applies it to the biases too; there are few of them, so that hardly matters. Keras also adds the
# penalty to the loss it reports, `loss` and `val_loss`; PyTorch's reported loss is the plain
# cross-entropy.)
#
# **Batch normalisation in the two frameworks.** In evaluation a batch-norm layer normalises with
# running averages of the training batches' means and variances. Both frameworks update them
# after every training step, but they name the weight the other way round: Keras' `momentum` is
# the share of the *old* average that is kept (default 0.99), PyTorch's `momentum` the share of
# the *new* batch that goes in (default 0.1, so 0.9 of the old is kept). We set Keras to 0.9, as
# in lesson 6, so that both tracks run the same layer. With 0.99 the averages follow the
# training much more slowly: after 100 steps they still hold $0.99^{100} \approx 37\,\%$ of
# their starting values (mean 0, variance 1), against $0.9^{100} \approx 0.003\,\%$, and a
# short training run is then evaluated with statistics its layers never had.
#
# **L2 under Adam is not AdamW.** In both tracks our weight-decay run is *coupled* L2: the
# penalty's gradient is added to the loss's gradient, and then Adam divides the sum, weight by
# weight, by its running root mean square. So the pull towards 0 is rescaled differently for
# every weight: a weight with a large loss gradient hardly feels it, and a weight whose loss
# gradient is 0 is moved by about the learning rate per step, however small the decay is.
# **AdamW** (lesson 1) *decouples* the decay: each step it also shrinks every weight by
# $\eta \cdot \text{wd} \cdot w$ directly, outside Adam's rescaling, the same fraction for every
# weight. The cell below shows the difference on two weights that start at 1.0: the loss
# $10 w_1 + 0 \cdot w_2$ gives $w_1$ a large gradient and $w_2$ none. We take 10 Adam steps
# (learning rate 0.01, decay 0.01) without decay, with coupled L2 and with AdamW, and print how
# far each weight moved.

# %% [markdown] tags=["keras"]
# In Keras the coupled L2 is a penalty in the loss (here $\frac{\text{wd}}{2} w^2$, whose gradient
# is $\text{wd} \cdot w$, as `kernel_regularizer` does it). The `weight_decay=` argument of a
# Keras optimiser is decoupled in every optimiser: `keras.optimizers.Adam(weight_decay=wd)`
# does the same as `keras.optimizers.AdamW(weight_decay=wd)`.

# %% tags=["keras"]
def moved(make_optimizer, l2=0.0, steps=10):
    """How far w1 and w2 move from 1.0 in `steps` steps on the loss 10*w1 + 0*w2 (+ L2)."""
    w = keras.Variable(np.ones(2, dtype="float32"))
    optimizer = make_optimizer()
    for _ in range(steps):
        gradient = keras.ops.convert_to_tensor([10.0, 0.0]) + l2 * w  # of the loss + l2/2 * w^2
        optimizer.apply([gradient], [w])
    return 1.0 - keras.ops.convert_to_numpy(w)


WD = 0.01
steps = {"Adam, no decay": moved(lambda: keras.optimizers.Adam(0.01)),
         "Adam + L2 in the loss (coupled)": moved(lambda: keras.optimizers.Adam(0.01), l2=WD),
         "AdamW (decoupled)": moved(lambda: keras.optimizers.AdamW(0.01, weight_decay=WD))}

# %% [markdown] tags=["pytorch"]
# In PyTorch `torch.optim.Adam(weight_decay=wd)` is the coupled L2 (the `weight_decay` we used
# above), and `torch.optim.AdamW(weight_decay=wd)` is decoupled.

# %% tags=["pytorch"]
def moved(make_optimizer, steps=10):
    """How far w1 and w2 move from 1.0 in `steps` steps on the loss 10*w1 + 0*w2."""
    w = torch.ones(2, requires_grad=True)
    optimizer = make_optimizer([w])
    for _ in range(steps):
        optimizer.zero_grad()
        (10 * w[0] + 0 * w[1]).backward()
        optimizer.step()
    return 1.0 - w.detach().numpy()


WD = 0.01
steps = {"Adam, no decay": moved(lambda p: torch.optim.Adam(p, lr=0.01)),
         "Adam(weight_decay) (coupled L2)": moved(lambda p: torch.optim.Adam(p, lr=0.01,
                                                                             weight_decay=WD)),
         "AdamW (decoupled)": moved(lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=WD))}

# %%
no_decay = steps["Adam, no decay"]
for name, distance in steps.items():
    part = np.round(distance - no_decay, 4) + 0.0  # + 0.0 turns a rounded -0.0 into 0.0
    print(f"{name:32s} moved w1 by {distance[0]:.4f}, w2 by {distance[1]:.4f};  the decay's "
          f"part: {part[0]:.4f} and {part[1]:.4f}")

# %% [markdown]
# Without decay Adam moves $w_1$ by about 0.01 per step (its step is about the learning rate,
# whatever the size of the gradient) and leaves $w_2$ alone. With coupled L2 the decay adds
# almost nothing to $w_1$, whose large gradient dominates, but moves $w_2$ by about 0.1 in 10
# steps: Adam blows its tiny gradient $0.01 \cdot w_2$ up to a full step. AdamW pulls both weights
# by the same small amount, about $10 \cdot 0.01 \cdot 0.01 \cdot 1.0 = 0.001$. Decoupled decay
# is the one whose strength means the same for every weight; that is why AdamW is the usual
# choice when Adam and weight decay go together.
#
# One live plot shows the validation accuracy of every run while it trains (the baseline's is
# copied in first). In full mode this takes a few minutes on a CPU.

# %%
names = ["none (baseline)", "early stopping", "weight decay (L2)", "dropout", "batch normalisation",
         "data augmentation"]
comparison = LivePlot(panels={"validation accuracy": names}, xlabel="epoch")
for epoch, value in baseline.val_accuracy.items():
    comparison.update({"none (baseline)": value}, step=epoch)

# %% tags=["keras"]
runs["early stopping"] = train("early stopping", comparison, early_stopping=True)
runs["weight decay (L2)"] = train("weight decay (L2)", comparison, l2=L2)
runs["dropout"] = train("dropout", comparison, dropout=DROPOUT)
runs["batch normalisation"] = train("batch normalisation", comparison, batchnorm=True)
runs["data augmentation"] = train("data augmentation", comparison, augment=True)
comparison.finish()

# %% tags=["pytorch"]
runs["early stopping"] = train("early stopping", comparison, early_stopping=True)
runs["weight decay (L2)"] = train("weight decay (L2)", comparison, weight_decay=2 * L2)
runs["dropout"] = train("dropout", comparison, dropout=DROPOUT)
runs["batch normalisation"] = train("batch normalisation", comparison, batchnorm=True)
runs["data augmentation"] = train("data augmentation", comparison, augment=True)
comparison.finish()

# %% [markdown]
# ## 5. The table, and the test set — once
#
# For every run, at its **chosen epoch** (the last one; for early stopping the best one, whose
# weights it restored):
#
# - *best val acc*: the highest validation accuracy of any epoch (what the curves reach);
# - *val acc*: the validation accuracy of the chosen model;
# - *train-val gap*: its accuracy on the training images (evaluated like the validation images:
#   no dropout, no augmentation) minus *val acc*, in percentage points;
# - *test acc*: its accuracy on the test set, measured now, for the first and only time;
# - *seconds*: the wall time of the run (training and validation).
#
# We pick the technique by **validation** accuracy. The test column is there so you can see
# how close validation and test are; it played no part in any choice.

# %%
rows = []
for name, run in runs.items():
    model = run["model"]
    val = accuracy(model, x_val, y_val)
    rows.append({"technique": name, "epochs run": len(run["history"]), "chosen epoch": run["chosen"],
                 "best val acc %": 100 * run["history"].val_accuracy.max(), "val acc %": 100 * val,
                 "train-val gap (points)": 100 * (accuracy(model, x_train, y_train) - val),
                 "seconds": run["seconds"]})
table = pd.DataFrame(rows)
winner = table.loc[table["val acc %"].idxmax(), "technique"]
# The test set, once, at the very end:
table["test acc %"] = [100 * accuracy(run["model"], x_test, y_test) for run in runs.values()]
print(f"{N_TRAIN:,} training, {N_VAL:,} validation and {len(x_test):,} test images, "
      f"at most {EPOCHS} epochs:")
print(table.round(2).to_string(index=False))
print(f"chosen by validation accuracy: {winner}; its test accuracy: "
      f"{table.set_index('technique').loc[winner, 'test acc %']:.2f} %")

# %% [markdown]
# And the one plot: the validation curves of all runs. The dot on each curve is its chosen epoch.

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
for name, run in runs.items():
    history, chosen = run["history"], run["chosen"]
    (line,) = ax_acc.plot(history.index, history.val_accuracy, label=name)
    ax_acc.plot(chosen, history.val_accuracy[chosen], "o", color=line.get_color())
    ax_loss.plot(history.index, history.val_loss, label=name)
    ax_loss.plot(chosen, history.val_loss[chosen], "o", color=line.get_color())
ax_acc.set(title="validation accuracy", xlabel="epoch")
ax_loss.set(title="validation loss", xlabel="epoch")
ax_acc.legend()
plt.show()

# %% [markdown]
# ### What we measured
#
# Measured in full mode on a 2-core CPU without GPU, the machine otherwise idle, by running the
# Keras and then the PyTorch notebook top to bottom with `COURSE_FAST=0` (2026-12-06; the whole
# notebook took 339 s in Keras and 122 s in PyTorch): 2,000 training, 10,000 validation and 10,000
# test images, at most 40 epochs (Keras 3.15.1 with TensorFlow, PyTorch 2.14.1). Your numbers will
# differ a little; the table printed above is the one of your run.
#
# | technique | Keras: chosen epoch | best val acc % | train-val gap | test acc % | s | PyTorch: chosen epoch | best val acc % | train-val gap | test acc % | s |
# |---|---|---|---|---|---|---|---|---|---|---|
# | none (baseline) | 40 | 93.01 | 6.99 | 92.48 | 29 | 40 | 92.63 | 7.41 | 91.89 | 10 |
# | early stopping | 4 (of 9 run) | 91.62 | 6.73 | 90.61 | 6 | 8 (of 13 run) | 92.39 | 7.62 | 91.52 | 3 |
# | weight decay (L2, λ = 1e-4) | 40 | 92.89 | 7.28 | 92.29 | 36 | 40 | 92.46 | 7.73 | 91.69 | 10 |
# | dropout (0.5) | 40 | 93.52 | 6.89 | 92.30 | 28 | 40 | 93.28 | 7.17 | 92.17 | 10 |
# | batch normalisation | 40 | 92.86 | 7.19 | 92.48 | 31 | 40 | 93.52 | 6.67 | 92.79 | 10 |
# | data augmentation (±2 px) | 40 | **95.46** | **4.26** | **94.92** | 26 | 40 | **95.48** | **4.66** | **94.89** | 10 |
#
# What these runs say (2,000 images, this network, these strengths; not a general ranking):
#
# - **Data augmentation** helped most in both tracks: about 2.4 (Keras) and 3.0 (PyTorch) points
#   more test accuracy than the baseline, and the smallest train-val gap. It was the winner by
#   validation accuracy in both, and its test accuracy agreed with its validation accuracy.
# - **Early stopping on `val_loss`** stopped early (epoch 4 and 8) and saved most of the time,
#   but its accuracy was *lower* than training on: the validation loss turns up while the
#   validation accuracy still creeps up (exercise 1 lets it watch the accuracy instead).
# - **Weight decay** with λ = 1e-4 changed almost nothing here, and **dropout** and **batch
#   normalisation** gave less than one point of test accuracy in PyTorch and none at all in Keras
#   (with the same batch-norm momentum in both tracks, section 4). Section 7 repeats the baseline
#   with five seeds: its spread says which of these small differences mean anything. Every
#   technique except augmentation left the training accuracy at or near 100 %: with 2,000 images
#   the network still memorises them. A strength is a setting to choose on the validation set
#   (exercise 4).
# - The test accuracy was within about 1 point of the validation accuracy of the same model in
#   every row: nothing was tuned on it.

# %% [markdown]
# ## 6. Checkpoints: keep the best epoch on disk, and resume an interrupted run
#
# Early stopping kept the best weights **in memory**. A run can end before it is done: Colab
# disconnects an idle or long session, a laptop goes to sleep, you press *Interrupt*, the kernel
# runs out of memory. Whatever was only in memory is then gone. A **checkpoint** is a file from
# which training goes on as if nothing had happened, so it must hold everything the next step
# depends on:
#
# | in the checkpoint | why |
# |---|---|
# | the **weights** | the model itself |
# | the **optimiser's state** | Adam keeps two running averages per weight and a step count; a fresh Adam restarts them at 0, and its first steps after the restart are different ones |
# | the **epoch** | where to go on from (and, with a learning-rate schedule, the rate to use) |
# | the **best validation loss so far** | so that "keep the best" does not forget, after the restart, what it has to beat |
# | the random generators' state (optional) | only for a continuation identical to the bit: the shuffling of the next epochs (and dropout, augmentation) draws from them |
#
# Two files are worth keeping: the **last** epoch's (to resume) and the **best** epoch's by
# validation loss (the model you will use: early stopping's choice, on disk). Below we train the
# baseline of section 2 for half its epochs, "lose" the model as a crash would, resume from the
# last checkpoint for the other half, and compare the result with the uninterrupted baseline
# run. The folder is a temporary one here; **on Colab, save into your Google Drive**
# (`from google.colab import drive; drive.mount("/content/drive")`, then a folder under
# `/content/drive/MyDrive/`): the files of `/content` are gone with the session.

# %%
import tempfile
from pathlib import Path

checkpoints = Path(tempfile.mkdtemp(prefix="lesson07-"))  # on Colab: a folder in your Drive
HALF = EPOCHS // 2  # the "crash" comes after this epoch
print("checkpoints in the temporary folder", checkpoints.name)

# %% tags=["keras"]
# A .keras file holds the architecture, the weights and the optimiser's state (Adam's averages and
# its step count); ModelCheckpoint writes one after every epoch, or only when val_loss improved.
def checkpoint_callbacks(best_so_far=float("inf")):
    """Save the last epoch always, the best one by val_loss (to beat: ``best_so_far``)."""
    return [keras.callbacks.ModelCheckpoint(str(checkpoints / "last.keras")),
            keras.callbacks.ModelCheckpoint(str(checkpoints / "best.keras"), monitor="val_loss",
                                            save_best_only=True, initial_value_threshold=best_so_far)]


seed_everything(0)  # the same start as the baseline run of section 2
model = make_mlp()
model.compile(optimizer=keras.optimizers.Adam(LR), metrics=["accuracy"],
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
first = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=BATCH, epochs=HALF,
                  callbacks=checkpoint_callbacks(), verbose=0)
del model  # the crash: nothing of the run is left in memory, only the files

# %% tags=["keras"]
model = keras.models.load_model(checkpoints / "last.keras")  # weights and optimiser state
# the file has no epoch number, but Adam's step count says it: steps / batches per epoch
batches_per_epoch = len(x_train) // BATCH + (len(x_train) % BATCH > 0)
done = int(model.optimizer.iterations) // batches_per_epoch
print("resuming after epoch", done, "with Adam's step count", int(model.optimizer.iterations),
      f"(= {done} epochs x {batches_per_epoch} batches)")
# the best val_loss so far comes back from the best file, so that "save_best_only" remembers it
best_so_far = keras.models.load_model(checkpoints / "best.keras").evaluate(x_val, y_val, verbose=0)[0]
second = model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=BATCH, epochs=EPOCHS,
                   initial_epoch=done, callbacks=checkpoint_callbacks(best_so_far), verbose=0)
resumed = pd.concat([history_frame(first), history_frame(second)])
resumed.index = pd.RangeIndex(1, len(resumed) + 1, name="epoch")
best_model = keras.models.load_model(checkpoints / "best.keras")

# %% tags=["pytorch"]
# One file per checkpoint: a dict of state_dicts (tensors) and numbers, written by torch.save.
def save_checkpoint(path, model, optimizer, epoch, best_loss):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                "best_loss": best_loss, "rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}, path)


def run_epochs(model, optimizer, first_epoch, last_epoch, best_loss):
    """The lesson's loop (one `fit` epoch, then validation) with both checkpoints after each epoch."""
    rows = []
    for epoch in range(first_epoch, last_epoch + 1):
        row = fit(model, train_loader, val_loader, optimizer=optimizer, epochs=1, live=False,
                  verbose=False).iloc[0]
        rows.append(row)
        if row.val_loss < best_loss:
            best_loss = float(row.val_loss)  # a Python float: weights_only loading accepts it
            save_checkpoint(checkpoints / "best.pt", model, optimizer, epoch, best_loss)
        save_checkpoint(checkpoints / "last.pt", model, optimizer, epoch, best_loss)
    return rows


seed_everything(0)  # the same start as the baseline run of section 2
model = make_mlp().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
first = run_epochs(model, optimizer, 1, HALF, best_loss=float("inf"))
del model, optimizer  # the crash: nothing of the run is left in memory, only the files

# %% tags=["pytorch"]
# weights_only=True (the default since PyTorch 2.6): tensors, numbers and plain containers only,
# never arbitrary Python objects, so a checkpoint file from elsewhere cannot run code when loaded
state = torch.load(checkpoints / "last.pt", weights_only=True)
model = make_mlp().to(device)
model.load_state_dict(state["model"])
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
optimizer.load_state_dict(state["optimizer"])  # Adam's averages and step counts
torch.set_rng_state(state["rng"])  # the shuffling goes on where it stopped
if state["cuda_rng"]:
    torch.cuda.set_rng_state_all(state["cuda_rng"])
print("resuming after epoch", state["epoch"], "with Adam's step count",
      int(optimizer.state_dict()["state"][0]["step"]))
second = run_epochs(model, optimizer, state["epoch"] + 1, EPOCHS, best_loss=state["best_loss"])
resumed = pd.DataFrame(first + second, index=pd.RangeIndex(1, EPOCHS + 1, name="epoch"))
best_state = torch.load(checkpoints / "best.pt", weights_only=True)
best_model = make_mlp().to(device)
best_model.load_state_dict(best_state["model"])

# %% [markdown]
# The resumed run against the uninterrupted baseline of section 2, epoch by epoch, and the model
# in the best file against the epoch with the lowest validation loss:

# %%
uninterrupted = runs["none (baseline)"]["history"]
gap = (resumed.val_loss - uninterrupted.val_loss).abs()
print(f"largest |val_loss difference| in epochs 1-{HALF} (before the crash): {gap.loc[:HALF].max():.2e}")
print(f"largest |val_loss difference| in epochs {HALF + 1}-{EPOCHS} (after it):  {gap.loc[HALF + 1:].max():.2e}")
best_epoch = int(resumed.val_loss.idxmin())
print(f"best file: epoch {best_epoch}, validation accuracy {accuracy(best_model, x_val, y_val):.2%} "
      f"(the history says {resumed.val_accuracy[best_epoch]:.2%})")

# %% [markdown]
# A resumed run that matches the uninterrupted one shows 0 in both lines: weights, Adam's state
# and (in PyTorch, from the file; in Keras, as the generators stood) the shuffling went on where
# they stopped. Measured in fast mode on a 2-core CPU (2026-12-07): 0.00e+00 before and after the
# crash in both tracks, and the best file gave back the history's validation accuracy. A small
# difference after the crash would still be a correct resume when the random state was not saved:
# the next epochs then see other batches.

# %% [markdown]
# ## 7. How much is luck? The same run with other seeds
#
# Every run above started from `seed_everything(0)`: the same first weights and the same first
# epoch's batches for every technique (from epoch 2 the runs with dropout or shifts draw other
# batches in PyTorch, section 4), and the same run, repeated, gives the same numbers. That makes
# a run repeatable, and the comparison of section 5 as fair as one seed can. It does not make one
# run *representative*: seed 1 is as good a start as seed 0, and gives another number. Before
# calling a difference of section 5 a finding, we measure how much the baseline itself moves
# when only the seed changes.
#
# First what `seed_everything` does, by hand: each library has its own random generator, and
# each is seeded on its own: Python's `random`, NumPy's, and the framework's (Keras:
# `keras.utils.set_random_seed`, which seeds Python, NumPy and the backend in one call; PyTorch:
# `torch.manual_seed`, which also seeds every GPU). The same seed, the same first weights:

# %% tags=["keras"]
def seed_by_hand(seed):
    keras.utils.set_random_seed(seed)  # random.seed, np.random.seed and the backend's seed


def first_layer_weights(model):
    return keras.ops.convert_to_numpy(model.trainable_weights[0])

# %% tags=["pytorch"]
import random


def seed_by_hand(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # the CPU's generator and every GPU's


def first_layer_weights(model):
    return next(model.parameters()).detach().cpu().numpy()

# %%
seed_by_hand(0)
w_a = first_layer_weights(make_mlp())
seed_by_hand(0)
w_b = first_layer_weights(make_mlp())
seed_by_hand(1)
w_c = first_layer_weights(make_mlp())
print("seed 0 twice, the same first weights:", np.array_equal(w_a, w_b))
print("seed 0 and seed 1, the same first weights:", np.array_equal(w_a, w_c))

# %%
SEEDS = fast_or([0, 1, 2, 3, 4], [0, 1])
seeds_plot = LivePlot(panels={"validation accuracy": [f"seed {s}" for s in SEEDS]}, xlabel="epoch")
spread = pd.DataFrame([{"seed": seed, "val acc %": 100 * accuracy(run["model"], x_val, y_val)}
                       for seed in SEEDS
                       for run in [train(f"seed {seed}", seeds_plot, seed=seed)]])
seeds_plot.finish()
mean, std = spread["val acc %"].mean(), spread["val acc %"].std()  # std: n - 1 in the denominator
print(spread.round(2).to_string(index=False))
print(f"baseline over {len(SEEDS)} seeds: {mean:.2f} ± {std:.2f} % validation accuracy "
      "(mean ± standard deviation)")
# each technique's single run (seed 0) against the baseline's spread
base = table.set_index("technique").loc["none (baseline)", "val acc %"]
for name, value in table.set_index("technique")["val acc %"].items():
    if name != "none (baseline)":
        verdict = "more than" if abs(value - base) > 2 * std else "within"
        print(f"{name:20s} {value - base:+6.2f} points vs the baseline: {verdict} 2 standard deviations")

# %% [markdown]
# Measured for this course in full mode on an idle 2-core CPU (2026-12-06): the baseline
# reached 93.15 ± 0.15 % validation accuracy over the five seeds in Keras and 92.47 ± 0.11 % in
# PyTorch.
#
# **Report a mean and a spread, not one run.** Five seeds are few, but enough to see the size of
# the noise: a difference between two single runs that is not clearly larger than the spread
# of either (a rule of thumb: more than twice the standard deviation) may be the seed, not the
# technique. Compare techniques with the *same* seeds, seed by seed (exercise 6). The lines
# above set each single run of section 5 against this spread: only the differences "more than 2
# standard deviations" are worth a sentence in a report.
#
# **What a seed does not fix.** `seed_everything` (Python's, NumPy's and the framework's random
# generators) makes a run repeatable *on the same machine with the same versions*. It does not
# make it repeatable
#
# - on other hardware or with another number of threads: sums of many floats come out in
#   another order, so the last bits differ, and training amplifies them epoch by epoch;
# - on a GPU, where some fast kernels (cuDNN convolutions, atomic additions) are not
#   deterministic at all, unless you ask for deterministic ones, which are slower:
#   `torch.use_deterministic_algorithms(True)` / `tf.config.experimental.enable_op_determinism()`;
# - with other library versions (another default, another kernel);
# - with data loaded in parallel worker processes, unless the workers are seeded too (PyTorch's
#   `DataLoader(generator=..., worker_init_fn=...)`; `tf.data` with `deterministic=True`).
#
# So expect your numbers to differ a little from the ones in this lesson even with the same
# seed, and by about the standard deviation above with another one.

# %% [markdown]
# ## Summary
#
# - The goal is a small **generalisation error**: good answers on data the network has never
#   seen. Training accuracy does not measure it.
# - Split the data: **training** (for the weights), **validation** (for every choice: epoch,
#   technique, strength), **test** (one final, honest number). Choosing with the test set makes
#   its number optimistic.
# - **Over-fitting** shows in the two curves: the training loss keeps falling while the
#   validation loss turns and rises; the train-val gap grows.
# - The lecture's column B: **early stopping** (keep the weights of the best validation epoch),
#   **weight decay / L2** (keep the weights small), **dropout** (train with random units switched
#   off), **batch normalisation** (also column A: easier training), **data augmentation** and
#   more data.
# - Compare techniques fairly: one change at a time, same model, same data, same budget, judged
#   on validation data; then measure the chosen one on the test set once.
# - A run is one sample: repeat it with a few **seeds** and report mean ± standard deviation;
#   differences smaller than that spread are not findings. A seed fixes a run on one machine
#   and one set of versions, not across GPUs, threads or library versions.
# - **Checkpoints** make a run survive its kernel: save the weights, the optimiser's state, the
#   epoch and the best validation loss so far after every epoch (the last file, to resume) and
#   whenever the validation loss improves (the best file: early stopping's choice on disk). On
#   Colab, write them to Google Drive.
#
# ## Exercises
#
# 1. Early stopping watches `val_loss`. Let it watch the validation accuracy instead, and try
#    patience 2 and 10. Which epoch is chosen, and how do validation and test accuracy change?
# 2. Switch on **all** techniques together (early stopping, weight decay, dropout, batch
#    normalisation, augmentation). Is the gain the sum of the single gains?
# 3. "Use a larger data set" (大規模データセットの利用): train the baseline on 500, 2,000 and
#    8,000 images. How do the best validation accuracy and the train-val gap change?
# 4. Weight decay is a strength you must choose. Try $\lambda$ = 1e-5, 1e-4, 1e-3 and 1e-2
#    (PyTorch: `weight_decay = 2 * λ`). Which is best on the validation set, and what happens
#    when $\lambda$ is too large?
# 5. Early stopping from a file. Change `train` so that, with `early_stopping=True`, it keeps the
#    best epoch in a checkpoint file instead of in memory (Keras: a `ModelCheckpoint` with
#    `save_best_only=True` instead of `restore_best_weights`; PyTorch: `torch.save` in the loop
#    instead of `copy.deepcopy`) and loads that file when the run ends. Check that the loaded
#    model's validation accuracy is the one the history shows for the chosen epoch. Why is this
#    the version to use for a run of hours?
# 6. Repeat the dropout run with the seeds of section 7 and compare it with the baseline seed by
#    seed: the difference (dropout minus baseline) for each seed, their mean and standard
#    deviation. Is dropout's gain larger than twice the standard error of that mean
#    ($\text{sd} / \sqrt{n}$)? Why is comparing seed by seed fairer than comparing two means?
