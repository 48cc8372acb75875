# %% [markdown]
# # Lesson 8 — Modern CNNs ({{Track}})
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{colab}})
#
# **Learning goals.** After this lesson you can
#
# 1. say what ImageNet and its competition ILSVRC are, define the **top-5 error**, and compute
#    top-1 and top-5 accuracy from a network's predicted probabilities;
# 2. place **GoogLeNet, VGG16 and ResNet** in the history of image classification, and build
#    their two building blocks yourself: the **VGG block** (two 3×3 convolutions + pooling) and
#    the **residual block** ($x + F(x)$, with a 1×1 projection when the shape changes);
# 3. count the parameters of the lecture's MNIST CNN (32 and 64 channels) by hand, and train it
#    with a training / validation / test split;
# 4. look at what its first layer learned, next to **Gabor filters** (a model of simple cells in
#    the primary visual cortex).
#
# Lesson 9 then reuses the lecture's CNN for **transfer learning**.
#
# Sources: 知能工学特別講義 第3講 (Imagenetについて, MNIST数字認識, 畳み込みニューラルネットワーク,
# 学習された畳み込みカーネルの可視化, ガボールフィルタ, VGG16, ResNet, PyTorchで畳み込みNN);
# lessons 5 (MNIST), 6 (CIFAR-10) and 7 (the train / validation / test rule).
#
# **Budget.** Full mode trains four small networks; section 6 gives the seconds each took on a
# 2-core CPU without GPU. Fast mode (`COURSE_FAST=1`) trains on a few hundred images for one
# epoch, only to check that the code runs: its numbers are noise.

# %% [markdown]
# ## Setup

# %%
# {{install}}

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

from course_utils.keras_callback import LivePlotCallback

LAYOUT = "NHWC"
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import fast_mode, pick_device
from course_utils.torch_training import fit

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

from course_utils import (
    LivePlot,
    fast_mode,
    fast_or,
    load_cifar10,
    load_mnist,
    seed_everything,
)
from course_utils.models import conv_weights, predict_proba
from course_utils.viz import image_grid, plot_filters

seed_everything(0)
print("fast mode:", fast_mode())

# %% [markdown]
# ## 1. ImageNet, ILSVRC and the top-5 error
#
# The lecture (第3講, Imagenetにおける画像分類, "image classification on ImageNet") introduces
# the data set that made deep CNNs famous:
#
# - *ImageNet: スタンフォード大学による画像データベース（2万カテゴリ, 1400万枚の画像, ラベリングは
#   人手）* — an image database of Stanford University: **20,000 categories, 14 million images,
#   labelled by hand**;
# - *ILSVRC (ImageNet Large Scale Visual Recognition Challenge) を開催（公開コンペ）* — it runs
#   the ILSVRC, an open competition;
# - *ILSVRCのデータ: 1000カテゴリ, 学習用画像120万枚, 確認用画像5万枚, テスト用画像15万枚* — the
#   competition's data: **1,000 classes, 1.2 million training images, 50,000 validation images,
#   150,000 test images**;
# - *評価基準: トップ5 誤り率（認識アルゴリズムが出力した上位の5つの答えに正解が含まれていれば
#   認識成功）* — the measure is the **top-5 error rate**: a recognition counts as a success if
#   the right answer is among the **5 answers the algorithm ranks highest**.
#
# (These figures are the lecture's; this course does not download ImageNet.)
#
# So for each image, sort the classes by predicted probability. **Top-1 accuracy** is the
# fraction of images whose best class is right (the accuracy of lessons 5–7); **top-5
# accuracy** the fraction whose right class is among the best five; the **top-5 error** is
# 1 − top-5 accuracy. With 1,000 classes, many of them close (dozens of dog breeds), top-5 is
# the fairer test: a photo of a Siberian husky called "Alaskan malamute" is not a silly mistake.
#
# In numpy, for a whole batch at once:

# %%
def top_k_accuracy(probs, labels, k):
    """Fraction of images whose true label is among the k classes with the highest probability."""
    top_k = np.argsort(probs, axis=1)[:, ::-1][:, :k]  # per row: the k best classes, best first
    return float(np.mean(np.any(top_k == np.asarray(labels)[:, None], axis=1)))


# three images, six classes: predicted probabilities (rows sum to 1) and the true classes
probs = np.array([[0.50, 0.20, 0.10, 0.10, 0.05, 0.05],   # true class 0: ranked 1st
                  [0.30, 0.25, 0.20, 0.15, 0.06, 0.04],   # true class 3: ranked 4th
                  [0.40, 0.30, 0.20, 0.05, 0.03, 0.02]])  # true class 5: ranked 6th (last)
labels = np.array([0, 3, 5])
for k in (1, 2, 5):
    accuracy_k = top_k_accuracy(probs, labels, k)
    print(f"top-{k} accuracy {accuracy_k:.3f}   top-{k} error {1 - accuracy_k:.3f}")

# %% [markdown]
# Top-1: only the first image is right (1/3). Top-5: the second image counts too, its true
# class is 4th (2/3). The third image fails even top-5. The frameworks have the same measure:

