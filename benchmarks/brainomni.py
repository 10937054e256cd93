"""BrainOmni on CPU: neurokit's BrainTokenizer vs the reference, and BrainOmni vs LaBraM/CBraMod.

1. BrainTokenizer, both sides at the reference configuration (``create_tokenizer("brain",
   preset="base")``; the reference ``braintokenizer/model.py::BrainTokenizer`` with the values
   of its ``braintokenizer/config.py`` and ``script/train_braintokenizer.sh``: 256 Hz, 2-s
   windows, SEANet 32 filters, ratios 8/4/2, width 256, 16 latent sources, 4 heads, 4 levels
   of 512 codes of width 256, rotation trick, EMA codebooks). Inputs: white noise (unit
   variance, as after BrainOmni's scaling) on a 64-channel EEG montage and on the 306 sensors
   of a Neuromag MEG (102 magnetometers, 204 planar gradiometers), ``--batch`` windows of
   ``--seconds`` seconds (default 1 x 10 s: the reference trains on 10-s segments; both
   models cut them into five 2-s windows encoded independently). Same positions, orientations
   and sensor types on both sides (the 6-d geometry that neurokit computes is given to the
   reference as its ``pos``). Measured with ``torch.set_num_threads(--threads)``:

   * encode throughput, eval mode, no autograd: codes per second (ours ``tok.encode``,
     reference ``tokenize(..., overlap_ratio=0)``); both give ``[b, 16, 4, 40]`` codes;
   * one training step: forward with the training corruption (25 % of the channels hidden,
     noise), the loss (L1, Pearson, commitment, FFT amplitude and phase), backward, AdamW step
     with the reference's settings (lr 2e-4, betas 0.5/0.9, eps 1e-5, weight decay 0.01).

2. Pretraining throughput, samples per second of one training step (forward, backward, AdamW)
   on windows of the same length (``--seconds``, batch ``--pretrain-batch``, 8 by default):
   BrainOmni tiny (``BrainOmni.from_preset("tiny")``, 12 criss-cross blocks, 256 wide) doing
   masked token prediction on BrainTokenizer codes (16 sources x 40 frames = 640 tokens for
   10 s; tokens are precomputed, as ``neurokit train pretrain`` reads them from the corpus),
   vs braindecode's ``Labram`` and ``CBraMod`` (default widths, depth raised from 12 until
   their parameter count reaches 95 % of BrainOmni tiny's) on 64-channel EEG at 200 Hz
   (their rate; 200-sample patches, so 64 x 10 = 640 patches for 10 s) with a cross-entropy
   loss on 4 classes (braindecode ships them as classifiers, without their pretraining heads).
   Parameter counts go to stderr and into the ``unit`` field.

The batch size changes the ratios: per window, the reference slows down as the batch grows
and neurokit does not (one thread, 64-channel EEG, measured with ``--quick``: encode 1.46x at
``--batch 1``, 2.69x at 4, 2.72x at 16; training step 1.29x, 1.72x, 1.71x; 306-sensor MEG
encode 2.41x, 2.70x, 4.25x). ``--batch 1`` (the default) is the quickest to run and the least
favourable to neurokit; the reference trains with 16 windows of 10 s per device (32 for EEG
alone, ``braintokenizer/config.py``), which ``--batch 16`` measures. The batch is written into
each tokenizer line's ``unit``.

Timings are medians over repetitions (``--reps``/``--train-reps``; ``--quick``: fewer, and
only the EEG montage for the training step of the tokenizers), the models timed in turn,
round after round, so that background load hits them alike; rounds stop early once a time
budget is spent. Ratios are the more stable figures on a shared machine.

Prints JSON lines only (diagnostics go to stderr), each with ``name``, ``ours``, ``peer``,
``ratio`` and ``unit``:

* ``brain_encode_throughput_{eeg64,meg306}``: codes/s, ratio = ours / peer;
* ``brain_train_step_speedup_{eeg64,meg306}``: s/step, ratio = peer / ours;
* ``brainomni_pretrain_vs_{labram,cbramod}``: samples/s, ratio = ours / peer.

Where the reference comes from (the first that applies): ``--reference PATH`` (a checkout of
github.com/OpenTSLab/BrainOmni), the environment variable ``BRAINOMNI_REFERENCE``, or the files
it needs taken with ``git show`` from a local mirror (``--mirror``, default
``/work/.mirror/OpenTSLab+BrainOmni/repo``) into a temporary folder removed at the end. The
reference imports ``deepspeed.comm`` for its distributed helpers only; when deepspeed is not
installed, a stand-in module reporting a single process is written into that temporary
folder. It also needs ``einops``, ``einx`` and ``vector_quantize_pytorch``. Without a usable
reference, ``peer`` and ``ratio`` of the tokenizer lines are ``null``.

    python benchmarks/brainomni.py [--quick] [--threads 2] [--reference PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tokenize_tfm import alternate, emit, log, ratio, try_peer

import neurokit
from neurokit.models import BrainOmni
from neurokit.tokenizers import create_tokenizer
from neurokit.tokenizers.brain_modules import resolve_sensors, sensor_geometry

SFREQ = 256.0
DEFAULT_MIRROR = "/work/.mirror/OpenTSLab+BrainOmni/repo"
REFERENCE_FILES = ("braintokenizer/model.py",) + tuple(
    f"model_utils/{m}.py" for m in ("attn", "conv", "loss", "lstm", "module", "seanet", "vq")
)
DEEPSPEED_STANDIN = '''"""Single-process stand-in for deepspeed.comm (benchmark only)."""
def is_initialized():
    return False
def get_world_size():
    return 1
class ReduceOp:
    SUM = "sum"
def all_reduce(tensor, op=None):
    return tensor
def broadcast(tensor, src=0):
    return tensor
'''
REFERENCE_CONFIG = dict(
    window_length=512, n_filters=32, ratios=[8, 4, 2], kernel_size=5, last_kernel_size=5,
    n_dim=256, n_neuro=16, n_head=4, dropout=0.0, codebook_dim=256, codebook_size=512,
    num_quantizers=4, rotation_trick=True, quantize_optimize_method="ema",
)  # fmt: skip


# --------------------------------------------------------------------------- the reference
def find_reference(args, stack: contextlib.ExitStack):
    """(root folder, description) of the reference code, or (None, reason)."""
    given = args.reference or os.environ.get("BRAINOMNI_REFERENCE")
    if given:
        root = Path(given).expanduser().resolve()
        if not (root / "braintokenizer" / "model.py").is_file():
            return None, f"{root} has no braintokenizer/model.py"
        return root, f"{root}"
    if not Path(args.mirror).exists():
        return None, f"no --reference, no BRAINOMNI_REFERENCE and no mirror at {args.mirror}"
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="brainomni_reference_")))
    try:
        for rel in REFERENCE_FILES:
            text = subprocess.run(
                ["git", "--git-dir", args.mirror, "show", f"HEAD:{rel}"],
                check=True,
                capture_output=True,
            ).stdout
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(text)
    except (OSError, subprocess.CalledProcessError) as err:
        detail = (getattr(err, "stderr", b"") or b"").decode(errors="replace")
        return None, f"copy from {args.mirror} failed: {err} {detail}"
    return tmp, f"{tmp} (copied from the mirror {args.mirror})"


def load_reference(root: Path, stack: contextlib.ExitStack):
    """The reference's ``BrainTokenizer`` class (its folder and, if needed, a deepspeed
    stand-in put first on ``sys.path``)."""
    if importlib.util.find_spec("deepspeed") is None:
        shim = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="deepspeed_standin_")))
        (shim / "deepspeed").mkdir()
        (shim / "deepspeed" / "__init__.py").write_text("")
        (shim / "deepspeed" / "comm.py").write_text(DEEPSPEED_STANDIN)
        sys.path.insert(0, str(shim))
        log("deepspeed not installed: using a single-process stand-in for deepspeed.comm")
    sys.path.insert(0, str(root))
    return importlib.import_module("braintokenizer.model").BrainTokenizer


# --------------------------------------------------------------------------- inputs
def montage(kind: str, batch: int, n_times: int, seed: int) -> dict:
    """A batch dict (neurokit's form) of white noise on a 64-channel EEG or 306-sensor MEG."""
    n = {"eeg": 64, "meg": 306}[kind]
    table = neurokit.io.synthetic(kind, n_channels=n, duration_s=1.0, seed=seed).sensors
    keep = [i for i, t in enumerate(table.types) if t in ("eeg", "mag", "grad")]

    def rows(a):
        return torch.tensor(np.nan_to_num(a[keep]), dtype=torch.float32)[None].repeat(batch, 1, 1)

    gen = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(batch, len(keep), n_times, generator=gen),
        "pos": rows(table.pos),
        "ori": rows(table.ori),
        "type_id": torch.as_tensor(table.type_ids[keep])[None].repeat(batch, 1),
        "channel_mask": torch.ones(batch, len(keep), dtype=torch.bool),
    }


