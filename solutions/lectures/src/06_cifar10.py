# %% [markdown]
# # Lesson 06 (CIFAR-10): solutions of the exercises ({{Track}})
#
# Worked answers to the five exercises at the end of `lessons/06_cifar10.py`, in {{Track}}: Keras
# models are `keras.Sequential` and train with `model.fit(..., validation_data=(x_val, y_val))`,
# PyTorch models train with `course_utils.torch_training.fit`. `course_utils.models.predict_proba`
# works for both. As in the lesson, every comparison uses the validation set (the last 1,000
# training images); the test set is used once, in exercise 4, on the final network.
#
# **Fast mode** (`COURSE_FAST=1`) trains on 1,800 images (the improved network with its channel
# widths divided by 2 and batch size 32) for one epoch: the printed accuracies are far below
# the lesson's full-data numbers, and only the comparisons between variants mean something — and
# even those are noisy. Run without `COURSE_FAST` for the real answers (this takes a long time on
# a CPU; a GPU is picked automatically).

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

from course_utils.keras_callback import history_frame

LAYOUT = "NHWC"
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
import torch.nn.functional as F
from torch import nn

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

from course_utils import fast_mode, fast_or, load_cifar10, seed_everything, set_cpu_threads
from course_utils.models import predict_proba
from course_utils.viz import plot_misclassified

set_cpu_threads(1)  # on a busy 2-core machine one thread is faster than two
print("fast mode:", fast_mode())

cifar = load_cifar10()  # fast mode: 2,000 training and 500 test images
print(cifar)
for note in cifar.notes:
    print("note:", note)
dev = cifar.holdout(fast_or(1_000, 200))  # the lesson's split: training part + validation part
x_train, y_train, x_val, y_val = dev.arrays(normalize="symmetric", layout=LAYOUT)  # pixels −1…1
x_test, y_test = cifar.arrays(normalize="symmetric", layout=LAYOUT)[2:]  # exercise 4 only


# %% tags=["keras"]
def lenet():
    """The PyTorch tutorial's CNN in Keras (62,006 parameters), as in the lesson."""
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(6, 5, activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(2, name="pool1"),
        keras.layers.Conv2D(16, 5, activation="relu", name="conv2"),
        keras.layers.MaxPooling2D(2, name="pool2"),
        keras.layers.Flatten(),
        keras.layers.Dense(120, activation="relu", name="fc1"),
        keras.layers.Dense(84, activation="relu", name="fc2"),
        keras.layers.Dense(10, name="fc3"),  # scores (logits)
    ], name="net")


def run(model, x, y, optimizer, epochs, batch_size):
    """model.fit with the validation set; return (history, seconds)."""
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    t0 = time.perf_counter()
    # validation in batches of 500, as evaluate() below: one traced test function serves both
    history = history_frame(model.fit(x, y, validation_data=(x_val, y_val), batch_size=batch_size,
                                      validation_batch_size=500, epochs=epochs, verbose=0))
    return history, time.perf_counter() - t0


