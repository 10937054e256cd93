"""Vector quantizers: neurokit.nn.quantizers vs vector-quantize-pytorch at the same settings.

Data: synthetic EEG (``neurokit.io.synthetic("eeg", ...)``, 19 channels at 256 Hz), one vector
per channel every 32 samples: log-power STFT frames (Hann window, z-scored per frequency bin) for
the single codebooks, and 1 s windows of the signal (each channel at unit variance, z-scored per
sample position) for the residual stack. Training vectors come from one recording, evaluation
vectors from another (different seed). Configurations, each run on both libraries:

* ``vq_cos``: 64-bin STFT frames, 8192 codes, L2-normalized (cosine) codebook, EMA decay 0.99,
  dead-code threshold 2, commitment weight 0.25, straight-through gradient, no k-means init;
* ``vq_cos_kmeans``: the same with k-means initialization (10 iterations) on the first batch;
* ``rvq``: 256-sample windows, 4 levels of 512 Euclidean codes, k-means init, otherwise as above.

For each: training speed (forward + backward of ``mean(quantized^2) + loss`` on a batch; 25th
percentile of the step times after the first step, the two libraries stepped alternately on the
same batches; vectors per second), then in eval mode on the held-out vectors the fraction of codes
used, the perplexity of the code histogram (mean over levels for ``rvq``) and the reconstruction
MSE (against the L2-normalized input for cosine codebooks). Prints one JSON line
per comparison: name, ours, peer, ratio (ours / peer), unit.

    python benchmarks/quantizers.py [--quick] [--steps 30] [--batch 8192] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

import neurokit
from neurokit.nn.quantizers import ResidualVectorQuantizer, VectorQuantizer


def eeg_vectors(kind: str, dim: int, duration_s: float, seed: int) -> torch.Tensor:
    """Vectors from every EEG channel of a synthetic recording, one per hop of 32 samples.

    ``"stft"``: log-power spectra with ``dim`` frequency bins (Hann window); ``"patch"``:
    windows of ``dim`` samples of the signal, each channel scaled to unit variance.
    """
    rec = neurokit.io.synthetic("eeg", n_channels=19, duration_s=duration_s, sfreq=256.0, seed=seed)
    data = torch.from_numpy(rec.get_data(picks="eeg")).float() * 1e6
    if kind == "stft":
        n_fft = 2 * (dim - 1)
        spec = torch.stft(
            data, n_fft=n_fft, hop_length=32, window=torch.hann_window(n_fft), return_complex=True
        )  # [channels, dim, frames]
        return torch.log(spec.abs().pow(2) + 1e-6).permute(0, 2, 1).reshape(-1, dim)
    data = (data - data.mean(1, keepdim=True)) / data.std(1, keepdim=True)
    return data.unfold(1, dim, 32).reshape(-1, dim)


def standardize(train: torch.Tensor, test: torch.Tensor):
    mean, std = train.mean(0), train.std(0).clamp_min(1e-6)
    return (train - mean) / std, (test - mean) / std


def make_pair(kind: str, cfg: dict):
    """(ours, peer) modules built with the same settings."""
    from vector_quantize_pytorch import ResidualVQ, VectorQuantize

    common = dict(decay=0.99, eps=1e-5, kmeans_iters=10, commitment_weight=0.25)
    if kind == "vq":
        ours = VectorQuantizer(
            cfg["dim"],
            cfg["codebook_size"],
            kmeans_init=cfg["kmeans"],
            dead_code_threshold=2.0,
            l2_normalized=cfg["cosine"],
            gradient="ste",
            **common,
        )
        peer = VectorQuantize(
            dim=cfg["dim"],
            codebook_size=cfg["codebook_size"],
            kmeans_init=cfg["kmeans"],
            threshold_ema_dead_code=2,
            use_cosine_sim=cfg["cosine"],
            rotation_trick=False,
            **common,
        )
    else:
        ours = ResidualVectorQuantizer(
            cfg["dim"],
            cfg["levels"],
            cfg["codebook_size"],
            kmeans_init=cfg["kmeans"],
            dead_code_threshold=2.0,
            l2_normalized=cfg["cosine"],
            gradient="ste",
            **common,
        )
        peer = ResidualVQ(
            dim=cfg["dim"],
            num_quantizers=cfg["levels"],
            codebook_size=cfg["codebook_size"],
            kmeans_init=cfg["kmeans"],
            threshold_ema_dead_code=2,
            use_cosine_sim=cfg["cosine"],
            rotation_trick=False,
            **common,
        )
    return ours, peer


def step(module, batch: torch.Tensor, ours: bool) -> None:
    x = batch.clone().requires_grad_(True)
    if ours:
        out = module(x)
        quantized, loss = out.quantized, out.loss
    else:
        quantized, _, loss = module(x)
        loss = loss.sum()
    (quantized.pow(2).mean() + loss).backward()


@torch.no_grad()
def evaluate(module, test: torch.Tensor, ours: bool, cfg: dict) -> dict:
    module.eval()
    if ours:
        out = module(test)
        quantized, codes = out.quantized, out.codes
    else:
        quantized, codes, _ = module(test)
    codes = codes.reshape(test.shape[0], -1)
    used, perplexity = [], []
    for level in range(codes.shape[1]):
        counts = torch.bincount(codes[:, level], minlength=cfg["codebook_size"]).double()
        probs = counts / counts.sum()
        used.append(float((counts > 0).double().mean()))
        entropy = -(probs[probs > 0] * probs[probs > 0].log()).sum()
        perplexity.append(float(entropy.exp()))
    target = F.normalize(test, dim=-1) if cfg["cosine"] else test
    mse = float((quantized - target).pow(2).mean())
    return {"used": float(np.mean(used)), "perplexity": float(np.mean(perplexity)), "mse": mse}


def run(kind: str, cfg: dict, train: torch.Tensor, test: torch.Tensor, steps: int, batch: int):
    torch.manual_seed(0)
    ours, peer = make_pair(kind, cfg)
    ours.train()
    peer.train()
    gen = torch.Generator().manual_seed(1)
    batches = [train[torch.randint(train.shape[0], (batch,), generator=gen)] for _ in range(steps)]
    # Both modules see the same batches, stepped alternately so that a slow spell of the machine
    # hits both; the first step (k-means initialization when enabled) is left out of the timing
    # and the 25th percentile of the step times is kept (robust to other jobs on the machine).
    times = {"ours": [], "peer": []}
    for i, b in enumerate(batches):
        for name, module in (("ours", ours), ("peer", peer)):
            start = time.perf_counter()
            step(module, b, name == "ours")
            if i:
                times[name].append(time.perf_counter() - start)
    results = {}
    for name, module in (("ours", ours), ("peer", peer)):
        results[name] = evaluate(module, test, name == "ours", cfg)
        results[name]["speed"] = batch / float(np.percentile(times[name], 25))
    for key, unit in (
        ("speed", "vectors/s (train step)"),
        ("used", "fraction of codes used (eval)"),
        ("perplexity", "perplexity (eval)"),
        ("mse", "reconstruction MSE (eval)"),
    ):
        a, b = results["ours"][key], results["peer"][key]
        line = {
            "name": f"{cfg['name']}_{key}",
            "ours": round(a, 4),
            "peer": round(b, 4),
            "ratio": round(a / b, 3) if b else None,
            "unit": unit,
        }
        print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run (about 20 s)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per run")
    parser.add_argument("--batch", type=int, default=None, help="vectors per training batch")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    steps = args.steps or (6 if args.quick else 30)
    batch = args.batch or (4096 if args.quick else 8192)
    duration = 120.0 if args.quick else 300.0

    configs = [
        (
            "vq",
            dict(name="vq_cos", data="stft", dim=64, codebook_size=8192, cosine=True, kmeans=False),
        ),
        (
            "vq",
            dict(
                name="vq_cos_kmeans",
                data="stft",
                dim=64,
                codebook_size=8192,
                cosine=True,
                kmeans=True,
            ),
        ),
        (
            "rvq",
            dict(
                name="rvq",
                data="patch",
                dim=256,
                levels=4,
                codebook_size=512,
                cosine=False,
                kmeans=True,
            ),
        ),
    ]
    data = {}
    for kind, cfg in configs:
        key = cfg["data"], cfg["dim"]
        if key not in data:
            train = eeg_vectors(*key, duration, seed=0)
            test = eeg_vectors(*key, duration / 2, seed=1)
            train, test = standardize(train, test)
            keep = torch.randperm(test.shape[0], generator=torch.Generator().manual_seed(2))
            data[key] = train, test[keep[: 8192 if args.quick else 16384]]
        run(kind, cfg, *data[key], steps=steps, batch=batch)


if __name__ == "__main__":
    main()