def reference_inputs(batch: dict) -> tuple:
    """``(x, pos [b, c, 6], sensor_type [b, c])`` for the reference: the same geometry and
    the reference's type ids, as neurokit's tokenizer computes them."""
    x = batch["x"]
    sensors = resolve_sensors(batch, x.shape[0], x.shape[1], x.device, batch["channel_mask"])
    geometry, types = sensor_geometry(sensors, True)
    return x, geometry.float(), types.long()


def optimizer(params):
    return torch.optim.AdamW(params, lr=2e-4, betas=(0.5, 0.9), eps=1e-5, weight_decay=0.01)


def step(loss, opt) -> None:
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- 1. tokenizers
def tokenizers(args, ref_cls) -> None:
    n_times = int(round(args.seconds * SFREQ))
    torch.manual_seed(args.seed)
    ours = create_tokenizer("brain", preset="base")
    peer = None
    if ref_cls is not None:
        torch.manual_seed(args.seed)
        peer = try_peer("construction", lambda: ref_cls(**REFERENCE_CONFIG))
    log(f"BrainTokenizer parameters: ours {n_params(ours)}"
        + (f", reference {n_params(peer)}" if peer is not None else ""))  # fmt: skip
    for kind in ("eeg", "meg"):
        compare(args, kind, ours, peer, n_times)


