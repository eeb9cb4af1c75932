"""The shared training loop: it learns, it is deterministic, and resuming equals not stopping."""
import torch
from torch.utils.data import DataLoader, TensorDataset

from reprobook import runtime
from reprobook.train import accuracy, fit, predict


def problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(1))


def train(epochs, checkpoint=None, stop_after=None):
    runtime.seed_everything(0)
    loader = problem()
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 2)
    hist = fit(model, loader, epochs=stop_after or epochs, optimizer=opt, scheduler=sched, val_loader=loader,
               checkpoint=checkpoint, progress=False)
    return model, hist, loader


def test_fit_learns_and_records_history():
    model, hist, loader = train(6)
    assert len(hist.train_loss) == 6 and hist.train_loss[-1] < hist.train_loss[0]
    assert hist.val["accuracy"][-1] > 0.9
    assert accuracy(*predict(model, loader)) == hist.val["accuracy"][-1]
    assert model.training  # predict restored the mode


def test_fit_is_deterministic():
    assert train(3)[1].train_loss == train(3)[1].train_loss


def test_resume_from_checkpoint_equals_an_uninterrupted_run(tmp_path):
    ckpt = tmp_path / "ckpt.pt"
    full_model, full_hist, _ = train(4)
    train(4, checkpoint=ckpt, stop_after=2)  # "killed" after two epochs
    resumed_model, resumed_hist, _ = train(4, checkpoint=ckpt)
    assert resumed_hist.train_loss == full_hist.train_loss
    for a, b in zip(full_model.parameters(), resumed_model.parameters()):
        assert torch.equal(a, b)


def test_scheduler_steps_per_epoch_or_per_batch():
    for interval, expected_steps in (("epoch", 2), ("step", 2 * 8)):  # 256 samples / 32 = 8 batches
        model = torch.nn.Linear(4, 2)
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 ** k)
        fit(model, problem(), epochs=2, optimizer=opt, scheduler=sched, scheduler_interval=interval, progress=False)
        assert sched.last_epoch == expected_steps
        assert opt.param_groups[0]["lr"] == 0.5 ** expected_steps
