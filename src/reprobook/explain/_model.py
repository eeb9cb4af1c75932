"""Model plumbing shared by the CAM engine and the explanation metrics.

- :func:`resolve_layer`: a target layer given by name (``"layer4"``, ``"features.7"``) or as a module,
  with a clear error that lists close names when the name does not exist.
- :func:`inference_state`: eval mode and frozen parameters while explaining; the training flag of every
  module and the ``requires_grad`` flag of every parameter are put back afterwards, also on error.
- :class:`ActivationTap`: a forward hook that keeps the target layer's output as a fresh leaf tensor, so
  that gradients are taken only from the outputs down to that layer (nothing is recorded before it).
"""
from __future__ import annotations

import difflib
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU for a model that has neither)."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device
    return torch.device("cpu")


def resolve_layer(model: nn.Module, layer: str | nn.Module, *, what: str = "target layer") -> tuple[str, nn.Module]:
    """Return ``(name, module)`` for ``layer``, a dotted name from ``model.named_modules()`` or a module."""
    named = dict(model.named_modules())
    if isinstance(layer, nn.Module):
        for name, module in named.items():
            if module is layer:
                return name, module
        raise ValueError(f"the {what} {type(layer).__name__} is not a submodule of the model")
    if not isinstance(layer, str):
        raise TypeError(f"the {what} must be a module name (str) or an nn.Module, got {type(layer).__name__}")
    if layer not in named or layer == "":
        close = difflib.get_close_matches(layer, [n for n in named if n], n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        some = ", ".join(repr(n) for n in list(named)[1:9])
        raise ValueError(f"the model has no {what} named {layer!r}{hint} (module names look like {some}, ...)")
    return layer, named[layer]


def last_conv(model: nn.Module) -> tuple[str, nn.Module]:
    """The last ``nn.Conv2d`` in registration order: the classical CAM layer of a plain CNN."""
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("the model has no nn.Conv2d layer, but CAM methods need a convolutional feature map; "
                         "pass target_layer=<name of a layer that outputs (batch, channels, h, w)>")
    return convs[-1]


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The first ``nn.Conv2d`` in registration order (used to check the number of image channels)."""
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def last_linear(model: nn.Module) -> tuple[str, nn.Linear] | None:
    """The last ``nn.Linear`` in registration order, the usual classifier head."""
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


@contextmanager
def inference_state(model: nn.Module) -> Iterator[None]:
    """Eval mode and ``requires_grad=False`` on all parameters inside the block; both restored after.

    Freezing the parameters means the forward pass records no graph for them: gradients with respect to
    a layer's activations then cost only the part of the network after that layer.
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for m, training in modes:
            m.training = training
        for p, flag in flags:
            p.requires_grad_(flag)


class ActivationTap:
    """Forward hook on one layer: keeps its output ``A`` as a leaf tensor (``requires_grad`` when asked).

    The hook hands the rest of the network a clone of that leaf, so gradients flow back to ``A`` and stop
    there, and an in-place operation after the layer (``ReLU(inplace=True)``) cannot touch the leaf.
    Use as a context manager; the hook is removed on exit, also on error.
    """

    def __init__(self, layer: nn.Module, name: str, *, requires_grad: bool) -> None:
        self.layer, self.name, self.requires_grad = layer, name, requires_grad
        self.activation: torch.Tensor | None = None
        self._handle = None

    def _hook(self, module: nn.Module, inputs, output):
        if self.activation is not None:
            raise ValueError(f"the target layer {self.name!r} runs more than once in one forward pass; "
                             "choose a layer that is used once")
        if not isinstance(output, torch.Tensor) or output.dim() != 4:
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            raise ValueError(f"the target layer {self.name!r} outputs {shape}, but CAM methods need a "
                             "convolutional feature map of shape (batch, channels, h, w)")
        leaf = output.detach().requires_grad_(self.requires_grad)
        self.activation = leaf
        return leaf.clone() if self.requires_grad else leaf

    def __enter__(self) -> "ActivationTap":
        self._handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
