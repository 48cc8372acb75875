# %% [markdown]
# # Lesson 09 (transfer learning): solutions of the exercises ({{Track}})
#
# Worked answers to the three exercises at the end of `lessons/09_transfer_learning.py`, in
# {{Track}} (the other track's notebook solves them the same way with the other framework), with
# the lesson's network and data: the lecture's MNIST CNN (conv 1→32, conv 32→64, max pooling,
# fc 9,216→128, fc 128→`n_classes`), trained on the digits 0–4 of the first `N_TRAIN` MNIST
# training images and saved to a file; the digits 5–9 as the target task, validation images
# from the last `N_VAL`; Adam, batch size 64 (32 on the few target images); MobileNetV2 and the
# course's CIFAR-10 subset for exercise 3.
#
# **Fast mode** (`COURSE_FAST=1`) trains on a few hundred images for one epoch or a few: the
# printed numbers are noise, and only the code is checked. Run without `COURSE_FAST` for the
# real answers (minutes on a 2-core CPU).

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
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils import fast_mode, fast_or, load_cifar10, load_mnist, seed_everything, set_cpu_threads
from course_utils.models import predict_proba

set_cpu_threads(1)  # on a busy 2-core machine one thread is faster than two for these small networks
print("fast mode:", fast_mode())

N_TRAIN = fast_or(20_000, 600)
N_VAL = fast_or(10_000, 500)
BATCH, T_BATCH = 64, 32
T_EPOCHS = fast_or(30, 2)  # the lesson's epochs at 20 labelled images per class

mnist = load_mnist()  # fast mode: the first 2,000 training and 500 test images
x_all, y_all, x_test, y_test = mnist.arrays(normalize="unit", layout=LAYOUT)
x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
x_val, y_val = x_all[-N_VAL:], y_all[-N_VAL:]
pool_x, pool_y = x_train[y_train >= 5], y_train[y_train >= 5] - 5  # the target task: digits 5-9
tx_val, ty_val = x_val[y_val >= 5], y_val[y_val >= 5] - 5
weights_dir = Path(tempfile.mkdtemp(prefix="lesson09-solutions-"))


def accuracy(model, x, y):
    """Top-1 accuracy from the predicted probabilities."""
    return float(np.mean(predict_proba(model, x).argmax(axis=1) == y))


def few(per_class):
    """The first per_class labelled images of each target class."""
    picked = np.concatenate([np.flatnonzero(pool_y == c)[:per_class] for c in range(5)])
    return pool_x[picked], pool_y[picked]


# %% [markdown]
# ## The lesson's network, its source training and its file
#
# `make_net` (the lecture's CNN), `count_params`, a `train` that fits a model on arrays (no live
# plot), and `with_source_convs(frozen)`: a new 5-class network with conv1 and conv2 loaded from
# the source's file and the layers named in `frozen` frozen.

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


seed_everything(0)
source = train(make_net(5), x_train[y_train < 5], y_train[y_train < 5], epochs=1)
weights_file = weights_dir / "source_digits.weights.h5"
source.save_weights(weights_file)
pretrained = make_net(5)
pretrained.load_weights(weights_file)


def with_source_convs(frozen=("conv1", "conv2")):
    seed_everything(0)
    model = make_net(5)
    for name in ("conv1", "conv2"):
        model.get_layer(name).set_weights(pretrained.get_layer(name).get_weights())
    for name in frozen:
        model.get_layer(name).trainable = False
    return model


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
    trainable = [p for p in model.parameters() if p.requires_grad]
    fit(model, loader(x, y, batch_size, shuffle=True), optimizer=torch.optim.Adam(trainable, lr=lr),
        loss_fn=nn.NLLLoss(), epochs=epochs, live=False, verbose=False)
    return model


seed_everything(0)
source = train(make_net(5), x_train[y_train < 5], y_train[y_train < 5], epochs=1)
weights_file = weights_dir / "source_digits.pt"
torch.save(source.state_dict(), weights_file)
state = torch.load(weights_file, weights_only=True)


