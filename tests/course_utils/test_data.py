"""Data loading from the real files in COURSE_DATA_DIR, adapters, and the offline error."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import load_cifar10, load_mnist
from course_utils.data import DataNotFoundError, shown_path, to_float


def test_full_mnist_from_course_data_dir(data_dir, monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    ds = load_mnist()
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8
    assert ds.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(ds.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_fast_mode_shrinks_by_default(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert load_mnist().x_train.shape[0] == 2000
    assert load_mnist(n_train=300).x_train.shape[0] == 300
    monkeypatch.delenv("COURSE_FAST")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert load_mnist().x_test.shape[0] == 500


def test_cifar10_subset_with_notes(data_dir, monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    ds = load_cifar10()
    assert ds.x_train.shape[1:] == (32, 32, 3) and len(ds.x_train) >= 4000
    assert ds.classes[3] == "cat" and set(np.unique(ds.y_train)) == set(range(10))
    assert any("of the 50,000" in note for note in ds.notes), "a subset must say so"


def test_repr_says_where_the_data_came_from_without_this_machines_paths(data_dir, tmp_path, monkeypatch):
    """An executed notebook prints the dataset; the course website shows that output to everyone."""
    ds = load_mnist(n_train=10, n_test=10)
    assert ds.source.startswith(str(data_dir))  # the real place stays available to code
    assert "from $COURSE_DATA_DIR/" in repr(ds) and str(data_dir) not in repr(ds), repr(ds)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data") + "/")  # a trailing slash as typed
    monkeypatch.setenv("HOME", str(tmp_path))
    assert shown_path(f"{tmp_path}/data/cifar10") == "$COURSE_DATA_DIR/cifar10"
    assert shown_path(f"into {tmp_path}/.cache/course_utils") == "into ~/.cache/course_utils"
    assert shown_path(f"{tmp_path}/database") == "~/database"  # not the data folder: only starts alike
    assert shown_path(f"{tmp_path}x/data") == f"{tmp_path}x/data"  # neither


def test_both_frameworks_see_identical_pixels(data_dir):
    ds = load_mnist(n_train=64, n_test=64)
    x_keras = ds.arrays()[0]
    train_loader, _ = ds.torch_loaders(batch_size=64, shuffle=False)
    x_torch = next(iter(train_loader))[0].numpy()
    assert x_keras.shape == (64, 28, 28, 1) and x_torch.shape == (64, 1, 28, 28)
    np.testing.assert_array_equal(x_keras.transpose(0, 3, 1, 2), x_torch)
    assert 0.0 <= x_keras.min() and x_keras.max() <= 1.0
    sym = ds.arrays(normalize="symmetric")[0]
    assert sym.min() >= -1.0 and sym.max() <= 1.0


def test_offline_without_data_names_the_places_and_the_fix(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(data_dir=empty, download=False)
    message = str(info.value)
    assert str(empty) in message and "COURSE_DATA_DIR" in message and "internet" in message


def test_bad_arguments():
    with pytest.raises(ValueError, match="layout"):
        to_float(np.zeros((1, 2, 2, 1), np.uint8), layout="CHW")
    with pytest.raises(ValueError, match=r"images\[..., None\]"):
        to_float(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="normalize"):
        to_float(np.zeros((1, 2, 2, 1), np.uint8), normalize="zscore")


def test_fast_sizes_can_be_overridden(data_dir, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setenv("COURSE_FAST_SIZES", "300,100")
    ds = load_mnist()
    assert (len(ds.x_train), len(ds.x_test)) == (300, 100)
    monkeypatch.setenv("COURSE_FAST_SIZES", "lots")
    with pytest.raises(ValueError, match="COURSE_FAST_SIZES must be two positive ints"):
        load_mnist()


def test_holdout_is_a_validation_split_of_the_real_training_set(data_dir):
    mnist = load_mnist(data_dir=data_dir, download=False)
    dev = mnist.holdout(5_000)
    assert (len(dev.x_train), len(dev.x_test)) == (55_000, 5_000)
    assert "validation (5000, 28, 28, 1)" in repr(dev)
    # the validation images are the last training images, never test images
    assert np.array_equal(dev.x_test, mnist.x_train[-5_000:])
    assert np.array_equal(dev.y_train, mnist.y_train[:-5_000])
    assert not np.array_equal(dev.x_test[:100], mnist.x_test[:100])
    with pytest.raises(ValueError, match="Hold out fewer images"):
        mnist.holdout(60_000)


def test_fashion_mnist_offline_with_labels_only_says_so(data_dir, tmp_path, monkeypatch):
    """The course's FashionMNIST/raw holds only the label files: no images, so a clear error."""
    from course_utils import load_fashion_mnist

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist(data_dir=data_dir, download=False)
    message = str(info.value)
    assert "Fashion-MNIST" in message and str(data_dir / "FashionMNIST" / "raw") in message
    assert "COURSE_DATA_DIR" in message


def test_fashion_mnist_from_idx_files(tmp_path, monkeypatch):
    """Four IDX files (gzipped, as torchvision and Keras store them) in FashionMNIST/raw."""
    import gzip

    from course_utils import load_fashion_mnist

    monkeypatch.delenv("COURSE_FAST", raising=False)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (14, 28, 28), dtype=np.uint8)
    labels = (np.arange(14) % 10).astype(np.uint8)

    def write(name, array):
        header = bytes([0, 0, 8, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
        with gzip.open(raw / f"{name}.gz", "wb") as f:
            f.write(header + array.tobytes())

    write("train-images-idx3-ubyte", images[:10])
    write("train-labels-idx1-ubyte", labels[:10])
    write("t10k-images-idx3-ubyte", images[10:])
    write("t10k-labels-idx1-ubyte", labels[10:])
    ds = load_fashion_mnist(data_dir=tmp_path, download=False)
    assert ds.name == "Fashion-MNIST" and ds.x_train.shape == (10, 28, 28, 1)
    np.testing.assert_array_equal(ds.x_test[..., 0], images[10:])
    assert ds.y_test.tolist() == [0, 1, 2, 3] and ds.classes[9] == "Ankle boot"
    monkeypatch.setenv("COURSE_FAST", "1")
    assert len(load_fashion_mnist(n_train=3, data_dir=tmp_path, download=False).x_train) == 3