def compare(args, kind, ours, peer, n_times) -> None:
    """Encode throughput and training step of both tokenizers on one montage."""
    batch = montage(kind, args.batch, n_times, args.seed)
    ref_in = reference_inputs(batch)
    label = f"{kind}{batch['x'].shape[1]}"
    shape = f"batch {args.batch} x {args.seconds:g}-s windows"
    log(f"== {label}: input {tuple(batch['x'].shape)} at {SFREQ:g} Hz")
    ours.eval()
    fns = {"ours": lambda: ours.encode(batch).codes}
    with torch.inference_mode():
        codes = {"ours": fns["ours"]()}
        if peer is not None:
            peer.eval()
            got = try_peer("encoding", lambda: peer.tokenize(*ref_in, overlap_ratio=0.0))
            if got is not None:
                fns["peer"] = lambda: peer.tokenize(*ref_in, overlap_ratio=0.0)[1]
                codes["peer"] = got[1]
        log("codes: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in codes.items())
            + " (ours [b, s, k, n], reference [b, s, n, k])")  # fmt: skip
        if "peer" in codes and codes["peer"].numel() != codes["ours"].numel():
            log("CODE COUNT MISMATCH between ours and the reference")
        seconds = alternate(fns, args.reps, args.budget_s)
    rate = {k: codes[k].numel() / seconds[k] for k in fns}
    emit(f"brain_encode_throughput_{label}", rate["ours"], rate.get("peer"),
         ratio(rate["ours"], rate.get("peer")), f"codes/s ({shape})")  # fmt: skip
    if args.quick and kind == "meg":
        log("--quick: no training step on the MEG montage")
        return
    ours.train()
    opt = optimizer(ours.parameters())
    fns = {"ours": lambda: step(ours(batch).losses["loss"], opt)}
    if "peer" in codes:
        peer.train()
        peer_opt = optimizer(peer.parameters())
        fns["peer"] = lambda: step(peer(*ref_in)[0]["loss"], peer_opt)
    for name, fn in list(fns.items()):  # warm-up: k-means initialization, optimizer state
        if try_peer(f"{name} training step", lambda fn=fn: fn() or True) is None:
            fns.pop(name)
    per_step = alternate(fns, args.train_reps, 2 * args.budget_s)
    emit(f"brain_train_step_speedup_{label}", per_step["ours"], per_step.get("peer"),
         ratio(per_step.get("peer"), per_step["ours"]), f"s/step ({shape})")  # fmt: skip


