# %% [markdown]
# # Lesson 03 (convolution): solutions of the exercises ({{Track}})
#
# Worked answers to the four exercises at the end of `lessons/03_convolution.py`, in numpy and
# {{Track}}. Keras stores a `Conv2D` kernel as `(kh, kw, in, out)` and images as NHWC
# (batch, height, width, channel); PyTorch stores a `Conv2d` weight as `(out, in, kh, kw)` and
# images as NCHW.

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
import torch.nn.functional as F
from torch import nn

print("PyTorch", torch.__version__)

# %%
import matplotlib.pyplot as plt
import numpy as np

from course_utils import fast_mode, load_mnist, seed_everything, set_cpu_threads

set_cpu_threads(1)
seed_everything(0)
print("fast mode:", fast_mode())


# %% tags=["keras"]
def conv(image, kernel, padding=0):
    """Cross-correlation of a (H, W) image with a (kh, kw) kernel, as keras.layers.Conv2D computes it."""
    x = np.pad(np.asarray(image, dtype=np.float32), padding)[None, :, :, None]  # zero padding, NHWC
    k = np.asarray(kernel, dtype=np.float32)[:, :, None, None]  # (kh, kw, in, out)
    return keras.ops.convert_to_numpy(keras.ops.conv(x, k, padding="valid"))[0, :, :, 0]


# %% tags=["pytorch"]
def conv(image, kernel, padding=0):
    """Cross-correlation of a (H, W) image with a (kh, kw) kernel, as nn.Conv2d computes it."""
    x = torch.as_tensor(np.asarray(image, dtype=np.float32))[None, None]  # NCHW
    k = torch.as_tensor(np.asarray(kernel, dtype=np.float32))[None, None]  # (out, in, kh, kw)
    return F.conv2d(x, k, padding=padding)[0, 0].numpy()


# %% [markdown]
# ## Exercise 1
#
# *In the playground, find a kernel that detects only the bottom edges of strokes.*
#
# MNIST strokes are bright (≈ 1) on a dark background (0). At the **bottom** edge of a stroke the
# pixels *above* are bright and those *below* are dark. A kernel with positive weights in its top
# row and negative weights in its bottom row (the horizontal Sobel filter, `edge.T` of the lesson,
# turned upside down) answers with a large positive number exactly there, with a negative number at
# top edges and with 0 inside strokes and on the background. A ReLU after it keeps only the positive
# part: *only* the bottom edges.

# %%
bottom = np.array([[1, 2, 1],
                   [0, 0, 0],
                   [-1, -2, -1]], dtype=np.float32)
top = -bottom  # the opposite: bright below, dark above

mnist = load_mnist(n_train=100, n_test=100)
digits = mnist.x_test[:4, :, :, 0] / 255.0
fig, axes = plt.subplots(3, len(digits), figsize=(2.2 * len(digits), 6.6))
for j, digit in enumerate(digits):
    for i, (title, img) in enumerate((("digit", digit),
                                      ("ReLU(bottom kernel)", np.maximum(conv(digit, bottom, 1), 0)),
                                      ("ReLU(top kernel)", np.maximum(conv(digit, top, 1), 0)))):
        axes[i, j].imshow(img, cmap="gray")
        axes[i, j].set_title(title, fontsize=8)
        axes[i, j].axis("off")
plt.tight_layout()
plt.show()

# check on a horizontal bar: rows 3–5 bright
bar = np.zeros((9, 9), dtype=np.float32)
bar[3:6, 1:8] = 1
response = np.maximum(conv(bar, bottom, 1), 0)
print("rows where the bottom kernel fires (on the bar, rows 3-5 bright):", np.unique(np.nonzero(response)[0]))

# %% [markdown]
# **Answer.** `[[1, 2, 1], [0, 0, 0], [-1, -2, -1]]` followed by ReLU: on the bar it fires on the
# rows just below and at the bar's lower border, nowhere near the top (printed above), and in the
# pictures only the lower outlines of the strokes light up. (Any kernel with "+ on top, − below"
# works, e.g. `[[0, 1, 0], [0, 0, 0], [0, -1, 0]]`; the 1-2-1 weights smooth along the edge.)

