"""MNIST, Fashion-MNIST and CIFAR-10 as numpy arrays, with thin adapters for PyTorch and Keras.

Both frameworks get identical pixels and identical normalisation: the arrays are
loaded once as ``uint8`` and converted by :meth:`ImageData.arrays` (Keras, NHWC) or
:meth:`ImageData.torch_loaders` (PyTorch, NCHW).

Where data is looked for, in order:

1. ``$COURSE_DATA_DIR`` (torchvision layout ``MNIST/raw/*-ubyte``, Keras ``mnist.npz``,
   ``FashionMNIST/raw/*-ubyte``, ``cifar-10-batches-py/``, or the course's CIFAR-10 ``.npz``
   subsets);
2. the usual caches: ``~/.keras/datasets``, ``./data`` and ``~/.cache/course_utils``;
3. a download through torchvision or Keras (needs internet).
"""

from __future__ import annotations

import gzip
import os
import pickle
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from course_utils import env
from course_utils.env import fast_mode, setting

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
FAST_SIZES = (2000, 500)  # train, test images in fast mode; override: COURSE_FAST_SIZES=4000,1000
_NORMALIZATIONS = ("unit", "symmetric", "none")


class DataNotFoundError(FileNotFoundError):
    """The data set is nowhere on disk and could not be downloaded."""


