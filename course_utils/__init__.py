"""Shared helpers for the deep-learning course.

``import course_utils`` is cheap: it imports neither TensorFlow nor PyTorch. The
framework-specific parts live in their own modules and import their framework only
when you use them:

>>> from course_utils import LivePlot, fast_mode, load_mnist   # no framework imported
>>> from course_utils.torch_training import fit                  # imports torch
>>> from course_utils.keras_callback import LivePlotCallback     # imports keras
"""

from __future__ import annotations

from course_utils.data import ImageData, load_cifar10, load_fashion_mnist, load_mnist
from course_utils.env import fast_mode, fast_or, in_notebook, quiet_tensorflow
from course_utils.live import LivePlot
from course_utils.repro import pick_device, seed_everything, set_cpu_threads
from course_utils.timing import PowerLaw, fit_power_law, plot_timing, time_function

__version__ = "0.1.0"

__all__ = [
    "ImageData",
    "LivePlot",
    "PowerLaw",
    "fast_mode",
    "fast_or",
    "fit_power_law",
    "in_notebook",
    "load_cifar10",
    "load_fashion_mnist",
    "load_mnist",
    "pick_device",
    "plot_timing",
    "quiet_tensorflow",
    "seed_everything",
    "set_cpu_threads",
    "time_function",
]
