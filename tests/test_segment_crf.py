"""Dense-CRF refinement (the optional extra) and the CAM-to-probability step it starts from."""
import sys

import pytest
import torch

from reprobook.segment import (MissingExtra, cam_probabilities, crf_available, crf_pseudo_masks, dense_crf,
                               pseudo_masks)

needs_crf = pytest.mark.skipif(not crf_available(), reason='the crf extra is not installed: pip install "reprobook[crf]"')


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.7])
def test_cam_probabilities_argmax_is_the_pseudo_mask(threshold):
    g = torch.Generator().manual_seed(0)
    cams = torch.randn(4, 5, 6, 7, generator=g)
    labels = (torch.rand(4, 5, generator=g) < 0.5).float()
    labels[0] = 0  # an image with no label: all background
    probs = cam_probabilities(cams, labels, threshold, size=(12, 14))
    torch.testing.assert_close(probs.sum(1), torch.ones(4, 12, 14))
    assert torch.equal(probs.argmax(1), pseudo_masks(cams, labels, threshold, size=(12, 14)))
    assert (probs[:, 1:][~labels.bool()[:, :, None, None].expand(-1, -1, 12, 14)] <= 1e-5 / threshold).all()  # only the eps floor


def test_missing_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydensecrf", None)
    monkeypatch.setitem(sys.modules, "pydensecrf.densecrf", None)
    assert not crf_available()
    with pytest.raises(MissingExtra, match=r'pip install "reprobook\[crf\]"'):
        dense_crf(torch.rand(3, 4, 4), torch.full((2, 4, 4), 0.5))
    with pytest.raises(ImportError):  # MissingExtra is an ImportError, so `except ImportError` works too
        crf_pseudo_masks(torch.rand(1, 3, 4, 4), torch.rand(1, 2, 4, 4), None)


@needs_crf
def test_zero_iterations_return_the_input_probabilities():
    g = torch.Generator().manual_seed(1)
    probs = torch.softmax(torch.randn(3, 9, 11, generator=g), 0)
    out = dense_crf(torch.rand(3, 9, 11, generator=g), probs, iterations=0)
    torch.testing.assert_close(out, probs, atol=1e-5, rtol=1e-4)


@needs_crf
def test_crf_repairs_scattered_errors_inside_uniform_regions():
    # left half black, right half white; the unary is right at 0.65 except on a scattered 10% of pixels
    h, w = 24, 24
    image = torch.zeros(3, h, w)
    image[:, :, w // 2:] = 1.0
    truth = torch.zeros(h, w, dtype=torch.long)
    truth[:, w // 2:] = 1
    g = torch.Generator().manual_seed(2)
    wrong = torch.rand(h, w, generator=g) < 0.1
    p_right = torch.where(wrong, torch.tensor(0.35), torch.tensor(0.65))
    probs = torch.stack([torch.where(truth == 0, p_right, 1 - p_right), torch.where(truth == 1, p_right, 1 - p_right)])
    assert (probs.argmax(0) != truth).sum() == wrong.sum() > 20
    refined = dense_crf(image, probs, iterations=5)
    assert torch.equal(refined.argmax(0), truth)
    torch.testing.assert_close(refined.sum(0), torch.ones(h, w), atol=1e-5, rtol=0)


@needs_crf
def test_crf_pseudo_masks_without_steps_equal_plain_pseudo_masks():
    g = torch.Generator().manual_seed(3)
    images, cams = torch.rand(2, 3, 16, 16, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    labels = torch.tensor([[1.0, 0, 1], [0, 1, 0]])
    assert torch.equal(crf_pseudo_masks(images, cams, labels, 0.3, iterations=0),
                       pseudo_masks(cams, labels, 0.3, size=(16, 16)))


def test_bad_shapes_are_named():
    if not crf_available():
        pytest.skip("needs the crf extra")
    with pytest.raises(ValueError, match="probs must be K x H x W with H x W = 4 x 4"):
        dense_crf(torch.rand(3, 4, 4), torch.rand(2, 5, 4))
    with pytest.raises(ValueError, match="N = 2"):
        crf_pseudo_masks(torch.rand(1, 3, 4, 4), torch.rand(2, 2, 4, 4), None)
