# %% [markdown]
# # Lesson 02 (softmax): solutions of the exercises ({{Track}})
#
# Worked answers to the four exercises at the end of `lessons/02_softmax.py`, in {{Track}}, with
# the lesson's `build` (1 input → ReLU units → one score per class, no softmax), `train` (Adam,
# learning rate 0.01, batch size 32, cross-entropy on the scores) and `scores`. In fast mode
# (`COURSE_FAST=1`) the models train for fewer epochs, so the printed numbers differ from a full
# run.

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras
import tensorflow as tf  # the backend: tf.data feeds the training below

print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
from torch import nn

print("PyTorch", torch.__version__)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_utils import fast_mode, fast_or, seed_everything, set_cpu_threads

set_cpu_threads(1)
print("fast mode:", fast_mode())

DATA = Path("../../../lessons/data")  # the notebook runs in solutions/lectures/{{track}}/


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # subtracting the maximum changes nothing
    return e / e.sum(axis=-1, keepdims=True)


# %% tags=["keras"]
def build(n_classes, hidden=30):
    """1 input → `hidden` ReLU units → n_classes scores (logits, no softmax)."""
    return keras.Sequential([
        keras.Input(shape=(1,)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dense(n_classes),
    ])


def train(model, x, y, epochs, lr=0.01):
    """Adam + cross-entropy on the logits, batch size 32; returns the loss per epoch.

    The lesson's `train` (compile + fit), with one change for speed: the data comes as one
    repeating, reshuffled tf.data pipeline and each epoch runs as one call
    (`steps_per_execution`), so `fit` does not rebuild its data iterator every epoch.
    """
    x = np.asarray(x, dtype=np.float32).reshape(-1, 1)
    steps = -(-len(x) // 32)  # batches per epoch
    data = (tf.data.Dataset.from_tensor_slices((x, np.asarray(y)))
            .shuffle(len(x), reshuffle_each_iteration=True).batch(32).repeat())
    model.compile(optimizer=keras.optimizers.Adam(lr), steps_per_execution=steps,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(data, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=0)
    return history.history["loss"]


def scores(model, x):
    """The model's outputs (logits) for the inputs x, as numpy, shape (N, K)."""
    return keras.ops.convert_to_numpy(model(np.asarray(x, dtype=np.float32).reshape(-1, 1)))


def n_params(model):
    return model.count_params()


# %% tags=["pytorch"]
def build(n_classes, hidden=30):
    """1 input → `hidden` ReLU units → n_classes scores (logits)."""
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def train(model, x, y, epochs, lr=0.01):
    """Adam + cross-entropy on the logits, batch size 32; returns the loss per epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    X = torch.tensor(np.asarray(x), dtype=torch.float32).reshape(-1, 1)
    Y = torch.tensor(np.asarray(y), dtype=torch.long)
    losses = []
    for _ in range(epochs):
        order, total = torch.randperm(len(X)), 0.0
        for start in range(0, len(X), 32):
            idx = order[start:start + 32]
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    return losses


def scores(model, x):
    """The model's outputs (logits) for the inputs x, as numpy, shape (N, K)."""
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(-1, 1)).numpy()


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# %%
def accuracy(model, x, y):
    return float(np.mean(scores(model, x).argmax(axis=1) == y))


def plot_probabilities(model, x, y, n_classes, title, ax):
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 600)
    p = softmax(scores(model, grid))
    for k in range(n_classes):
        ax.plot(grid, p[:, k], label=str(k))
        ax.plot(x[y == k], np.full((y == k).sum(), -0.05), "|", color=f"C{k}")
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)


animals = pd.read_csv(DATA / "inusarukiji_1d.csv")
x3, y3 = animals.x.to_numpy(np.float32), animals.label.to_numpy()
row10 = pd.read_csv(DATA / "ten_classes_1d.csv")
x10, y10 = row10.x.to_numpy(np.float32), row10.label.to_numpy()
epochs = fast_or(300, 25)

