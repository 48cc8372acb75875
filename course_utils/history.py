"""What both training helpers share: history columns and the per-epoch line they print."""

from __future__ import annotations

HISTORY_COLUMNS = ["loss", "accuracy", "val_loss", "val_accuracy", "time_s"]


def epoch_line(epoch: int, epochs: int, row: dict) -> str:
    """One line per epoch, the same for PyTorch and Keras.

    >>> epoch_line(1, 2, {"loss": 0.5, "accuracy": 0.9, "time_s": 1.2})
    'epoch 1/2 - loss 0.5000 - accuracy 0.9000 - 1.2 s'
    """
    parts = [f"epoch {epoch}/{epochs}"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        if key in row:
            parts.append(f"{key} {row[key]:.4f}")
    if "time_s" in row:
        parts.append(f"{row['time_s']:.1f} s")
    return " - ".join(parts)
