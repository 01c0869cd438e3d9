from __future__ import annotations

import json

import numpy as np
import pytest


def test_wav2vec2_adapter_with_random_tiny_model(tmp_path):
    transformers = pytest.importorskip("transformers", reason="transformers not installed")
    from ctcbias.decode.hf import HFCTCAdapter

    letters = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ'")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    vocab.update({c: i + 5 for i, c in enumerate(letters)})
    (tmp_path / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = transformers.Wav2Vec2CTCTokenizer(str(tmp_path / "vocab.json"))
    extractor = transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000)
    processor = transformers.Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer)
    config = transformers.Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8),
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, pad_token_id=0,
    )
    import torch

    from ctcbias.decode.greedy import greedy_ids

    torch.manual_seed(0)
    model = transformers.Wav2Vec2ForCTC(config)
    adapter = HFCTCAdapter(model, processor)
    assert adapter.vocab.kind == "char" and adapter.vocab.upper
    assert adapter.vocab.blank == 0
    audio = np.random.default_rng(0).normal(size=16000).astype(np.float32) * 0.1
    # the adapter's log-probs are the model's own, normalized
    lp = adapter.log_probs(audio)
    inputs = extractor(audio, sampling_rate=16000, return_tensors="pt").input_values
    with torch.inference_mode():
        logits = model(inputs).logits[0]
    expected = torch.log_softmax(logits, dim=-1).numpy()
    assert lp.shape == expected.shape == (logits.shape[0], len(vocab))
    np.testing.assert_allclose(lp, expected, atol=1e-5)
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, atol=1e-4)
    # our greedy path over the adapter's vocabulary is Hugging Face's own argmax decode
    ids = greedy_ids(lp, blank=adapter.vocab.blank)
    ours = "".join(adapter.tokens[i] for i in ids).replace("|", " ")
    theirs = processor.batch_decode(logits.argmax(-1)[None])[0]
    assert len(ids) > 5 and " ".join(ours.split()) == " ".join(theirs.split()), (ours, theirs)
    # and the biased beam search runs on them end to end, catalog and all
    out = adapter.transcribe(audio, catalog=["Pertzye"])
    assert out.duration == pytest.approx(lp.shape[0] * 0.02)
    assert all(w.start <= w.end for w in out.words)
    # an audio file (path, bytes) is read and resampled to 16 kHz: the same frames as the
    # waveform handed over directly (8 kHz here, so resampling is used)
    import soundfile as sf

    from ctcbias.audio.load import load_audio
    from ctcbias.errors import AudioError

    path = tmp_path / "clip.wav"
    sf.write(path, audio[::2], 8000, subtype="FLOAT")
    from_file = adapter.log_probs(path)
    from_array = adapter.log_probs(load_audio(path))
    np.testing.assert_allclose(from_file, from_array)
    assert adapter.transcribe(str(path)).text == adapter.transcribe(path.read_bytes()).text
    with pytest.raises(AudioError, match="mono waveform"):
        adapter.log_probs(np.zeros((2, 16000), dtype=np.float32))
    with pytest.raises(AudioError, match="missing.wav"):
        adapter.transcribe(tmp_path / "missing.wav")