# %% tags=["keras"]
top5 = keras.metrics.SparseTopKCategoricalAccuracy(k=5)
top5.update_state(labels, probs.astype("float32"))  # TensorFlow's in_top_k needs float32
print("keras.metrics.SparseTopKCategoricalAccuracy(k=5):", float(top5.result()))

# %% tags=["pytorch"]
best5 = torch.topk(torch.from_numpy(probs), k=5, dim=1).indices  # the 5 best classes per row
print("torch.topk, then 'is the label among them':",
      (best5 == torch.from_numpy(labels)[:, None]).any(dim=1).float().mean().item())

# %% [markdown]
# ## 2. GoogLeNet, VGG16, ResNet: what the lecture reports
#
# The lecture's slide *ImageNet認識の誤り率* ("error rates of ImageNet recognition") shows the
# top-5 error of the ILSVRC winners from 2010 to 2015 falling year by year (section 1: an answer
# counts as right when the true class is among the five best). The slide's chart has no numbers in its text; the winners' top-5 errors published by the
# challenge (Russakovsky et al., *ImageNet Large Scale Visual Recognition Challenge*, IJCV 2015)
# and by the ResNet paper (He et al., 2015) are the sources' figures below, not ours:

# %%
ilsvrc = pd.DataFrame(
    [(2010, "NEC-UIUC (features + linear classifiers)", 28.2, 0),
     (2011, "XRCE (Fisher vectors)", 25.8, 0),
     (2012, "AlexNet (SuperVision): the first CNN winner", 16.4, 8),
     (2013, "ZFNet / Clarifai (a tuned AlexNet)", 11.7, 8),
     (2014, "GoogLeNet (VGG16 second, 7.3 %)", 6.7, 22),
     (2015, "ResNet", 3.57, 152)],
    columns=["year", "winner", "top-5 error %", "weight layers (0: no CNN)"])
print(ilsvrc.to_string(index=False))
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(ilsvrc["year"], ilsvrc["top-5 error %"], color=["grey", "grey"] + ["tab:blue"] * 4)
for year, error in zip(ilsvrc["year"], ilsvrc["top-5 error %"], strict=True):
    ax.annotate(f"{error:g} %", (year, error), ha="center", va="bottom")
ax.set_ylim(0, 32)
ax.set_xlabel("ILSVRC year")
ax.set_ylabel("top-5 error of the winner [%]")
ax.set_title("ImageNet classification 2010-2015 (sources' figures; blue: CNNs)")
plt.show()

# %% [markdown]
# From 2012 every winner is a CNN, and each is deeper than the last. **AlexNet** (2012; seed 000:
# *2012 年 1 位*) is the ancestor: 5 convolutional layers, some followed by max pooling, then 3
# fully connected layers with a softmax output, 8 layers in all; it trained on two GPUs and used
# ReLU and dropout, both new at that scale. Its first-layer filters are the striped pictures of
# section 4. Then three networks from the lecture. All numbers in this table are the lecture's
# (and its cited sources'), not ours:
#
# | network | what the lecture says |
# |---|---|
# | **GoogLeNet** | *Googleが開発した深層ニューラルネットワークの一種・畳み込みニューラルネットワーク・ILSVRC2014 トップ* — a deep CNN developed by Google, **winner of ILSVRC 2014** |
# | **VGG16** | *92.7% top-5 test accuracy in ImageNet (1000クラス分類, ILSVRC-2014)* — **92.7 % top-5 test accuracy** (1,000-class classification), the slide's figure cited from neurohive.io; 16 weight layers, built only from 3×3 convolutions, 2×2 max pooling and three fully connected layers at the end |
# | **ResNet** (2015) | *スキップ構造が特徴的。勾配消失問題の軽減, 学習の安定化にスキップ構造は役立つ* — its hallmark is the **skip connection**, which helps against the **vanishing-gradient problem** and **stabilises training**; the slide compares a *34-layer plain* network with a *34-layer residual* one: the same 34 layers, with and without skip connections |
#
# Two ideas carry over to small networks on a CPU, and we build both in section 5:
#
# - **VGG's block**: instead of one large filter, stack small 3×3 convolutions. Two 3×3
#   layers see a 5×5 window (three see 7×7) with fewer weights than one 5×5 layer
#   ($2 \cdot 9 C^2 = 18 C^2$ against $25 C^2$ for $C$ channels in and out) and one more ReLU in
#   between. After the convolutions a 2×2 max pooling halves the size.
# - **ResNet's residual block**: the block computes $F(x)$ (two 3×3 convolutions) and outputs
#   $\mathrm{ReLU}(x + F(x))$. The layers only have to learn the *change* $F$ to their input,
#   and in backpropagation the gradient flows back through the addition unchanged, past the
#   convolutions, so even the first layers of a deep network get a useful gradient. When the
#   block changes the shape (more channels, or stride 2), $x$ cannot be added as it is; a
#   **1×1 convolution** (the *projection*) brings it to the new shape first.
#
# ## 3. The lecture's MNIST CNN
#
# The slide *PyTorchで畳み込みNN* ("a convolutional network in PyTorch") gives this network
# (from the lecture's notebook `mnist_conv.ipynb`), with the shapes in its comments:
#
# ```python
# class Net(nn.Module):
#     def __init__(self):
#         super(Net, self).__init__()
#         self.conv1 = nn.Conv2d(1, 32, 3) # 28x28x1 -> 26x26x32
#         self.conv2 = nn.Conv2d(32, 64, 3) # 26x26x32 -> 24x24x64
#         self.pool = nn.MaxPool2d(2, 2) # 24x24x64 -> 12x12x64
#         self.fc1 = nn.Linear(12 * 12 * 64, 128)
#         self.fc2 = nn.Linear(128, 10)
#
#     def forward(self, x):
#         x = F.relu(self.conv1(x)) # 第1畳み込み層 (1st conv layer)
#         x = F.relu(self.conv2(x)) # 第2畳み込み層 (2nd conv layer)
#         x = self.pool(x) # プーリング層 (pooling layer)
#         x = x.view(-1, 12 * 12 * 64)
#         x = F.relu(self.fc1(x)) # 全結合層 1 (fully connected layer 1)
#         x = self.fc2(x) # 全結合層 2 (fully connected layer 2)
#         return F.log_softmax(x, dim=1)
# ```
#
# ### 3.1 Its parameters, by hand
#
# A conv layer with $C_\text{in}$ input channels, $C_\text{out}$ filters of size $k \times k$ has
# $C_\text{out} (C_\text{in} k^2 + 1)$ parameters (lesson 3); a fully connected layer with $n$
# inputs and $m$ outputs has $m(n + 1)$:
#
# | layer | output shape | parameters |
# |---|---|---|
# | conv1: 1 → 32, 3×3 | 26×26×32 | $32 \cdot (1 \cdot 9 + 1) = 320$ |
# | conv2: 32 → 64, 3×3 | 24×24×64 | $64 \cdot (32 \cdot 9 + 1) = 18{,}496$ |
# | max pooling 2×2 | 12×12×64 = 9,216 | 0 |
# | fc1: 9,216 → 128 | 128 | $128 \cdot (9{,}216 + 1) = 1{,}179{,}776$ |
# | fc2: 128 → 10 | 10 | $10 \cdot (128 + 1) = 1{,}290$ |
# | **total** | | **1,199,882** |
#
# 98 % of the weights are in fc1: the convolutions share their few weights over the whole
# image (重み共有, weight sharing), the fully connected layer does not. Now the framework:

