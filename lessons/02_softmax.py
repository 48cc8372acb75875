# %% [markdown]
# # Lesson 2 — Softmax: from scores to probabilities ({{Track}})
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{colab}})
#
# **Learning goals.** After this lesson you can
#
# 1. write the softmax function for $K$ classes and check that its outputs are probabilities
#    (between 0 and 1, summing to 1);
# 2. read the output *scores* of a small network on 1-D data — the dog / monkey / pheasant
#    example (イヌ・サル・キジ) with its three probability "mountains" (山);
# 3. explain why 10 ordered classes give no mountains in the scores, but a 5-class
#    wrap-around does;
# 4. compute the cross-entropy loss by hand and with {{Track}};
# 5. avoid a classic bug: a softmax layer in front of a loss that already contains softmax.
#
# Sources: *Pythonと深層学習* §3.2 (the formula) and the practical course 深層実習 第7,8回
# (the 1-D examples and the remark on a softmax in front of PyTorch's `CrossEntropyLoss`, which
# holds for Keras' losses with `from_logits=True` too).

# %% [markdown]
# ## Setup

# %%
# {{install}}

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
from torch import nn

torch.set_num_threads(1)  # tiny networks: more threads only add overhead
print("PyTorch", torch.__version__)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_utils import LivePlot, fast_mode, fast_or, seed_everything

seed_everything(0)
print("fast mode:", fast_mode())

# %% [markdown]
# ## 1. The softmax formula
#
# To sort a point $(x_1, \dots, x_M)$ into one of $K$ classes we prepare $K$ scores (one linear
# function per class, or the last layer of a network):
#
# $$f_k(x_1, \dots, x_M) = w_{1k}x_1 + \dots + w_{Mk}x_M + b_k \qquad (k = 1, \dots, K)$$
#
# The **softmax** turns the scores into the probability that the point belongs to class $k$:
#
# $$P_k = \frac{e^{f_k}}{\sum_{i=1}^{K} e^{f_i}}$$
#
# Every $P_k$ is between 0 and 1 and $\sum_k P_k = 1$: a probability distribution. For MNIST,
# $M = 784$ pixels and $K = 10$ digits; the predicted class is the one with the largest $P_k$.
# Scores before softmax are also called **logits**.

# %%
def softmax(scores):
    """Softmax along the last axis; subtracting the maximum avoids overflow of exp."""
    scores = np.asarray(scores, dtype=float)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


scores = np.array([2.0, 1.0, 0.1])
p = softmax(scores)
print("scores       :", scores)
print("probabilities:", p.round(4), " sum =", p.sum())
assert np.isclose(p.sum(), 1.0) and np.all((p > 0) & (p < 1))
print("adding 100 to every score changes nothing:", softmax(scores + 100).round(4))

# %% [markdown]
# ## 2. One input, three classes: dog, monkey, pheasant
#
# The course's example: a single number $x$ per animal and three classes. The data file is
# small and made up (`lessons/data/inusarukiji_1d.csv`, written by
# `lessons/data/make_softmax_1d.py`): dogs around $x = 2$, monkeys around 5, pheasants around 8.

# %%
DATA_URL = "https://raw.githubusercontent.com/{{repo}}/{{branch}}/lessons/data/"


def read_csv(name):
    """The lesson's CSV from the repository checkout, or from GitHub (Colab)."""
    local = Path("../../lessons/data") / name
    return pd.read_csv(local if local.exists() else DATA_URL + name)


animals = read_csv("inusarukiji_1d.csv")
names = ["dog", "monkey", "pheasant"]
print(animals.groupby("name")["x"].describe()[["count", "mean", "std"]])
for label, name in enumerate(names):
    plt.hist(animals.x[animals.label == label], bins=20, alpha=0.6, label=f"{label} {name}")
plt.xlabel("x")
plt.legend()
plt.title("dog / monkey / pheasant")
plt.show()

# %% [markdown]
# The network is the course's 3-layer perceptron: `Linear(1, 30)` → ReLU → `Linear(30, K)`.
# Its $K$ outputs are the scores $f_k(x)$; softmax turns them into probabilities.

# %% tags=["keras"]
def build(n_classes, hidden=30):
    """1 input → 30 ReLU units → n_classes scores (logits, no softmax)."""
    return keras.Sequential([
        keras.Input(shape=(1,)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dense(n_classes),
    ])


def train(model, x, y, epochs, on_epoch=None):
    """Adam + cross-entropy on the logits; returns the loss per epoch."""
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    callbacks = []
    if on_epoch is not None:
        callbacks.append(keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: on_epoch(epoch + 1, logs["loss"])))
    history = model.fit(x.reshape(-1, 1), y, epochs=epochs, batch_size=32, verbose=0,
                        callbacks=callbacks)
    return history.history["loss"]


