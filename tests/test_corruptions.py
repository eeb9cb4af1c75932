"""Corruptions: identity at severity 0, monotone in severity, shapes/types/ranges kept, determinism, exact values."""
import numpy as np
import pytest
import torch

from reprobook.data import make_digits
from reprobook.corruptions import CORRUPTIONS, MAX_SEVERITY, SEVERITY_PARAMS, corrupt, corrupt_all


def images(n=6, c=1, h=16, w=16, seed=0):
    """Smooth-ish images in [0, 1] with some structure (so blur and pixelate change them)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, c, h // 4, w // 4, generator=g)
    return torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_severity_zero_is_identity_copy(name):
    x = images()
    y = corrupt(x, name, 0)
    assert torch.equal(x, y)
    y += 1  # a copy, not a view: the input stays untouched
    assert x.max() <= 1


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_damage_grows_with_severity_for_every_image(name):
    x = images(n=8, h=16, w=16)
    if name == "pixelate":  # block grids do not nest: judged on digits, not on grid-aligned noise
        x = make_digits(10, 10, 40, size=16, noise=0.0, seed=0).test.tensors[0]
    dist = torch.stack([(corrupt(x, name, s) - x).abs().flatten(1).mean(1) for s in range(MAX_SEVERITY + 1)])
    assert torch.all(dist[1:] > 0), f"{name}: some severity leaves an image unchanged"
    # Non-decreasing per image (ties allowed only where clipping saturates), strictly on the batch mean.
    # Pixelation is the exception: block grids of different sizes do not nest (a 16-pixel side splits
    # into blocks of 6 or 5 pixels differently), so only its mean damage is monotone (as in ImageNet-C).
    if name != "pixelate":
        assert torch.all(dist[1:] >= dist[:-1] - 1e-12), f"{name}: damage not monotone per image:\n{dist}"
    assert torch.all(dist.mean(1)[1:] > dist.mean(1)[:-1])


@pytest.mark.parametrize("name", CORRUPTIONS)
@pytest.mark.parametrize("shape", [(4, 1, 16, 16), (2, 3, 12, 20), (3, 8, 8), (10, 10)])
def test_shape_dtype_and_range_kept(name, shape):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(shape, generator=g, dtype=torch.float32)
    for s in (1, MAX_SEVERITY):
        y = corrupt(x, name, s)
        assert y.shape == x.shape and y.dtype == x.dtype
        assert y.min() >= 0 and y.max() <= 1


def test_numpy_in_numpy_out_same_values():
    x = images(n=3)
    for name in CORRUPTIONS:
        yn = corrupt(x.numpy(), name, 3, seed=4)
        assert isinstance(yn, np.ndarray) and yn.dtype == np.float32 and yn.shape == tuple(x.shape)
        np.testing.assert_array_equal(yn, corrupt(x, name, 3, seed=4).numpy())


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_deterministic_given_seed(name):
    x = images()
    a, b = corrupt(x, name, 4, seed=7), corrupt(x, name, 4, seed=7)
    assert torch.equal(a, b)
    random_family = name in ("gaussian_noise", "shot_noise", "impulse_noise", "occlusion")
    assert torch.equal(a, corrupt(x, name, 4, seed=8)) != random_family


def test_exact_values_on_tiny_inputs():
    x = torch.full((1, 1, 4, 4), 0.5)
    x[0, 0, 0, 0] = 0.9
    # brightness adds the level and clips
    assert torch.allclose(corrupt(x, "brightness", 5), (x + 0.5).clamp(0, 1))
    # contrast shrinks the deviation from the image mean by the factor
    m = x.mean()
    assert torch.allclose(corrupt(x, "contrast", 1), (x - m) * 0.4 + m)
    # pixelate at factor 0.5 on 4x4: 2x2 block means, blown back up
    y = corrupt(x, "pixelate", 2)
    assert torch.allclose(y[0, 0, :2, :2], torch.full((2, 2), (0.9 + 3 * 0.5) / 4))
    assert torch.allclose(y[0, 0, 2:, 2:], torch.full((2, 2), 0.5))
    # blurring a constant image changes nothing (reflected borders, normalised kernel)
    c = torch.full((2, 1, 8, 8), 0.3)
    assert torch.allclose(corrupt(c, "gaussian_blur", 5), c)
    # shot noise leaves black pixels black (the variance is proportional to the intensity)
    z = torch.zeros(1, 1, 5, 5)
    assert torch.equal(corrupt(z, "shot_noise", 5), z)


def test_noise_levels_match_the_table():
    x = torch.full((200, 1, 16, 16), 0.5, dtype=torch.float64)
    std = (corrupt(x, "gaussian_noise", 1) - x).std().item()
    assert abs(std - SEVERITY_PARAMS["gaussian_noise"][0]) < 0.005
    flipped = (corrupt(x, "impulse_noise", 5) != x).double().mean().item()
    assert abs(flipped - SEVERITY_PARAMS["impulse_noise"][4]) < 0.01


def test_occlusion_patch_is_grey_and_nested():
    x = torch.zeros(5, 1, 20, 20)
    masks = [(corrupt(x, "occlusion", s) == 0.5) for s in range(1, 6)]
    for a, b in zip(masks, masks[1:]):
        assert torch.all(b | ~a), "a stronger severity must cover the weaker one's patch"
    # the full patch (away from borders it is side x side) never exceeds the table's share
    assert masks[-1].flatten(1).sum(1).max() <= round(0.6 * 20) ** 2


def test_corrupt_all_keys():
    out = corrupt_all(images(n=2), names=("contrast", "pixelate"), severities=(1, 5))
    assert set(out) == {("contrast", 1), ("contrast", 5), ("pixelate", 1), ("pixelate", 5)}


@pytest.mark.parametrize("bad, match", [
    (dict(name="fog"), "unknown"), (dict(severity=6), "severity"), (dict(severity=-1), "severity"),
    (dict(severity=2.0), "severity"), (dict(severity=True), "severity"),
])
def test_bad_arguments_say_what_is_allowed(bad, match):
    kw = dict(name="contrast", severity=1) | bad
    with pytest.raises(ValueError, match=match):
        corrupt(images(n=1), kw["name"], kw["severity"])


def test_bad_images():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        corrupt(torch.full((1, 1, 4, 4), 2.0), "contrast", 1)
    with pytest.raises(TypeError, match="floating"):
        corrupt(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), "contrast", 1)
    with pytest.raises(TypeError, match="tensor or a numpy"):
        corrupt([[0.0]], "contrast", 1)
    with pytest.raises(ValueError, match="shape"):
        corrupt(torch.zeros(2, 2, 2, 4, 4), "contrast", 1)
