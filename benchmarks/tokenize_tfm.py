"""TFM-Tokenizer: neurokit's ``TFMTokenizer`` vs the reference implementation, on CPU.

Both models use the reference "2x2x8" configuration: ``create_tokenizer("tfm", preset="base")``
on our side, ``get_tfm_tokenizer_2x2x8(code_book_size=8192, emb_size=64)`` from the reference's
``models/tfm_token.py`` on the other (sampling rate 200 Hz, width 64, 8192 codes, depths 2/2/8,
8 heads). Input: white noise, ``--batch`` recordings of ``--channels`` channels and ``--seconds``
seconds at 200 Hz (default 1 x 16 x 10 s, i.e. 19 frames per channel). Measured, with
``torch.set_num_threads(--threads)``:

* encode throughput, eval mode, no autograd: codes produced per second (``b x c x n``), the
  magnitude STFT included on both sides (ours: ``tok.encode``; reference: the STFT of its
  ``utils.utils.get_stft_torch`` followed by ``vqvae.tokenize``);
* one training step, train mode: forward on a masked spectrum and on its complement (ours:
  ``tok(x)``; reference: ``freq_bin_temporal_masking`` with 5-bin frequency groups and 1-frame
  time groups, then two ``vqvae`` passes, MSE to the full spectrum plus the quantizer loss, as
  in its ``tfm_tokenizer_token_learning.py``), backward and an AdamW step (the reference's
  learning rate, weight decay and betas);
* the shape of the codes: both must give one code per channel and frame.

Timings are medians over repetitions (``--reps``, default 15, and ``--train-reps``, default 4;
``--quick``: 5 and 2), after one warm-up call each. The two models are timed in turn, round after
round, so that background load on the machine hits both alike; rounds stop early once a time
budget is spent (30 s for encoding and 60 s for training, a third of that with ``--quick``). On
a shared machine the absolute numbers move a lot; the ratios are the more stable figures.

Prints JSON lines only (progress and diagnostics go to stderr), each with ``name``, ``ours``,
``peer``, ``ratio`` and ``unit``:

* ``tfm_encode_throughput``: tokens/s, ratio = ours / peer (> 1: ours is faster);
* ``tfm_train_step_speedup``: seconds per step, ratio = peer / ours (> 1: ours is faster);
* ``tfm_codes_per_channel``: codes per channel (frames), ratio 1.0 when the code grids are
  identical (same channel count and frames), 0.0 when they differ (stderr says how).

Where the reference comes from (the first that applies):

1. ``--reference PATH``, a checkout of github.com/Jathurshan0330/TFM-Tokenizer (the folder that
   holds ``models/tfm_token.py``);
2. the environment variable ``TFM_REFERENCE`` with the same meaning;
3. a copy of the two files it needs (``models/tfm_token.py``, ``utils/utils.py``) taken with
   ``git show`` from a local git mirror of that repository (``--mirror``, default
   ``/work/.mirror/Jathurshan0330+TFM-Tokenizer/repo``) into a temporary folder that is removed
   when the script ends.

The reference's folder is put on ``sys.path`` and its ``models/tfm_token.py`` is imported from
there under a private module name (so that another ``models`` package cannot shadow it), in this
process, next to neurokit; it needs the ``linear_attention_transformer`` and
``einops`` packages. Its ``utils/utils.py`` imports heavy packages (pyhealth, matplotlib); when
that import fails, the reference STFT is computed here with the same call as its
``get_stft_torch`` (Hann window of 200 samples, ``n_fft`` 200, hop 100, no centring, one-sided
magnitude, first 100 bins). Without a usable reference, ``peer`` and ``ratio`` are ``null``.

    python benchmarks/tokenize_tfm.py [--quick] [--reference PATH] [--batch 1] [--threads 2]
    TFM_REFERENCE=/path/to/TFM-Tokenizer python benchmarks/tokenize_tfm.py
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from neurokit.tokenizers import create_tokenizer

SFREQ = 200
DEFAULT_MIRROR = "/work/.mirror/Jathurshan0330+TFM-Tokenizer/repo"
REFERENCE_FILES = ("models/tfm_token.py", "utils/utils.py")


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def emit(name: str, ours, peer, rel, unit: str) -> None:
    def clean(v):
        return None if v is None else round(float(v), 6)

    row = {"name": name, "ours": clean(ours), "peer": clean(peer), "ratio": clean(rel)}
    row["unit"] = unit
    print(json.dumps(row), flush=True)


# --------------------------------------------------------------------------- the reference
def copy_from_mirror(mirror: str, target: Path) -> Path:
    """Write the reference's model and utility modules from a git mirror into ``target``."""
    for rel in REFERENCE_FILES:
        text = subprocess.run(
            ["git", "--git-dir", mirror, "show", f"HEAD:{rel}"],
            check=True,
            capture_output=True,
        ).stdout
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(text)
    return target