def with_source_convs(frozen=("conv1", "conv2")):
    seed_everything(0)
    model = make_net(5)
    convs = {name: t for name, t in state.items() if name.startswith(("conv1.", "conv2."))}
    model.load_state_dict(convs, strict=False)  # fc1 and fc2 stay new
    for name in frozen:
        getattr(model, name).requires_grad_(False)
    return model


# %%
print(f"source network (digits 0-4, from its file): validation accuracy "
      f"{accuracy(source, x_val[y_val < 5], y_val[y_val < 5]):.4f}")

# %% [markdown]
# ## Exercise 1
#
# *Repeat the transfer experiment of section 3 with 5, 20 and 100 labelled images per class for
# methods (a) and (b). For which sizes does the pretrained source help, and by how much?*
#
# The target is the digits 5–9 (as offline in the lesson), with `per_class` images per class
# from the training split. Each run has the same budget in gradient steps, so that the larger
# sets are not favoured by more updates.

# %%
sizes = fast_or([5, 20, 100], [5, 20])
rows = []
for per_class in sizes:
    tx, ty = few(per_class)
    epochs = max(1, round(T_EPOCHS * 20 / per_class))  # the same number of steps for every size
    epochs = min(epochs, T_EPOCHS * 4)
    row = {"images per class": per_class, "epochs": epochs}
    for method, make in (("from scratch", lambda: make_net(5)), ("frozen convolutions", with_source_convs)):
        t0 = time.perf_counter()
        model = train(make(), tx, ty, epochs, batch_size=T_BATCH)
        row[f"{method}: val acc %"] = 100 * accuracy(model, tx_val, ty_val)
        row[f"{method}: s"] = time.perf_counter() - t0
    row["gain of transfer (points)"] = row["frozen convolutions: val acc %"] - row["from scratch: val acc %"]
    rows.append(row)
print(pd.DataFrame(rows).round(2).to_string(index=False))

# %% [markdown]
# **Answer (the table above).** Read the last column. With very few labelled images (5 per
# class) a network trained from scratch has almost nothing to learn its 18,816 convolution
# weights from, and the copied features of the source task give the frozen network a head start:
# transfer pays most where data is scarcest. As the target set grows, training from scratch
# catches up, because it can learn features of its own, fitted to the target task; with enough
# data it may overtake the frozen network, whose features were learned for other classes (and
# fine-tuning, method (c), is then the better choice). Digits 5–9 are close to digits 0–4 (the
# same strokes), which is the friendly case for transfer; from digits to clothes (Fashion-MNIST)
# or from ImageNet to medical images the copied features fit less well.

# %% [markdown]
# ## Exercise 2
#
# *A middle way between (b) and (c): load the source's file, copy both convolutions, freeze only
# conv1 and train conv2, fc1 and fc2 from the start (learning rate 0.001). Compare its validation
# accuracy and its number of trained parameters with (b) and (c).*
#
# Method (c) as in the lesson: (b) for half of the epochs, then everything with learning rate
# 0.0001. 20 labelled images per class, `T_EPOCHS` epochs for every method.