# %% [markdown]
# ## Exercise 1
#
# *Multiply all scores by 0.1 and by 10 before softmax. What happens to the probabilities? (This
# factor is called temperature.)*
#
# First one example with scores $(2, 1, 0.5)$, then the dog / monkey / pheasant model of the
# lesson with its scores scaled.

# %%
z = np.array([2.0, 1.0, 0.5])
for factor in (0.1, 1, 10):
    print(f"scores × {factor:>4}: probabilities {softmax(factor * z).round(4)}")

seed_everything(0)
model3 = build(3)
train(model3, x3, y3, epochs)
print(f"3-class model: accuracy {accuracy(model3, x3, y3):.1%}")
grid = np.linspace(-1, 11, 600)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2), sharey=True)
for ax, factor in zip(axes, (0.1, 1, 10), strict=True):
    p = softmax(factor * scores(model3, grid))
    for k, name in enumerate(("dog", "monkey", "pheasant")):
        ax.plot(grid, p[:, k], label=name)
    ax.set_title(f"softmax(scores × {factor})")
    ax.grid(alpha=0.3)
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# **Answer.** Softmax only looks at *differences* of scores: $P_k \propto e^{c f_k}$, so
# multiplying by $c$ multiplies every difference by $c$.
#
# - **× 0.1** (high temperature $T = 1/c = 10$): the differences shrink, all probabilities move
#   towards $1/K$; the mountains become low and flat and overlap. The *ranking* — and hence the
#   predicted class and the accuracy — does not change.
# - **× 10** (low temperature $T = 0.1$): the differences grow, the largest score takes almost all
#   the probability; the mountains become steep-sided plateaus, softmax tends to a hard "arg max".
#
# The printed example shows both. (In either framework: divide the logits by $T$ before
# `softmax`; the same trick is used for sampling in language models and for distillation.)

# %% [markdown]
# ## Exercise 2
#
# *Train the 10-class model with `hidden=3`. Does it still separate the classes? Why can it?*

# %%
row_results = {}
for hidden in (30, 3, 1):
    seed_everything(0)
    model = build(10, hidden=hidden)
    losses = train(model, x10, y10, epochs)
    row_results[hidden] = model
    n = n_params(model)
    print(f"hidden={hidden:2d}: {n:3d} parameters, final loss {losses[-1]:.3f}, "
          f"accuracy {accuracy(model, x10, y10):.1%}")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
for ax, hidden in zip(axes, (30, 3), strict=True):
    plot_probabilities(row_results[hidden], x10, y10, 10, f"10 classes, hidden={hidden}", ax)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Answer (see the printed accuracies).** Yes, it can — in principle even with a single hidden
# unit. The ten classes sit one after another on the $x$ axis, so they are *linearly separable*
# in the sense of lesson 2: ten straight score lines $f_k(x) = a_k x + b_k$ with increasing slopes
# take turns being the highest. A hidden ReLU unit $h = \max(0, wx + b)$ that is active over the
# whole range is just a rescaled $x$, and the output layer makes each score $f_k = a_k h + c_k$: the
# same family of lines. Three units are more than enough; what suffers is *training*: with few
# units a unit that dies (inactive on all data) or bends at the wrong place costs a lot, and the
# slopes need more epochs to spread apart, so in fast mode the small models may still mix up
# neighbouring classes.
#
# The single unit shows the risk of dying most plainly, and it depends on the starting weights,
# which the two frameworks draw differently: in our runs (fast and full mode) Keras' one unit ends
# up inactive on every point, so all ten scores are constants, the loss stays at
# $\log 10 \approx 2.303$ and the accuracy at 10 % (chance), while PyTorch's stays alive and learns
# part of the order. With 3 units the Keras model also stayed below the PyTorch one in our runs;
# another seed (`seed_everything(1)`, …) gives other numbers in both tracks.

# %% [markdown]
# ## Exercise 3
#
# *Relabel the 10 classes as `label % 2` (even/odd). How many mountains do you expect?*
#
# **Expectation.** Class "even" lives on $[0,1), [2,3), [4,5), [6,7), [8,9)$ and "odd" on the five
# stretches between: **5 mountains per class, 10 in all**, alternating. No straight score line can
# be on top on five separate stretches, so the ReLU units must bend the scores (each switch between
# even and odd needs a kink: 9 switches). We train with twice the epochs, as the lesson does for
# the wrap-around labels, and count the stretches of $x$ where each class wins.

