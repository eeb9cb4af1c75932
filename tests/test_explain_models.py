"""The shared CAM classifier of the smoke profiles."""
import pytest
import torch

from reprobook.explain import CamExplainer, SceneCNN


def test_scene_cnn_shapes_and_output_stride_4():
    net = SceneCNN(5, width=4).eval()
    x = torch.rand(2, 3, 32, 40)
    assert net.feature_map(x).shape == (2, 16, 8, 10)
    assert net(x).shape == (2, 5)


def test_cam_of_scene_cnn_is_the_head_weighted_feature_sum():
    torch.manual_seed(0)
    net = SceneCNN(3, width=4).eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        A = net.feature_map(x)
        logits = net(x)
    manual = torch.einsum("k,nkhw->nhw", net.fc.weight[1], A)
    torch.testing.assert_close(logits[:, 1], manual.mean((1, 2)) + net.fc.bias[1])
    res = CamExplainer(net, "features")(x, torch.tensor([1, 1]), method="cam")
    raw = res.raw[:, 0] if res.raw.dim() == 4 else res.raw
    torch.testing.assert_close(raw, manual)  # raw = signed, before the ReLU


@pytest.mark.parametrize("kwargs", [dict(num_classes=0), dict(num_classes=3, width=2.5)])
def test_bad_sizes_are_named(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer"):
        SceneCNN(**kwargs)