def load_file(name: str, path: Path):
    """Import the module at ``path`` under the private name ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def stft_like_reference(x: torch.Tensor) -> torch.Tensor:
    """``[B, t]`` -> ``[B, 100, n]``: the same computation as the reference ``get_stft_torch``."""
    window = torch.hann_window(SFREQ, device=x.device)
    spec = torch.stft(
        x,
        n_fft=SFREQ,
        hop_length=SFREQ // 2,
        onesided=True,
        return_complex=True,
        center=False,
        window=window,
    )
    return spec[:, : SFREQ // 2, :].abs()


def find_reference(args, stack: contextlib.ExitStack):
    """(root folder, description) of the reference code, or (None, reason)."""
    given = args.reference or os.environ.get("TFM_REFERENCE")
    if given:
        root = Path(given).expanduser().resolve()
        if not (root / "models" / "tfm_token.py").is_file():
            return None, f"{root} has no models/tfm_token.py"
        origin = "--reference" if args.reference else "TFM_REFERENCE"
        return root, f"{root} (from {origin})"
    if not Path(args.mirror).exists():
        return None, f"no --reference, no TFM_REFERENCE and no mirror at {args.mirror}"
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tfm_reference_")))
    try:
        copy_from_mirror(args.mirror, tmp)
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", b"") or b""
        return None, f"copy from {args.mirror} failed: {err} {detail.decode(errors='replace')}"
    return tmp, f"{tmp} (copied from the mirror {args.mirror})"


def load_reference(root: Path):
    """(tfm_token module, STFT function [B, t] -> [B, 100, n], STFT source)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    token_module = load_file("_tfm_reference_tfm_token", root / "models" / "tfm_token.py")
    stft, source = stft_like_reference, "computed here like get_stft_torch"
    try:
        utils = load_file("_tfm_reference_utils", root / "utils" / "utils.py")
        get_stft = utils.get_stft_torch

        def stft(x):
            return get_stft(x[:, None, :], resampling_rate=SFREQ)[:, 0]

        source = "utils.utils.get_stft_torch"
    except Exception as err:  # heavy optional imports (pyhealth, matplotlib) may be missing
        log(f"reference utils/utils.py not importable ({type(err).__name__}: {err})")
    return token_module, stft, source


# --------------------------------------------------------------------------- one step each
def ours_encode(tok, x):
    return tok.encode(x).codes


def peer_encode(model, stft, x):
    raw = x.reshape(-1, x.shape[-1])
    _, indices, _ = model.tokenize(stft(raw), raw)
    return indices


def ours_train_step(tok, opt, x):
    out = tok(x)
    out.losses["loss"].backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def peer_train_step(module, model, stft, opt, x):
    """The reference's training forward (two complementary masked views), backward, step."""
    raw = x.reshape(-1, x.shape[-1])
    spec = stft(raw)
    masked, masked_sym, _, _ = module.freq_bin_temporal_masking(
        spec, freq_mask_ratio=0.5, freq_bin_size=5, time_mask_ratio=0.5, time_bin_size=1
    )
    weights = torch.ones_like(spec)
    recon_loss = quant_loss = 0.0
    for view in (masked, masked_sym):
        recon, _, quant_out, quant_in = model(view, raw)
        quant_loss = quant_loss + model.vec_quantizer_loss(quant_in, quant_out)[0]
        recon_loss = recon_loss + torch.mean((recon - spec) ** 2 * weights)
    (recon_loss + quant_loss).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(fns: dict, reps: int, budget_s: float) -> dict:
    """Median seconds of each callable, timed in turn ``reps`` times.

    Rounds stop early (after at least one) once ``budget_s`` seconds have passed, so that a
    loaded machine does not stretch the run without bound.
    """
    times = {name: [] for name in fns}
    start = time.perf_counter()
    for _ in range(reps):
        for name, fn in fns.items():
            times[name].append(timed(fn))
        if time.perf_counter() - start > budget_s:
            break
    for name, values in times.items():
        log(f"  {name}: " + " ".join(f"{v * 1e3:.0f}" for v in values) + " ms")
    return {name: statistics.median(values) for name, values in times.items()}


def make_optimizer(params):
    # the reference's training settings (configs/tfm_tokenizer_training_configs.yaml)
    return torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-5, betas=(0.9, 0.99))


