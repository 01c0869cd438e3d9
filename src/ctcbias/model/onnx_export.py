"""ONNX export of the encoder: feats (B, T, 80) + lengths (B,) -> log_probs, out_lengths and
the phone log-probs of each head, with dynamic batch and time axes (opset 17).

Attention is switched to plain matmul/softmax for the export (the SDPA op does not export
with a boolean mask on every opset); the numbers are the same.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ctcbias.model.conformer import ConformerCTC, set_attention_impl


class _ExportWrapper(nn.Module):
    def __init__(self, model: ConformerCTC) -> None:
        super().__init__()
        self.model = model

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor):
        out = self.model(feats, lengths)
        return (
            out.log_probs,
            out.out_lengths,
            *(out.phone_log_probs[k] for k in self.model.cfg.phone_layers),
        )


def output_names(model: ConformerCTC) -> list[str]:
    return ["log_probs", "out_lengths", *(f"phone_log_probs_{k}" for k in model.cfg.phone_layers)]


def export_onnx(model: ConformerCTC, path: str | Path, opset: int = 17) -> Path:
    """Write ``model`` (eval mode, CPU, float32) to ``path``; returns the path."""
    model = model.float().cpu().eval()
    set_attention_impl(model, use_sdpa=False)
    try:
        feats = torch.randn(2, 203, model.cfg.n_mels)
        lengths = torch.tensor([203, 150], dtype=torch.long)
        names = output_names(model)
        dyn = {"feats": {0: "batch", 1: "time"}, "lengths": {0: "batch"}}
        for n in names:
            dyn[n] = {0: "batch"} if n == "out_lengths" else {0: "batch", 1: "frames"}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _ExportWrapper(model),
                (feats, lengths),
                str(path),
                input_names=["feats", "lengths"],
                output_names=names,
                dynamic_axes=dyn,
                opset_version=opset,
                dynamo=False,
            )
    finally:
        set_attention_impl(model, use_sdpa=True)
    return path


def onnx_max_diff(
    model: ConformerCTC, path: str | Path, batch: int = 2, frames: int = 317
) -> float:
    """Largest |ONNX Runtime - PyTorch| over all outputs on random features (valid frames only)."""
    import onnxruntime as ort

    model = model.float().cpu().eval()
    feats = torch.randn(batch, frames, model.cfg.n_mels) * 3 - 5
    lengths = torch.tensor([frames] + [max(1, frames - 40 * i) for i in range(1, batch)])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"feats": feats.numpy(), "lengths": lengths.numpy()})
    with torch.no_grad():
        ref = _ExportWrapper(model)(feats, lengths)
    olens = ref[1]
    worst = 0.0
    for g, r in zip(got, ref, strict=True):
        r = r.numpy()
        if r.ndim == 3:
            for b in range(batch):
                n = int(olens[b])
                worst = max(worst, float(abs(g[b, :n] - r[b, :n]).max()))
        else:
            worst = max(worst, float(abs(g - r).max()))
    return worst