# %%
by_hand = 32 * (1 * 9 + 1) + 64 * (32 * 9 + 1) + 128 * (12 * 12 * 64 + 1) + 10 * (128 + 1)
print(f"by hand: {by_hand:,}")

# %% [markdown]
# The network in {{Track}}, with the lecture's layer names (`conv1`, `conv2`, `pool`, `fc1`,
# `fc2`) and the number of outputs as an argument (10 digits here; lesson 9 needs 5).

# %% tags=["keras"]
def make_net(n_classes=10):
    """The lecture's CNN; the last layer gives n_classes scores (logits)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu", name="conv1"),  # 28x28x1 -> 26x26x32
        keras.layers.Conv2D(64, 3, activation="relu", name="conv2"),  # 26x26x32 -> 24x24x64
        keras.layers.MaxPooling2D(2, name="pool"),                    # 24x24x64 -> 12x12x64
        keras.layers.Flatten(name="flatten"),                         # 9,216 numbers
        keras.layers.Dense(128, activation="relu", name="fc1"),
        keras.layers.Dense(n_classes, name="fc2"),                    # logits: no softmax here
    ], name="lecture_cnn")


def count_params(model):
    """Trainable parameters (BatchNormalization's moving averages are not trained)."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


cnn = make_net()
cnn.summary()
print(f"Keras: {cnn.count_params():,} parameters; by hand {by_hand:,}")
assert cnn.count_params() == by_hand == 1_199_882

# %% tags=["pytorch"]
class Net(nn.Module):
    """The lecture's CNN, as on the slide; n_classes outputs (10 digits, 5 in lesson 9)."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)  # 28x28x1 -> 26x26x32
        self.conv2 = nn.Conv2d(32, 64, 3)  # 26x26x32 -> 24x24x64
        self.pool = nn.MaxPool2d(2, 2)  # 24x24x64 -> 12x12x64
        self.fc1 = nn.Linear(12 * 12 * 64, 128)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))  # 第1畳み込み層
        x = F.relu(self.conv2(x))  # 第2畳み込み層
        x = self.pool(x)  # プーリング層
        x = x.reshape(-1, 12 * 12 * 64)  # the slide: x.view(...), see below
        x = F.relu(self.fc1(x))  # 全結合層 1
        x = self.fc2(x)  # 全結合層 2
        return F.log_softmax(x, dim=1)


def make_net(n_classes=10):
    return Net(n_classes).to(device)


def count_params(model):
    """Trainable parameters (those with requires_grad; BatchNorm's running statistics are buffers)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


cnn = make_net()
print(cnn)
for name, p in cnn.named_parameters():
    print(f"{name:12s} {tuple(p.shape)!s:18s} {p.numel():>9,}")
print(f"PyTorch: {count_params(cnn):,} parameters; by hand {by_hand:,}")
assert count_params(cnn) == by_hand == 1_199_882

# %% [markdown]
# ### 3.2 `log_softmax` + `nll_loss`, or logits + cross-entropy
#
# The lecture's `forward` ends with `F.log_softmax`, and its training loop uses `F.nll_loss`,
# the negative log-likelihood: $-\log p_y$, read off the log-probabilities. Together they are
# exactly the cross-entropy of lesson 2. The other common pairing gives the network's raw
# scores (*logits*) to a loss that applies the (log-)softmax itself. Both compute the same
# number:

# %% tags=["keras"]
scores = np.array([[2.0, 1.0, -1.0], [0.5, 0.5, 3.0]], np.float32)  # logits of 2 images, 3 classes
truth = np.array([0, 1])
log_p = keras.ops.convert_to_numpy(keras.ops.log_softmax(scores, axis=1))
nll = -np.mean(log_p[np.arange(2), truth])  # what log_softmax + nll_loss compute
from_logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(truth, scores)
from_probs = keras.losses.SparseCategoricalCrossentropy()(truth, np.exp(log_p))
print(f"log_softmax + NLL {nll:.6f}   logits + from_logits=True {float(from_logits):.6f}   "
      f"softmax + from_logits=False {float(from_probs):.6f}")

# %% [markdown] tags=["keras"]
# In Keras the model above ends with `Dense(10)` without activation, and the loss is
# `SparseCategoricalCrossentropy(from_logits=True)`: the same loss as the lecture's pairing, and
# the recommended form, numerically stable on every backend of Keras.
# Keras' older habit, `Dense(10, activation="softmax")` with `from_logits=False`, gives the same
# number: with the TensorFlow backend Keras notices the softmax layer and computes the loss from
# the scores before it (lesson 2). Probabilities handed over as plain numbers, like
# `np.exp(log_p)` above (and every softmax output on Keras' JAX and PyTorch backends), are
# clipped to $[10^{-7}, 1 - 10^{-7}]$ before the log: the same number here, but a very
# confident wrong answer costs at most $-\log 10^{-7} \approx 16.1$ and gets no gradient.
# Keras has no `nll_loss`; putting
# `activation="log_softmax"` in the last layer would need a hand-written loss.

# %% tags=["pytorch"]
scores = torch.tensor([[2.0, 1.0, -1.0], [0.5, 0.5, 3.0]])  # logits of 2 images, 3 classes
truth = torch.tensor([0, 1])
nll = F.nll_loss(F.log_softmax(scores, dim=1), truth)  # the lecture's pairing
cross_entropy = nn.CrossEntropyLoss()(scores, truth)  # logits in, log_softmax inside
print(f"log_softmax + nll_loss {nll.item():.6f}   logits + CrossEntropyLoss {cross_entropy.item():.6f}")

# %% [markdown] tags=["pytorch"]
# One change to the slide's code: `x.view(-1, 12 * 12 * 64)` became `x.reshape(...)`. `view`
# only relabels memory and fails when the tensor's memory is not laid out row by row; on our
# CPU the pooled output of a large evaluation batch was not ("view size is not compatible with
# input tensor's size and stride"). `reshape` gives the same result, copying only when needed.
#
# Otherwise we keep the lecture's `Net` as it is (its output is already log-probabilities)
# and train it with `loss_fn=nn.NLLLoss()`, the module form of `F.nll_loss`. A network that
# ends with raw scores would take `nn.CrossEntropyLoss()` instead; giving log-probabilities to
# `CrossEntropyLoss` would also still work (the softmax of log-probabilities gives back the
# same probabilities), but it applies log_softmax twice for nothing. `predict_proba` of
# `course_utils` turns either output into probabilities.

# %% [markdown]
# ### 3.3 Training, with a validation set
#
# Lesson 7's rule: the **validation** set, carved out of MNIST's training set, is for looking at
# as often as we like; the **test** set is used once, at the end of this section. Adam with
# learning rate 0.001, batch size 64.

# %%
N_TRAIN = fast_or(20_000, 600)    # training images (the first ones of MNIST's training set)
N_VAL = fast_or(10_000, 500)      # validation images (its last ones)
EPOCHS = 1                        # one pass over the training images
BATCH = 64

mnist = load_mnist()  # fast mode: the first 2,000 training and 500 test images
print(mnist)
x_all, y_all, x_test, y_test = mnist.arrays(normalize="unit", layout=LAYOUT)
assert N_TRAIN + N_VAL <= len(x_all), "training and validation images must not overlap"
x_train, y_train = x_all[:N_TRAIN], y_all[:N_TRAIN]
x_val, y_val = x_all[-N_VAL:], y_all[-N_VAL:]
print(f"train {len(x_train):,}   validation {len(x_val):,}   test {len(x_test):,} (kept for the end)")

# %% tags=["keras"]
def compile_for(model, lr=1e-3):
    """Adam, cross-entropy on logits, accuracy. In fast mode each fit has only a few steps, and
    running them eagerly (step by step in Python) is faster than tracing a TensorFlow graph first."""
    model.compile(optimizer=keras.optimizers.Adam(lr), metrics=["accuracy"], run_eagerly=fast_mode(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


seed_everything(0)
cnn = compile_for(make_net())
t0 = time.perf_counter()
cnn.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=BATCH, epochs=EPOCHS,
        callbacks=[LivePlotCallback()], verbose=0)
cnn_seconds = time.perf_counter() - t0

# %% tags=["pytorch"]
def loader(x, y, batch_size=1000, shuffle=False):
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                      batch_size=batch_size, shuffle=shuffle)


seed_everything(0)
cnn = make_net()
t0 = time.perf_counter()
fit(cnn, loader(x_train, y_train, BATCH, shuffle=True), loader(x_val, y_val), epochs=EPOCHS,
    optimizer=torch.optim.Adam(cnn.parameters(), lr=1e-3), loss_fn=nn.NLLLoss())
cnn_seconds = time.perf_counter() - t0

# %% [markdown]
# ### 3.4 Top-1 and top-5 on our own outputs, and the test set once
#
# `predict_proba` gives the probabilities of the trained network for the validation images; the
# `top_k_accuracy` of section 1 reads them:

# %%
val_probs = predict_proba(cnn, x_val)
for k in (1, 2, 5):
    print(f"validation top-{k} accuracy {top_k_accuracy(val_probs, y_val, k):.4f}")
test_probs = predict_proba(cnn, x_test)  # the test set, once, for the final number
print(f"test accuracy (top-1) {top_k_accuracy(test_probs, y_test, 1):.4f} on {len(y_test):,} images; "
      f"training took {cnn_seconds:.0f} s")

# %% [markdown]
# On MNIST top-5 is nearly 100 % even for a weak network: with only 10 classes, five guesses
# cover half of them. Top-5 makes sense with many classes (ImageNet's 1,000).
#
# ## 4. What did the first layer learn? Representation learning and Gabor filters
#
# The lecture (パターン認識構成のためのアプローチ, "approaches to building pattern recognisers")
# puts it as *(過去) 特徴量エンジニアリング → (現在) DNNによる表現学習*: **in the past, feature
# engineering** (people designed the features), **now representation learning by deep
# networks** (the network learns them). Its slide on the convolution layer: *$w_{ij}$ は学習
# パラメータ…これを学習することで画像認識に適切な2次元フィルタが学習される（特徴学習・表現学習）* —
# the kernel weights are learned, and by learning them, **2-D filters suited to image
# recognition are learned** (feature learning, representation learning).
#
# Then, under *参考: ガボールフィルタ* ("for reference: Gabor filters"): *ガウス関数と三角関数の積
# として定義される2次元フィルタ。脳の一次視覚野にある単純型細胞の活動のモデルとしても利用されて
# いる* — **a 2-D filter defined as the product of a Gaussian and a trigonometric function; it is
# also used as a model of the activity of simple cells in the brain's primary visual cortex**.
# The first layers of large trained CNNs (the slide shows AlexNet's, from cs231n) look strikingly
# like them: oriented stripes, edges of one direction.
#
# A Gabor filter with orientation $\theta$, wavelength $\lambda$, phase $\psi$ and width
# $\sigma$, at the pixel $(x, y)$ (with $x' = x\cos\theta + y\sin\theta$,
# $y' = -x\sin\theta + y\cos\theta$):
#
# $$g(x, y) = \exp\left(-\frac{x'^2 + y'^2}{2\sigma^2}\right) \cos\left(\frac{2\pi x'}{\lambda} + \psi\right)$$
#
# A bank of them in numpy: 8 orientations, two phases (cosine: a line; sine: an edge).

# %%
def gabor(size, theta, wavelength, phase=0.0, sigma=None):
    """A size x size Gabor filter: a Gaussian times a cosine wave running in direction theta."""
    sigma = sigma or 0.4 * wavelength
    half = (size - 1) / 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1]
    x_rot = x * np.cos(theta) + y * np.sin(theta)
    y_rot = -x * np.sin(theta) + y * np.cos(theta)
    envelope = np.exp(-(x_rot**2 + y_rot**2) / (2 * sigma**2))  # the Gaussian
    return envelope * np.cos(2 * np.pi * x_rot / wavelength + phase)  # times the wave


thetas = np.arange(8) * np.pi / 8  # 0°, 22.5°, ..., 157.5°
bank = np.array([gabor(15, theta, wavelength=8, phase=phase)
                 for phase in (0.0, np.pi / 2) for theta in thetas])
print("Gabor bank:", bank.shape, "(filters, height, width)")
image_grid(bank[..., None], ncols=8, size=0.9)
plt.suptitle("Gabor filters: 8 orientations; top row cosine phase (lines), bottom sine phase (edges)",
             fontsize=9)
plt.show()

# %% [markdown]
# And the 32 first-layer filters of the lecture's CNN, trained above. They are only 3×3 (the
# cs231n filters are 11×11 on colour images), so they can only hint at a direction: look for
# filters that are bright on one side and dark on the other (an edge of one orientation) or a
# bright middle stripe between dark ones (a line). `plot_filters` of lessons 5 and 6 shows them
# one row per filter; `image_grid` packs all 32 into one picture, on one grey scale.

# %%
learned = conv_weights(cnn, "conv1")[:, 0]  # (32, 3, 3): 32 filters, 1 input channel
print("first-layer filters:", learned.shape)
image_grid(learned[..., None], ncols=8, size=0.7)
plt.suptitle("conv1 of the lecture's CNN, after training (grey: most negative … most positive)",
             fontsize=9)
plt.show()
plot_filters(cnn, "conv1", max_filters=4)  # the same filters, as lessons 5 and 6 draw them
plt.show()

# %% [markdown]
# To see what such a filter does, apply one Gabor filter of the bank, in 3×3 as the learned
# ones are, to a digit: it responds strongly where a stroke runs in its direction. Exercise 3
# measures how close the learned filters are to the Gabor family.

# %%
digit = mnist.x_train[0, :, :, 0] / 255.0
fig, axes = plt.subplots(1, 5, figsize=(10, 2.2))
axes[0].imshow(digit, cmap="gray")
axes[0].set_title("input")
for ax, theta in zip(axes[1:], thetas[::2], strict=True):
    kernel = gabor(3, theta, wavelength=4, phase=np.pi / 2)
    windows = np.lib.stride_tricks.sliding_window_view(digit, (3, 3))  # 26x26 windows of 3x3
    response = np.einsum("ijkl,kl->ij", windows, kernel)  # the cross-correlation of lesson 3
    ax.imshow(response, cmap="gray")
    ax.set_title(f"3×3 Gabor edge, θ = {np.degrees(theta):.0f}°", fontsize=8)
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 5. Building blocks of modern CNNs, on CIFAR-10
#
# We build the VGG block and the residual block of section 2 and train small networks made of
# them on colour images: the course's CIFAR-10 (lesson 6), the first `N_CIFAR` training images
# for training, the last `N_CIFAR_VAL` for validation. Three networks:
#
# - **VGG-style**: VGG block 3 → 16 channels (32×32 → 16×16), VGG block 16 → 32 (→ 8×8),
#   flatten, a fully connected layer to 10 scores.
# - **residual**: a 3×3 stem convolution with stride 2 (3 → 16 channels, 32×32 → 16×16),
#   `DEPTH` residual blocks of 16 channels, one block 16 → 32 with stride 2 and a 1×1
#   projection (→ 8×8), `DEPTH − 1` more blocks of 32 channels, global average pooling, 10
#   scores. Each block has two 3×3 convolutions with batch normalisation (as in ResNet).
# - **plain**: exactly the residual network without the skip connections (and so without the
#   projection): the lecture's "plain vs residual" comparison, small.

# %%
N_CIFAR = fast_or(4_000, 256)     # training images
N_CIFAR_VAL = fast_or(2_000, 128)  # validation images, the last ones of the training array
CIFAR_EPOCHS = fast_or(4, 1)
DEPTH = fast_or(3, 1)  # residual blocks per stage: 2 stages * 3 blocks * 2 convs + stem + fc = 14 layers

cifar = load_cifar10()  # offline: the course's real 10,000-image subset (see notes)
print(cifar)
for note in cifar.notes:
    print("note:", note)
cx_all, cy_all, _, _ = cifar.arrays(normalize="symmetric", layout=LAYOUT)  # CIFAR's test set: not used
assert N_CIFAR + N_CIFAR_VAL <= len(cx_all)
cx_train, cy_train = cx_all[:N_CIFAR], cy_all[:N_CIFAR]
cx_val, cy_val = cx_all[-N_CIFAR_VAL:], cy_all[-N_CIFAR_VAL:]
print(f"CIFAR-10: train {len(cx_train):,}   validation {len(cx_val):,}")

# %% tags=["keras"]
layers = keras.layers


def batch_norm():
    """Batch normalisation as PyTorch's BatchNorm2d: momentum 0.9 here is its momentum=0.1."""
    return layers.BatchNormalization(momentum=0.9)  # Keras' default 0.99 follows the batches slower


def vgg_block(x, channels):
    """Two 3x3 convolutions with ReLU, then 2x2 max pooling (halves height and width)."""
    x = layers.Conv2D(channels, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(channels, 3, padding="same", activation="relu")(x)
    return layers.MaxPooling2D(2)(x)


def residual_block(x, channels, stride=1, skip=True):
    """ReLU(F(x) + x); F = conv-BN-ReLU-conv-BN. A 1x1 projection of x when the shape changes."""
    y = layers.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False)(x)
    y = batch_norm()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(channels, 3, padding="same", use_bias=False)(y)
    y = batch_norm()(y)
    if skip:
        shortcut = x
        if stride != 1 or x.shape[-1] != channels:  # shapes differ: project x with a 1x1 conv
            shortcut = layers.Conv2D(channels, 1, strides=stride, use_bias=False)(x)
            shortcut = batch_norm()(shortcut)
        y = layers.Add()([y, shortcut])  # the skip connection
    return layers.Activation("relu")(y)


def make_vgg():
    inputs = keras.Input(shape=(32, 32, 3))
    x = vgg_block(vgg_block(inputs, 16), 32)  # 32x32x3 -> 16x16x16 -> 8x8x32
    outputs = layers.Dense(10)(layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="vgg_style")


def make_resnet(depth=DEPTH, skip=True):
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(inputs)  # the stem
    x = layers.Activation("relu")(batch_norm()(x))
    for _ in range(depth):
        x = residual_block(x, 16, skip=skip)
    x = residual_block(x, 32, stride=2, skip=skip)  # 16x16x16 -> 8x8x32: projection
    for _ in range(depth - 1):
        x = residual_block(x, 32, skip=skip)
    outputs = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs, name="residual" if skip else "plain")