def ratio(num, den):
    return num / den if num is not None and den else None


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", help="checkout of the reference repository")
    parser.add_argument("--mirror", default=DEFAULT_MIRROR, help="git mirror to copy from")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--batch", type=int, default=1, help="recordings per batch")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reps", type=int, help="encode repetitions (default 15, quick 5)")
    parser.add_argument("--train-reps", type=int, help="training steps (default 4, quick 2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.reps = args.reps or (5 if args.quick else 15)
    args.train_reps = args.train_reps or (2 if args.quick else 4)
    args.budget_s = 10.0 if args.quick else 30.0  # per measurement, both models together
    torch.set_num_threads(args.threads)

    with contextlib.ExitStack() as stack:
        root, where = find_reference(args, stack)
        module = stft = None
        if root is None:
            log(f"reference not available: {where}")
        else:
            log(f"reference: {where}")
            try:
                module, stft, stft_source = load_reference(root)
                log(f"reference STFT: {stft_source}")
            except Exception as err:
                log(f"reference not importable: {type(err).__name__}: {err}")
                module = None
        run(args, module, stft)
    return 0


def try_peer(what: str, fn):
    """Run a first call of the reference; on failure say why and return None."""
    try:
        return fn()
    except Exception as err:
        log(f"reference {what} failed: {type(err).__name__}: {err}")
        return None


def run(args, module, stft) -> None:
    gen = torch.Generator().manual_seed(args.seed)
    n_times = int(round(args.seconds * SFREQ))
    x = torch.randn(args.batch, args.channels, n_times, generator=gen)
    torch.manual_seed(args.seed)
    tok = create_tokenizer("tfm", preset="base")
    peer = None
    if module is not None:
        torch.manual_seed(args.seed)
        peer = try_peer(
            "construction",
            lambda: module.get_tfm_tokenizer_2x2x8(code_book_size=8192, emb_size=64),
        )
    log(f"input {tuple(x.shape)} at {SFREQ} Hz, {torch.get_num_threads()} threads")
    counts = f"parameters: ours {sum(p.numel() for p in tok.parameters())}"
    if peer is not None:
        counts += f", reference {sum(p.numel() for p in peer.parameters())} (its codebook is a"
        counts += " parameter, ours a buffer)"
    log(counts)

    # ---- encode: output shapes (first call, also the warm-up), then throughput
    tok.eval()
    with torch.inference_mode():
        codes = {"ours": ours_encode(tok, x)}
        fns = {"ours": lambda: ours_encode(tok, x)}
        if peer is not None:
            peer.eval()
            peer_codes = try_peer("encoding", lambda: peer_encode(peer, stft, x))
            if peer_codes is None:
                peer = None
            else:
                codes["peer"] = peer_codes
                fns["peer"] = lambda: peer_encode(peer, stft, x)
        frames = {name: c.shape[-1] for name, c in codes.items()}
        rows = {name: c.numel() // max(frames[name], 1) for name, c in codes.items()}
        log("codes: " + ", ".join(f"{name} {tuple(c.shape)}" for name, c in codes.items()))
        if peer is not None:
            if frames["ours"] == frames["peer"] and rows["ours"] == rows["peer"]:
                log(f"shapes agree: {rows['ours']} channels x {frames['ours']} codes")
            else:
                log(
                    f"SHAPE MISMATCH: ours {rows['ours']} channels x {frames['ours']} codes, "
                    f"reference {rows['peer']} channels x {frames['peer']} codes"
                )
        log(f"encode, up to {args.reps} repetitions")
        seconds = alternate(fns, args.reps, args.budget_s)
    rate = {name: codes[name].numel() / seconds[name] for name in fns}
    emit(
        "tfm_encode_throughput",
        rate["ours"],
        rate.get("peer"),
        ratio(rate["ours"], rate.get("peer")),
        "tokens/s",
    )

    # ---- one training step: both masked views, backward, AdamW
    tok.train()
    opt = make_optimizer(tok.parameters())
    fns = {"ours": lambda: ours_train_step(tok, opt, x)}
    if peer is not None:
        peer.train()
        peer_opt = make_optimizer(peer.parameters())
        fns["peer"] = lambda: peer_train_step(module, peer, stft, peer_opt, x)
    torch.manual_seed(args.seed)
    fns["ours"]()  # warm-up: optimizer state, first allocations
    if "peer" in fns and try_peer("training step", lambda: fns["peer"]() or True) is None:
        fns.pop("peer")
    log(f"training step, up to {args.train_reps} repetitions")
    step = alternate(fns, args.train_reps, 2 * args.budget_s)
    emit(
        "tfm_train_step_speedup",
        step["ours"],
        step.get("peer"),
        ratio(step.get("peer"), step["ours"]),
        "s/step",
    )

    # ---- shape check as a line of its own: ratio 1 when the code grids are identical
    same = "peer" in frames and frames["ours"] == frames["peer"] and rows["ours"] == rows["peer"]
    emit(
        "tfm_codes_per_channel",
        frames["ours"],
        frames.get("peer"),
        (1.0 if same else 0.0) if "peer" in frames else None,
        "codes/channel",
    )


if __name__ == "__main__":
    sys.exit(main())
