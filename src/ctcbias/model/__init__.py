"""ctcbias.model: Conformer-CTC encoder, CTC heads, config and checkpoint I/O."""

from ctcbias.model.config import ModelConfig
from ctcbias.model.conformer import ConformerCTC, ModelOutput, count_params

__all__ = ["ModelConfig", "ConformerCTC", "ModelOutput", "count_params"]