def scores(model, x):
    """The model's outputs (logits) for the inputs x, as numpy, shape (N, K)."""
    return keras.ops.convert_to_numpy(model(x.reshape(-1, 1).astype("float32")))


def n_params(model):
    return model.count_params()


# %% tags=["pytorch"]
def build(n_classes, hidden=30):
    """1 input → 30 ReLU units → n_classes scores (logits, no softmax)."""
    return nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def train(model, x, y, epochs, on_epoch=None, loss_fn=None):
    """Adam + cross-entropy on the logits; returns the loss per epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    X = torch.tensor(np.asarray(x), dtype=torch.float32).reshape(-1, 1)
    Y = torch.tensor(np.asarray(y), dtype=torch.long)
    losses = []
    for epoch in range(1, epochs + 1):
        order, total = torch.randperm(len(X)), 0.0
        for start in range(0, len(X), 32):
            idx = order[start:start + 32]
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]), Y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
        if on_epoch is not None:
            on_epoch(epoch, losses[-1])
    return losses


def scores(model, x):
    """The model's outputs (logits) for the inputs x, as numpy, shape (N, K)."""
    with torch.no_grad():
        return model(torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1)).numpy()


def n_params(model):
    return sum(p.numel() for p in model.parameters())


# %% [markdown]
# The course printed the summary of the 10-class version: $1\cdot30+30 = 60$ and
# $30\cdot10+10 = 310$ parameters, **370** in total. Our `build(10)` must match:

# %%
print("parameters of build(10):", n_params(build(10)), "(course: 370)")
assert n_params(build(10)) == 370
print("parameters of build(3): ", n_params(build(3)))


# %%
def show_scores(model, x, y, class_names, title):
    """Scores (left) and softmax probabilities (right) along the x axis, data as ticks."""
    grid = np.linspace(x.min() - 1, x.max() + 1, 400)
    z = scores(model, grid)
    p = softmax(z)
    accuracy = np.mean(scores(model, x).argmax(axis=1) == y)
    fig, (ax_z, ax_p) = plt.subplots(1, 2, figsize=(11, 3.5))
    colors = plt.cm.tab10(np.arange(len(class_names)))
    for k, name in enumerate(class_names):
        ax_z.plot(grid, z[:, k], color=colors[k], label=name)
        ax_p.plot(grid, p[:, k], color=colors[k], label=name)
        ax_p.plot(x[y == k], np.full((y == k).sum(), -0.05), "|", color=colors[k])
    ax_z.set_title(f"{title}: scores $f_k(x)$ (accuracy {accuracy:.0%})")
    ax_p.set_title("softmax probabilities $P_k(x)$ (data: ticks)")
    for ax in (ax_z, ax_p):
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    ax_p.legend(fontsize=7, ncol=2 if len(class_names) > 5 else 1, loc="center right")
    plt.tight_layout()
    plt.show()
    return accuracy


x3, y3 = animals.x.to_numpy(np.float32), animals.label.to_numpy()
epochs = fast_or(300, 25)
seed_everything(0)
model3 = build(3)
live = LivePlot(panels={"training loss": ["3 classes"]}, xlabel="epoch")
train(model3, x3, y3, epochs, on_epoch=lambda e, loss: live.update(step=e, **{"3 classes": loss}))
live.finish()
acc3 = show_scores(model3, x3, y3, names, "dog / monkey / pheasant")

# %% [markdown]
# Three mountains: each class's probability is high over "its" stretch of the $x$ axis and
# falls off where the next class begins; at every $x$ the three heights add up to 1.
#
# ## 3. Ten classes in a row: no mountains in the scores
#
# The course tried 10 classes next to each other, class $k$ for $x \in [k, k+1)$
# (`ten_classes_1d.csv`), and found that the outputs did **not** become mountain-shaped
# (山型になってくれない). The reason given: *the classes are linearly separable*
# (線形分離できるのが敗因). Ten straight lines $f_k(x) = a_kx + b_k$ are enough: at each $x$ the
# highest line wins, and lines with increasing slopes take turns being on top. So the network
# learns nearly straight scores. Only the softmax *probabilities* still look like mountains.

# %%
row10 = read_csv("ten_classes_1d.csv")
x10, y10 = row10.x.to_numpy(np.float32), row10.label.to_numpy()
seed_everything(0)
model10 = build(10)
train(model10, x10, y10, epochs)
acc10 = show_scores(model10, x10, y10, [str(k) for k in range(10)], "10 classes in a row")