class Curve(keras.callbacks.Callback):
    """After each epoch, send one metric to a LivePlot under the run's name."""

    def __init__(self, live, name, metric="val_accuracy"):
        super().__init__()
        self.live, self.name, self.metric = live, name, metric

    def on_epoch_end(self, epoch, logs=None):
        self.live.update({self.name: logs[self.metric]}, step=epoch + 1)


def train_cifar(name, make, live):
    """Train one network on the CIFAR-10 subset; return its row of the table."""
    seed_everything(0)
    model = compile_for(make())
    t0 = time.perf_counter()
    model.fit(cx_train, cy_train, validation_data=(cx_val, cy_val), batch_size=BATCH,
              epochs=CIFAR_EPOCHS, callbacks=[Curve(live, name)], verbose=0)
    seconds = time.perf_counter() - t0
    probs = predict_proba(model, cx_val)
    return {"network": name, "layers with weights": sum(1 for w in model.trainable_weights if len(w.shape) > 1),
            "parameters": count_params(model), "val top-1 %": 100 * top_k_accuracy(probs, cy_val, 1),
            "val top-5 %": 100 * top_k_accuracy(probs, cy_val, 5), "seconds": seconds}


# %% tags=["pytorch"]
class VGGBlock(nn.Sequential):
    """Two 3x3 convolutions with ReLU, then 2x2 max pooling (halves height and width)."""

    def __init__(self, c_in, channels):
        super().__init__(nn.Conv2d(c_in, channels, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


class ResidualBlock(nn.Module):
    """ReLU(F(x) + x); F = conv-BN-ReLU-conv-BN. A 1x1 projection of x when the shape changes."""

    def __init__(self, c_in, channels, stride=1, skip=True):
        super().__init__()
        self.skip = skip
        self.body = nn.Sequential(
            nn.Conv2d(c_in, channels, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(channels),
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        self.shortcut = nn.Identity()
        if skip and (stride != 1 or c_in != channels):  # shapes differ: project x with a 1x1 conv
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(channels))

    def forward(self, x):
        y = self.body(x)
        if self.skip:
            y = y + self.shortcut(x)  # the skip connection
        return F.relu(y)


def make_vgg():
    return nn.Sequential(VGGBlock(3, 16), VGGBlock(16, 32),  # 3x32x32 -> 16x16x16 -> 32x8x8
                         nn.Flatten(), nn.Linear(32 * 8 * 8, 10)).to(device)


def make_resnet(depth=DEPTH, skip=True):
    blocks = [ResidualBlock(16, 16, skip=skip) for _ in range(depth)]
    blocks.append(ResidualBlock(16, 32, stride=2, skip=skip))  # 16x16x16 -> 32x8x8: projection
    blocks += [ResidualBlock(32, 32, skip=skip) for _ in range(depth - 1)]
    return nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False),  # the stem
                         nn.BatchNorm2d(16), nn.ReLU(), *blocks,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)).to(device)


