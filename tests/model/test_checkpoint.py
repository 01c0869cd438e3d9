import pytest
import torch

from ctcbias.errors import ModelError
from ctcbias.model import ConformerCTC, ModelConfig
from ctcbias.model.checkpoint import load_model, save_checkpoint


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from ctcbias.text.tokenizer import Tokenizer

    texts = ["the cat sat on the mat", "a dog ran in the park", "she sells sea shells"] * 5
    return Tokenizer.train(texts, tmp_path_factory.mktemp("tok"), 40)


def model_for(tok) -> ConformerCTC:
    cfg = ModelConfig(
        vocab_size=len(tok.vocab), d_model=32, n_layers=2, n_heads=2, phone_layers=(1,)
    )
    m = ConformerCTC(cfg)
    m.set_feature_stats(torch.full((80,), -5.0), torch.full((80,), 3.0))
    return m.eval()


@pytest.mark.parametrize("half", [False, True])
def test_round_trip(tmp_path, tokenizer, half):
    m = model_for(tokenizer)
    path = save_checkpoint(
        tmp_path / "m.pt", m, tokenizer, {"steps": 7, "hours": 1.5}, step=7, half=half
    )
    m2, tok2, meta = load_model(path)
    assert m2.cfg == m.cfg and meta["steps"] == 7 and meta["phone_vocab"][0] == "<blk>"
    assert tok2.vocab == tokenizer.vocab
    x, n = torch.randn(2, 90, 80) * 3 - 5, torch.tensor([90, 50])
    with torch.no_grad():
        a, b = m(x, n).log_probs, m2(x, n).log_probs
    assert torch.allclose(a, b, atol=5e-2 if half else 1e-6)
    assert torch.equal(m2.feat_mean, m.feat_mean)


def test_half_is_smaller(tmp_path, tokenizer):
    m = model_for(tokenizer)
    full = save_checkpoint(tmp_path / "a.pt", m, tokenizer).stat().st_size
    half = save_checkpoint(tmp_path / "b.pt", m, tokenizer, half=True).stat().st_size
    assert half < 0.7 * full


def test_errors(tmp_path, tokenizer):
    with pytest.raises(ModelError, match="no such file"):
        load_model(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(bad)
    # bytes that look like a pickle: one line saying so, not torch's paragraphs of advice
    pickled = tmp_path / "pickled.pt"
    pickled.write_bytes(b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01cos\nsystem\nq\x02s.")
    with pytest.raises(ModelError, match=r"pickled\.pt: cannot be read") as info:
        load_model(pickled)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300
    with pytest.raises(ModelError, match="is a directory"):
        load_model(tmp_path)
    torch.save({"x": 1}, tmp_path / "other.pt")
    with pytest.raises(ModelError, match="not a ctcbias checkpoint"):
        load_model(tmp_path / "other.pt")
    m = model_for(tokenizer)
    path = save_checkpoint(tmp_path / "m.pt", m, tokenizer)
    payload = torch.load(path, weights_only=True)
    payload["config"]["d_model"] = 64
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(ModelError, match="do not match"):
        load_model(tmp_path / "mismatch.pt")