# %% [markdown]
# ## 4. Five classes with wrap-around: the mountains come back
#
# The course's fix: relabel $0,1,\dots,9$ as $0,1,2,3,4,0,1,2,3,4$. Now class 0 lives on
# $[0, 1)$ **and** on $[5, 6)$: no straight line can be highest on two separate stretches, so the
# hidden ReLU units have to bend the scores into mountains (山型になった ☺).
# (It needs more epochs than the 3-class case; in fast mode the picture is rougher.)

# %%
y5 = y10 % 5
seed_everything(0)
model5 = build(5)
train(model5, x10, y5, 2 * epochs)
acc5 = show_scores(model5, x10, y5, [str(k) for k in range(5)], "5 classes, wrap-around")

# %% [markdown]
# ## 5. Cross-entropy
#
# Training maximises the probability of the right answers, exactly as in lesson 1: for one
# example with true class $t$ the loss is
#
# $$E = -\log P_t = -\log \frac{e^{f_t}}{\sum_i e^{f_i}} = -f_t + \log \sum_i e^{f_i}$$
#
# (the **cross-entropy** between the one-hot answer and the predicted distribution), averaged
# over the mini-batch. A confident right answer costs almost nothing, a confident wrong one a lot.

# %%
batch_scores = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.2], [4.0, 0.0, -2.0]], dtype=np.float32)
batch_labels = np.array([0, 1, 2])
p = softmax(batch_scores)
per_example = -np.log(p[np.arange(3), batch_labels])
print("P of the true class:", p[np.arange(3), batch_labels].round(4))
print("E per example      :", per_example.round(4))
by_hand = per_example.mean()
print(f"mean E by hand     : {by_hand:.6f}")

# %% tags=["keras"]
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
framework = float(loss_fn(batch_labels, batch_scores))
print(f"Keras SparseCategoricalCrossentropy(from_logits=True): {framework:.6f}")

# %% tags=["pytorch"]
framework = nn.CrossEntropyLoss()(torch.tensor(batch_scores), torch.tensor(batch_labels)).item()
print(f"PyTorch nn.CrossEntropyLoss: {framework:.6f}")

# %%
assert np.isclose(framework, by_hand, atol=1e-5)

# %% [markdown]
# ## 6. Do not put softmax in front of a loss that already has it
#
# The course slide: *"この後ろに softmax を付けている例もあるが、CrossEntropyLoss に softmax が
# 含まれるので不要 — 2 回 softmax しても動作はするので、無駄に気がつきにくい"*: some examples add a
# softmax layer after the last `Linear`, but `CrossEntropyLoss` already contains the softmax (that
# is PyTorch; in Keras the same holds for a loss with `from_logits=True`);
# softmax twice still *runs*, so the mistake is easy to miss.
#
# What goes wrong: the loss then sees probabilities $0 \dots 1$ as scores. Softmax of numbers that
# differ by at most 1 is never confident, so even a perfect model has a large loss, and the
# gradients are small — training slows down.

# %%
perfect = np.array([[10.0, -10.0, -10.0]])  # a very confident, correct answer (class 0)
once = -np.log(softmax(perfect)[0, 0])
twice = -np.log(softmax(softmax(perfect))[0, 0])
print(f"loss with softmax once : {once:.2e}")
print(f"loss with softmax twice: {twice:.6f}  (can never go below this for 3 classes)")

# %% [markdown] tags=["pytorch"]
# In PyTorch: `nn.CrossEntropyLoss` = `log_softmax` + `nn.NLLLoss`. So the last layer returns
# raw scores. (The university MNIST code of lesson 5 ends with `F.log_softmax` and uses
# `F.nll_loss` — the same thing, split in two, and also correct.) Use `torch.softmax(outputs, dim=1)`
# only when you want to *look at* probabilities. Let us train both variants:

# %% [markdown] tags=["keras"]
# In Keras you choose where the softmax lives:
#
# - last layer without activation + `SparseCategoricalCrossentropy(from_logits=True)` — the
#   counterpart of PyTorch's `CrossEntropyLoss`, and the recommended form: the loss computes
#   $\log(\mathrm{softmax})$ from the scores in one numerically stable step, on every backend;
# - last layer `activation="softmax"` + `from_logits=False` (the default, used in lesson 5 like
#   the original report) — fine too with the TensorFlow backend: Keras notices the softmax layer
#   and computes the loss from the scores before it, stably. Probabilities that do not come
#   straight from a softmax layer, and every softmax output on the JAX and PyTorch backends of
#   Keras, are instead *clipped* to $[10^{-7}, 1 - 10^{-7}]$ before the log: the loss of one
#   example then stops at $-\log 10^{-7} \approx 16.1$, and a clipped example gets no gradient;
# - `activation="softmax"` **and** `from_logits=True` is the double-softmax bug. With the
#   TensorFlow backend Keras spots the softmax, *warns*, and quietly uses the scores before it —
#   the bug is repaired for you. The JAX and PyTorch backends of Keras do not do this.
#
# To see what the bug really costs we also hide the softmax from Keras (computed by hand in a
# `Lambda` layer, so Keras cannot see through it). Let us train all four:

# %% tags=["keras"]
def hidden_softmax(z):
    e = keras.ops.exp(z - keras.ops.max(z, axis=-1, keepdims=True))
    return e / keras.ops.sum(e, axis=-1, keepdims=True)


def build_variant(last_activation):
    layers = [keras.Input(shape=(1,)), keras.layers.Dense(30, activation="relu")]
    if last_activation == "hidden softmax":
        layers += [keras.layers.Dense(3), keras.layers.Lambda(hidden_softmax)]
    else:
        layers += [keras.layers.Dense(3, activation=last_activation)]
    return keras.Sequential(layers)


variants = {  # name: (activation of the last layer, from_logits)
    "logits + from_logits=True": (None, True),
    "softmax + from_logits=False": ("softmax", False),
    "softmax + from_logits=True (repaired)": ("softmax", True),
    "hidden softmax + from_logits=True (bug)": ("hidden softmax", True),
}
import warnings

live = LivePlot(panels={"training loss": list(variants)}, xlabel="epoch")
for name, (activation, from_logits) in variants.items():
    seed_everything(0)
    model = build_variant(activation)
    model.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
    with warnings.catch_warnings(record=True) as caught:  # Keras's warnings, printed below
        warnings.simplefilter("always")
        model.fit(x3.reshape(-1, 1), y3, epochs=epochs, batch_size=32, verbose=0,
                  callbacks=[keras.callbacks.LambdaCallback(
                      on_epoch_end=lambda e, logs, name=name: live.update(step=e + 1, **{name: logs["loss"]}))])
    print(f"{name:40s} final loss {live.history[name].iloc[-1]:.4f}")
    for message in dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning)):
        print(f"    Keras warns: {message}")
live.finish()

# %% tags=["pytorch"]
variants = {
    "Linear → CrossEntropyLoss": build(3),
    "Linear → Softmax → CrossEntropyLoss (bug)": nn.Sequential(*build(3), nn.Softmax(dim=1)),
}
live = LivePlot(panels={"training loss": list(variants)}, xlabel="epoch")
for name, model in variants.items():
    seed_everything(0)
    for layer in model:  # same start for both: re-initialise the Linear layers after seeding
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()
    train(model, x3, y3, epochs, on_epoch=lambda e, loss, name=name: live.update(step=e, **{name: loss}))
    print(f"{name:42s} final loss {live.history[name].iloc[-1]:.4f}")
live.finish()

# %% [markdown]
# The buggy variant's loss stays high (it cannot go below the double-softmax floor) and falls
# more slowly; its accuracy may still be fine, which is exactly why the bug goes unnoticed.
#
# ## Summary
#
# - Softmax: $P_k = e^{f_k} / \sum_i e^{f_i}$; outputs are in $(0, 1)$ and sum to 1.
# - In 1-D the probabilities form one mountain per class. With 10 ordered classes the *scores*
#   stay nearly straight (linearly separable); wrapping the labels around forces mountains.
# - Cross-entropy $E = -\log P_{\text{true}}$ is the multi-class version of lesson 1's error.
# - Put softmax in the model *or* in the loss, never in both ({{Track}}: see section 6).
#
# ## Exercises
#
# 1. Multiply all scores by 0.1 and by 10 before softmax. What happens to the probabilities?
#    (This factor is called *temperature*.)
# 2. Train the 10-class model with `hidden=3`. Does it still separate the classes? Why can it?
# 3. Relabel the 10 classes as `label % 2` (even/odd). How many mountains do you expect?
# 4. Draw the data again with a different seed and rerun. In a checkout of the course, change the
#    seed in `lessons/data/make_softmax_1d.py` and run it: it rewrites the CSV files this notebook
#    reads. On Colab the notebook always reads the files from GitHub, so draw the data in the
#    notebook instead (copy the script's few `rng.normal` / `rng.uniform` lines).
