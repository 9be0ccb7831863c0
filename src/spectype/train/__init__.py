"""Training: `TrainConfig` + `load_config` (YAML + key=value overrides), `train` (the loop),
resumable checkpoints and DDP under torchrun. Released model folders live in models.release.
"""

from .config import TrainConfig, load_config, save_config
from .engine import TrainResult, split_indices, train

__all__ = ["TrainConfig", "TrainResult", "load_config", "save_config", "split_indices", "train"]
