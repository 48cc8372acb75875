"""A small ``fit`` for PyTorch, shaped like Keras' ``model.fit``, feeding the live plot."""

from __future__ import annotations

import time

import torch

from course_utils.history import HISTORY_COLUMNS, epoch_line
from course_utils.live import LivePlot


def evaluate(model: torch.nn.Module, loader, loss_fn=None, device: str | None = None):
    """Mean loss and accuracy of ``model`` over ``loader``.

    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> model = torch.nn.Linear(4, 3)
    >>> test_loader = DataLoader(TensorDataset(torch.zeros(10, 4), torch.zeros(10, dtype=torch.long)))
    >>> loss, acc = evaluate(model, test_loader)   # mean cross-entropy, fraction right
    >>> loss > 0, 0.0 <= acc <= 1.0
    (True, True)
    """
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss_sum += loss_fn(out, y).item() * len(y)
            correct += (out.argmax(dim=1) == y).sum().item()
            total += len(y)
    if total == 0:
        raise ValueError("The loader yielded no data.")
    return loss_sum / total, correct / total


def fit(
    model: torch.nn.Module,
    train_loader,
    val_loader=None,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn=None,
    epochs: int = 1,
    device: str | None = None,
    live: bool | LivePlot = True,
    verbose: bool = True,
):
    """Train ``model`` and return its history as a DataFrame (one row per epoch).

    Columns are those of :func:`course_utils.keras_callback.history_frame`:
    ``loss, accuracy, val_loss, val_accuracy, time_s``. With ``live=True`` the
    training loss and accuracy are plotted per batch, validation per epoch.

    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> x = torch.randn(64, 4); y = (x[:, 0] > 0).long()   # the class: is the first input > 0?
    >>> train_loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    >>> test_loader = DataLoader(TensorDataset(x, y), batch_size=64)
    >>> model = torch.nn.Linear(4, 2)
    >>> history = fit(model, train_loader, test_loader,  # doctest: +ELLIPSIS
    ...               optimizer=torch.optim.Adam(model.parameters(), lr=0.05), epochs=2)
    epoch 1/2 - loss ... - accuracy ... - val_loss ... - val_accuracy ... - ... s
    epoch 2/2 - loss ... - accuracy ... - val_loss ... - val_accuracy ... - ... s
    >>> history.columns.tolist()
    ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'time_s']
    >>> ax = history.plot(y=["accuracy", "val_accuracy"])
    """
    import pandas as pd

    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"fit() trains a PyTorch nn.Module, got {type(model).__name__}. "
            "For a Keras model use model.fit(..., callbacks=[LivePlotCallback()])."
        )
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters())
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    device = device or next(model.parameters()).device
    model.to(device)
    plot = live if isinstance(live, LivePlot) else (LivePlot(xlabel="epoch") if live else None)
    if plot is not None:
        plot.expect(epochs)  # a short run still shows several pictures while it trains
    steps = len(train_loader)
    rows = []
    for epoch in range(1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        seen, correct, loss_sum = 0, 0, 0.0
        for i, (x, y) in enumerate(train_loader):
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            n = len(y)
            loss_sum += loss.item() * n
            correct += (out.argmax(dim=1) == y).sum().item()
            seen += n
            if plot is not None:
                plot.update(step=epoch - 1 + (i + 1) / steps, loss=loss_sum / seen, accuracy=correct / seen)
        row = {"loss": loss_sum / seen, "accuracy": correct / seen}
        row["time_s"] = time.perf_counter() - t0
        if val_loader is not None:
            row["val_loss"], row["val_accuracy"] = evaluate(model, val_loader, loss_fn, device)
            if plot is not None:
                plot.update(step=epoch, val_loss=row["val_loss"], val_accuracy=row["val_accuracy"])
        rows.append(row)
        if verbose:
            print(epoch_line(epoch, epochs, row))
    if plot is not None:
        plot.finish()
    frame = pd.DataFrame(rows, index=pd.RangeIndex(1, epochs + 1, name="epoch"))
    return frame.reindex(columns=HISTORY_COLUMNS)
