"""Framework-neutral access to a model: which framework, predictions, weights, activations.

The visualisation functions accept a PyTorch ``nn.Module`` or a Keras model; this module
is the only place that tells them apart. It never imports a framework that the caller has
not imported already.
"""

from __future__ import annotations

import sys

import numpy as np


def framework_of(model) -> str:
    """``"torch"`` or ``"keras"``; a clear TypeError for anything else.

    >>> import torch; framework_of(torch.nn.Linear(2, 2))
    'torch'
    """
    keras = sys.modules.get("keras")  # first: on Keras's PyTorch backend a layer is an nn.Module too
    if keras is not None and isinstance(model, (keras.Model, keras.layers.Layer)):
        return "keras"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    raise TypeError(
        f"Expected a PyTorch nn.Module or a Keras model/layer, got {type(model).__name__}. "
        "Pass the model object itself (not its weights, history or a path)."
    )


def _named_layer(model, layer):
    """Resolve a layer given by name, index or object."""
    kind = framework_of(model)
    if kind == "torch":
        if isinstance(layer, str):
            modules = dict(model.named_modules())
            if layer not in modules:
                names = [n for n in modules if n]
                raise ValueError(f"No layer named {layer!r}. This model has: {names}.")
            return modules[layer]
        if isinstance(layer, int):
            children = [m for m in model.modules() if not list(m.children())]
            return children[layer]
        return layer
    if isinstance(layer, str):
        try:
            return model.get_layer(layer)
        except ValueError:
            names = [lyr.name for lyr in model.layers]
            raise ValueError(f"No layer named {layer!r}. This model has: {names}.") from None
    if isinstance(layer, int):
        return model.layers[layer]
    return layer


def conv_weights(model, layer=None) -> np.ndarray:
    """Kernel of a 2-D convolution as numpy, shape ``(out, in, kh, kw)`` in both frameworks.

    ``layer`` is a name, an index or the layer itself; ``None`` takes the first conv layer.

    >>> import torch; conv_weights(torch.nn.Conv2d(3, 6, 5)).shape
    (6, 3, 5, 5)
    """
    kind = framework_of(model)
    if layer is None:
        layer = _first_conv(model, kind)
    else:
        layer = _named_layer(model, layer)
    if kind == "torch":
        weight = getattr(layer, "weight", None)
        if weight is None or weight.ndim != 4:
            raise ValueError(f"{type(layer).__name__} is not a 2-D convolution (no 4-D weight).")
        return weight.detach().cpu().numpy()
    kernel = getattr(layer, "kernel", None)
    if kernel is None or len(kernel.shape) != 4:
        raise ValueError(f"Layer {layer.name!r} is not a 2-D convolution (no 4-D kernel).")
    import keras  # convert_to_numpy: also a kernel on the GPU of Keras's PyTorch backend

    kernel = keras.ops.convert_to_numpy(kernel)
    return np.transpose(kernel, (3, 2, 0, 1))  # (kh, kw, in, out) -> (out, in, kh, kw)


def _first_conv(model, kind):
    if kind == "torch":
        import torch

        if isinstance(model, torch.nn.Conv2d):
            return model
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                return module
    else:
        import keras

        if isinstance(model, keras.layers.Conv2D):
            return model
        for lyr in getattr(model, "layers", []):
            if isinstance(lyr, keras.layers.Conv2D):
                return lyr
    raise ValueError("This model has no 2-D convolution layer; pass layer= explicitly.")


def predict_proba(model, images, batch_size: int = 500) -> np.ndarray:
    """Class probabilities (softmax of the outputs) for a batch of images, as numpy.

    ``images`` are in the model's own layout (NCHW tensors/arrays for PyTorch, NHWC
    for Keras). Outputs that already sum to 1 are not passed through softmax again.

    >>> import torch; model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 10))
    >>> probs = predict_proba(model, np.zeros((3, 1, 2, 2))); probs.shape
    (3, 10)
    >>> probs.sum(axis=1).round(4).tolist()
    [1.0, 1.0, 1.0]
    """
    kind = framework_of(model)
    if kind == "torch":
        import torch

        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        outputs = []
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(images, dtype=np.float32))
            for start in range(0, len(x), batch_size):
                outputs.append(model(x[start : start + batch_size].to(device)).cpu().numpy())
        model.train(was_training)
        logits = np.concatenate(outputs)
    else:
        logits = np.asarray(model.predict(np.asarray(images), batch_size=batch_size, verbose=0))
    if np.all(logits >= 0) and np.allclose(logits.sum(axis=1), 1.0, atol=1e-4):
        return logits
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def activations(model, layer, images) -> np.ndarray:
    """Output of ``layer`` for ``images``, as numpy in ``(N, C, H, W)`` for both frameworks.

    PyTorch: a forward hook; Keras: a sub-model ending at the layer.

    >>> import collections, torch
    >>> model = torch.nn.Sequential(collections.OrderedDict(
    ...     conv1=torch.nn.Conv2d(1, 16, 5, padding=2), relu=torch.nn.ReLU(), pool=torch.nn.MaxPool2d(2)))
    >>> activations(model, "conv1", np.zeros((9, 1, 28, 28))).shape
    (9, 16, 28, 28)
    >>> activations(model, "pool", np.zeros((9, 1, 28, 28))).shape
    (9, 16, 14, 14)
    """
    kind = framework_of(model)
    target = _named_layer(model, layer)
    if kind == "torch":
        import torch

        captured = {}

        def hook(_module, _inputs, output):
            captured["out"] = output.detach().cpu()

        handle = target.register_forward_hook(hook)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                device = next(model.parameters()).device
                model(torch.as_tensor(np.asarray(images, dtype=np.float32)).to(device))
        finally:
            handle.remove()
            model.train(was_training)
        out = captured["out"].numpy()
        return out
    import keras

    sub = keras.Model(inputs=model.inputs, outputs=target.output)
    out = np.asarray(sub.predict(np.asarray(images), verbose=0))
    if out.ndim == 4:
        out = np.transpose(out, (0, 3, 1, 2))
    return out
