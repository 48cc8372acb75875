# %% [markdown]
# # Lesson 04 (pooling): solutions of the exercises ({{Track}})
#
# Worked answers to the three exercises at the end of `lessons/04_pooling.py`, in numpy and
# {{Track}}. Two small helpers do the framework's part — `pool2d` (Keras `MaxPooling2D` /
# `AveragePooling2D`, PyTorch `F.max_pool2d` / `F.avg_pool2d`) and `conv_relu` — and hand back
# numpy arrays in the layout (N, H, W, C), so that the analysis below is the same numpy code in
# both tracks.

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
import torch.nn.functional as F

print("PyTorch", torch.__version__)

# %%
import matplotlib.pyplot as plt
import numpy as np

from course_utils import fast_mode, load_mnist, seed_everything, set_cpu_threads

set_cpu_threads(1)
seed_everything(0)
print("fast mode:", fast_mode())

mnist = load_mnist(n_train=100, n_test=100)
x_test = mnist.x_test[:, :, :, 0].astype(np.float32) / 255.0  # (N, 28, 28), pixels 0…1
digit = x_test[0]
print("digit label:", mnist.y_test[0], " shape:", digit.shape)


# %% tags=["keras"]
def pool2d(images, kind="max", size=2, stride=None):
    """MaxPooling2D / AveragePooling2D on (N, H, W, C) numpy images (NHWC, Keras' layout)."""
    layer = (keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D)(
        size, strides=stride or size)
    return keras.ops.convert_to_numpy(layer(np.asarray(images, dtype="float32")))


def conv_relu(images, bank):
    """ReLU(conv) of (N, H, W) images with the (K, kh, kw) filters of `bank`, padding "same" → (N, H, W, K)."""
    x = np.asarray(images, dtype="float32")[..., None]  # NHWC with one channel
    layer = keras.layers.Conv2D(len(bank), bank.shape[1:], padding="same", activation="relu",
                                use_bias=False)
    layer.build(x.shape)
    layer.set_weights([bank.transpose(1, 2, 0)[:, :, None, :]])  # Keras kernels: (kh, kw, in, out)
    return keras.ops.convert_to_numpy(layer(x))


# %% tags=["pytorch"]
def pool2d(images, kind="max", size=2, stride=None):
    """F.max_pool2d / F.avg_pool2d on (N, H, W, C) numpy images, answered in the same layout."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32)).permute(0, 3, 1, 2)  # → NCHW
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    return pool(x, size, stride or size).permute(0, 2, 3, 1).numpy()  # → NHWC


def conv_relu(images, bank):
    """ReLU(conv) of (N, H, W) images with the (K, kh, kw) filters of `bank`, padding "same" → (N, H, W, K)."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))[:, None]  # NCHW with one channel
    k = torch.as_tensor(np.asarray(bank, dtype=np.float32))[:, None]  # PyTorch weights: (out, in, kh, kw)
    with torch.no_grad():
        return F.relu(F.conv2d(x, k, padding="same")).permute(0, 2, 3, 1).numpy()  # → NHWC


# %% [markdown]
# ## Exercise 1
#
# *Pool the digit with a 3×3 window and stride 3. What size do you get, and what is dropped?*
#
# $(H - F)/S + 1 = (28 - 3)/3 + 1 = 8.33 + 1$, rounded down: **9×9**. Nine windows cover
# $9 \cdot 3 = 27$ rows and columns, so the **last row and the last column** (index 27) are never
# looked at. Of the 27×27 pixels that are covered, each window keeps 1 of 9 numbers.

# %%
pooled3 = pool2d(digit[None, :, :, None], "max", size=3, stride=3)[0, :, :, 0]
print("3×3/3 max pooling:", digit.shape, "→", pooled3.shape)
print("ink in the dropped last row + column:", float(digit[27, :].sum() + digit[:, 27].sum()))
assert pooled3.shape == (9, 9)
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, (title, img) in zip(axes, (("28×28", digit), ("max pool 2×2 → 14×14",
                                   pool2d(digit[None, :, :, None], "max", 2)[0, :, :, 0]),
                                   ("max pool 3×3, stride 3 → 9×9", pooled3)), strict=True):
    ax.imshow(img, cmap="gray")
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# MNIST digits have a blank border of a few pixels, so the dropped row and column carry no ink
# (printed above): here nothing of the digit is lost, but for images whose content reaches the
# border, a size that the stride does not divide loses information silently. `padding`
# (`ceil_mode=True` in PyTorch, `padding="same"` in Keras) keeps it.

# %% [markdown]
# ## Exercise 2
#
# *Shift the digit by one pixel (`np.roll`) and compare the max-pooled images. How many pixels
# change before and after pooling?*
#
# We shift to the right by one pixel with `np.roll` (the border is blank, so nothing wraps around)
# and count pixels that differ by more than 0.01, for the first digit and over 100 test digits; for
# comparison also a shift by 2 pixels.

# %%
def changed(a, b, tol=0.01):
    return int(np.sum(np.abs(a - b) > tol))


def inked(a, b, tol=0.01):
    return int(np.sum((a > tol) | (b > tol)))


def relative_change(a, b):
    """Sum of |a - b| over the sum of |a|: 0 = identical, about 2 = no overlap at all."""
    return float(np.abs(a - b).sum() / np.abs(a).sum())


def max_pool(images):
    """2×2 max pooling of (H, W) or (N, H, W) images → (N, H/2, W/2)."""
    images = np.asarray(images).reshape(-1, *np.shape(images)[-2:])
    return pool2d(images[..., None], "max", 2)[..., 0]


