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
    model = transformers.Wav2Vec2ForCTC(config)
    adapter = HFCTCAdapter(model, processor)
    audio = np.random.default_rng(0).normal(size=16000).astype(np.float32) * 0.1
    out = adapter.transcribe(audio, catalog=["Pertzye"])
    assert isinstance(out.text, str)
    assert adapter.vocab.kind == "char" and adapter.vocab.upper
