"""GAN generators and discriminators for spectrum augmentation (LCGAN and the SGAN baseline)."""

from .lcgan import ConvDiscriminator, L2Normalize, LCGenerator, stage_lengths
from .sgan import MLPDiscriminator, MLPGenerator

__all__ = [
    "ConvDiscriminator",
    "L2Normalize",
    "LCGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "stage_lengths",
]
