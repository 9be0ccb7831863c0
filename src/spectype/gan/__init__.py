"""GAN augmentation of rare classes: data, checkpoint folders, sampling and GAN-train/GAN-test.

Training is in `spectype.train.gan` (beside the classifier's loop); networks in models/gan/.
"""

from ..preprocess import l2_normalise
from .data import ClassRows, read_class
from .evaluate import evaluate_checkpoints, gan_train_test
from .sample import augment_with_samples, load_generator, sample, sample_to_file, write_generated

__all__ = [
    "augment_with_samples",
    "ClassRows",
    "evaluate_checkpoints",
    "gan_train_test",
    "l2_normalise",
    "load_generator",
    "read_class",
    "sample",
    "sample_to_file",
    "write_generated",
]
