import pytest
import torch

from ctcbias.errors import ModelError
from ctcbias.model import ConformerCTC, ModelConfig


def tiny(**kw) -> ConformerCTC:
    cfg = ModelConfig(
        vocab_size=30, d_model=32, n_layers=3, n_heads=2, phone_layers=(1, 2), dropout=0.0, **kw
    )
    return ConformerCTC(cfg).eval()


def test_shapes_and_outputs():
    m = tiny()
    out = m(torch.randn(3, 101, 80), torch.tensor([101, 64, 9]))
    assert out.log_probs.shape == (3, 13, 30)
    assert out.out_lengths.tolist() == [13, 8, 2]
    assert set(out.phone_log_probs) == {1, 2}
    # phone heads run at twice the encoder frame rate (phone_upsample=2)
    assert out.phone_log_probs[1].shape == (3, 26, 40)
    assert set(out.hidden) == {1, 2, 3} and out.hidden[3].shape == (3, 13, 32)
    assert torch.equal(out.encoder_out, out.hidden[3])
    assert torch.allclose(out.log_probs.exp().sum(-1), torch.ones(3, 13), atol=1e-5)


def test_padding_does_not_change_valid_outputs():
    m = tiny()
    x = torch.randn(2, 150, 80)
    out = m(x, torch.tensor([150, 77]))
    alone = m(x[1:, :77], torch.tensor([77]))
    n = int(alone.out_lengths[0])
    assert torch.allclose(out.log_probs[1, :n], alone.log_probs[0], atol=1e-4)
    assert torch.allclose(
        out.phone_log_probs[2][1, : 2 * n], alone.phone_log_probs[2][0], atol=1e-4
    )


def test_batch_of_one_and_short_input():
    m = tiny()
    out = m(torch.randn(1, 3, 80), torch.tensor([3]))
    assert out.log_probs.shape[1] == 1 and torch.isfinite(out.log_probs).all()


def test_default_config_and_param_count():
    cfg = ModelConfig()
    assert cfg.phone_layers == (4, 8) and cfg.subsampling == 8
    assert 9e6 < ConformerCTC(cfg).num_params() < 12e6
    assert ModelConfig.default_phone_layers(6) == (2, 4)


def test_bad_config_names_the_field():
    with pytest.raises(ModelError, match="phone_layers"):
        ModelConfig(n_layers=4, phone_layers=(5,))
    with pytest.raises(ModelError, match="d_model"):
        ModelConfig(d_model=30, n_heads=4)
    assert ModelConfig.from_dict(ModelConfig().to_dict()) == ModelConfig()