def train_cifar(name, make, live):
    """Train one network on the CIFAR-10 subset; return its row of the table."""
    seed_everything(0)
    model = make()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches, val_batches = loader(cx_train, cy_train, BATCH, shuffle=True), loader(cx_val, cy_val)
    t0 = time.perf_counter()
    for epoch in range(1, CIFAR_EPOCHS + 1):
        row = fit(model, batches, val_batches, optimizer=optimizer, live=False, verbose=False).iloc[0]
        live.update({name: row.val_accuracy}, step=epoch)
    seconds = time.perf_counter() - t0
    probs = predict_proba(model, cx_val)
    return {"network": name, "layers with weights": sum(1 for p in model.parameters() if p.ndim > 1),
            "parameters": count_params(model), "val top-1 %": 100 * top_k_accuracy(probs, cy_val, 1),
            "val top-5 %": 100 * top_k_accuracy(probs, cy_val, 5), "seconds": seconds}


# %% [markdown]
# The three networks, one live plot of their validation accuracy, one table. *Layers with
# weights* counts the convolution and fully connected layers (the 1×1 projection included).

# %%
names = ["VGG-style", "plain", "residual"]
live = LivePlot(panels={"validation accuracy": names}, xlabel="epoch")
makers = {"VGG-style": make_vgg, "plain": lambda: make_resnet(skip=False), "residual": make_resnet}
blocks_table = pd.DataFrame([train_cifar(name, makers[name], live) for name in names])
live.finish()
print(f"CIFAR-10: {N_CIFAR:,} training and {N_CIFAR_VAL:,} validation images, {CIFAR_EPOCHS} epochs")
print(blocks_table.round(2).to_string(index=False))

