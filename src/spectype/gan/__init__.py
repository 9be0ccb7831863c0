"""GAN augmentation of rare classes: training, sampling and GAN-train/GAN-test evaluation."""

from ..preprocess import l2_normalise
from .data import ClassRows, read_class
from .evaluate import evaluate_checkpoints, gan_train_test
from .sample import load_generator, sample, sample_to_file, write_generated
from .train import GanConfig, RunResult, list_checkpoints, train_gan

__all__ = [
    "ClassRows",
    "GanConfig",
    "RunResult",
    "evaluate_checkpoints",
    "gan_train_test",
    "l2_normalise",
    "list_checkpoints",
    "load_generator",
    "read_class",
    "sample",
    "sample_to_file",
    "train_gan",
    "write_generated",
]