pooled = max_pool(x_test)
for shift in (1, 2):
    shifted = np.roll(x_test, shift, axis=2)  # x_test is (N, 28, 28): axis 2 is the width
    pooled_shifted = max_pool(shifted)
    if shift == 1:
        print(f"first digit, shift 1: {changed(x_test[0], shifted[0])} of 784 pixels change "
              f"({inked(x_test[0], shifted[0])} inked); after 2×2 max pooling "
              f"{changed(pooled[0], pooled_shifted[0])} of 196 ({inked(pooled[0], pooled_shifted[0])} inked)")
    print(f"shift {shift}, {len(x_test)} digits: changed / inked pixels "
          f"{changed(x_test, shifted) / inked(x_test, shifted):.0%} → pooled "
          f"{changed(pooled, pooled_shifted) / inked(pooled, pooled_shifted):.0%};  relative L1 change "
          f"{relative_change(x_test, shifted):.2f} → pooled {relative_change(pooled, pooled_shifted):.2f}")
shifted = np.roll(x_test, 1, axis=2)

fig, axes = plt.subplots(2, 3, figsize=(9, 6))
for row, (a, b) in enumerate(((digit, shifted[0]), (max_pool(digit)[0], max_pool(shifted[0])[0]))):
    panels = (("original", a), ("shifted 1 px", b), ("difference", b - a))
    for ax, (title, img) in zip(axes[row], panels, strict=True):
        diff = title == "difference"
        ax.imshow(img, cmap="bwr" if diff else "gray", vmin=-1 if diff else 0, vmax=1)
        ax.set_title(f"{title}{' (pooled)' if row else ''}")
        ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Answer (numbers above).** Count the pixels: the pooled image has 4× fewer, so the raw count of
# changed pixels drops by about 4 simply because there are fewer pixels. The fair comparison is
# relative — the share of *inked* pixels that change, or the size of the change relative to the
# image (relative L1). Both are smaller after pooling for a 1-pixel shift: inside a 2×2 block the
# maximum often stays the same when a stroke only moves within the block, so many pooled pixels
# keep their value. The invariance is partial: a 2-pixel shift moves every stroke by a whole block,
# the pooled image then just shifts by one pooled pixel and the change grows again (second line).
# Pooling makes CNNs tolerant of *small* shifts; stacking several pooling layers (and conv layers in
# between) widens the tolerance.

# %% [markdown]
# ## Exercise 3
#
# *Replace max pooling by average pooling in section 5. Which feature maps look weaker, and why?*
#
# Section 5's model: four fixed 3×3 edge filters (vertical, horizontal, two diagonals), ReLU, then
# 2×2 pooling, on 6 test digits. Only `kind="avg"` changes: Keras' `AveragePooling2D(2)` instead
# of `MaxPooling2D(2)`, PyTorch's `F.avg_pool2d` instead of `F.max_pool2d`. The maps are
# (digit, row, column, filter).

# %%
edge = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
diag = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], dtype=np.float32)
bank = np.stack([edge, edge.T, diag, diag[:, ::-1]])  # (4, 3, 3)
names = ["vertical", "horizontal", "diagonal /", "diagonal \\"]
maps = conv_relu(x_test[:6], bank)  # (6, 28, 28, 4)
max_maps = pool2d(maps, "max", 2)   # (6, 14, 14, 4)
avg_maps = pool2d(maps, "avg", 2)

print("filter       mean peak (max pool)  mean peak (avg pool)  avg/max")
for k, name in enumerate(names):
    peak_max = max_maps[..., k].max(axis=(1, 2)).mean()
    peak_avg = avg_maps[..., k].max(axis=(1, 2)).mean()
    print(f"{name:12s} {peak_max:20.2f}  {peak_avg:20.2f}  {peak_avg / peak_max:7.2f}")
print("fraction of 2×2 blocks with any response that are fully active (all 4 pixels > 0):")
blocks = (maps > 0).reshape(6, 14, 2, 14, 2, 4).sum(axis=(2, 4))  # active pixels per 2×2 block
for k, name in enumerate(names):
    active = blocks[..., k] > 0
    print(f"  {name:12s} {np.mean(blocks[..., k][active] == 4):.0%}")

fig, axes = plt.subplots(2, 4, figsize=(10, 5))
vmax = max_maps[0].max()
for k in range(4):
    axes[0, k].imshow(max_maps[0, :, :, k], cmap="gray", vmin=0, vmax=vmax)
    axes[0, k].set_title(f"max: {names[k]}", fontsize=9)
    axes[1, k].imshow(avg_maps[0, :, :, k], cmap="gray", vmin=0, vmax=vmax)
    axes[1, k].set_title(f"avg: {names[k]}", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Answer.** With the same colour scale, every average-pooled map is dimmer, because the average
# of a 2×2 block is at most its maximum and equals it only when all four numbers are equal. The
# maps that lose most (smallest avg/max ratio above) are those whose responses are **thin**: an
# edge filter fires along a line one or two pixels wide, and after the ReLU only the side of the
# stroke with the right sign survives, so a 2×2 block often holds one strong value and three zeros
# — its average is a quarter of its maximum. The second table shows how common such blocks are: only
# about a third of the responding blocks are active in all four pixels. Max
# pooling asks "is the feature *somewhere* in this block?", average pooling "how much of the block
# is the feature?" — for sparse detectors like edges, the first question is the useful one, which
# is why CNNs between conv layers mostly use max pooling.
