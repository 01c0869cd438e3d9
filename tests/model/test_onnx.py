import pytest
import torch

from ctcbias.model import ConformerCTC, ModelConfig

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def test_onnx_parity(tmp_path):
    from ctcbias.model.onnx_export import export_onnx, onnx_max_diff

    torch.manual_seed(0)
    m = ConformerCTC(
        ModelConfig(vocab_size=50, d_model=32, n_layers=3, n_heads=2, phone_layers=(1, 2))
    )
    path = export_onnx(m, tmp_path / "enc.onnx")
    assert onnx_max_diff(m, path, batch=3, frames=257) < 1e-3
    assert onnx_max_diff(m, path, batch=1, frames=40) < 1e-3  # another time length: dynamic axis
