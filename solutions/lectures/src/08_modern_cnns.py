# %% [markdown]
# # Lesson 08 (modern CNNs): solutions of the exercises ({{Track}})
#
# Worked answers to the three exercises at the end of `lessons/08_modern_cnns.py`, in {{Track}}
# (the other track's notebook solves them the same way with the other framework), with the
# lesson's networks and data: the lecture's MNIST CNN (conv 1→32, conv 32→64, max pooling,
# fc 9,216→128, fc 128→10), the first `N_TRAIN` MNIST training images for training and the last
# `N_VAL` for validation, the VGG and residual blocks of section 5 on the course's CIFAR-10
# subset, Adam (0.001), batch size 64.
#
# **Fast mode** (`COURSE_FAST=1`) trains on a few hundred images for one epoch: the printed
# numbers are noise, and only the code is checked. Run without `COURSE_FAST` for the real
# answers (several minutes on a 2-core CPU).

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

LAYOUT = "NHWC"
layers = keras.layers
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import pick_device
from course_utils.torch_training import fit

LAYOUT = "NCHW"
device = pick_device()
print("PyTorch", torch.__version__, "device", device)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from course_utils import fast_mode, fast_or, load_cifar10, load_mnist, seed_everything, set_cpu_threads
from course_utils.models import conv_weights, predict_proba

set_cpu_threads(1)  # on a busy 2-core machine one thread is faster than two for these small networks
print("fast mode:", fast_mode())

N_TRAIN = fast_or(20_000, 600)
N_VAL = fast_or(10_000, 500)
BATCH = 64

mnist = load_mnist()  # fast mode: the first 2,000 training and 500 test images
x_all, y_all, x_test, y_test = mnist.arrays(normalize="unit", layout=LAYOUT)
x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
x_val, y_val = x_all[-N_VAL:], y_all[-N_VAL:]


def accuracy(model, x, y):
    """Top-1 accuracy from the predicted probabilities."""
    return float(np.mean(predict_proba(model, x).argmax(axis=1) == y))


# %% [markdown]
# ## The lesson's helpers
#
# `make_net` (the lecture's CNN with `n_classes` outputs), `count_params`, the blocks of section
# 5 and a `train` that fits a model on arrays for some epochs (no live plot), as in the lesson.

# %% tags=["keras"]
def make_net(n_classes=10):
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu", name="conv1"),
        layers.Conv2D(64, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool"),
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="fc1"),
        layers.Dense(n_classes, name="fc2"),
    ])


