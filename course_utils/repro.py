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

    >>> pick_device()
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
