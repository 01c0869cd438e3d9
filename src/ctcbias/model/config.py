"""Model dimensions: one frozen dataclass, stored inside every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ctcbias.errors import ModelError


@dataclass(frozen=True)
class ModelConfig:
    """Dimensions of a Conformer-CTC encoder with intermediate phone CTC heads.

    Overrides go through ``dataclasses.replace`` (or ``with_overrides``); ``validate`` is
    called on construction so an impossible config never reaches the model.
    """

    vocab_size: int = 257
    """CTC output size of the subword head, blank (id 0) included."""
    n_mels: int = 80
    """Input feature bins (log-mel)."""
    d_model: int = 192
    """Encoder width."""
    n_layers: int = 12
    """Conformer blocks."""
    n_heads: int = 4
    """Attention heads; ``d_model`` must divide by it and the head size must be even (rotary)."""
    ff_mult: int = 4
    """Feed-forward hidden size = ff_mult * d_model (two macaron FFNs per block)."""
    conv_kernel: int = 15
    """Depthwise convolution kernel of the conv module (odd)."""
    dropout: float = 0.1
    """Dropout in FFN, attention output, conv module and after subsampling."""
    subsampling: int = 8
    """Time reduction of the front end: three stride-2 conv2d layers (8 = 80 ms frames)."""
    subsampling_channels: int = 64
    """Channels of the conv2d front end."""
    phone_vocab_size: int = 40
    """Phone CTC head size: blank + 39 ARPAbet phones."""
    phone_layers: tuple[int, ...] = (4, 8)
    """1-based block indexes after which an intermediate phone CTC head reads the hidden state."""
    phone_upsample: int = 2
    """Phone frames per encoder frame: each phone head emits this many frames per encoder
    frame (80 ms / 2 = 40 ms), since speech runs at 12-15 phones/s and CTC needs at least
    one frame per phone (plus one between repeats)."""
    adapter_layers: tuple[int, ...] = ()
    """1-based block indexes whose outputs the contextual adapter reads (placeholder)."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Free-form settings of later components (e.g. the adapter), kept with the checkpoint."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "phone_layers", tuple(int(x) for x in self.phone_layers))
        object.__setattr__(self, "adapter_layers", tuple(int(x) for x in self.adapter_layers))
        self.validate()

    def validate(self) -> None:
        """Raise ModelError naming the first field whose value cannot work."""

        def bad(name: str, need: str) -> ModelError:
            return ModelError(f"model config: {name}={getattr(self, name)!r}, expected {need}")

        if self.vocab_size < 2:
            raise bad("vocab_size", ">= 2 (blank + at least one token)")
        if self.n_mels < 1:
            raise bad("n_mels", ">= 1")
        if self.n_heads < 1 or self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise bad("d_model", f"a multiple of 2*n_heads (n_heads={self.n_heads})")
        if self.n_layers < 1:
            raise bad("n_layers", ">= 1")
        if self.ff_mult < 1:
            raise bad("ff_mult", ">= 1")
        if self.conv_kernel < 1 or self.conv_kernel % 2 == 0:
            raise bad("conv_kernel", "an odd number >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise bad("dropout", "in [0, 1)")
        if self.subsampling not in (1, 2, 4, 8):
            raise bad("subsampling", "1, 2, 4 or 8 (stride-2 conv2d layers)")
        if self.subsampling_channels < 1:
            raise bad("subsampling_channels", ">= 1")
        if self.phone_upsample < 1:
            raise bad("phone_upsample", ">= 1")
        if self.phone_vocab_size < 2:
            raise bad("phone_vocab_size", ">= 2")
        for name in ("phone_layers", "adapter_layers"):
            layers = getattr(self, name)
            if any(not 1 <= x <= self.n_layers for x in layers) or len(set(layers)) != len(layers):
                raise bad(name, f"distinct block indexes in 1..{self.n_layers}")

    @property
    def subsampling_layers(self) -> int:
        return {1: 0, 2: 1, 4: 2, 8: 3}[self.subsampling]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["phone_layers"] = list(self.phone_layers)
        d["adapter_layers"] = list(self.adapter_layers)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelError(f"model config: unknown fields {unknown}; known: {sorted(known)}")
        return cls(**d)

    def with_overrides(self, **changes: Any) -> ModelConfig:
        """A copy with the non-None ``changes`` applied."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @staticmethod
    def default_phone_layers(n_layers: int) -> tuple[int, ...]:
        """Blocks at 1/3 and 2/3 depth (distinct, in range): 12 -> (4, 8), 3 -> (1, 2)."""
        layers = sorted({max(1, round(n_layers / 3)), max(1, round(2 * n_layers / 3))})
        return tuple(x for x in layers if x <= n_layers)
