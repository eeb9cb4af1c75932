"""Figures of per-label maps: one row per (image, label) explained, one column per CAM method."""
from __future__ import annotations

from typing import Hashable, Mapping, Sequence

import torch


def pick_multilabel_rows(targets: Sequence[Sequence[int]], n_images: int = 2) -> list[tuple[int, int]]:
    """``(image, label slot)`` rows for the first ``n_images`` images with two or more labels (images with
    one label when there are none), every label of each."""
    sizes = [len(t) for t in targets]
    picks = ([i for i, s in enumerate(sizes) if s >= 2] or [i for i, s in enumerate(sizes) if s])[:n_images]
    return [(i, slot) for i in picks for slot in range(sizes[i])]


def plot_label_maps(images: torch.Tensor, masks: torch.Tensor, targets: Sequence[Sequence[int]],
                    maps: Mapping[Hashable, torch.Tensor], method_names: Mapping[Hashable, str],
                    class_names: Sequence[str] | None, title: str, n_images: int = 2):
    """A grid of normalised maps with the *other* labels' objects outlined in red.

    ``images`` is ``N x 3 x H x W`` (shown clipped to [0, 1]); ``masks`` is ``N x H x W`` with class ``c``
    stored as ``c + 1`` (0 = background); ``maps[key]`` is ``N x L x H x W`` (label slots as in ``targets``),
    one column per key in order, titled ``method_names[key]`` (a key may be a method or, say, a (model,
    method) pair). Without ``class_names`` rows are labelled by class index. Mass inside a red outline is
    what the multi-label papers call spilling onto other objects.
    """
    import matplotlib.pyplot as plt

    methods = list(maps)
    rows = pick_multilabel_rows(targets, n_images)
    if not rows:
        raise ValueError("no test image has a label to explain")
    fig, axes = plt.subplots(len(rows), len(methods) + 1, figsize=(1.9 * (len(methods) + 1), 1.9 * len(rows)),
                             squeeze=False)
    for r, (i, slot) in enumerate(rows):
        c = targets[i][slot]
        others = torch.zeros(masks.shape[-2:], dtype=torch.bool)
        for n in targets[i]:
            if n != c:
                others |= (masks[i] == n + 1)
        axes[r, 0].imshow(images[i].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
        axes[r, 0].set_ylabel(f"explain: {class_names[c] if class_names else c}", fontsize=8)
        for j, m in enumerate(methods):
            ax = axes[r, j + 1]
            ax.imshow(maps[m][i, slot].cpu().numpy(), cmap="jet", vmin=0, vmax=1)
            if others.any():
                ax.contour(others.cpu().numpy().astype(float), levels=[0.5], colors="red", linewidths=0.8)
            if r == 0:
                ax.set_title(method_names[m], fontsize=9)
        if r == 0:
            axes[r, 0].set_title("image", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[-1]:
        ax.set_xlabel("x (pixels)", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
