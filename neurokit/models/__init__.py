"""Models built on neurokit's tokenizers and blocks (torch).

>>> from neurokit.models import TFMTokenEncoder
>>> enc = TFMTokenEncoder.from_preset("tiny", n_outputs=4)
"""

from .tfm_encoder import TFMTokenEncoder

__all__ = ["TFMTokenEncoder", "MODELS"]

#: registry name -> class, for :func:`neurokit.training.from_pretrained`
MODELS = {TFMTokenEncoder.name: TFMTokenEncoder}
