"""Product-space parameter attributions and pruning masks (reprobook.paramattr, chapter icpr2024-01)."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from reprobook import paramattr as pa


def tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


# --------------------------------------------------------------------------------------------- ball
def test_uniform_ball_stays_inside_and_fills_the_volume():
    g = torch.Generator().manual_seed(0)
    center = torch.tensor([1.0, -2.0])
    pts = pa.sample_ball(center, 40000, 0.5, generator=g)
    r = (pts - center).norm(dim=1)
    assert pts.shape == (40000, 2)
    assert float(r.max()) <= 0.5 + 1e-6
    # uniform in a disc: P(r < eps/2) = 1/4, and the mean offset is zero
    assert float((r < 0.25).float().mean()) == pytest.approx(0.25, abs=0.01)
    torch.testing.assert_close((pts - center).mean(0), torch.zeros(2), atol=0.01, rtol=0)


def test_orthant_sampler_moves_every_coordinate_up_with_uniform_radius():
    g = torch.Generator().manual_seed(1)
    center = torch.zeros(2, 3)
    pts = pa.sample_ball(center, 20000, 2.0, sampler="orthant", generator=g)
    assert pts.shape == (20000, 2, 3)
    assert bool((pts >= 0).all())
    r = pts.reshape(20000, -1).norm(dim=1)
    assert float(r.max()) <= 2.0 + 1e-6
    assert float((r < 1.0).float().mean()) == pytest.approx(0.5, abs=0.02)  # radius ~ U(0, eps)


def test_zero_radius_gives_the_center_and_a_generator_repeats():
    c = torch.randn(3, 2)
    torch.testing.assert_close(pa.sample_ball(c, 4, 0.0), c.expand(4, 3, 2))
    a = pa.sample_ball(c, 5, 1.0, generator=torch.Generator().manual_seed(7))
    b = pa.sample_ball(c, 5, 1.0, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    with pytest.raises(ValueError):
        pa.sample_ball(c, 2, 1.0, sampler="gaussian")


# ----------------------------------------------------------------------------------------- gradients
def loop_gradients(model, x, y, name, samples, target):
    """Reference: plain autograd, one (input, parameter sample) pair at a time."""
    out = torch.zeros(samples.shape[0], x.shape[0], *samples.shape[1:])
    for k, s in enumerate(samples):
        m = copy.deepcopy(model)
        with torch.no_grad():
            dict(m.named_parameters())[name].copy_(s)
        for i in range(x.shape[0]):
            m.zero_grad()
            logits = m(x[i:i + 1])
            val = F.cross_entropy(logits, y[i:i + 1]) if target == "loss" else logits[0, y[i]]
            val.backward()
            out[k, i] = dict(m.named_parameters())[name].grad
    return out


@pytest.mark.parametrize("target", ["loss", "logit"])
def test_vmapped_gradients_match_an_autograd_loop(target):
    model = tiny_model()
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    res = pa.product_space_gradients(model, x, y, eps=0.3, n_theta=3, target=target,
                                     generator=torch.Generator().manual_seed(3))
    assert set(res) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    for name, r in res.items():
        p = dict(model.named_parameters())[name].detach()
        assert r["grads"].shape == (3, 5, *p.shape)
        assert float(r["offsets"].reshape(3, -1).norm(dim=1).max()) <= 0.3 + 1e-6
        ref = loop_gradients(model, x, y, name, p + r["offsets"], target)
        torch.testing.assert_close(r["grads"], ref, atol=1e-5, rtol=1e-4)
        ref0 = loop_gradients(model, x, y, name, p[None], target)[0]
        torch.testing.assert_close(r["center_grads"], ref0, atol=1e-5, rtol=1e-4)


def test_tensor_scope_leaves_other_tensors_at_their_trained_values():
    """Perturbing only 2.bias cannot change dF/d(2.bias) for the logit target (it is constant 1 for the
    true class): every sampled gradient equals the gradient at the centre."""
    model = tiny_model()
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 0, 1])
    r = pa.product_space_gradients(model, x, y, eps=5.0, n_theta=4, names=["2.bias"], target="logit")["2.bias"]
    torch.testing.assert_close(r["grads"], r["center_grads"][None].expand_as(r["grads"]))
    torch.testing.assert_close(r["center_grads"], F.one_hot(y, 2).float())


def test_batch_mode_is_the_mean_of_point_mode_and_model_scope_with_zero_radius_is_the_center():
    model = tiny_model()
    x, y = torch.randn(6, 3), torch.tensor([0, 1, 1, 0, 1, 0])
    kw = dict(eps=0.5, n_theta=3, scope="model")
    point = pa.product_space_gradients(model, x, y, generator=torch.Generator().manual_seed(2), **kw)
    batch = pa.product_space_gradients(model, x, y, generator=torch.Generator().manual_seed(2),
                                       input_mode="batch", **kw)
    for name in point:
        torch.testing.assert_close(batch[name]["offsets"], point[name]["offsets"])  # same draws
        torch.testing.assert_close(batch[name]["grads"][:, 0], point[name]["grads"].mean(1), atol=1e-6, rtol=1e-5)
    zero = pa.product_space_gradients(model, x, y, eps=0.0, n_theta=2, scope="model")
    for r in zero.values():
        torch.testing.assert_close(r["grads"][0], r["center_grads"])


def test_linear_logit_measures_have_closed_forms():
    """For F = w_y . x + b_y the gradient w.r.t. row w_y is x whatever the parameters: IG is the mean of
    x over inputs of that class (times its share), the variance is that of the masked inputs, and every
    sample agrees in sign with the centre (Consistency 1 where the gradient is non-zero)."""
    model = nn.Linear(2, 1)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0], [-1.0, 4.0]])
    y = torch.zeros(3, dtype=torch.long)
    r = pa.product_space_gradients(model, x, y, eps=10.0, n_theta=5, names=["weight"], target="logit",
                                   generator=torch.Generator().manual_seed(0))["weight"]
    m = pa.measures(**r)
    torch.testing.assert_close(m["ig"], x.mean(0, keepdim=True))
    torch.testing.assert_close(m["gradvar"], x.var(0, unbiased=False, keepdim=True))
    # x[:, 1] has one zero: consistency (1 + 1 + 0) / 3 there, 1 elsewhere
    torch.testing.assert_close(m["consistency"], torch.tensor([[1.0, 2 / 3]]))


# ------------------------------------------------------------------------------------------ measures
def test_measures_exact_values():
    grads = torch.tensor([[[1.0], [-1.0]], [[3.0], [1.0]]])  # K=2, M=2, one parameter
    offsets = torch.tensor([[0.5], [-0.5]])  # theta' - theta
    center = torch.tensor([[2.0], [-4.0]])
    m = pa.measures(grads, offsets, center)
    assert m["ig"].item() == pytest.approx(1.0)
    assert m["gradvar"].item() == pytest.approx((1 + 1 + 9 + 1) / 4 - 1.0)
    # sign(theta - theta') * sign(g): k=0 -> -1 * (+1, -1) ; k=1 -> +1 * (+1, +1)
    assert m["stability"].item() == pytest.approx((-1 + 1 + 1 + 1) / 4)
    # sign(g0) * sign(g): m=0 -> (+1)(+1), (+1)(+1); m=1 -> (-1)(-1), (-1)(+1)
    assert m["consistency"].item() == pytest.approx((1 + 1 + 1 - 1) / 4)
    for v in (m["stability"], m["consistency"]):
        assert -1 <= v.item() <= 1


# ------------------------------------------------------------------------------------------- pruning
def test_prune_masks_drop_the_top_or_bottom_fraction_of_each_tensor():
    scores = {"a": torch.tensor([0.3, -1.0, 2.0, 0.5]), "b": torch.tensor([[1.0, 1.0], [0.0, 5.0]])}
    keep = pa.prune_masks(scores, 0.5)
    assert keep["a"].tolist() == [True, True, False, False]  # 2.0 and 0.5 go first
    assert keep["b"].tolist() == [[False, True], [True, False]]  # 5.0, then the first of the tied 1.0s
    low = pa.prune_masks(scores, 0.25, descending=False)
    assert low["a"].tolist() == [True, False, True, True]
    assert (~low["b"]).sum().item() == 1 and not low["b"][1, 0]
    assert all(m.all() for m in pa.prune_masks(scores, 0.0).values())
    assert not any(m.any() for m in pa.prune_masks(scores, 1.0).values())
    assert [pa.n_pruned(10, f) for f in (0.1, 0.25, 0.33, 0.95)] == [1, 3, 3, 10]
    with pytest.raises(ValueError):
        pa.n_pruned(10, 1.5)


def test_apply_masks_zeroes_only_masked_entries():
    params = {"w": torch.tensor([1.0, 2.0, 3.0]), "out": torch.tensor([4.0])}
    new = pa.apply_masks(params, {"w": torch.tensor([True, False, True])})
    assert new["w"].tolist() == [1.0, 0.0, 3.0]
    assert new["out"] is params["out"]
    assert params["w"].tolist() == [1.0, 2.0, 3.0]