# --------------------------------------------------------------------------- 2. pretraining
def matched(build, target: int):
    """``build(depth)`` for the smallest depth from 12 (the published one) whose parameter
    count reaches 95 % of ``target``."""
    depth = 12
    model = build(depth)
    while n_params(model) < 0.95 * target:
        depth += 1
        model = build(depth)
    log(f"  {type(model).__name__}: depth {depth}, {n_params(model) / 1e6:.2f} M parameters")
    return model


def pretraining(args) -> None:
    from braindecode.models import CBraMod, Labram

    b, n_frames, seed = args.pretrain_batch, int(round(args.seconds * 4)), args.seed
    torch.manual_seed(seed)
    ours = BrainOmni.from_preset("tiny").train()
    codes = torch.randint(0, 512, (b, 16, 4, n_frames), generator=torch.Generator().manual_seed(0))
    n_times = int(round(args.seconds * 200))
    x = torch.randn(b, 64, n_times, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 4, (b,), generator=torch.Generator().manual_seed(2))
    target = n_params(ours)
    peers = {  # braindecode's default widths; depth raised until the size matches ours
        "labram": matched(lambda d: Labram(n_chans=64, n_times=n_times, n_outputs=4,
                                           sfreq=200.0, num_layers=d), target),
        "cbramod": matched(lambda d: CBraMod(n_chans=64, n_times=n_times, n_outputs=4,
                                             sfreq=200.0, n_layer=d), target),
    }  # fmt: skip
    counts = {"brainomni_tiny": target, **{k: n_params(m) for k, m in peers.items()}}
    log("pretraining: parameters " + ", ".join(f"{k} {v / 1e6:.2f} M" for k, v in counts.items()))
    opts = {k: torch.optim.AdamW(m.parameters(), lr=5e-4) for k, m in peers.items()}
    ours_opt = torch.optim.AdamW([p for p in ours.parameters() if p.requires_grad], lr=5e-4)
    fns = {"ours": lambda: step(ours(codes)["loss"], ours_opt)}
    from braindecode.models.labram import LABRAM_CHANNEL_ORDER

    extra = {"labram": {"ch_names": LABRAM_CHANNEL_ORDER[:64]}, "cbramod": {}}
    for name, model in peers.items():
        model.train()
        fns[name] = lambda m=model, o=opts[name], kw=extra[name]: step(
            F.cross_entropy(m(x, **kw), y), o
        )
    for fn in fns.values():
        fn()  # warm-up
    per_step = alternate(fns, args.train_reps, 3 * args.budget_s)
    for name in peers:
        unit = (
            f"samples/s ({args.seconds:g}-s windows; params: brainomni_tiny "
            f"{counts['brainomni_tiny'] / 1e6:.2f} M, {name} {counts[name] / 1e6:.2f} M)"
        )
        emit(f"brainomni_pretrain_vs_{name}", b / per_step["ours"], b / per_step[name],
             per_step[name] / per_step["ours"], unit)  # fmt: skip


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", help="checkout of github.com/OpenTSLab/BrainOmni")
    parser.add_argument("--mirror", default=DEFAULT_MIRROR, help="git mirror to copy from")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, EEG training only")
    parser.add_argument("--batch", type=int, default=1, help="windows per tokenizer batch")
    parser.add_argument("--pretrain-batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="window length in seconds")
    parser.add_argument("--reps", type=int, help="encode repetitions (default 7, quick 3)")
    parser.add_argument("--train-reps", type=int, help="training steps (default 3, quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-pretraining", action="store_true", help="tokenizers only")
    args = parser.parse_args(argv)
    args.reps = args.reps or (3 if args.quick else 7)
    args.train_reps = args.train_reps or (2 if args.quick else 3)
    args.budget_s = 20.0 if args.quick else 60.0
    torch.set_num_threads(args.threads)
    with contextlib.ExitStack() as stack:
        root, where = find_reference(args, stack)
        ref_cls = None
        if root is None:
            log(f"reference not available: {where}")
        else:
            log(f"reference: {where}")
            try:
                ref_cls = load_reference(root, stack)
            except Exception as err:
                log(f"reference not importable: {type(err).__name__}: {err}")
        tokenizers(args, ref_cls)
    if not args.skip_pretraining:
        pretraining(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
