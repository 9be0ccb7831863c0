"""Layers: the 1D attention registry, attention modules written here, PSA (EPSANet)."""

from .attention import As2d, create_attn1d, list_attn1d
from .bam import BAM
from .criss_cross import CrissCrossAttention
from .gct import GCT
from .psa import PSABottleneck, PSAModule, SEWeight

__all__ = [
    "BAM",
    "GCT",
    "As2d",
    "CrissCrossAttention",
    "PSABottleneck",
    "PSAModule",
    "SEWeight",
    "create_attn1d",
    "list_attn1d",
]
