"""Models built on neurokit's tokenizers and blocks (torch).

>>> from neurokit.models import TFMTokenEncoder
>>> enc = TFMTokenEncoder.from_preset("tiny", n_outputs=4)
"""

from .atat import ATAT, AlternatingAdversarialLoss
from .brainomni import BrainOmni
from .brainomni_heads import BrainOmniClassifier
from .cleaners import CLEANERS, ASRCleaner, ICALabelCleaner
from .denoise import DENOISERS, FCNN, RNNLSTM, BaseDenoiser, ComplexCNN, NovelCNN, SimpleCNN
from .denoiser import Denoiser
from .ssvep import GuneySSVEPClassifier, GuneySSVEPNet, subband_stack
from .tfm_encoder import TFMTokenEncoder
from .tiger_separator import TIGERSeparator

__all__ = [
    "TFMTokenEncoder",
    "BrainOmni",
    "BrainOmniClassifier",
    "GuneySSVEPNet",
    "GuneySSVEPClassifier",
    "subband_stack",
    "BaseDenoiser",
    "Denoiser",
    "FCNN",
    "SimpleCNN",
    "ComplexCNN",
    "RNNLSTM",
    "NovelCNN",
    "ATAT",
    "AlternatingAdversarialLoss",
    "TIGERSeparator",
    "ICALabelCleaner",
    "ASRCleaner",
    "CLEANERS",
    "DENOISERS",
    "MODELS",
]

#: registry name -> class, for :func:`neurokit.training.from_pretrained`
MODELS = {cls.name: cls for cls in (TFMTokenEncoder, GuneySSVEPNet, BrainOmni, BrainOmniClassifier)}
MODELS.update(DENOISERS)
