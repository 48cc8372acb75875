# %% [markdown]
# # Lesson 4 — Pooling ({{Track}})
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{colab}})
#
# **Learning goals.** After this lesson you can
#
# 1. compute max pooling and average pooling by hand and with {{Track}};
# 2. shrink a 28×28 MNIST digit to 14×14 with 2×2 pooling and say what is lost;
# 3. use the size formula $\frac{H - F}{S} + 1$ and explain why an odd size (7×7) loses a row
#    and a column (→ 3×3);
# 4. look at feature maps before and after pooling.
#
# Sources: *Pythonと深層学習* §3.4 (プーリング層), the PyTorch CIFAR-10 report (max and average
# pooling) and 「ゼロから作る Deep Learning」 notes (the size formula, 7×7 → 3×3).

# %% [markdown]
# ## Setup

# %%
# {{install}}

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

LAYOUT = "NHWC"  # Keras images: (batch, height, width, channels)
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
from collections import OrderedDict

import torch
from torch import nn

torch.set_num_threads(1)  # small tensors: more threads only add overhead
LAYOUT = "NCHW"  # PyTorch images: (batch, channels, height, width)
print("PyTorch", torch.__version__)

# %%
import matplotlib.pyplot as plt
import numpy as np

from course_utils import fast_mode, load_mnist, seed_everything
from course_utils.viz import plot_feature_maps

seed_everything(0)
print("fast mode:", fast_mode())

# %% [markdown]
# ## 1. Max and average pooling by hand
#
# Pooling cuts the image into small blocks — here 2×2 with stride 2 — and keeps **one** number per
# block: the **maximum** (max pooling, MAX プーリング) or the **mean** (average pooling, 平均値
# プーリング). It has no weights to learn. The report's reasoning: to make features clear it is
# enough to know *whether* a block is bright, not exactly where — so lower the resolution and drop
# the details.

# %%
x = np.array([[1, 3, 2, 0],
              [4, 6, 1, 1],
              [0, 2, 5, 7],
              [1, 1, 8, 2]], dtype=np.float32)


def pool2d(image, size=2, stride=2, reduce=np.max):
    """Pool a 2-D array with square windows; leftover rows/columns at the border are dropped."""
    out_h = (image.shape[0] - size) // stride + 1
    out_w = (image.shape[1] - size) // stride + 1
    out = np.zeros((out_h, out_w), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = reduce(image[i * stride:i * stride + size, j * stride:j * stride + size])
    return out


max_by_hand = pool2d(x, reduce=np.max)
avg_by_hand = pool2d(x, reduce=np.mean)
print("max pooling:\n", max_by_hand)
print("average pooling:\n", avg_by_hand)
assert np.array_equal(max_by_hand, [[6, 2], [2, 8]])
assert np.array_equal(avg_by_hand, [[3.5, 1.0], [1.0, 5.5]])

# %% [markdown]
# ## 2. The same in {{Track}}

# %% tags=["keras"]
def framework_pool(image, kind="max", size=2, stride=2):
    """Keras MaxPooling2D / AveragePooling2D on one 2-D image."""
    layer = (keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D)(size, stride)
    batch = np.asarray(image, dtype="float32")[None, :, :, None]  # NHWC
    return keras.ops.convert_to_numpy(layer(batch))[0, :, :, 0]


# %% tags=["pytorch"]
def framework_pool(image, kind="max", size=2, stride=2):
    """PyTorch nn.MaxPool2d / nn.AvgPool2d on one 2-D image."""
    layer = (nn.MaxPool2d if kind == "max" else nn.AvgPool2d)(size, stride)
    batch = torch.tensor(np.asarray(image, dtype=np.float32))[None, None]  # NCHW
    return layer(batch)[0, 0].numpy()


# %%
print("{{Track}} max:\n", framework_pool(x, "max"))
print("{{Track}} average:\n", framework_pool(x, "avg"))
assert np.array_equal(framework_pool(x, "max"), max_by_hand)
assert np.allclose(framework_pool(x, "avg"), avg_by_hand)

# %% [markdown]
# ## 3. A real digit: 28×28 → 14×14
#
# The CNN of lesson 5 pools its 28×28 feature maps with 2×2 blocks to 14×14. On the raw digit:

# %%
mnist = load_mnist(n_train=100, n_test=100)
digit = mnist.x_test[0, :, :, 0].astype(np.float32) / 255.0
pooled_max = framework_pool(digit, "max")
pooled_avg = framework_pool(digit, "avg")
twice = framework_pool(pooled_max, "max")
print("shapes:", digit.shape, "→", pooled_max.shape, "→", twice.shape)
assert pooled_max.shape == (14, 14) and twice.shape == (7, 7)

fig, axes = plt.subplots(1, 4, figsize=(11, 3))
for ax, (title, img) in zip(axes, [("input 28×28", digit), ("max pool 14×14", pooled_max),
                                   ("average pool 14×14", pooled_avg), ("max pool twice 7×7", twice)], strict=True):
    ax.imshow(img, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# Max pooling keeps strokes bold (a block is dark if *any* pixel is dark); average pooling blurs
# them. After two poolings the digit is still recognisable with 1/16 of the pixels.
#
# ## 4. The size formula and odd sizes
#
# For pooling windows of size $F$ and stride $S$ (no padding):
#
# $$H_{out} = \frac{H - F}{S} + 1 \quad\text{(rounded down)}$$
#
# $28 \to (28-2)/2+1 = 14$, $14 \to 7$, but $7 \to (7-2)/2 + 1 = 3.5$, rounded down to **3**: the
# last row and column have no partner and are simply dropped. The 「ゼロから作る」 notes point
# out that the book's network pads its 4th conv layer with $P = 2$ (14 → 16 instead of 14), and
# their author guesses why (*思われる*, "it seems"): so that the next pooling gives 8×8 instead of
# 7×7 → 3×3, and information is not lost before the dense layers. The book's reason is not
# quoted there; the arithmetic above is what such padding would avoid.

# %%
def pool_out_size(h, f=2, s=2):
    return (h - f) // s + 1


odd = np.arange(49, dtype=np.float32).reshape(7, 7)
pooled = framework_pool(odd, "max")
print("7×7 input:\n", odd.astype(int))
print("max pooled:", pooled.shape, "\n", pooled.astype(int))
assert pooled.shape == (pool_out_size(7), pool_out_size(7)) == (3, 3)
print("row 6 and column 6 (values 42…48 and 6, 13, …, 48) never reach the output:",
      not np.isin(odd[6], pooled).any())

for h in (32, 28, 16, 14, 8, 7):
    print(f"{h:2d} → {pool_out_size(h)}")

# %% [markdown]
# ## 5. Feature maps before and after pooling
#
# A conv layer with four fixed edge filters (vertical, horizontal and the two diagonals, from
# lesson 3), ReLU, then 2×2 max pooling — applied to 6 test digits. `plot_feature_maps` shows one
# row per digit and one column per filter.

# %%
edge = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
diag = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], dtype=np.float32)
bank = np.stack([edge, edge.T, diag, diag[:, ::-1]])  # 4 filters, each 3×3
x_train, y_train, x_test, y_test = mnist.arrays(normalize="unit", layout=LAYOUT)
images = x_test[:6]