def train_tutorial(batch_size, epochs):
    """The tutorial network from seed 0: SGD + momentum with batch size 4, else Adam 0.001.

    Returns (history, seconds, optimiser steps per epoch)."""
    seed_everything(0)
    net = lenet()
    optimizer = (keras.optimizers.SGD(0.001, momentum=0.9) if batch_size == 4
                 else keras.optimizers.Adam(0.001))
    history, seconds = run(net, x_train, y_train, optimizer, epochs, batch_size)
    return history, seconds, -(-len(x_train) // batch_size)


# %% tags=["pytorch"]
class Net(nn.Module):
    """The PyTorch tutorial's CNN (62,006 parameters)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def run(model, train_loader, val_loader, optimizer, epochs):
    """fit() with the validation set; return (history, seconds)."""
    model = model.to(device)
    t0 = time.perf_counter()
    history = fit(model, train_loader, val_loader, optimizer=optimizer, epochs=epochs,
                  loss_fn=nn.CrossEntropyLoss(), live=False, verbose=False)
    return history, time.perf_counter() - t0


def train_tutorial(batch_size, epochs):
    """The tutorial network from seed 0: SGD + momentum with batch size 4, else Adam 0.001.

    Returns (history, seconds, optimiser steps per epoch)."""
    seed_everything(0)
    net = Net()
    optimizer = (torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9) if batch_size == 4
                 else torch.optim.Adam(net.parameters(), lr=0.001))
    loaders = dev.torch_loaders(batch_size=batch_size, normalize="symmetric", seed=0)
    history, seconds = run(net, *loaders, optimizer, epochs)
    return history, seconds, len(loaders[0])


# %% [markdown]
# ## Exercise 1
#
# *Train the tutorial network with Adam (learning rate 0.001) and batch size 32. Faster? Better?*
#
# The lesson trains with SGD (lr 0.001, momentum 0.9) and batch size 4. We train both from the same
# starting weights for the same number of epochs.

# %%
tutorial_epochs = fast_or(2, 1)
rows = []
for name, batch_size in (("SGD+momentum, batch 4", 4), ("Adam 0.001, batch 32", 32)):
    history, seconds, steps = train_tutorial(batch_size, tutorial_epochs)
    rows.append({"setting": name, "steps per epoch": steps, "seconds": round(seconds, 1),
                 "train loss": round(float(history.loss.iloc[-1]), 3),
                 "validation accuracy": round(float(history.val_accuracy.iloc[-1]), 3)})
print(f"{tutorial_epochs} epoch(s) on {len(x_train):,} images")
print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown]
# **Answer (table above).** *Faster*: yes, per epoch — batch 32 means 8× fewer optimiser steps and
# larger matrix products, which a CPU or GPU handles much more efficiently than 4-image batches.
# (In the Keras notebook each `seconds` value also contains a few seconds that `fit` spends once
# per model on tracing its training function, so with fast mode's single short epoch the two rows
# lie closer together than the work they do; the difference grows with the size of the epoch.)
# *Better*: per epoch, it depends. With 8× fewer steps, Adam's adaptive step sizes have to make up
# for the lost updates. On a small fast-mode subset, one epoch is too short for a verdict: SGD with
# lr 0.001 from scratch can sit on the $\log 10 \approx 2.30$ plateau for a while (loss ≈ 2.30,
# accuracy ≈ 10 % = chance), which Adam leaves sooner — check the `train loss` column. Whether it
# does depends on the starting weights: in our fast runs PyTorch's SGD network was still on the
# plateau after one epoch, while Keras' (whose default Glorot-uniform starting weights are larger
# than PyTorch's) had already left it. Compare the rows at equal *time* rather than equal epochs,
# and the larger batch wins clearly.

# %% [markdown]
# ## The improved network, with switches
#
# The lesson's improved network (three blocks of two 3×3 conv + batch norm + ReLU, max pooling,
# dropout; a dense layer of 16·width units), with switches for augmentation and batch norm. Full
# mode uses the lesson's `WIDTH = 32` (blocks of 32, 64, 128 filters, 512 dense units), fast mode
# 16. The augmentation is the lesson's, the same in both tracks: a random left-right flip and a
# random shift of up to 4 whole pixels, the border filled with 0 (Keras: the layers
# `RandomFlip("horizontal")` and `RandomTranslation(4 / 32, 4 / 32, fill_mode="constant",
# interpolation="nearest")`, active only in training; PyTorch: `augment` on every training batch).

# %%
width = fast_or(32, 16)
n_improved = len(x_train)  # fast mode: 1,800
batch_size = fast_or(128, 32)  # fast mode: more, smaller steps in the few epochs
improved_epochs = fast_or(10, 1)


# %% tags=["keras"]
def conv_block(filters, batch_norm=True):
    if batch_norm:
        # momentum=0.9: the running statistics used in evaluation follow the batches as fast as
        # PyTorch's BatchNorm2d (its momentum=0.1 means the same). With Keras' default 0.99 they
        # still hold mostly their starting values after fast mode's 57 steps, and the test
        # accuracy of a network that trains well stays near chance.
        return [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                keras.layers.BatchNormalization(momentum=0.9), keras.layers.Activation("relu")]
    return [keras.layers.Conv2D(filters, 3, padding="same", activation="relu")]


def improved(augmentation=True, batch_norm=True, w=width):
    augment = ([keras.layers.RandomFlip("horizontal"),  # augmentation: active only in training
                keras.layers.RandomTranslation(4 / 32, 4 / 32, fill_mode="constant", fill_value=0.0,
                                               interpolation="nearest")] if augmentation else [])
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)), *augment,
        *conv_block(w, batch_norm), *conv_block(w, batch_norm), keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.1),
        *conv_block(2 * w, batch_norm), *conv_block(2 * w, batch_norm), keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.2),
        *conv_block(4 * w, batch_norm), *conv_block(4 * w, batch_norm), keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.3),
        keras.layers.Flatten(), keras.layers.Dense(16 * w, activation="relu"), keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])


xa, ya = x_train[:n_improved], y_train[:n_improved]


def train_variant(augmentation, batch_norm):
    """Train one variant from seed 0; return (model, history, seconds, final training accuracy)."""
    seed_everything(0)
    model = improved(augmentation, batch_norm)
    history, seconds = run(model, xa, ya, keras.optimizers.Adam(1e-3), improved_epochs, batch_size)
    # evaluate() runs in inference mode: no augmentation, no dropout, batch norm's running statistics
    train_acc = model.evaluate(xa, ya, batch_size=500, verbose=0)[1]
    return model, history, seconds, train_acc


# %% tags=["pytorch"]
def conv_block(c_in, c_out, batch_norm=True):
    if batch_norm:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]


def improved(batch_norm=True, w=width):
    return nn.Sequential(
        *conv_block(3, w, batch_norm), *conv_block(w, w, batch_norm), nn.MaxPool2d(2), nn.Dropout(0.1),
        *conv_block(w, 2 * w, batch_norm), *conv_block(2 * w, 2 * w, batch_norm), nn.MaxPool2d(2),
        nn.Dropout(0.2),
        *conv_block(2 * w, 4 * w, batch_norm), *conv_block(4 * w, 4 * w, batch_norm), nn.MaxPool2d(2),
        nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(4 * w * 4 * 4, 16 * w), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16 * w, 10),
    )


def augment(x):
    """Random horizontal flips and random shifts of up to 4 pixels (zero padding), per image."""
    flip = torch.rand(len(x), device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (4, 4, 4, 4))
    dy, dx = torch.randint(0, 9, (2, len(x)))
    return torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(len(x))])


class Augmented:
    """Wrap a DataLoader so that every training batch is augmented afresh."""

    def __init__(self, loader):
        self.loader = loader

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            yield augment(x), y


subset = dev.subset(n_train=n_improved)
train_loader, val_loader = subset.torch_loaders(batch_size=batch_size, normalize="symmetric", seed=0)
plain_train_loader = subset.torch_loaders(batch_size=500, normalize="symmetric", shuffle=False)[0]


def train_variant(augmentation, batch_norm):
    """Train one variant from seed 0; return (model, history, seconds, final training accuracy)."""
    seed_everything(0)
    model = improved(batch_norm)
    history, seconds = run(model, Augmented(train_loader) if augmentation else train_loader, val_loader,
                           torch.optim.Adam(model.parameters(), lr=1e-3), improved_epochs)
    _, train_acc = evaluate(model, plain_train_loader)  # eval mode, un-augmented training images
    return model, history, seconds, train_acc


# %%
variants = {"augmentation + batch norm (lesson)": (True, True), "no augmentation": (False, True),
            "no batch norm": (True, False)}
improved_results, improved_models = [], {}
for name, (augmentation, batch_norm) in variants.items():
    model, history, seconds, train_acc = train_variant(augmentation, batch_norm)
    improved_models[name] = model
    improved_results.append({
        "variant": name, "epoch-1 loss": round(float(history.loss.iloc[0]), 3),
        "epoch-1 val acc": round(float(history.val_accuracy.iloc[0]), 3),
        "final train acc": round(train_acc, 3),
        "final val acc": round(float(history.val_accuracy.iloc[-1]), 3),
        "gap": round(train_acc - float(history.val_accuracy.iloc[-1]), 3), "seconds": round(seconds, 1),
    })
print(f"width {width}, {n_improved:,} training images, batch size {batch_size}, {improved_epochs} epochs")
print(pd.DataFrame(improved_results).to_string(index=False))

# %% [markdown]
# ## Exercise 2
#
# *Remove the augmentation from the improved network. Compare training and validation accuracy: what
# does the gap tell you (過学習, overfitting)?*
#
# Compare the rows "augmentation + batch norm" and "no augmentation": `final train acc` is measured
# on the (un-augmented) training images in evaluation mode, `gap` = train − validation.
#
# **Answer.** Without augmentation the network sees exactly the same images every epoch; with
# millions of parameters it can memorise them, so its training accuracy climbs towards 100 % while
# the validation accuracy stalls: a large and growing gap is the signature of **overfitting** (過学習) — the
# network has learned the training images rather than the classes. Augmentation shows a slightly
# different picture each time (flipped, shifted), which makes memorising much harder: the training
# accuracy rises more slowly, the gap stays small, and the validation accuracy ends higher. The effect
# needs several epochs to show: in full mode the gap without augmentation becomes large, in fast
# mode (one short epoch on 1,800 images) both variants are still underfitting and the gap is small
# and noisy — read the table with that in mind.

# %% [markdown]
# ## Exercise 3
#
# *Remove batch normalisation. How does the first epoch change?*
#
# Compare the rows "augmentation + batch norm" and "no batch norm", columns `epoch-1 loss` (mean
# training loss over the first epoch) and `epoch-1 val acc`.
#
# **Answer.** Batch normalisation rescales every channel to mean 0 and variance 1 over the batch,
# so each layer receives well-scaled inputs from the very first step; that lets Adam take large
# useful steps. Without it, the six stacked conv layers start with poorly scaled activations and
# the early gradients are small or erratic, so the network "wakes up" later (and is more sensitive
# to the learning rate); with batch norm one expects a lower loss and a higher validation accuracy after
# the first epoch, and a gap that shrinks with longer training.
#
# The fast-mode table is too short and too noisy for that verdict (one short epoch on 1,800
# images, 200 validation images), and the two tracks can disagree there: their starting weights and
# random augmentations differ. Run full mode for the answer. (Batch norm also makes the validation
# accuracy after epoch 1 jumpy, because the running statistics it uses in evaluation are still
# settling; that is why the Keras version sets `momentum=0.9`, as PyTorch's default, see
# `conv_block`.)

# %% [markdown]
# ## Exercise 4
#
# *Find the test images the improved network gets wrong with the highest confidence. (Hint:
# `course_utils.viz.plot_misclassified` shows the *first* `n` mistakes in the order of the
# images you give it, so sort them first, by the probability of the predicted class, highest
# first.) Would you have got them right?*
#
# `plot_misclassified` shows the *first* `n` mistakes of the images it is given, so we hand it the
# wrong test images sorted by the probability the network gave its (wrong) answer, most confident
# first. We use the lesson's variant (augmentation + batch norm).

# %%
best = improved_models["augmentation + batch norm (lesson)"]
probs = predict_proba(best, x_test)
pred = probs.argmax(axis=1)
wrong = np.flatnonzero(pred != y_test)
order = wrong[np.argsort(-probs[wrong, pred[wrong]])]
print(f"{len(wrong)} of {len(y_test)} test images wrong ({np.mean(pred == y_test):.1%} right)")
for i in order[:8]:
    print(f"  test #{i}: true {cifar.classes[y_test[i]]:10s} predicted {cifar.classes[pred[i]]:10s} "
          f"with P = {probs[i, pred[i]]:.2f}")
n_show = min(8, len(order))
plot_misclassified(cifar.x_test[order[:n_show]], y_test[order[:n_show]], probs[order[:n_show]],
                   cifar.classes, n=n_show)
plt.show()

# %% [markdown]
# **Answer.** Look at the pictures: most confident mistakes of a well-trained network are between
# classes that really look alike at 32×32 pixels — cat ↔ dog, automobile ↔ truck, deer ↔ horse,
# airplane ↔ ship (blue background) — or images that are unusual for their class (an odd viewpoint,
# a close-up, a toy, heavy clutter). Many of them a person gets right at a glance because we
# recognise the *object* (a face, wheels), while the network can be swayed by colour and
# background; a few are hard or ambiguous even for us at this resolution, and CIFAR-10 also has
# some doubtful labels. In fast mode the network is barely trained, so its "confident" mistakes are
# less telling; the exercise is meant for the full-mode network.

# %% [markdown]
# ## Exercise 5
#
# *Time a training step of the improved network on every device your runtime has for batch
# sizes 4, 32, 128 and 512, and plot images per second against the batch size. From which batch
# size on does the GPU stop gaining? What limits the batch size from above?*
#
# As in section 4 of the lesson: one untimed warm-up step, then the mean of a few timed steps on
# random images (the values do not change the arithmetic, only the shapes do).

# %%
BATCHES = (4, 32, 128, 512)
TIMED_STEPS = fast_or(10, 2)

# %% tags=["keras"]
import tensorflow as tf


def seconds_per_step(device, batch_size):
    with tf.device(device):
        model = improved()
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x = np.random.default_rng(0).normal(size=(batch_size, 32, 32, 3)).astype("float32")
        y = np.random.default_rng(1).integers(0, 10, batch_size)
        model.train_on_batch(x, y)  # builds the graph: not timed
        started = time.perf_counter()
        for _ in range(TIMED_STEPS):
            model.train_on_batch(x, y)
        return (time.perf_counter() - started) / TIMED_STEPS


devices = {"CPU": "/CPU:0", **({"GPU": "/GPU:0"} if tf.config.list_physical_devices("GPU") else {})}

# %% tags=["pytorch"]
def seconds_per_step(where, batch_size):
    model = improved().to(where)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch_size, 3, 32, 32, device=where)
    y = torch.randint(0, 10, (batch_size,), device=where)
    for step in range(TIMED_STEPS + 1):
        if step == 1:  # after the warm-up step
            if where == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    if where == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - started) / TIMED_STEPS


devices = {"CPU": "cpu", **({"GPU": "cuda"} if torch.cuda.is_available() else {})}

# %%
speed = pd.DataFrame([{"device": name, "batch": batch, "images per second": batch / seconds_per_step(where, batch)}
                      for name, where in devices.items() for batch in BATCHES])
print(speed.round(0).to_string(index=False))
for name, rows in speed.groupby("device"):
    plt.plot(rows["batch"], rows["images per second"], "o-", label=name)
plt.xscale("log", base=2)
plt.xlabel("batch size")
plt.ylabel("images per second (training)")
plt.legend()
plt.show()

# %% [markdown]
# **Answer.** Read the table (on a CPU-only runtime there is one curve). Images per second rise
# with the batch size while a step is dominated by fixed costs: Python, launching the work, the
# optimiser's update of every weight, which are the same for 4 images and for 512. On a CPU the
# curve flattens early, at a few dozen images, because the cores are busy already; on a GPU it
# keeps rising to a few hundred images, until the GPU's cores are all busy, and then flattens:
# beyond that batch the GPU gains nothing more per image. From above the batch size is limited by
# the GPU's memory (the activations of every layer for every image are kept for the backward
# pass, so memory grows with the batch until "out of memory"), and by learning itself: with much
# bigger batches there are fewer updates per epoch, and the learning rate has to be retuned.
