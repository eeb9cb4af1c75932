"""Speed of all-label CAMs: reprobook.explain against the grad-cam package (pytorch-grad-cam).

The task: Grad-CAM and Score-CAM maps for *every* label of a batch of multi-label images (default: 32 images
of 224 px with 4 labels each) on a torchvision ResNet-18 with random weights (``weights=None``: nothing is
downloaded), target layer ``layer4``, one torch thread. The package explains one class per image per call,
so it is called once per label slot; our engine forwards once and takes every slot's gradient in one
batched backward that stops at ``layer4``; for Score-CAM one masked forward scores all labels of an image.
Both produce the same maps (checked to 1e-5 before the times are printed).

Score-CAM needs ``images x 512`` masked forwards, so it runs on the first ``--score-images`` images only
(default 2; 0 skips it).

    .venv/bin/python benchmarks/cam_speed.py                 # the default task
    .venv/bin/python benchmarks/cam_speed.py --batch 8 --size 112 --score-images 1   # a quick run
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # silence the package's Score-CAM progress bars

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from reprobook.explain import CamExplainer  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=32, help="images in the batch (default 32)")
    p.add_argument("--size", type=int, default=224, help="image height and width in pixels (default 224)")
    p.add_argument("--labels", type=int, default=4, help="labels per image (default 4)")
    p.add_argument("--classes", type=int, default=20, help="classifier outputs (default 20, as VOC)")
    p.add_argument("--score-images", type=int, default=2,
                   help="images for the Score-CAM comparison (default 2; 0 skips Score-CAM)")
    p.add_argument("--chunk", type=int, default=32, help="masked images per forward in Score-CAM (both engines)")
    p.add_argument("--repeats", type=int, default=1, help="timed repetitions, the best is reported (default 1)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for name in ("batch", "size", "labels", "classes", "chunk", "repeats", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.labels > args.classes:
        p.error(f"--labels ({args.labels}) cannot exceed --classes ({args.classes})")
    if args.size < 32:
        p.error(f"--size must be at least 32 (ResNet-18 downsamples by 32), got {args.size}")
    if not 0 <= args.score_images <= args.batch:
        p.error(f"--score-images must be between 0 and --batch ({args.batch}), got {args.score_images}")
    return args


def best_time(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def package_all_labels(cam, x, targets):
    """One call of the grad-cam package per label slot; returns (B, L, H, W)."""
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    slots = []
    for slot in range(targets.shape[1]):
        slots.append(cam(input_tensor=x, targets=[ClassifierOutputTarget(int(c)) for c in targets[:, slot]]))
    return np.stack(slots, axis=1)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from pytorch_grad_cam import GradCAM, ScoreCAM
    from torchvision.models import resnet18

    torch.manual_seed(args.seed)
    model = resnet18(weights=None, num_classes=args.classes).eval()
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randn(args.batch, 3, args.size, args.size, generator=gen)
    targets = torch.stack([torch.randperm(args.classes, generator=gen)[:args.labels] for _ in range(args.batch)])
    print(f"ResNet-18 (weights=None, {args.classes} classes), layer4; {args.batch} images of {args.size} px, "
          f"{args.labels} labels each; torch {torch.__version__}, {torch.get_num_threads()} thread(s)")

    rows = []
    ours = CamExplainer(model, "layer4")
    t_ours, res = best_time(lambda: ours(x, targets, "gradcam").maps, args.repeats)
    t_pkg, ref = best_time(lambda: package_all_labels(GradCAM(model=model, target_layers=[model.layer4]), x, targets),
                           args.repeats)
    diff = float(np.abs(res.numpy() - ref).max())
    rows.append(("Grad-CAM", args.batch, t_ours, t_pkg, diff))

    if args.score_images:
        xs, ts = x[:args.score_images], targets[:args.score_images]
        ours_sc = CamExplainer(model, "layer4", score_cam_weights="softmax", score_cam_align_corners=True,
                               score_cam_chunk=args.chunk)

        def package_score():
            cam = ScoreCAM(model=model, target_layers=[model.layer4])
            cam.batch_size = args.chunk
            return package_all_labels(cam, xs, ts)

        t_ours_sc, res_sc = best_time(lambda: ours_sc(xs, ts, "scorecam").maps, args.repeats)
        t_pkg_sc, ref_sc = best_time(package_score, args.repeats)
        rows.append(("Score-CAM", args.score_images, t_ours_sc, t_pkg_sc, float(np.abs(res_sc.numpy() - ref_sc).max())))

    print(f"\n{'method':<10} {'images':>6} {'ours [s]':>9} {'grad-cam [s]':>13} {'speed-up':>9} {'max |diff|':>11}")
    ok = True
    for name, n, a, b, d in rows:
        print(f"{name:<10} {n:>6} {a:>9.3f} {b:>13.3f} {b / a:>8.1f}x {d:>11.2e}")
        ok &= d <= 1e-5
    print("\nmaps equal to 1e-5:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