# %% [markdown]
# Read the table with its size in mind: a few thousand images and a few epochs on a CPU, where a
# ResNet is trained for days on a GPU. The plain and residual networks have the same layers;
# the residual one has one 1×1 projection more (512 weights and its batch normalisation).
# The lecture's point is that deep *plain* networks become hard to train while residual ones
# do not; its figure is about 34 layers, ours have 14 (exercise 3 varies the depth). Section 6
# gives the numbers of our full-mode run.
#
# The batch normalisation is the same layer in both tracks: Keras' `BatchNormalization(momentum=0.9)`
# keeps 0.9 of its running averages at each step, as PyTorch's `BatchNorm2d` does with its
# default `momentum=0.1` (the share of the new batch). Keras' own default, 0.99, makes the
# averages used in evaluation follow the training ten times more slowly: after the 252 steps of
# 4 epochs here they would still hold $0.99^{252} \approx 8\,\%$ of their starting values (mean 0,
# variance 1). With 13 batch-norm layers in a row that alone may pull the validation accuracy
# towards chance, whatever the depth or the skip connections do, so compare the two tracks only
# with the same setting (lesson 7, section 4).

# %% [markdown]
# ## 6. What we measured
#
# Measured in full mode on a 2-core CPU without GPU, the machine otherwise idle, offline, one
# track after the other (2026-12-06, Keras 3.15.1 with TensorFlow, PyTorch 2.14.1; the whole
# notebook took 88 s in Keras and 63 s in PyTorch). Your numbers will differ a little; the tables
# printed above are those of your run.
#
# **The lecture's CNN** (section 3; 20,000 training, 10,000 validation, 10,000 test images, one
# epoch):
#
# | | Keras | PyTorch |
# |---|---|---|
# | validation top-1 / top-2 / top-5 accuracy % | 97.13 / 99.01 / 99.87 | 97.11 / 99.07 / 99.85 |
# | test accuracy % (measured once) | 97.26 | 97.14 |
# | training seconds | 22 | 21 |
#
# **Building blocks on CIFAR-10** (section 5; 4,000 training and 2,000 validation images of the
# course's offline subset, 4 epochs; batch normalisation with the same momentum in both tracks):
#
# | network | layers with weights | parameters | Keras: val top-1 % | top-5 % | s | PyTorch: val top-1 % | top-5 % | s |
# |---|---|---|---|---|---|---|---|---|
# | VGG-style | 5 | 37,146 | **45.15** | 90.95 | 9 | 41.45 | 89.30 | 9 |
# | plain | 14 | 65,882 | 27.45 | 81.80 | 22 | 32.45 | 86.90 | 10 |
# | residual | 15 | 66,458 | 39.80 | 90.70 | 21 | **42.15** | **90.35** | 11 |
#
# What these runs say (small data, few epochs, a CPU; not a general ranking):
#
# - In both tracks the 14-layer **plain** network was the worst of the three, and the
#   **residual** network, the same layers with skip connections, was clearly better: by 12.4
#   points of validation accuracy in Keras and 9.7 in PyTorch. The shallow **VGG-style** network
#   was best in Keras (5.4 points above the residual one) and on a par with the residual one in
#   PyTorch (0.7 below it). One run of each (seed 0), a few thousand images, 4 epochs: a hint,
#   not a proof; lesson 7, section 7 shows how much another seed moves such a number. What the
#   lecture claims for 34 layers we did not measure.
# - The two tracks do not start from the same random weights (each framework draws its own), so
#   their numbers differ by a few points even with the same layers, data and settings.
#
# ## Summary
#
# - **ImageNet** (the lecture: 20,000 categories, 14 million hand-labelled images) and its
#   competition **ILSVRC** (1,000 classes) made deep CNNs the standard; they are compared by the
#   **top-5 error**: is the right class among the five best guesses?
# - **GoogLeNet** won ILSVRC 2014; **VGG16** (92.7 % top-5, the lecture's figure) is built from
#   stacked 3×3 convolutions and pooling (the **VGG block**); **ResNet** adds **skip
#   connections**, $\mathrm{ReLU}(x + F(x))$ with a 1×1 projection when the shape changes, so that
#   very deep networks still train.
# - The lecture's MNIST CNN has **1,199,882** parameters, 98 % of them in its first fully
#   connected layer. `log_softmax` + NLL loss is the same as logits + cross-entropy.
# - Trained convolution filters are the network's **learned representation**; in large networks
#   the first layer looks like **Gabor filters**, a model of simple cells in the visual cortex.
#
# ## Exercises
#
# 1. Count by hand the parameters of one VGG block 16 → 32 channels, and of one residual block
#    16 → 32 channels with stride 2 and its 1×1 projection (batch normalisation: 2 trained
#    numbers per channel). Check both with the framework.
# 2. How close to Gabor filters are the learned 3×3 filters? For each of the 32 conv1 filters
#    of the trained lecture CNN find the most similar filter of a 3×3 Gabor bank (8
#    orientations, phases 0 and 90°; similarity: the absolute cosine of the angle between the
#    two 9-vectors), and compare with 32 random 3×3 filters.
# 3. Plain against residual, deeper: train both networks of section 5 with 1, 3 and 6 blocks
#    per stage. How do their validation accuracies change with depth?
