"""BrainOmni fine-tuning: a classification head on the features of a pretrained backbone.

Follows the downstream code of the BrainOmni reference (github.com/OpenTSLab/BrainOmni,
``downstream/model.py``, ``brainomni/model.py::encode``, ``downstream/config.py``):

- features: the hidden states after all blocks but the last of the pretrained model (11 of 12;
  the output of that block, not an average over blocks), each token L2-normalized, averaged
  over time (valid frames only here), the sources concatenated: ``[b, n_sources * dim]``;
- head: dropout 0.1, linear to ``dim``, SELU, linear to ``n_outputs``; cross-entropy with label
  smoothing 0.1; optionally a frozen backbone (the reference's linear-probing runs).

The classifier holds only the blocks it runs, so every parameter receives a gradient (no
``find_unused_parameters`` needed under DDP). The reference fine-tunes the backbone with a
learning rate ten times below the head's; :class:`neurokit.training.Trainer` has one learning
rate, so pass ``freeze_backbone`` or a separate optimizer to get that.

>>> import torch
>>> clf = BrainOmniClassifier.from_preset("micro", n_outputs=3)
>>> clf(torch.randint(0, 512, (2, 16, 4, 6))).shape
torch.Size([2, 3])
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidParameterError
from ..nn.dropout import Dropout
from .brainomni import (
    ARCH_DEFAULTS,
    PRESETS,
    BrainOmni,
    BrainOmniBackbone,
    PretrainedMixin,
    init_linear,
)

__all__ = ["BrainOmniClassifier"]

_LABEL_KEYS = ("label", "y")
#: backbone keywords a fine-tuned model must share with its checkpoint
_STRUCTURE = ("n_sources", "n_levels", "codebook_size", "embed_dim", "dim", "n_heads", "ffn",
              "rope_layout")  # fmt: skip


class BrainOmniClassifier(PretrainedMixin, nn.Module):
    """Classifier on BrainOmni features (``forward_features`` then ``forward_head``).

    Parameters (keyword-only)
    ----------
    n_outputs : int
        Number of classes.
    n_sources, n_levels, codebook_size, embed_dim, dim, n_heads, dropout, ffn, rope_layout,
    freeze_embeddings :
        Backbone architecture, see :class:`~neurokit.models.brainomni.BrainOmniBackbone`.
    depth : int
        Blocks run for the features: one less than the pretrained model (presets: ``tiny`` and
        ``base`` 11 of 12, ``micro`` 1 of 2).
    head_hidden : int | None
        Hidden width of the head (default ``dim``).
    head_dropout, label_smoothing : float
        Dropout before the head (0.1) and label smoothing of the loss (0.1).
    normalize_features : bool
        L2-normalize each token before pooling (reference).
    freeze_backbone : bool
        Train the head only (backbone frozen and kept in eval mode).
    sfreq, n_times : float | None, int | None
        Input contract of the signals behind the tokens (unused by the computation).

    :meth:`forward` returns logits ``[b, n_outputs]`` for ``Tokens``, codes ``[b, s, k, n]``
    or a batch dict without labels; for a batch dict with ``"label"`` (or ``"y"``) int64
    ``[b]`` (``-1`` = unlabeled, ignored) it returns ``{"loss", "acc", "logits"}`` for
    :class:`neurokit.training.Trainer`.
    """

    name = "brainomni_classifier"
    presets = {k: {**v, "depth": v["depth"] - 1} for k, v in PRESETS.items()}

    def __init__(
        self,
        *,
        n_outputs: int,
        n_sources: int = 16,
        n_levels: int = 4,
        codebook_size: int = 512,
        embed_dim: int = 256,
        dim: int = 256,
        n_heads: int = 8,
        depth: int = 11,
        dropout: float = 0.1,
        ffn: str = "selu",
        rope_layout: str = "banded",
        freeze_embeddings: bool = False,
        head_hidden: int | None = None,
        head_dropout: float = 0.1,
        label_smoothing: float = 0.1,
        normalize_features: bool = True,
        freeze_backbone: bool = False,
        sfreq: float | None = None,
        n_times: int | None = None,
    ):
        super().__init__()
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, int) or n_outputs < 2:
            raise InvalidParameterError(f"n_outputs={n_outputs!r}; must be an integer >= 2")
        if not 0.0 <= label_smoothing < 1.0:
            raise InvalidParameterError(f"label_smoothing={label_smoothing!r}; must be in [0, 1)")
        arch = dict(
            n_sources=n_sources, n_levels=n_levels, codebook_size=codebook_size,
            embed_dim=embed_dim, dim=dim, n_heads=n_heads, depth=depth, dropout=dropout,
            ffn=ffn, rope_layout=rope_layout, freeze_embeddings=freeze_embeddings,
        )  # fmt: skip
        self.config = dict(
            n_outputs=n_outputs, **arch, head_hidden=head_hidden, head_dropout=head_dropout,
            label_smoothing=label_smoothing, normalize_features=normalize_features,
            freeze_backbone=freeze_backbone, sfreq=sfreq, n_times=n_times,
        )  # fmt: skip
        self.n_outputs, self.sfreq, self.n_times = n_outputs, sfreq, n_times
        self.label_smoothing = float(label_smoothing)
        self.normalize_features, self.freeze_backbone = normalize_features, freeze_backbone
        self.backbone = BrainOmniBackbone(**arch)
        hidden = head_hidden or dim
        self.head = nn.Sequential(
            Dropout(head_dropout),
            nn.Linear(n_sources * dim, hidden),
            nn.SELU(),
            nn.Linear(hidden, n_outputs),
        )
        init_linear(self.head)
        if freeze_backbone:
            self.backbone.requires_grad_(False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained_backbone(cls, path, *, n_outputs: int, n_blocks=None, **overrides):
        """A classifier whose backbone starts from a saved :class:`BrainOmni` (or classifier).

        Parameters
        ----------
        path : path-like
            A directory written by ``save_pretrained`` or a training checkpoint.
        n_outputs : int
            Number of classes.
        n_blocks : int | None
            Pretrained blocks to keep; default all but the last (reference).
        **overrides
            Other classifier keywords (``freeze_backbone``, ``dropout``, ``label_smoothing``,
            ...); architecture keywords must match the checkpoint's.
        """
        from ..training.checkpoint import load_checkpoint

        loaded = load_checkpoint(path)
        config = loaded["config"]
        if config.get("name") not in (BrainOmni.name, cls.name):
            raise InvalidParameterError(
                f"{path} holds a {config.get('name')!r} model; need a {BrainOmni.name!r} "
                f"or {cls.name!r} checkpoint"
            )
        saved = config.get("kwargs", {})
        arch = {k: saved.get(k, v) for k, v in ARCH_DEFAULTS.items()}
        stored_depth = arch["depth"]
        if config["name"] == BrainOmni.name:
            default = max(stored_depth - 1, 1)
        else:
            default = stored_depth
        depth = default if n_blocks is None else n_blocks
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= stored_depth:
            raise InvalidParameterError(
                f"n_blocks={n_blocks!r}; the checkpoint has {stored_depth} blocks, keep 1 to "
                f"{stored_depth}"
            )
        if "depth" in overrides:
            raise InvalidParameterError("pass n_blocks (blocks kept), not depth")
        clash = sorted(k for k in _STRUCTURE if k in overrides and overrides[k] != arch[k])
        if clash:
            raise InvalidParameterError(
                f"{clash} differ from the pretrained backbone's "
                f"{ {k: arch[k] for k in clash} }; only dropout, freeze_embeddings, head and "
                "training options can be changed"
            )
        kwargs = {**arch, "depth": depth, "sfreq": saved.get("sfreq"),
                  "n_times": saved.get("n_times"), **overrides, "n_outputs": n_outputs}  # fmt: skip
        model = cls(**kwargs)
        state = {}
        for key, value in loaded["model"].items():
            if not key.startswith("backbone."):
                continue
            parts = key.split(".")
            if parts[1] == "blocks" and int(parts[2]) >= depth:
                continue
            state[key[len("backbone.") :]] = value
        model.backbone.load_state_dict(state, strict=True)
        return model

    # ------------------------------------------------------------------ network
    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    def forward_features(self, tokens, mask=None) -> torch.Tensor:
        """Pooled features ``[b, n_sources * dim]``: per-token L2-normalized hidden states
        averaged over valid frames, sources concatenated (padded sources give zeros)."""
        codes, valid = self.backbone.parse(tokens, mask)
        h = self.backbone.encode_embedded(self.backbone.embed(codes), valid)
        if self.normalize_features:
            h = F.normalize(h, dim=-1, eps=1e-6)
        weight = valid[..., None].to(h.dtype)
        pooled = (h * weight).sum(dim=2) / weight.sum(dim=2).clamp_min(1.0)  # [b, s, d]
        missing = self.backbone.n_sources - pooled.shape[1]
        if missing:
            pooled = F.pad(pooled, (0, 0, 0, missing))
        return pooled.flatten(1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``[b, n_outputs]`` of pooled features."""
        return self.head(features)

    def forward(self, batch, mask=None):
        """Logits, or the loss dict for a labelled batch dict (see the class docstring)."""
        labels = None
        if isinstance(batch, dict):
            labels = next((batch[k] for k in _LABEL_KEYS if k in batch), None)
        logits = self.forward_head(self.forward_features(batch, mask))
        if labels is None:
            return logits
        return self.loss(logits, labels)

    def loss(self, logits: torch.Tensor, labels) -> dict:
        """Label-smoothed cross-entropy and accuracy over labelled items (label >= 0)."""
        labels = torch.as_tensor(labels, device=logits.device).long().reshape(-1)
        if labels.shape[0] != logits.shape[0]:
            raise InvalidParameterError(
                f"{labels.shape[0]} labels for a batch of {logits.shape[0]} items"
            )
        if int(labels.max()) >= self.n_outputs:
            raise InvalidParameterError(
                f"labels must lie in [0, {self.n_outputs - 1}] (n_outputs={self.n_outputs}) or "
                f"be -1 (unlabeled); got {int(labels.max())}"
            )
        keep = labels >= 0
        if not keep.any():
            zero = logits.sum() * 0.0
            return {"loss": zero, "acc": zero.detach(), "logits": logits}
        loss = F.cross_entropy(logits[keep], labels[keep], label_smoothing=self.label_smoothing)
        acc = (logits[keep].argmax(dim=-1) == labels[keep]).float().mean()
        return {"loss": loss, "acc": acc, "logits": logits}

    @torch.no_grad()
    def predict_proba(self, tokens, mask=None, *, batch_size: int = 32) -> np.ndarray:
        """Class probabilities ``(b, n_outputs)`` in eval mode, ``batch_size`` items at a time."""
        codes, valid = self.backbone.parse(tokens, mask)
        was_training = self.training
        self.eval()
        try:
            parts = [
                self.forward_head(self.forward_features(c, v)).softmax(dim=-1)
                for c, v in zip(codes.split(batch_size), valid.split(batch_size))
            ]
        finally:
            self.train(was_training)
        return torch.cat(parts).float().cpu().numpy()

    def evaluate(self, tokens, y, mask=None, *, batch_size: int = 32) -> dict:
        """:func:`neurokit.metrics.classification_report` (accuracy, balanced accuracy, kappa,
        weighted F1, ROC-AUC) of the predictions on ``tokens`` against labels ``y``."""
        from ..metrics import classification_report

        proba = self.predict_proba(tokens, mask, batch_size=batch_size)
        y = np.asarray(torch.as_tensor(y).cpu()).reshape(-1)
        return classification_report(y, proba.argmax(axis=1), proba)