@dataclass(frozen=True)
class ImageData:
    """Images (``uint8``, NHWC) and integer labels of one data set.

    :func:`load_mnist` and :func:`load_cifar10` return one; here, ten blank "digits":

    >>> images, labels = np.zeros((10, 28, 28, 1), np.uint8), np.arange(10)
    >>> ds = ImageData("digits", images[:8], labels[:8], images[8:], labels[8:], MNIST_CLASSES)
    >>> ds.x_train.shape, ds.classes[:3]
    ((8, 28, 28, 1), ('0', '1', '2'))
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    source: str = ""
    notes: list[str] = field(default_factory=list)
    test_part: str = "test"  # what x_test holds: "test", or "validation" after holdout()

    def __repr__(self) -> str:
        return (
            f"ImageData({self.name}: train {self.x_train.shape}, {self.test_part} {self.x_test.shape}, "
            f"{len(self.classes)} classes, from {shown_path(self.source)})"
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> ImageData:
        """The first ``n_train`` / ``n_test`` images (``None`` keeps all).

        >>> images, labels = np.zeros((10, 28, 28, 1), np.uint8), np.arange(10)
        >>> ds = ImageData("digits", images, labels, images, labels, MNIST_CLASSES)
        >>> ds.subset(5, 2).x_train.shape[0], ds.subset(n_test=3).x_test.shape[0]
        (5, 3)
        """
        for label, n in (("n_train", n_train), ("n_test", n_test)):
            if n is not None and (not isinstance(n, int) or n <= 0):
                raise ValueError(f"{label} must be a positive int or None, got {n!r}.")
        return replace(
            self,
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
        )

    def holdout(self, n_val: int) -> ImageData:
        """A validation split: train on all but the last ``n_val`` training images, which become
        the *test* part of the result (the real test set is not in it, so it cannot be used for
        choices by accident; keep the original for the one final measurement).

        >>> images, labels = np.zeros((10, 28, 28, 1), np.uint8), np.arange(10)
        >>> dev = ImageData("digits", images, labels, images[:4], labels[:4], MNIST_CLASSES).holdout(3)
        >>> dev.x_train.shape[0], dev.y_test.tolist(), dev.name
        (7, [7, 8, 9], 'digits (validation split)')
        """
        n = len(self.x_train)
        if not isinstance(n_val, int) or not 0 < n_val < n:
            raise ValueError(
                f"n_val must be an int between 1 and {n - 1} (the {self.name} training set has "
                f"{n:,} images), got {n_val!r}. Hold out fewer images, or load more (fast mode "
                "loads only a few: see load_mnist / load_cifar10)."
            )
        return replace(
            self,
            name=f"{self.name} (validation split)",
            test_part="validation",
            x_train=self.x_train[:-n_val],
            y_train=self.y_train[:-n_val],
            x_test=self.x_train[-n_val:],
            y_test=self.y_train[-n_val:],
        )

    def arrays(self, normalize: str = "unit", layout: str = "NHWC"):
        """``(x_train, y_train, x_test, y_test)`` as float32 images and int64 labels.

        ``normalize``: ``"unit"`` maps pixels to [0, 1], ``"symmetric"`` to [-1, 1]
        (the PyTorch tutorial's ``Normalize((0.5,)*3, (0.5,)*3)``), ``"none"`` keeps 0–255.

        >>> images, labels = np.full((4, 28, 28, 1), 255, np.uint8), np.arange(4)
        >>> ds = ImageData("digits", images, labels, images, labels, MNIST_CLASSES)
        >>> x_train, y_train, x_test, y_test = ds.arrays()
        >>> x_train.dtype, float(x_train.max()), ds.arrays("symmetric", "NCHW")[0].shape
        (dtype('float32'), 1.0, (4, 1, 28, 28))
        """
        return (
            to_float(self.x_train, normalize, layout),
            self.y_train.astype(np.int64),
            to_float(self.x_test, normalize, layout),
            self.y_test.astype(np.int64),
        )

    def torch_loaders(
        self,
        batch_size: int = 64,
        normalize: str = "unit",
        shuffle: bool = True,
        seed: int | None = None,
        test_batch_size: int = 1000,
    ):
        """``(train_loader, test_loader)``: PyTorch DataLoaders of NCHW float tensors.

        >>> images, labels = np.zeros((256, 28, 28, 1), np.uint8), np.arange(256) % 10
        >>> ds = ImageData("digits", images, labels, images[:64], labels[:64], MNIST_CLASSES)
        >>> train_loader, test_loader = ds.torch_loaders(batch_size=32)
        >>> next(iter(train_loader))[0].shape
        torch.Size([32, 1, 28, 28])
        """
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        x_train, y_train, x_test, y_test = self.arrays(normalize, layout="NCHW")
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        train = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
        test = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
        return (
            DataLoader(train, batch_size=batch_size, shuffle=shuffle, generator=generator),
            DataLoader(test, batch_size=test_batch_size, shuffle=False),
        )


def to_float(images: np.ndarray, normalize: str = "unit", layout: str = "NHWC") -> np.ndarray:
    """Convert ``uint8`` NHWC images to float32 in the given layout and scale.

    >>> to_float(np.full((1, 2, 2, 1), 255, np.uint8), layout="NCHW").shape
    (1, 1, 2, 2)
    """
    if normalize not in _NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {_NORMALIZATIONS}, got {normalize!r}.")
    if layout not in ("NHWC", "NCHW"):
        raise ValueError(f"layout must be 'NHWC' (Keras) or 'NCHW' (PyTorch), got {layout!r}.")
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"Expected a batch of images with shape (N, H, W, C), got shape {images.shape}. "
            "Add a channel axis with images[..., None] for greyscale images."
        )
    x = images.astype(np.float32)
    if normalize == "unit":
        x /= 255.0
    elif normalize == "symmetric":
        x = x / 127.5 - 1.0
    if layout == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x


# ----------------------------------------------------------------------------- MNIST


def load_mnist(
    n_train: int | None = None,
    n_test: int | None = None,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> ImageData:
    """The MNIST digits: 60,000 training and 10,000 test images, 28×28×1 ``uint8``.

    In fast mode (see :func:`course_utils.fast_mode`) the default is a small
    subset; pass ``n_train``/``n_test`` to choose yourself. With the real data,
    ``load_mnist().x_train.shape`` is ``(60000, 28, 28, 1)``. Here, a stand-in folder
    with Keras' ``mnist.npz`` layout and 12 blank digits:

    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> digits, labels = np.zeros((12, 28, 28), np.uint8), np.arange(12) % 10
    >>> np.savez(f"{folder}/mnist.npz", x_train=digits[:8], y_train=labels[:8],
    ...          x_test=digits[8:], y_test=labels[8:])
    >>> ds = load_mnist(n_train=5, data_dir=folder, download=False)
    >>> ds.x_train.shape, ds.y_test.tolist()
    ((5, 28, 28, 1), [8, 9, 0, 1])
    """
    searched: list[str] = []
    for root in _search_roots(data_dir):
        for folder in (root / "MNIST" / "raw", root / "mnist" / "raw", root / "MNIST", root):
            found = _read_mnist_idx(folder)
            searched.append(str(folder))
            if found is not None:
                return _finish("MNIST", found, MNIST_CLASSES, str(folder), n_train, n_test)
        for path in (root / "mnist.npz", root / "datasets" / "mnist.npz"):
            searched.append(str(path))
            if path.is_file():
                with np.load(path) as f:
                    arrays = (f["x_train"], f["y_train"], f["x_test"], f["y_test"])
                return _finish("MNIST", arrays, MNIST_CLASSES, str(path), n_train, n_test)
    if not download:
        raise _not_found("MNIST", searched, None)
    arrays, where = _download("mnist", searched)
    return _finish("MNIST", arrays, MNIST_CLASSES, where, n_train, n_test)


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _read_mnist_idx(folder: Path):
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    paths = []
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                paths.append(candidate)
                break
        else:
            return None
    return tuple(_read_idx(p) for p in paths)


# --------------------------------------------------------------------- Fashion-MNIST


def load_fashion_mnist(
    n_train: int | None = None,
    n_test: int | None = None,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> ImageData:
    """Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28×28×1 ``uint8``.

    The same file format as MNIST (four IDX files, plain or ``.gz``), looked for in
    torchvision's layout ``FashionMNIST/raw/`` and Keras' ``fashion-mnist/`` under each
    search root, else downloaded through torchvision or Keras. Without the four files and
    without internet it raises :class:`DataNotFoundError`; ``download=False`` never tries
    the network. Here, a stand-in folder with 12 blank pictures:

    >>> import tempfile, pathlib; folder = pathlib.Path(tempfile.mkdtemp())
    >>> raw = folder / "FashionMNIST" / "raw"; raw.mkdir(parents=True)
    >>> def idx(name, array):  # the IDX header: 0, 0, type 8 (uint8), ndim, then the sizes
    ...     header = bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    ...     (raw / name).write_bytes(header + array.tobytes())
    >>> idx("train-images-idx3-ubyte", np.zeros((8, 28, 28), np.uint8))
    >>> idx("train-labels-idx1-ubyte", np.arange(8, dtype=np.uint8))
    >>> idx("t10k-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    >>> idx("t10k-labels-idx1-ubyte", np.arange(4, dtype=np.uint8))
    >>> ds = load_fashion_mnist(data_dir=folder, download=False)
    >>> ds.x_train.shape, ds.classes[ds.y_test[0]]
    ((8, 28, 28, 1), 'T-shirt/top')
    """
    searched: list[str] = []
    for root in _search_roots(data_dir):
        for folder in (
            root / "FashionMNIST" / "raw",
            root / "FashionMNIST",
            root / "fashion-mnist",
            root / "datasets" / "fashion-mnist",
        ):
            found = _read_mnist_idx(folder)
            searched.append(str(folder))
            if found is not None:
                return _finish("Fashion-MNIST", found, FASHION_MNIST_CLASSES, str(folder), n_train, n_test)
    if not download:
        raise _not_found("Fashion-MNIST", searched, None)
    arrays, where = _download("fashion_mnist", searched)
    return _finish("Fashion-MNIST", arrays, FASHION_MNIST_CLASSES, where, n_train, n_test)


# -------------------------------------------------------------------------- CIFAR-10

# The course's offline subsets (see shared/data/README.md), best first.
_CIFAR_NPZ_TRAIN = (
    (
        "cifar10_train10000_jpeg.npz",
        "x_train",
        "y_train",
        "10,000 of the 50,000 training images (JPEG-decoded, lossy)",
    ),
    (
        "cifar10_lossless_train4000_test1000.npz",
        "x_train",
        "y_train",
        "4,000 of the 50,000 training images (lossless)",
    ),
)
_CIFAR_NPZ_TEST = (
    (
        "cifar10_test2000_jpeg.npz",
        "x_test",
        "y_test",
        "2,000 of the 10,000 test images (JPEG-decoded, lossy)",
    ),
    (
        "cifar10_lossless_train4000_test1000.npz",
        "x_test",
        "y_test",
        "1,000 of the 10,000 test images (lossless)",
    ),
)


def load_cifar10(
    n_train: int | None = None,
    n_test: int | None = None,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> ImageData:
    """CIFAR-10: 32×32×3 ``uint8`` colour images of 10 classes.

    Reads torchvision's ``cifar-10-batches-py`` (the full 50,000 + 10,000 images) or,
    offline, the course's real subsets in ``$COURSE_DATA_DIR/cifar10``; ``ds.notes``
    says when only a subset was found. Here, a stand-in subset of 6 blank pictures:

    >>> import tempfile, pathlib; folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "cifar10").mkdir()
    >>> pictures, labels = np.zeros((6, 32, 32, 3), np.uint8), np.arange(6)
    >>> np.savez(folder / "cifar10" / "cifar10_lossless_train4000_test1000.npz",
    ...          x_train=pictures[:4], y_train=labels[:4], x_test=pictures[4:], y_test=labels[4:])
    >>> ds = load_cifar10(data_dir=folder, download=False)
    >>> ds.x_train.shape, ds.classes[0], ds.notes[0]
    ((4, 32, 32, 3), 'airplane', 'train: 4,000 of the 50,000 training images (lossless)')
    """
    searched: list[str] = []
    for root in _search_roots(data_dir):
        for folder in (root / "cifar-10-batches-py", root / "cifar10" / "cifar-10-batches-py"):
            searched.append(str(folder))
            if (folder / "data_batch_1").is_file() and (folder / "test_batch").is_file():
                arrays = _read_cifar_batches(folder)
                return _finish("CIFAR-10", arrays, CIFAR10_CLASSES, str(folder), n_train, n_test)
        folder = root / "cifar10"
        searched.append(str(folder / "*.npz"))
        train = _first_npz(folder, _CIFAR_NPZ_TRAIN)
        test = _first_npz(folder, _CIFAR_NPZ_TEST)
        if train and test:
            arrays = (train[0], train[1], test[0], test[1])
            ds = _finish("CIFAR-10", arrays, CIFAR10_CLASSES, str(folder), n_train, n_test)
            ds.notes.extend([f"train: {train[2]}", f"test: {test[2]}"])
            return ds
    if not download:
        raise _not_found("CIFAR-10", searched, None)
    arrays, where = _download("cifar10", searched)
    return _finish("CIFAR-10", arrays, CIFAR10_CLASSES, where, n_train, n_test)


def _first_npz(folder: Path, candidates):
    for name, x_key, y_key, note in candidates:
        path = folder / name
        if path.is_file():
            with np.load(path) as f:
                return f[x_key], f[y_key], note
    return None


def _read_cifar_batches(folder: Path):
    def read(name):
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        x = np.asarray(batch["data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return x, np.asarray(batch["labels"], np.uint8)

    parts = [read(f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = read("test_batch")
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        x_test,
        y_test,
    )


# --------------------------------------------------------------------------- shared


def _search_roots(data_dir) -> list[Path]:
    roots = []
    if data_dir is not None:
        roots.append(Path(data_dir).expanduser())
    elif env.data_dir() is not None:
        roots.append(env.data_dir())
    roots += [
        Path.home() / ".keras" / "datasets",
        Path("data"),
        _cache_dir(),
    ]
    return roots


def _cache_dir() -> Path:
    return env.cache_dir()


def shown_path(text: str) -> str:
    """``text`` with the data folder written as ``$COURSE_DATA_DIR`` and the home folder as ``~``.

    What a notebook prints then says where the data came from without the absolute paths of
    the machine that ran it (a website of executed notebooks would show them to everyone).

    >>> shown_path(f"torchvision download into {Path.home()}/.cache/course_utils")
    'torchvision download into ~/.cache/course_utils'
    >>> shown_path(f"{Path.home()}-old/data")  # another folder that only starts alike
    '...-old/data'
    """
    for folder, name in ((setting("COURSE_DATA_DIR"), "$COURSE_DATA_DIR"), (str(Path.home()), "~")):
        folder = str(Path(folder).expanduser()).rstrip("/") if folder else ""
        if folder:
            text = re.sub(rf"(?<![\w.~/-]){re.escape(folder)}(?![\w.-])", lambda _, n=name: n, text)
    return text


def _finish(name, arrays, classes, source, n_train, n_test) -> ImageData:
    x_train, y_train, x_test, y_test = (np.asarray(a) for a in arrays)
    if x_train.ndim == 3:  # greyscale: add the channel axis (NHWC)
        x_train, x_test = x_train[..., None], x_test[..., None]
    if fast_mode():
        fast_train, fast_test = _fast_sizes()
        n_train = n_train or fast_train
        n_test = n_test or fast_test
    ds = ImageData(
        name=name,
        x_train=x_train,
        y_train=y_train.astype(np.int64),
        x_test=x_test,
        y_test=y_test.astype(np.int64),
        classes=classes,
        source=source,
    )
    return ds.subset(n_train, n_test)


def _fast_sizes() -> tuple[int, int]:
    value = setting("COURSE_FAST_SIZES")
    if not value:
        return FAST_SIZES
    try:
        n_train, n_test = (int(v) for v in value.split(","))
        if n_train < 1 or n_test < 1:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"COURSE_FAST_SIZES must be two positive ints 'train,test' such as '4000,1000', got {value!r}."
        ) from None
    return n_train, n_test


def _download(which: str, searched: list[str]):
    """Download with the framework the student already uses (torchvision, else Keras)."""
    use_keras = ("keras" in sys.modules or "tensorflow" in sys.modules) and "torch" not in sys.modules
    try:
        if not use_keras:
            try:
                import torchvision  # only whether it is installed
            except ImportError:
                use_keras = True
        if use_keras:
            import keras

            loader = getattr(keras.datasets, which)  # mnist, fashion_mnist, cifar10
            (x_train, y_train), (x_test, y_test) = loader.load_data()
            return (x_train, y_train.ravel(), x_test, y_test.ravel()), "keras.datasets download"
        import torchvision

        root = _cache_dir()
        cls = {
            "mnist": torchvision.datasets.MNIST,
            "fashion_mnist": torchvision.datasets.FashionMNIST,
            "cifar10": torchvision.datasets.CIFAR10,
        }[which]
        train = cls(root=str(root), train=True, download=True)
        test = cls(root=str(root), train=False, download=True)
        arrays = (
            np.asarray(train.data),
            np.asarray(train.targets),
            np.asarray(test.data),
            np.asarray(test.targets),
        )
        return arrays, f"torchvision download into {root}"
    except ImportError as err:
        raise _not_found(_NAMES[which], searched, err) from None
    except Exception as err:  # network errors differ between the two libraries
        raise _not_found(_NAMES[which], searched, err) from err


_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def _not_found(name: str, searched: list[str], err) -> DataNotFoundError:
    places = "\n".join(f"  - {p}" for p in searched)
    reason = f"\nThe download failed: {type(err).__name__}: {err}" if err is not None else ""
    return DataNotFoundError(
        f"{name} was not found on this machine. Looked in:\n{places}{reason}\n"
        "To fix this, either connect to the internet and run again (the data is downloaded "
        "once), or set COURSE_DATA_DIR to a folder that holds the data, for example\n"
        "  export COURSE_DATA_DIR=/path/to/shared/data   (shell)\n"
        "  %env COURSE_DATA_DIR=/path/to/shared/data     (notebook)"
    )
