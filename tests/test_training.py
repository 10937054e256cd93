"""The shared training loop: optimisation, schedule, accumulation, clipping, checkpoints,
exact resume (after an exception and after SIGKILL), logs, and two-process DDP."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from neurokit.errors import InvalidParameterError
from neurokit.training import checkpoint as ckpt
from neurokit.training.logger import read_metrics
from neurokit.training.loop import TrainConfig, Trainer
from neurokit.training.sampling import ShuffledBatchSampler, default_sampler_factory, rank_slice
from neurokit.training.schedule import warmup_cosine, warmup_cosine_scheduler
from neurokit.training.selftest import REGISTRY, SyntheticRegression, TinyRegressor
from neurokit.training.selftest import main as selftest_main

REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path, name="run", **kw):
    base = dict(
        out_dir=str(tmp_path / name),
        lr=1e-2,
        warmup_steps=2,
        max_steps=10,
        batch_size=8,
        log_every=1,
        checkpoint_every=0,
        keep_checkpoints=0,
        grad_clip=1.0,
        device="cpu",
        progress=False,
        tensorboard=False,
    )
    base.update(kw)
    return TrainConfig(**base)


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return TinyRegressor(**kw)


def _losses(history):
    return [h["loss"] for h in history]


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------ basics
def test_loss_decreases_on_tiny_regression(tmp_path):
    model = _model()
    cfg = _config(tmp_path, max_steps=60, warmup_steps=5, lr=2e-2)
    history = Trainer(model, SyntheticRegression(n=128), config=cfg).fit()
    losses = _losses(history)
    assert len(losses) == 60 and all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    assert "mae" in history[-1] and "grad_norm" in history[-1]


def test_warmup_cosine_schedule_values():
    assert warmup_cosine(0, 4, 10) == pytest.approx(0.25)
    assert warmup_cosine(3, 4, 10) == pytest.approx(1.0)
    assert warmup_cosine(4, 4, 10) == pytest.approx(1.0)
    assert warmup_cosine(7, 4, 10) == pytest.approx(0.5)  # half way through the cosine
    assert warmup_cosine(10, 4, 10) == pytest.approx(0.0, abs=1e-12)
    assert warmup_cosine(50, 4, 10, min_ratio=0.1) == pytest.approx(0.1)
    assert warmup_cosine(7, 4, 10, min_ratio=0.2) == pytest.approx(0.6)
    assert warmup_cosine(0, 0, 10) == pytest.approx(1.0)
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    sched = warmup_cosine_scheduler(opt, 4, 10)
    seen = []
    for _ in range(12):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([0.5 * warmup_cosine(s, 4, 10) for s in range(12)])


def test_trainer_logs_scheduled_learning_rate(tmp_path):
    cfg = _config(tmp_path, max_steps=8, warmup_steps=3, lr=0.1, min_lr_ratio=0.1)
    history = Trainer(_model(), SyntheticRegression(n=64), config=cfg).fit()
    want = [0.1 * warmup_cosine(s, 3, 8, 0.1) for s in range(8)]
    assert [h["lr"] for h in history] == pytest.approx(want)


def test_grad_accumulation_equals_larger_batch(tmp_path):
    data = SyntheticRegression(n=64)
    a, b = _model(), _model()
    Trainer(
        a,
        data,
        config=_config(tmp_path, "a", batch_size=4, grad_accum=2, max_steps=3, grad_clip=None),
    ).fit()
    Trainer(
        b,
        data,
        config=_config(tmp_path, "b", batch_size=8, grad_accum=1, max_steps=3, grad_clip=None),
    ).fit()
    pa, pb = _params(a), _params(b)
    assert not torch.equal(pa["net.0.weight"], _params(_model())["net.0.weight"])  # it trained
    for k in pa:
        torch.testing.assert_close(pa[k], pb[k], rtol=0, atol=1e-6)


def test_gradient_clipping_bounds_the_norm(tmp_path, monkeypatch):
    norms = []
    original = torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads]))))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)

    def loss_fn(model, batch):  # a huge loss: every raw gradient is far above the bound
        out = model(batch)
        return {"loss": out["loss"] * 1e4, "raw": out["loss"]}

    cfg = _config(tmp_path, max_steps=4, grad_clip=0.5)
    history = Trainer(_model(), SyntheticRegression(n=64), config=cfg, loss_fn=loss_fn).fit()
    assert len(norms) == 4
    assert all(h["grad_norm"] > 0.5 for h in history)  # the logged norm is before clipping
    assert max(norms) <= 0.5 * (1 + 1e-5)
    assert "raw" in history[0]


def test_bf16_on_cpu_falls_back_to_fp32_with_warning(tmp_path):
    cfg = _config(tmp_path, max_steps=1, precision="bf16")
    with pytest.warns(UserWarning, match="bf16"):
        Trainer(_model(), SyntheticRegression(n=16), config=cfg).fit()


def test_invalid_settings_and_outputs(tmp_path):
    with pytest.raises(InvalidParameterError, match="grad_accum"):
        TrainConfig(grad_accum=0)
    with pytest.raises(InvalidParameterError, match="precision"):
        TrainConfig(precision="fp8")
    with pytest.raises(InvalidParameterError, match="betas"):
        TrainConfig(betas=(0.9,))

    class NoLoss(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, batch):
            return {"mse": self.w.sum()}

    with pytest.raises(InvalidParameterError, match="'loss'"):
        Trainer(NoLoss(), SyntheticRegression(n=16), config=_config(tmp_path, max_steps=1)).fit()


# ------------------------------------------------------------------------------------ sampling
def test_rank_slices_cover_the_global_batch():
    batch = list(range(11))
    parts = [rank_slice(batch, 3, r) for r in range(3)]
    assert sum(parts, []) == batch and [len(p) for p in parts] == [4, 4, 3]
    s = ShuffledBatchSampler(range(10), batch_size=4, seed=1)
    s.set_epoch(3)
    first = list(s)
    s.set_epoch(3)
    assert list(s) == first and sorted(sum(first, [])) == list(range(10))

    class Montages(torch.utils.data.Dataset):
        channel_counts = np.array([2, 3, 2, 3])

        def __len__(self):
            return 4

    sampler = default_sampler_factory(
        Montages(), batch_size=2, shuffle=False, seed=0, num_replicas=1, rank=0
    )
    assert type(sampler).__name__ == "BucketBatchSampler"
    assert sorted(map(sorted, sampler)) == [[0, 2], [1, 3]]


# ------------------------------------------------------------------------------------ checkpoints
def test_checkpoint_round_trip(tmp_path):
    model = _model(hidden=6)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.8, 0.95))
    sched = warmup_cosine_scheduler(opt, 2, 10)
    data = SyntheticRegression(n=16)
    batch = torch.utils.data.default_collate([data[i] for i in range(8)])
    for _ in range(3):
        model(batch)["loss"].backward()
        opt.step()
        sched.step()
        opt.zero_grad()
    config = model.get_config()
    path = ckpt.save_checkpoint(
        tmp_path / "ck",
        model,
        config,
        {"step": 3, "recipe_hash": "ab"},
        opt,
        sched,
        {"note": [1, 2]},
    )
    names = sorted(p.name for p in path.iterdir())
    assert names == [
        "config.json",
        "extra.json",
        "meta.json",
        "model.safetensors",
        "optimizer.json",
        "optimizer.safetensors",
        "scheduler.json",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temporary directory left

    other = _model(seed=5, hidden=6)
    opt2 = torch.optim.AdamW(other.parameters(), lr=1.0)
    sched2 = warmup_cosine_scheduler(opt2, 2, 10)
    loaded = ckpt.load_checkpoint(path, other)
    opt2.load_state_dict(loaded["optimizer"])
    sched2.load_state_dict(loaded["scheduler"])
    for k, v in _params(model).items():
        assert torch.equal(v, other.state_dict()[k])
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for pid, state in s1["state"].items():
        for key, value in state.items():
            assert torch.equal(value, s2["state"][pid][key]), (pid, key)
    assert sched2.state_dict() == sched.state_dict()
    assert loaded["meta"]["step"] == 3 and loaded["extra"] == {"note": [1, 2]}
    assert loaded["config"]["kwargs"]["hidden"] == 6 and "neurokit_version" in loaded["config"]

    # overwrite in place, then pretrained round trip through the registry
    ckpt.save_checkpoint(path, model, config, {"step": 4})
    assert ckpt.load_checkpoint(path)["meta"]["step"] == 4
    assert not (path / "optimizer.json").exists()
    ckpt.save_pretrained(model, tmp_path / "pre")
    rebuilt = ckpt.from_pretrained(tmp_path / "pre", REGISTRY)
    assert isinstance(rebuilt, TinyRegressor) and rebuilt.hidden == 6
    for k, v in _params(model).items():
        assert torch.equal(v, rebuilt.state_dict()[k])
    with pytest.raises(InvalidParameterError, match="not registered"):
        ckpt.from_pretrained(tmp_path / "pre", {})


def test_checkpoint_of_tied_weights_and_bad_json(tmp_path):
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(3, 3, bias=False)
            self.b = torch.nn.Linear(3, 3, bias=False)
            self.b.weight = self.a.weight

    model = Tied()
    ckpt.save_checkpoint(tmp_path / "t", model, ckpt.make_config("model", "Tied"), {})
    fresh = Tied()
    ckpt.load_checkpoint(tmp_path / "t", fresh)
    assert torch.equal(fresh.a.weight, model.a.weight) and fresh.a.weight is fresh.b.weight
    with pytest.raises(InvalidParameterError, match="only JSON values"):
        ckpt.save_checkpoint(tmp_path / "u", model, None, {"bad": torch.ones(2)})
    assert not (tmp_path / "u").exists()


# ------------------------------------------------------------------------------------ resume
class _Crash(RuntimeError):
    pass


class CrashingRegressor(TinyRegressor):
    """Raises when the forward pass of optimizer step ``crash_at`` starts."""

    def __init__(self, crash_at=None, **kw):
        super().__init__(**kw)
        self.crash_at = crash_at

    def forward(self, batch):
        if self.training:
            step = self._calls // self._accum + 1
            if self.crash_at is not None and step >= self.crash_at:
                raise _Crash(f"crash in step {step}")
        return super().forward(batch)


def test_exact_resume_after_an_interruption(tmp_path):
    data = SyntheticRegression(n=40)  # 5 global batches per epoch: the run crosses epochs
    kw = dict(
        max_steps=12,
        checkpoint_every=5,
        batch_size=4,
        grad_accum=2,
        keep_checkpoints=1,
        tensorboard=True,
    )
    torch.manual_seed(0)
    full = Trainer(
        CrashingRegressor(dropout=0.3, grad_accum=2), data, config=_config(tmp_path, "full", **kw)
    ).fit()
    reference = _losses(full)
    assert len(reference) == 12

    cfg = _config(tmp_path, "cut", **kw)
    torch.manual_seed(0)
    with pytest.raises(_Crash):
        Trainer(CrashingRegressor(crash_at=8, dropout=0.3, grad_accum=2), data, config=cfg).fit()
    logged = read_metrics(Path(cfg.out_dir) / "metrics.csv")["train/loss"]
    assert [s for s, _ in logged] == list(range(1, 8))  # steps 6, 7 logged, not checkpointed
    assert [p.name for _, p in ckpt.list_checkpoints(Path(cfg.out_dir) / "checkpoints")] == [
        "step-000000005"
    ]
    np.random.rand(7)  # disturb every global RNG: the checkpoint must restore them
    torch.rand(5)
    torch.manual_seed(123)  # and different initial weights, overwritten by the checkpoint
    trainer = Trainer(CrashingRegressor(dropout=0.3, grad_accum=2), data, config=cfg)
    resumed = trainer.fit()
    assert trainer.resumed_from.name == "step-000000005"
    assert [h["step"] for h in resumed] == list(range(6, 13))
    assert _losses(resumed) == reference[5:]  # bitwise
    logged = read_metrics(Path(cfg.out_dir) / "metrics.csv")["train/loss"]
    assert [s for s, _ in logged] == list(range(1, 13))  # no step logged twice
    assert [v for _, v in logged] == reference
    # a finished run does not train again
    assert Trainer(_model(), data, config=cfg).fit() == []


def test_exact_resume_after_sigkill(tmp_path):
    args = ["--max-steps", "9", "--checkpoint-every", "3", "--grad-accum", "2",
            "--batch-size", "4", "--n-items", "36", "--dropout", "0.2"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    killed = subprocess.run(
        [sys.executable, "-m", "neurokit.training.selftest", "--out", str(tmp_path / "cut"),
         "--kill-at-step", "6", *args],
        capture_output=True, text=True, timeout=120, env=env, cwd=REPO,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    steps = [s for s, _ in read_metrics(tmp_path / "cut" / "metrics.csv")["train/loss"]]
    assert steps == [1, 2, 3, 4, 5]
    latest = ckpt.latest_checkpoint(tmp_path / "cut" / "checkpoints")
    assert latest.name == "step-000000003"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the killed process (OMP_NUM_THREADS=1)
    try:  # resume in this process, then run the reference uninterrupted
        selftest_main(["--out", str(tmp_path / "cut"), *args])
        selftest_main(["--out", str(tmp_path / "full"), *args])
    finally:
        torch.set_num_threads(threads)
    cut = read_metrics(tmp_path / "cut" / "metrics.csv")["train/loss"]
    ref = read_metrics(tmp_path / "full" / "metrics.csv")["train/loss"]
    assert [s for s, _ in cut] == list(range(1, 10))
    assert cut == ref  # identical per-step losses, bitwise
    a = ckpt.load_checkpoint(tmp_path / "cut" / "final")["model"]
    b = ckpt.load_checkpoint(tmp_path / "full" / "final")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_false_refuses_a_used_run_dir(tmp_path):
    data = SyntheticRegression(n=16)
    Trainer(_model(), data, config=_config(tmp_path, max_steps=1)).fit()
    with pytest.raises(InvalidParameterError, match="resume=False"):
        Trainer(_model(), data, config=_config(tmp_path, max_steps=2, resume=False)).fit()


# ------------------------------------------------------------------------------------ logs
def test_metrics_csv_and_tensorboard_events(tmp_path):
    cfg = _config(tmp_path, max_steps=6, log_every=2, tensorboard=True, checkpoint_every=3)
    trainer = Trainer(
        _model(),
        SyntheticRegression(n=32),
        config=cfg,
        eval_dataset=SyntheticRegression(n=20, seed=1),
    )
    trainer.fit()
    run = Path(cfg.out_dir)
    text = (run / "metrics.csv").read_text().splitlines()
    assert text[0] == "step,name,value,time"
    metrics = read_metrics(run / "metrics.csv")
    assert [s for s, _ in metrics["train/loss"]] == [2, 4, 6]
    assert {"train/lr", "train/grad_norm", "train/mae", "eval/loss", "eval/mae"} <= set(metrics)
    assert [s for s, _ in metrics["eval/loss"]] == [6]
    assert trainer.eval_history[-1]["step"] == 6
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/loss")] == [2, 4, 6]
    meta = ckpt.load_checkpoint(run / "checkpoints" / "step-000000006")["meta"]
    assert meta["step"] == 6 and "eval/loss" in meta["metrics"]


# ------------------------------------------------------------------------------------ DDP
def test_ddp_two_processes_match_one_process(tmp_path):
    common = ["--max-steps", "8", "--grad-accum", "2", "--n-items", "43", "--lr", "0.02",
              "--checkpoint-every", "4"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "neurokit.training.selftest", "--out", str(tmp_path / "ddp"),
           "--batch-size", "4", *common]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"torchrun could not start two processes here: {err}")
    started = proc.stdout.count("selftest: rank")
    if proc.returncode != 0 and started < 2:
        pytest.skip(f"torchrun could not start two processes here: {proc.stderr[-800:]}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "selftest: rank 1 of 2 started" in proc.stdout

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        selftest_main(["--out", str(tmp_path / "one"), "--batch-size", "8", *common])
    finally:
        torch.set_num_threads(threads)
    two = ckpt.load_checkpoint(tmp_path / "ddp" / "final")["model"]
    one = ckpt.load_checkpoint(tmp_path / "one" / "final")["model"]
    assert set(two) == set(one)
    for k in one:
        torch.testing.assert_close(two[k], one[k], rtol=0, atol=1e-5)
    l2 = [v for _, v in read_metrics(tmp_path / "ddp" / "metrics.csv")["train/loss"]]
    l1 = [v for _, v in read_metrics(tmp_path / "one" / "metrics.csv")["train/loss"]]
    assert len(l2) == 8 and l2 == pytest.approx(l1, abs=1e-5)
    meta = ckpt.load_checkpoint(tmp_path / "ddp" / "checkpoints" / "step-000000008")["meta"]
    assert meta["world_size"] == 2 and meta["global_batch_size"] == 8


# ------------------------------------------------------------------------------------ corpus
def test_trains_on_a_corpus_dataset_with_mixed_montages(tmp_path):
    import neurokit.io as nio
    from neurokit.corpus import Corpus, CorpusDataset, build_corpus
    from neurokit.preprocessing import Pipeline

    for subject, kind, n, seed in (("s1", "eeg", 4, 1), ("s2", "meg", 6, 2)):
        folder = tmp_path / "src" / subject
        folder.mkdir(parents=True)
        rec = nio.synthetic(kind, n_channels=n, duration_s=8.0, sfreq=64.0, seed=seed)
        rec.raw.save(folder / f"{kind}{seed}_raw.fif", overwrite=True, verbose="error")
    recipe = {"name": "fixed", "steps": [], "windows": {"length_s": 1.0, "stride_s": 1.0}}
    build_corpus([tmp_path / "src"], Pipeline.from_dict(recipe), tmp_path / "corpus", quiet=True)
    corpus = Corpus(tmp_path / "corpus")
    ds = CorpusDataset(corpus)

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(64, 1)

        def forward(self, batch):
            assert batch["channel_mask"].all()  # the sampler never mixes montage sizes
            x = batch["x"] / batch["x"].abs().amax().clamp_min(1e-12)
            return {"loss": self.proj(x).squeeze(-1).mean(-1).pow(2).mean()}

    cfg = _config(tmp_path, max_steps=4, batch_size=3, checkpoint_every=2)
    Trainer(Pooled(), ds, config=cfg).fit()
    saved = ckpt.load_checkpoint(Path(cfg.out_dir) / "checkpoints" / "step-000000004")
    assert saved["meta"]["recipe_hash"] == corpus.meta["recipe_hash"]
    assert saved["config"]["input"]["sfreq"] == 64.0 and saved["config"]["name"] == "Pooled"