# %%
y2 = y10 % 2
seed_everything(0)
model2 = build(2)
train(model2, x10, y2, 2 * epochs)
print(f"even/odd model: accuracy {accuracy(model2, x10, y2):.1%}")
grid = np.linspace(0, 10, 2001)
winner = scores(model2, grid).argmax(axis=1)
runs = 1 + int(np.sum(winner[1:] != winner[:-1]))
print(f"the predicted class changes {runs - 1} times along x: {runs} stretches "
      f"({np.sum(winner[np.r_[True, winner[1:] != winner[:-1]]] == 0)} even, "
      f"{np.sum(winner[np.r_[True, winner[1:] != winner[:-1]]] == 1)} odd); ideal: 10 stretches, 5 + 5")
fig, ax = plt.subplots(figsize=(8, 3.2))
plot_probabilities(model2, x10, y2, 2, "even (0) / odd (1)", ax)
ax.legend()
plt.show()

# %% [markdown]
# **Answer.** Expected: 10 stretches, 5 mountains per class. Compare with the printed count: the
# network *can* represent them (30 ReLU units give up to 30 kinks), but gradient descent has to put
# nine kinks at the right places, and with this budget of epochs it typically finds only some of
# them — it merges neighbouring stretches and its accuracy stays well below the 3-class model's.
# (It may find fewer than 10 even in full mode; more epochs, a larger learning rate or
# more hidden units help.) The two probability curves are mirror images
# ($P_{\text{odd}} = 1 - P_{\text{even}}$), so the "odd" mountains are the valleys between the
# "even" ones. This is the lesson's wrap-around effect taken further: the more separate stretches a
# class has, the harder the scores have to bend.

# %% [markdown]
# ## Exercise 4
#
# *Draw the data again with a different seed and rerun. In a checkout of the course, change the
# seed in `lessons/data/make_softmax_1d.py` and run it: it rewrites the CSV files this notebook
# reads. On Colab the notebook always reads the files from GitHub, so draw the data in the
# notebook instead (copy the script's few `rng.normal` / `rng.uniform` lines).*
#
# Rather than overwriting the lesson's CSV files, we draw the same kind of data in memory with the
# recipe of `make_softmax_1d.py` (dogs ~ $N(2, 0.8)$, monkeys ~ $N(5, 0.8)$, pheasants ~
# $N(8, 0.8)$, 100 each; class $k$ of ten uniform on $[k, k+1)$, 60 each) for a few seeds, and
# retrain the 3-class and the 10-class model on each.

# %%
def make_data(seed):
    rng = np.random.default_rng(seed)
    x3 = np.concatenate([rng.normal(c, 0.8, size=100) for c in (2.0, 5.0, 8.0)]).astype(np.float32)
    y3 = np.repeat(np.arange(3), 100)
    x10 = np.concatenate([rng.uniform(k, k + 1, size=60) for k in range(10)]).astype(np.float32)
    y10 = np.repeat(np.arange(10), 60)
    return x3, y3, x10, y10


for seed in (0, 1, 2):
    sx3, sy3, sx10, sy10 = make_data(seed)
    seed_everything(0)
    m3 = build(3)
    train(m3, sx3, sy3, epochs)
    seed_everything(0)
    m10 = build(10)
    train(m10, sx10, sy10, epochs)
    print(f"data seed {seed}: 3 classes {accuracy(m3, sx3, sy3):.1%}, "
          f"10 classes {accuracy(m10, sx10, sy10):.1%}")

# %% [markdown]
# **Answer.** The conclusions do not depend on the seed: the three animal classes overlap (their
# normal distributions have sd 0.8 and centres 3 apart), so no model can be right on every point
# and the accuracy stays a little below 100 % for every seed — how far below varies with how many
# points happen to fall on the wrong side. The ten uniform classes do not overlap and are separable
# for every seed; their accuracy is limited only by training time. (Seed 0 is the lesson's data.)