# %% tags=["keras"]
def fine_tuned(tx, ty):
    model = train(with_source_convs(), tx, ty, T_EPOCHS // 2, batch_size=T_BATCH)
    for name in ("conv1", "conv2"):
        model.get_layer(name).trainable = True
    compile_for(model, lr=1e-4).fit(tx, ty, batch_size=T_BATCH, epochs=T_EPOCHS - T_EPOCHS // 2, verbose=0)
    return model


# %% tags=["pytorch"]
def fine_tuned(tx, ty):
    model = train(with_source_convs(), tx, ty, T_EPOCHS // 2, batch_size=T_BATCH)
    model.requires_grad_(True)
    fit(model, loader(tx, ty, T_BATCH, shuffle=True), optimizer=torch.optim.Adam(model.parameters(), lr=1e-4),
        loss_fn=nn.NLLLoss(), epochs=T_EPOCHS - T_EPOCHS // 2, live=False, verbose=False)
    return model


# %%
tx, ty = few(20)
runs = {
    "(b) conv1 and conv2 frozen": lambda: train(with_source_convs(), tx, ty, T_EPOCHS, batch_size=T_BATCH),
    "middle: conv1 frozen, conv2 trained": lambda: train(with_source_convs(frozen=("conv1",)), tx, ty, T_EPOCHS,
                                                         batch_size=T_BATCH),
    "(c) fine-tuning": lambda: fine_tuned(tx, ty),
}
rows = []
for name, run in runs.items():
    t0 = time.perf_counter()
    model = run()
    rows.append({"method": name, "parameters trained (at the end)": count_params(model),
                 "val acc %": 100 * accuracy(model, tx_val, ty_val), "s": time.perf_counter() - t0})
print(f"target: digits 5-9, {len(tx)} labelled images, {T_EPOCHS} epochs")
print(pd.DataFrame(rows).round(2).to_string(index=False))

# %% [markdown]
# **Answer (the table above).** The middle way trains conv2's 18,496 weights on top of (b)'s
# 1,180,421 (with 5 classes), from the first epoch and at the full learning rate; (c) trains the
# same convolutions too, but only in its second half and 10 times more gently. Whether adapting
# conv2 helps is read off the validation column: with 100 labelled images, an adapted conv2 can
# fit the target's strokes better, or it can over-fit them and forget what the source taught.
# Compare the differences with what another seed moves (lesson 7, section 7) before calling one
# method better: with 100 images, a point or two is within that noise.

# %% [markdown]
# ## Exercise 3
#
# *Section 4 fine-tuned MobileNetV2's last block. Fine-tune its last three blocks instead and
# compare the number of trained parameters, the seconds per epoch and the validation accuracy
# with the last block alone.*
#
# The lesson's MobileNetV2 functions, with the blocks to unfreeze as an argument. Offline (and
# in fast mode) the network has random weights: then only the parameters and the seconds mean
# something.

# %% tags=["keras"]
IMAGENET_SIZE = fast_or(128, 64)
FIRST_BLOCK = {1: "block_16_", 3: "block_14_"}  # the first layer name to unfreeze


def load_backbone(weights):
    return keras.applications.MobileNetV2(include_top=False, weights=weights, pooling="avg",
                                          input_shape=(IMAGENET_SIZE, IMAGENET_SIZE, 3))


def prepare(images):
    x = keras.ops.image.resize(images.astype("float32"), (IMAGENET_SIZE, IMAGENET_SIZE))
    return keras.applications.mobilenet_v2.preprocess_input(x)


def fine_tune(weights, blocks, images, labels, val_images, val_labels, epochs):
    """Head + the last `blocks` blocks and the last 1x1 convolution trained together; returns
    (trained parameters, seconds per epoch, validation accuracy)."""
    seed_everything(0)
    backbone = load_backbone(weights)
    unfrozen = False
    for layer in backbone.layers:  # layers are in order: everything from the first block named on
        unfrozen = unfrozen or layer.name.startswith(FIRST_BLOCK[blocks])
        layer.trainable = unfrozen
    inputs = keras.Input((IMAGENET_SIZE, IMAGENET_SIZE, 3))
    model = compile_for(keras.Model(inputs, layers.Dense(10)(backbone(inputs, training=False))), lr=1e-4)
    x, x_val = prepare(images), prepare(val_images)
    t0 = time.perf_counter()
    model.fit(x, labels, batch_size=T_BATCH, epochs=epochs, verbose=0)
    per_epoch = (time.perf_counter() - t0) / epochs
    return count_params(model), per_epoch, accuracy(model, x_val, val_labels)


# %% tags=["pytorch"]
IMAGENET_SIZE = fast_or(128, 64)
FIRST_BLOCK = {1: 17, 3: 15}  # index in backbone.features of the first block to unfreeze
MEAN = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)


def load_backbone(weights):
    from torchvision.models import MobileNet_V2_Weights, mobilenet_v2

    model = mobilenet_v2(weights=MobileNet_V2_Weights.DEFAULT if weights == "imagenet" else None)
    model.classifier = nn.Identity()
    return model.requires_grad_(False).to(device).eval()


def prepare(images):
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float() / 255
    return (F.interpolate(x, size=IMAGENET_SIZE, mode="bilinear", align_corners=False) - MEAN) / STD


def fine_tune(weights, blocks, images, labels, val_images, val_labels, epochs):
    """Head + the last `blocks` blocks and the last 1x1 convolution trained together; returns
    (trained parameters, seconds per epoch, validation accuracy)."""
    seed_everything(0)
    backbone = load_backbone(weights)
    backbone.features[FIRST_BLOCK[blocks]:].requires_grad_(True)
    model = nn.Sequential(backbone, nn.Linear(1280, 10).to(device))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    x, y = prepare(images), torch.from_numpy(labels).to(device)
    t0 = time.perf_counter()
    for _ in range(epochs):  # the backbone stays in eval(): batch norm keeps its statistics
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), T_BATCH):
            batch = order[i:i + T_BATCH]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    per_epoch = (time.perf_counter() - t0) / epochs
    with torch.no_grad():
        scores = torch.cat([model(prepare(val_images[i:i + 100])) for i in range(0, len(val_images), 100)])
    return count_params(model), per_epoch, float((scores.argmax(1).cpu().numpy() == val_labels).mean())


# %%
N_IMAGENET, N_CIFAR_VAL, EPOCHS = fast_or(1_000, 64), fast_or(2_000, 64), fast_or(3, 1)
cifar = load_cifar10()
pictures, picture_labels = cifar.x_train[:N_IMAGENET], cifar.y_train[:N_IMAGENET]
val_pictures, val_labels = cifar.x_train[-N_CIFAR_VAL:], cifar.y_train[-N_CIFAR_VAL:]
weights = None if fast_mode() else "imagenet"
rows = []
for blocks in (1, 3):
    try:
        params, per_epoch, val_acc = fine_tune(weights, blocks, pictures, picture_labels, val_pictures,
                                               val_labels, EPOCHS)
    except Exception as err:  # no internet: the same code on random weights
        print(f"ImageNet weights not available ({type(err).__name__}): random weights instead")
        weights = None
        params, per_epoch, val_acc = fine_tune(None, blocks, pictures, picture_labels, val_pictures,
                                               val_labels, EPOCHS)
    rows.append({"blocks unfrozen": blocks, "parameters trained": params, "s per epoch": per_epoch,
                 "val acc %": 100 * val_acc})
print(f"MobileNetV2 with {'ImageNet' if weights else 'random (accuracy meaningless)'} weights, "
      f"{len(pictures):,} CIFAR-10 images at {IMAGENET_SIZE} px, {EPOCHS} epoch(s)")
print(pd.DataFrame(rows).round(2).to_string(index=False))

# %% [markdown]
# **Answer (the table above).** Three blocks train 1,538,890 parameters against 898,890 for one
# (the head's 12,810 included): 1.7 times as many. The largest pieces are already in the
# one-block run: the last 1×1 convolution (320 → 1,280 channels, 409,600 weights) and block 16
# (473,920); blocks 14 and 15 add 320,000 each. All three blocks work at MobileNetV2's smallest
# resolution (4×4 at 128 px), so the longer backward pass adds little to an epoch next to the
# forward pass through the whole network, which both runs pay: read the seconds column of a
# full run. Whether the extra blocks buy accuracy depends on how far the new images are from
# ImageNet's and how many there are: with 1,000 small CIFAR-10 pictures, more trained
# parameters can also over-fit, which the validation column shows. Offline the accuracy column
# means nothing (random weights); the parameter counts and the seconds are still the real ones.
