"""One training loop for the book: progress bar, AMP on CUDA, checkpoint and resume, metric history.

Chapters with an unusual loop (adversarial, federated, contrastive) write their own step function and pass
it as ``step``; everything else (device moves, progress, checkpoints, history) stays here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

PROGRESS_ENV = "REPROBOOK_PROGRESS"


def progress_enabled(progress: bool | None) -> bool:
    """Progress bars are on by default and off inside runner-executed kernels (the runner shows its own)."""
    if progress is not None:
        return progress
    return os.environ.get(PROGRESS_ENV, "1") != "0"


@dataclass
class History:
    """Per-epoch metrics: ``history.train_loss[e]``, ``history.val["accuracy"][e]``, ..."""

    train_loss: list[float] = field(default_factory=list)
    val: dict[str, list[float]] = field(default_factory=dict)

    def add_val(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.val.setdefault(k, []).append(float(v))

    def state_dict(self):
        return {"train_loss": self.train_loss, "val": self.val}

    @classmethod
    def from_state(cls, state):
        return cls(list(state["train_loss"]), {k: list(v) for k, v in state["val"].items()})


def _to(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return batch


def _loader_generator_state(loader):
    """The shuffling generator's state, so that a resumed run sees the same batches as an unbroken one."""
    generator = getattr(loader, "generator", None)
    return generator.get_state() if isinstance(generator, torch.Generator) else None


def supervised_step(model: nn.Module, batch, loss_fn: Callable = F.cross_entropy) -> torch.Tensor:
    """The default step: ``batch = (inputs, targets)``, returns the loss."""
    inputs, targets = batch
    return loss_fn(model(inputs), targets)


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Model outputs and targets over a loader, concatenated on the CPU; the model's mode is restored."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs, targets = [], []
    try:
        for inputs, target in loader:
            outputs.append(model(inputs.to(device)).float().cpu())
            targets.append(target)
    finally:
        model.train(was_training)
    return torch.cat(outputs), torch.cat(targets)


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == targets).float().mean())


def fit(model: nn.Module, loader: Iterable, *, epochs: int, optimizer: torch.optim.Optimizer,
        scheduler=None, scheduler_interval: str = "epoch", device: torch.device | str = "cpu", step: Callable = supervised_step,
        val_loader: Iterable | None = None, evaluate: Callable | None = None,
        checkpoint: str | Path | None = None, amp: bool = True, progress: bool | None = None,
        desc: str = "train", history: History | None = None) -> History:
    """Train ``model`` for ``epochs`` epochs and return its :class:`History`.

    - ``scheduler`` is stepped once per epoch, or once per batch with ``scheduler_interval="step"`` (for
      schedules such as a cosine decay within a short run).
    - ``evaluate(model) -> dict`` (default: accuracy on ``val_loader``) runs after each epoch.
    - ``checkpoint``: a file written after each epoch; if it exists when ``fit`` starts, training resumes
      from it (model, optimiser, scheduler, history, random states), so a killed full run loses at most
      one epoch and continues exactly as if it had not been stopped.
    - ``amp``: bfloat16 autocast on CUDA (no loss scaler needed); ignored on the CPU, where the smoke runs
      must stay bit-reproducible.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
    device = torch.device(device)
    model.to(device)
    history = history or History()
    first_epoch = 0
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        history = History.from_state(state["history"])
        first_epoch = state["epoch"] + 1
        torch.set_rng_state(state["rng"])
        if state.get("loader_rng") is not None:
            loader.generator.set_state(state["loader_rng"])
    if evaluate is None and val_loader is not None:
        def evaluate(m):
            return {"accuracy": accuracy(*predict(m, val_loader, device))}

    use_amp = amp and device.type == "cuda"
    bar = None
    if progress_enabled(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, initial=first_epoch, desc=desc, leave=False)
    for epoch in range(first_epoch, epochs):
        model.train()
        total, count = torch.zeros((), device=device), 0  # summed on the device: no sync per batch
        for batch in loader:
            batch = _to(batch, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = step(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None and scheduler_interval == "step":
                scheduler.step()
            total += loss.detach().float()
            count += 1
        history.train_loss.append(float(total) / max(count, 1))
        if scheduler is not None and scheduler_interval == "epoch":
            scheduler.step()
        if evaluate is not None:
            history.add_val(evaluate(model))
        if ckpt is not None:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler is not None else None,
                        "history": history.state_dict(), "epoch": epoch, "rng": torch.get_rng_state(),
                        "loader_rng": _loader_generator_state(loader)}, ckpt)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
    if bar is not None:
        bar.close()
    return history
