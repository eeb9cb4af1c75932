"""Time-series augmentation ops: shapes, identity at zero strength, exact values on tiny inputs."""
import numpy as np
import pytest
import torch

from reprobook import tsaug


def series(B=3, C=2, T=7, seed=0):
    return torch.randn(B, C, T, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_interp1d_matches_numpy_interp():
    x = series()
    g = torch.Generator().manual_seed(1)
    pos = torch.rand(3, 11, generator=g, dtype=torch.float64) * 9 - 1  # includes out-of-range positions
    out = tsaug.interp1d(x, pos)
    assert out.shape == (3, 2, 11)
    for b in range(3):
        for c in range(2):
            ref = np.interp(pos[b].numpy(), np.arange(7), x[b, c].numpy())
            np.testing.assert_allclose(out[b, c].numpy(), ref, rtol=0, atol=1e-12)


def test_interp1d_exact_tiny():
    x = torch.tensor([[[0.0, 10.0, 20.0]]])
    out = tsaug.interp1d(x, torch.tensor([[0.0, 0.5, 1.25, 2.0, 5.0, -1.0]]))
    assert out.tolist() == [[[0.0, 5.0, 12.5, 20.0, 20.0, 0.0]]]


def test_amplitude_and_noise_exact():
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    assert tsaug.amplitude(x, torch.tensor([[2.0, -1.0]]), torch.tensor([[0.5, 0.0]])).tolist() == \
        [[[2.5, 4.5], [-3.0, -4.0]]]
    assert tsaug.amplitude(x, 3.0).tolist() == [[[3.0, 6.0], [9.0, 12.0]]]
    noise = torch.tensor([[[1.0, -1.0], [0.0, 2.0]]])
    assert tsaug.add_noise(x, 0.5, noise).tolist() == [[[1.5, 1.5], [3.0, 5.0]]]


def test_time_scale_exact_and_identity():
    x = torch.tensor([[[0.0, 1.0, 2.0, 3.0, 4.0]]])
    # factor 2 about the centre (index 2): output t reads 2 + (t - 2) / 2
    assert tsaug.time_scale(x, 2.0).tolist() == [[[1.0, 1.5, 2.0, 2.5, 3.0]]]
    # factor 0.5: reads 2 + 2 (t - 2), clamped at the borders
    assert tsaug.time_scale(x, 0.5).tolist() == [[[0.0, 0.0, 2.0, 4.0, 4.0]]]
    y = series()
    assert torch.equal(tsaug.time_scale(y, 1.0), y)


def test_window_slice_exact():
    x = torch.tensor([[[0.0, 1.0, 2.0, 3.0, 4.0]]])
    # keep the second half [0.5, 1.0] of the span = positions 2..4, stretched over 5 steps
    assert tsaug.slice_window(x, 0.5, 0.5).tolist() == [[[2.0, 2.5, 3.0, 3.5, 4.0]]]
    y = series()
    torch.testing.assert_close(tsaug.slice_window(y, 0.0, 1.0), y, rtol=0, atol=1e-12)


def test_knot_curve_and_magnitude_warp_exact():
    curve = tsaug.knot_curve(torch.tensor([[1.0, 3.0]]), 5)
    assert curve.tolist() == [[1.0, 1.5, 2.0, 2.5, 3.0]]
    x = torch.ones(1, 2, 5)
    out = tsaug.warp_magnitude(x, torch.tensor([[1.0, 3.0]]))
    assert out.tolist() == [[[1.0, 1.5, 2.0, 2.5, 3.0], [1.0, 1.5, 2.0, 2.5, 3.0]]]


def test_warp_time_identity_and_exact():
    y = series()
    torch.testing.assert_close(tsaug.warp_time(y, torch.full((3, 4), 2.5, dtype=torch.float64)), y,
                               rtol=0, atol=1e-12)
    # knots 1 and 3 over T = 3 steps give speeds v = [1, 2, 3]; trapezoid steps [1.5, 2.5];
    # clock [0, 1.5, 4] rescaled to [0, 0.75, 2]; x read there is [0, 3, 8]
    x = torch.tensor([[[0.0, 4.0, 8.0]]])
    out = tsaug.warp_time(x, torch.tensor([[1.0, 3.0]]))
    torch.testing.assert_close(out, torch.tensor([[[0.0, 3.0, 8.0]]]))


@pytest.mark.parametrize("op", [tsaug.jitter, tsaug.scaling, tsaug.magnitude_warp, tsaug.time_warp,
                                tsaug.window_slice])
def test_random_ops_shape_identity_and_determinism(op):
    x = series(B=4, C=3, T=16)
    assert op(x, 0.0) is x  # zero strength is the identity
    a = op(x, 0.3, generator=torch.Generator().manual_seed(5))
    b = op(x, 0.3, generator=torch.Generator().manual_seed(5))
    c = op(x, 0.3, generator=torch.Generator().manual_seed(6))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.allclose(a, x)
    with pytest.raises(ValueError):
        op(x, -0.1)


def test_scaling_factor_distribution():
    x = torch.ones(2000, 1, 3, dtype=torch.float64)
    f = tsaug.scaling(x, 0.2, generator=torch.Generator().manual_seed(0))[:, 0, 0]
    assert abs(float(f.mean()) - 1) < 0.02 and abs(float(f.std()) - 0.2) < 0.02
    assert torch.equal(f, tsaug.scaling(x, 0.2, generator=torch.Generator().manual_seed(0))[:, 0, 1])


def test_kernels_are_differentiable_in_their_parameters():
    x = series(B=2, C=2, T=9)
    factor = torch.tensor([1.3, 0.8], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: tsaug.time_scale(x, f), (factor,))
    scale = torch.tensor([[1.2, 0.7], [0.9, 1.1]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s: tsaug.amplitude(x, s, 0.1), (scale,))
    speeds = torch.tensor([[1.0, 1.5, 0.7], [0.9, 1.2, 1.1]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: tsaug.warp_time(x, v), (speeds,))


def test_sliced_wasserstein_exact_and_invariances():
    dirs = torch.tensor([[1.0], [0.0]])  # project on channel 0
    a = torch.tensor([[[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]]])
    b = torch.tensor([[[3.0, 1.0, 2.0], [0.0, 0.0, 0.0]]])  # sorted channel 0: [1, 2, 3] vs [0, 1, 2]
    assert tsaug.sliced_wasserstein(a, b, dirs).tolist() == [1.0]
    # invariant to permuting time steps (it compares distributions), zero on identical clouds
    perm = torch.tensor([2, 0, 1])
    x = series(B=2, C=3, T=3)
    d = torch.nn.functional.normalize(torch.randn(3, 5, dtype=torch.float64), dim=0)
    torch.testing.assert_close(tsaug.sliced_wasserstein(x, x[:, :, perm], d), torch.zeros(2, dtype=torch.float64))
    assert float(tsaug.sliced_wasserstein(x, x + 1.0, d).min()) > 0


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        tsaug.jitter(torch.zeros(3, 4), 0.1)
    with pytest.raises(ValueError):
        tsaug.knot_curve(torch.ones(2, 1), 5)
    with pytest.raises(ValueError):
        tsaug.window_slice(series(), 1.0)