# %% [markdown]
# ## Exercise 2
#
# *What does a kernel whose numbers sum to 0 do on a flat (constant) region? And one summing to 1?*
#
# On a constant region every window holds the same value $c$, so the output is
# $\sum_{ij} k_{ij}\,c = c \cdot \sum_{ij} k_{ij}$.

# %%
flat = np.full((6, 6), 0.7, dtype=np.float32)
kernels = {
    "vertical edge (sum 0)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Laplacian (sum 0)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "box blur (sum 1)": np.full((3, 3), 1 / 9),
    "sharpen (sum 1)": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
}
for name, k in kernels.items():
    out = conv(flat, k)
    print(f"{name:22s} sum {k.sum():+.2f}: output on a flat 0.7 region = {np.unique(out.round(5))}")

# %% [markdown]
# **Answer.** A kernel summing to **0** gives **0** on every flat region, whatever its brightness:
# it ignores the level and responds only to *changes* — an edge or detail detector (Sobel,
# Laplacian). A kernel summing to **1** gives back the **same value** $c$: it keeps the brightness
# of flat regions and only changes the image where it varies (blur averages, sharpen exaggerates
# differences). In general the sum is the kernel's "gain" on constant input.

# %% [markdown]
# ## Exercise 3
#
# *How many parameters does `Conv2d(3, 6, 5)` (CIFAR-10, lesson 6) have? Check in your framework.*
#
# in·F·F·out + out $= 3\cdot5\cdot5\cdot6 + 6 = 450 + 6 = 456$: six filters of shape 3×5×5 plus
# one bias each. In Keras the layer is `keras.layers.Conv2D(6, 5)`: it learns the number of input
# channels (3) when it is built on a `(32, 32, 3)` input, and stores the kernel as `(5, 5, 3, 6)`;
# PyTorch's `nn.Conv2d(3, 6, 5)` stores it as `(6, 3, 5, 5)`. Same 450 weights, same 6 biases.

# %% tags=["keras"]
layer = keras.layers.Conv2D(6, 5)
layer.build((None, 32, 32, 3))  # a batch of 32×32 RGB images, NHWC
print("kernel", tuple(layer.kernel.shape), " bias", tuple(layer.bias.shape))
n = layer.count_params()

# %% tags=["pytorch"]
layer = nn.Conv2d(3, 6, 5)
print("weight", tuple(layer.weight.shape), " bias", tuple(layer.bias.shape))
n = sum(p.numel() for p in layer.parameters())

# %%
print("parameters:", n)
assert n == 3 * 5 * 5 * 6 + 6 == 456

# %% [markdown]
# ## Exercise 4
#
# *Compute the output size of a 32×32 image after a 5×5 conv (valid), a 2×2 pooling, another 5×5
# conv and another pooling.*
#
# With $(H + 2P - F)/S + 1$: conv $32 - 5 + 1 = 28$, pool $(28 - 2)/2 + 1 = 14$, conv
# $14 - 5 + 1 = 10$, pool $(10 - 2)/2 + 1 = 5$. So **5×5** (with 16 channels in lesson 6: 400
# numbers for the first dense layer).

# %%
def out_size(h, f, p=0, s=1):
    return (h + 2 * p - f) // s + 1


h = 32
for step, (f, s) in [("conv 5×5", (5, 1)), ("pool 2×2", (2, 2)), ("conv 5×5", (5, 1)), ("pool 2×2", (2, 2))]:
    h = out_size(h, f, s=s)
    print(f"after {step}: {h}×{h}")
assert h == 5

# %% [markdown]
# The framework agrees (Keras reports NHWC, PyTorch NCHW shapes):

# %% tags=["keras"]
net = keras.Sequential([keras.Input(shape=(32, 32, 3)),
                        keras.layers.Conv2D(6, 5), keras.layers.MaxPooling2D(2),
                        keras.layers.Conv2D(16, 5), keras.layers.MaxPooling2D(2)])
shape = net.output_shape
print("Keras:", shape)
assert shape == (None, 5, 5, 16)

# %% tags=["pytorch"]
net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.MaxPool2d(2))
shape = tuple(net(torch.zeros(1, 3, 32, 32)).shape)
print("PyTorch:", shape)
assert shape == (1, 16, 5, 5)
