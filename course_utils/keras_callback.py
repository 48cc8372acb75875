"""A Keras callback feeding :class:`~course_utils.live.LivePlot`, and Keras history as a DataFrame."""

from __future__ import annotations

import time

import keras

from course_utils.history import HISTORY_COLUMNS, epoch_line
from course_utils.live import LivePlot


class LivePlotCallback(keras.callbacks.Callback):
    """Plot Keras training live: per batch (``per_batch=True``) and per epoch.

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(64, 4)); y = (x[:, 0] > 0).astype(int)
    >>> callback = LivePlotCallback()
    >>> _ = model.fit(x, y, epochs=2, validation_split=0.25,  # doctest: +ELLIPSIS
    ...               callbacks=[callback], verbose=0)
    epoch 1/2 - loss ... - accuracy ... - val_loss ... - val_accuracy ... - ... s
    epoch 2/2 - loss ... - accuracy ... - val_loss ... - val_accuracy ... - ... s
    >>> callback.history.columns.tolist()
    ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'time_s']
    """

    def __init__(self, live: LivePlot | None = None, per_batch: bool = True, verbose: bool = True) -> None:
        super().__init__()
        self.live = live if live is not None else LivePlot(xlabel="epoch")
        self.per_batch = per_batch
        self.verbose = verbose
        self._rows: list[dict] = []
        self._epoch = 0
        self._t0 = 0.0

    def on_train_begin(self, logs=None):
        epochs = (self.params or {}).get("epochs")
        if epochs:
            self.live.expect(epochs)  # a short run still shows several pictures while it trains

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self.per_batch or not logs:
            return
        steps = (self.params or {}).get("steps") or 1
        step = self._epoch + (batch + 1) / steps
        self.live.update({k: v for k, v in logs.items() if not k.startswith("val_")}, step=step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        row = {k: float(v) for k, v in logs.items() if _is_number(v)}
        row["time_s"] = time.perf_counter() - self._t0
        self._rows.append(row)
        if self.verbose:  # one line per epoch, as course_utils.torch_training.fit prints
            epochs = (self.params or {}).get("epochs") or epoch + 1
            print(epoch_line(epoch + 1, epochs, row))
        # per batch, the training metrics are plotted already: add the validation ones
        wanted = (lambda k: k.startswith("val_")) if self.per_batch else (lambda k: k != "time_s")
        shown = {k: v for k, v in row.items() if wanted(k)}
        if shown:
            self.live.update(shown, step=epoch + 1)

    def on_train_end(self, logs=None):
        self.live.finish()

    @property
    def history(self):
        """Epoch-level history as a DataFrame, like :func:`course_utils.torch_training.fit`."""
        import pandas as pd

        frame = pd.DataFrame(self._rows, index=pd.RangeIndex(1, len(self._rows) + 1, name="epoch"))
        return _order(frame)


def history_frame(history) -> pd.DataFrame:  # noqa: F821
    """A Keras ``History`` (from ``model.fit``) as a DataFrame indexed by epoch.

    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile("sgd", "mse")
    >>> history = model.fit(np.zeros((8, 4)), np.zeros(8), epochs=3, verbose=0)
    >>> frame = history_frame(history); frame.index.tolist(), frame.columns.tolist()
    ([1, 2, 3], ['loss'])
    >>> ax = frame.plot(y="loss")
    """
    import pandas as pd

    data = getattr(history, "history", history)
    if not isinstance(data, dict):
        raise TypeError(f"Expected the History returned by model.fit, got {type(history).__name__}.")
    frame = pd.DataFrame(data)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
    return _order(frame)


def _order(frame):
    known = [c for c in HISTORY_COLUMNS if c in frame.columns]
    return frame[known + [c for c in frame.columns if c not in known]]


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
