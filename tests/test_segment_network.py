"""The segmentation-network stage of reprobook.segment: data checks, models, training and inference."""
import pytest
import torch

from reprobook.segment import (check_segmentation_data, evaluate_segmenter, make_segmenter, predict_masks,
                               train_segmenter)


def colour_task(n=48, size=16, seed=0):
    """Images whose mask is readable from one pixel's colour: class 1 where red > green, else 0; a band
    of 255 (ignore) along the top row."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 3, size, size, generator=g)
    masks = (images[:, 0] > images[:, 1]).long()
    masks[:, 0, :] = 255
    return images, masks


# ------------------------------------------------------------------------------------------ checks
@pytest.mark.parametrize("images, masks, match", [
    (torch.zeros(0, 3, 8, 8), torch.zeros(0, 8, 8, dtype=torch.long), "empty"),
    (torch.zeros(2, 3, 8, 8), torch.zeros(2, 8, 9, dtype=torch.long), r"8x8 \(H x W\) but masks are 8x9"),
    (torch.zeros(2, 3, 8, 8), torch.zeros(3, 8, 8, dtype=torch.long), "2 images but 3 masks"),
    (torch.zeros(2, 1, 8, 8), torch.zeros(2, 8, 8, dtype=torch.long), "3 colour channels"),
    (torch.zeros(2, 3, 8, 8), torch.full((2, 8, 8), 7), r"labels \[7\] outside 0..4"),
    (torch.zeros(2, 3, 8, 8), torch.full((2, 8, 8), -1), r"labels \[-1\]"),
])
def test_bad_data_is_named(images, masks, match):
    with pytest.raises(ValueError, match=match):
        check_segmentation_data(images, masks, 5)


def test_wrong_types_are_named():
    with pytest.raises(TypeError, match="float tensor N x 3 x H x W"):
        check_segmentation_data(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), None)
    with pytest.raises(TypeError, match="integer tensor of class indices"):
        check_segmentation_data(torch.zeros(2, 3, 8, 8), torch.zeros(2, 8, 8), 3)
    check_segmentation_data(torch.zeros(2, 3, 8, 8), torch.full((2, 8, 8), 255), 3)  # all-ignore is valid


# ------------------------------------------------------------------------------------------ models
@pytest.mark.parametrize("h, w", [(16, 16), (37, 45)])
def test_tiny_segmenter_predicts_at_input_resolution(h, w):
    net = make_segmenter("tiny", 4, width=8)
    out = net(torch.rand(2, 3, h, w))
    assert out.shape == (2, 4, h, w)
    assert net.features.shape == (2, 8, h, w)


def test_torchvision_segmenter_returns_logits_not_a_dict():
    net = make_segmenter("lraspp_mobilenet_v3_large", 3).eval()
    out = net(torch.rand(1, 3, 64, 64))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 3, 64, 64)


def test_unknown_arch_and_bad_sizes_are_named():
    with pytest.raises(ValueError, match="arch must be one of tiny, deeplabv3_resnet50"):
        make_segmenter("unet", 3)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        make_segmenter("tiny", 1)


# ------------------------------------------------------------------------------------------ training
def test_training_learns_a_colour_rule_and_repeats_exactly():
    torch.manual_seed(0)
    images, masks = colour_task()
    net = make_segmenter("tiny", 2, width=8)
    hist = train_segmenter(net, images, masks, epochs=12, batch_size=16, lr=1e-2, progress=False, seed=3)
    test_images, test_masks = colour_task(seed=1)
    before = evaluate_segmenter(make_segmenter("tiny", 2, width=8), test_images, test_masks, 2).miou()
    after = evaluate_segmenter(net, test_images, test_masks, 2)
    assert hist.train_loss[-1] < 0.5 * hist.train_loss[0]
    assert after.miou() > 0.8 > before
    torch.manual_seed(0)
    again = make_segmenter("tiny", 2, width=8)
    hist2 = train_segmenter(again, images, masks, epochs=12, batch_size=16, lr=1e-2, progress=False, seed=3)
    assert hist2.train_loss == hist.train_loss


def test_extra_loss_sees_batches_flipped_together():
    images, masks = colour_task(n=20)
    aux = masks.float()  # a spatial extra input: it must flip with the masks
    calls = []

    def extra(logits, x, y, a):
        assert torch.equal(a.long(), y) and logits.shape[2:] == y.shape[1:]
        assert torch.equal((x[:, 0] > x[:, 1]).long()[:, 1:], y[:, 1:])
        calls.append(len(y))
        return logits.sum() * 0

    train_segmenter(make_segmenter("tiny", 2, width=8), images, masks, epochs=3, batch_size=8, extra_loss=extra,
                    aux=aux, progress=False)
    assert sum(calls) == 3 * 16  # the last partial batch is dropped


def test_labels_beyond_the_model_are_named():
    images, masks = colour_task(n=4)
    masks[0, 1, 1] = 5
    with pytest.raises(ValueError, match="label 5 but the model predicts only 2 classes"):
        train_segmenter(make_segmenter("tiny", 2, width=8), images, masks, epochs=1, progress=False)


def test_predict_masks_restores_training_mode():
    net = make_segmenter("tiny", 3, width=8)
    out = predict_masks(net, torch.rand(5, 3, 12, 12), batch_size=2)
    assert out.shape == (5, 12, 12) and out.dtype == torch.int64 and net.training