def count_params(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def compile_for(model, lr=1e-3):
    model.compile(optimizer=keras.optimizers.Adam(lr), metrics=["accuracy"], run_eagerly=fast_mode(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def train(model, x, y, epochs, batch_size=BATCH, lr=1e-3):
    seed_everything(0)
    compile_for(model, lr).fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return model


def batch_norm():
    """As in the lesson: momentum 0.9, PyTorch's BatchNorm2d default (its momentum=0.1)."""
    return layers.BatchNormalization(momentum=0.9)


def vgg_block(x, channels):
    x = layers.Conv2D(channels, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(channels, 3, padding="same", activation="relu")(x)
    return layers.MaxPooling2D(2)(x)


def residual_block(x, channels, stride=1, skip=True):
    y = layers.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.Activation("relu")(batch_norm()(y))
    y = layers.Conv2D(channels, 3, padding="same", use_bias=False)(y)
    y = batch_norm()(y)
    if skip:
        shortcut = x
        if stride != 1 or x.shape[-1] != channels:
            shortcut = batch_norm()(layers.Conv2D(channels, 1, strides=stride, use_bias=False)(x))
        y = layers.Add()([y, shortcut])
    return layers.Activation("relu")(y)


def make_resnet(depth, skip=True):
    seed_everything(0)
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.Activation("relu")(batch_norm()(x))
    for _ in range(depth):
        x = residual_block(x, 16, skip=skip)
    x = residual_block(x, 32, stride=2, skip=skip)
    for _ in range(depth - 1):
        x = residual_block(x, 32, skip=skip)
    return keras.Model(inputs, layers.Dense(10)(layers.GlobalAveragePooling2D()(x)))


# %% tags=["pytorch"]
class Net(nn.Module):
    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(12 * 12 * 64, 128)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv2(F.relu(self.conv1(x)))))
        x = F.relu(self.fc1(x.reshape(-1, 12 * 12 * 64)))
        return F.log_softmax(self.fc2(x), dim=1)


def make_net(n_classes=10):
    return Net(n_classes).to(device)


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def loader(x, y, batch_size=1000, shuffle=False):
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                      batch_size=batch_size, shuffle=shuffle)


def train(model, x, y, epochs, batch_size=BATCH, lr=1e-3):
    seed_everything(0)
    loss_fn = nn.NLLLoss() if isinstance(model, Net) else nn.CrossEntropyLoss()
    trainable = [p for p in model.parameters() if p.requires_grad]
    fit(model, loader(x, y, batch_size, shuffle=True), optimizer=torch.optim.Adam(trainable, lr=lr),
        loss_fn=loss_fn, epochs=epochs, live=False, verbose=False)
    return model


class VGGBlock(nn.Sequential):
    def __init__(self, c_in, channels):
        super().__init__(nn.Conv2d(c_in, channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


class ResidualBlock(nn.Module):
    def __init__(self, c_in, channels, stride=1, skip=True):
        super().__init__()
        self.skip = skip
        self.body = nn.Sequential(
            nn.Conv2d(c_in, channels, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(channels),
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        self.shortcut = nn.Identity()
        if skip and (stride != 1 or c_in != channels):
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(channels))

    def forward(self, x):
        y = self.body(x)
        return F.relu(y + self.shortcut(x) if self.skip else y)


def make_resnet(depth, skip=True):
    seed_everything(0)
    blocks = [ResidualBlock(16, 16, skip=skip) for _ in range(depth)]
    blocks.append(ResidualBlock(16, 32, stride=2, skip=skip))
    blocks += [ResidualBlock(32, 32, skip=skip) for _ in range(depth - 1)]
    return nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
                         nn.ReLU(), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(32, 10)).to(device)


# %% [markdown]
# ## Exercise 1
#
# *Count by hand the parameters of one VGG block 16 → 32 channels, and of one residual block
# 16 → 32 channels with stride 2 and its 1×1 projection (batch normalisation: 2 trained numbers
# per channel). Check both with the framework.*
#
# **By hand.** A 3×3 convolution from $C_\text{in}$ to $C_\text{out}$ channels has
# $C_\text{out}(9 C_\text{in} + 1)$ parameters with bias, $9 C_\text{in} C_\text{out}$ without.
#
# - VGG block: conv 16 → 32: $32 \cdot (9 \cdot 16 + 1) = 4{,}640$; conv 32 → 32:
#   $32 \cdot (9 \cdot 32 + 1) = 9{,}248$; max pooling: 0. **Total 13,888.**
# - Residual block (convolutions without bias, as batch normalisation follows them): conv 16 → 32:
#   $9 \cdot 16 \cdot 32 = 4{,}608$; BN: $2 \cdot 32 = 64$; conv 32 → 32: $9 \cdot 32 \cdot 32 =
#   9{,}216$; BN: 64; projection 1×1, 16 → 32: $16 \cdot 32 = 512$; its BN: 64. **Total 14,528**,
#   of which 576 are the projection.

# %%
vgg_by_hand = 32 * (9 * 16 + 1) + 32 * (9 * 32 + 1)
residual_by_hand = 9 * 16 * 32 + 64 + 9 * 32 * 32 + 64 + 16 * 32 + 64
print(f"by hand: VGG block {vgg_by_hand:,}, residual block {residual_by_hand:,}")

# %% tags=["keras"]
inputs = keras.Input(shape=(16, 16, 16))
vgg = keras.Model(inputs, vgg_block(inputs, 32))
residual = keras.Model(inputs, residual_block(inputs, 32, stride=2))
print(f"Keras: VGG block {count_params(vgg):,}, residual block {count_params(residual):,} trainable "
      f"(count_params() also counts BatchNormalization's moving averages: {residual.count_params():,})")

# %% tags=["pytorch"]
vgg, residual = VGGBlock(16, 32), ResidualBlock(16, 32, stride=2)
print(f"PyTorch: VGG block {count_params(vgg):,}, residual block {count_params(residual):,} "
      f"(BatchNorm's running mean and variance are buffers, not parameters)")

# %%
assert count_params(vgg) == vgg_by_hand and count_params(residual) == residual_by_hand

# %% [markdown]
# ## Exercise 2
#
# *How close to Gabor filters are the learned 3×3 filters? For each of the 32 conv1 filters of
# the trained lecture CNN find the most similar filter of a 3×3 Gabor bank (8 orientations,
# phases 0 and 90°; similarity: the absolute cosine of the angle between the two 9-vectors),
# and compare with 32 random 3×3 filters.*

# %%
def gabor(size, theta, wavelength, phase=0.0, sigma=None):
    sigma = sigma or 0.4 * wavelength
    half = (size - 1) / 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1]
    x_rot = x * np.cos(theta) + y * np.sin(theta)
    y_rot = -x * np.sin(theta) + y * np.cos(theta)
    return np.exp(-(x_rot**2 + y_rot**2) / (2 * sigma**2)) * np.cos(2 * np.pi * x_rot / wavelength + phase)


def unit_rows(filters):
    """Each filter as a 9-vector of length 1."""
    flat = np.asarray(filters, dtype=np.float64).reshape(len(filters), -1)
    return flat / np.linalg.norm(flat, axis=1, keepdims=True)


thetas = np.arange(8) * np.pi / 8
bank = np.array([gabor(3, theta, wavelength=4, phase=phase) for phase in (0.0, np.pi / 2) for theta in thetas])
seed_everything(0)
cnn = train(make_net(), x_train, y_train, epochs=1)
print(f"the lecture CNN after one epoch: validation accuracy {accuracy(cnn, x_val, y_val):.4f}")
learned = conv_weights(cnn, "conv1")[:, 0]  # (32, 3, 3)
random_filters = np.random.default_rng(0).normal(size=(32, 3, 3))
similarity = {name: np.abs(unit_rows(f) @ unit_rows(bank).T).max(axis=1)  # best match of each filter
              for name, f in (("learned", learned), ("random", random_filters))}
print(pd.DataFrame({name: pd.Series(s).describe()[["mean", "25%", "50%", "75%", "max"]]
                    for name, s in similarity.items()}).round(3).to_string())
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist([similarity["learned"], similarity["random"]], bins=np.linspace(0, 1, 11), label=["learned", "random"])
ax.set(xlabel="|cosine| with the best Gabor filter", ylabel="filters")
ax.legend()
plt.show()

# %% [markdown]
# **Answer (the table and histogram above).** Compare the two columns: if the learned filters
# were no more Gabor-like than chance, their best matches would look like those of the random
# filters. A high similarity means the filter is, up to sign and scale, an oriented line or edge
# detector. Two cautions: a 3×3 filter has only 9 numbers, so 16 Gabor filters already cover
# much of that space and even random filters find a fairly good match; and a learned filter can
# also have a constant part (an average brightness), which no Gabor filter of this bank has. The
# famous Gabor-like first layers (the lecture's cs231n picture) are 11×11 filters of networks
# trained on ImageNet, where the similarity is far clearer.

# %% [markdown]
# ## Exercise 3
#
# *Plain against residual, deeper: train both networks of section 5 with 1, 3 and 6 blocks per
# stage. How do their validation accuracies change with depth?*

# %%
N_CIFAR, N_CIFAR_VAL = fast_or(4_000, 256), fast_or(2_000, 128)
CIFAR_EPOCHS = fast_or(4, 1)
depths = fast_or([1, 3, 6], [1])
cifar = load_cifar10()
cx_all, cy_all, _, _ = cifar.arrays(normalize="symmetric", layout=LAYOUT)
cx_train, cy_train = cx_all[:N_CIFAR], cy_all[:N_CIFAR]
cx_val, cy_val = cx_all[-N_CIFAR_VAL:], cy_all[-N_CIFAR_VAL:]
rows = []
for depth in depths:
    row = {"blocks per stage": depth, "layers with weights (plain)": 4 * depth + 2}
    for skip, name in ((False, "plain"), (True, "residual")):
        t0 = time.perf_counter()
        model = train(make_resnet(depth, skip=skip), cx_train, cy_train, epochs=CIFAR_EPOCHS)
        row[f"{name}: val acc %"] = 100 * accuracy(model, cx_val, cy_val)
        row[f"{name}: s"] = time.perf_counter() - t0
    rows.append(row)
table = pd.DataFrame(rows)
print(f"CIFAR-10, {N_CIFAR:,} training and {N_CIFAR_VAL:,} validation images, {CIFAR_EPOCHS} epochs")
print(table.round(2).to_string(index=False))

# %% [markdown]
# **Answer (the table above).** The lecture's claim (from the ResNet paper) is about 34 layers:
# there the plain network trains worse than the residual one with the same layers, and adding
# layers to a plain network can even *lower* its accuracy, while the residual network gains from
# them. At 6 to 26 layers, with batch normalisation in every block and a few epochs, the
# difference is smaller: read in the table whether the plain network falls behind as the depth
# grows. Deeper networks also cost more time per epoch, and with 4,000 images and 4 epochs the
# deepest ones may not have converged; a fair depth study trains each to convergence (more
# epochs, judged on the validation set).
