"""Reproducibility and device choice for both frameworks."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int = 0) -> int:
    """Seed Python, numpy, and PyTorch / TensorFlow if they are imported.

    Import your framework first, then call this; frameworks that are not imported
    are left alone, so a PyTorch user never pays for TensorFlow.

    >>> import torch; seed_everything(42)
    42
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)  # also seeds every CUDA device
    if "keras" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)  # python, numpy and the backend
    elif "tensorflow" in sys.modules:
        import tensorflow as tf

        tf.random.set_seed(seed)
    return seed


def pick_device(prefer: str | None = None) -> str:
    """Best PyTorch device available: ``"cuda"``, then ``"mps"``, then ``"cpu"``.

    >>> pick_device() in ("cuda", "mps", "cpu")
    True
    >>> pick_device(prefer="cpu")
    'cpu'
    """
    import torch

    if prefer is not None:
        if prefer not in {"cuda", "mps", "cpu"}:
            raise ValueError(f"prefer must be 'cuda', 'mps' or 'cpu', got {prefer!r}.")
        available = {
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
            "cpu": True,
        }
        if not available[prefer]:
            raise RuntimeError(
                f"Device {prefer!r} is not available here. On Colab choose "
                "Runtime > Change runtime type > GPU, or use pick_device() to fall back."
            )
        return prefer
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def set_cpu_threads(n: int = 1) -> int:
    """Limit the CPU threads of the frameworks already imported (torch, TensorFlow).

    Tiny models (a perceptron, a 2-2-1 network) run many times faster on one thread:
    splitting a 2×2 matrix product over cores costs more than it saves. Measured on a
    2-core machine: 1,000 Adam steps of a 2-2-2-1 network took 9.3 s with torch's
    default threads and 0.23 s with one.

    >>> import torch; threads = torch.get_num_threads()
    >>> set_cpu_threads(1), torch.get_num_threads()
    (1, 1)
    >>> set_cpu_threads(threads) == threads   # back to the default
    True
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}.")
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(n)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(n)
        except RuntimeError:  # TensorFlow already started its thread pools
            pass
    return n
