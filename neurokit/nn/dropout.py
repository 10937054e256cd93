"""Dropout with a cheaper random mask on the CPU (used by every model of neurokit).

``torch.nn.Dropout`` draws its CPU mask with ``bernoulli_``, one float per element, which takes
a large share of a CPU training step: about 70 ms of 330 ms for the three dropouts (3 M
activations each) of the SSVEP network of Guney et al., about 1 s of 6 s for BrainOmni tiny.
:class:`Dropout` draws 16 random bits per element instead (full-range 64-bit integers viewed as
four 16-bit words) and keeps an element when its word is at or above ``p`` on a 1/65536 grid,
so the drop probability is ``p`` rounded to the nearest multiple of 2^-16. The backward pass
keeps the scaled mask in the input's dtype, as torch's CPU dropout does. Other devices,
evaluation mode and ``p = 0`` go to ``torch.nn.functional.dropout`` unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Dropout"]

_LEVELS = 1 << 16


def _keep_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """Boolean ``keep`` mask shaped like ``x``, each element kept with probability ``1 - p``
    (``p`` on the 2^-16 grid), from the default torch generator."""
    n = x.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device)
    words.random_(-(2**63), None)  # all 64 bits uniform, so each 16-bit word is too
    signed = words.view(torch.int16)[:n].view(x.shape)  # uniform over [-2^15, 2^15)
    return signed >= int(round(p * _LEVELS)) - _LEVELS // 2


class _MaskedScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        # the mask in x's dtype, already scaled: one multiply each way (a boolean mask would
        # be converted on every use), and the memory of torch's own CPU dropout
        mask = _keep_mask(x, p).to(x.dtype).mul_(1.0 / (1.0 - p))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None


class Dropout(nn.Dropout):
    """``torch.nn.Dropout`` (same arguments and attribute ``p``) with the 16-bit CPU mask
    described in the module docstring; ``inplace`` is honoured only off the fast path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = float(self.p)
        fast = self.training and 0.0 < p < 1.0 and x.device.type == "cpu"
        if not fast or not x.is_floating_point():
            return F.dropout(x, p, self.training, self.inplace)
        return _MaskedScale.apply(x, p)