# %% tags=["keras"]
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    keras.layers.Conv2D(4, 3, padding="same", activation="relu", use_bias=False, name="conv"),
    keras.layers.MaxPooling2D(2, name="pool"),
])
model.get_layer("conv").set_weights([bank.transpose(1, 2, 0)[:, :, None, :]])  # (kh, kw, in, out)
before = "conv"  # Keras: the ReLU is part of the conv layer
pool_params = model.get_layer("pool").count_params()
model.summary()

# %% tags=["pytorch"]
model = nn.Sequential(OrderedDict([
    ("conv", nn.Conv2d(1, 4, 3, padding="same", bias=False)),
    ("relu", nn.ReLU()),
    ("pool", nn.MaxPool2d(2)),
]))
with torch.no_grad():
    model.conv.weight[:] = torch.tensor(bank[:, None])  # (out, in, kh, kw)
before = "relu"  # PyTorch: look at the output of the ReLU that follows the conv
pool_params = sum(p.numel() for p in model.pool.parameters())
print(model)

# %%
print("parameters of the pooling layer:", pool_params)
assert pool_params == 0
plot_feature_maps(model, before, images)
plt.show()
plot_feature_maps(model, "pool", images)
plt.show()

# %% [markdown]
# After pooling each map is 14×14: coarser, but every edge is still there — and a little shift of
# the digit would hardly change the pooled maps. That robustness, plus 4× fewer numbers for the
# next layer, is why CNNs pool.
#
# ## Summary
#
# - Pooling keeps one number per block: the maximum or the mean. No parameters.
# - 2×2 pooling with stride 2 halves height and width: 28×28 → 14×14 → 7×7.
# - Size: $(H - F)/S + 1$, rounded down; odd sizes lose their last row and column (7×7 → 3×3).
#
# ## Exercises
#
# 1. Pool the digit with a 3×3 window and stride 3. What size do you get, and what is dropped?
# 2. Shift the digit by one pixel (`np.roll`) and compare the max-pooled images. How many pixels
#    change before and after pooling?
# 3. Replace max pooling by average pooling in section 5. Which feature maps look weaker, and why?
#    (`plot_feature_maps` scales each panel to its own range, so a weak map looks as bright as a
#    strong one: draw both versions with `plot_feature_maps(..., vmin=0, vmax=v)` and the same `v`,
#    for example the largest value of the max-pooled maps.)
