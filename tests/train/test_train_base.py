"""End-to-end training on espeak-ng speech (skipped where espeak-ng is missing)."""

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from synth import ESPEAK, SENTENCES, synthesize  # noqa: E402

from ctcbias.model.checkpoint import load_model, read_checkpoint  # noqa: E402
from ctcbias.train.base import TrainOptions, train_base  # noqa: E402

pytestmark = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng not installed (/usr/bin/espeak-ng)"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from ctcbias.text.tokenizer import Tokenizer

    root = tmp_path_factory.mktemp("synth")
    train = synthesize(root, SENTENCES[:6])
    tok = Tokenizer.train(SENTENCES, root / "tok", 40)
    return train, Path(tok.source)


def opts(data, out, **kw) -> TrainOptions:
    train, tok = data
    base = dict(
        train=[str(train)],
        dev=str(train),
        tokenizer=str(tok),
        out=str(out),
        d_model=32,
        layers=2,
        heads=2,
        batch_seconds=8,
        max_steps=4,
        log_every=2,
        eval_every=3,
        workers=1,
        progress=False,
        augment=True,
    )
    base.update(kw)
    return TrainOptions(**base)


def test_train_writes_outputs_and_resume_continues(data, tmp_path):
    out = tmp_path / "run"
    s1 = train_base(opts(data, out, export=str(tmp_path / "ship.pt")))
    assert s1["steps"] == 4
    for name in ("last.pt", "best.pt", "train.log", "metrics.jsonl"):
        assert (out / name).is_file(), name
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert {"train", "eval", "summary"} <= {r["type"] for r in records}
    assert read_checkpoint(out / "last.pt")["step"] == 4
    ship = read_checkpoint(tmp_path / "ship.pt")
    assert ship["half"] and "optimizer" not in ship
    s2 = train_base(opts(data, out, resume=True, max_steps=7))
    assert s2["steps"] == 7 and s2["run_steps"] == 3
    model, tok, meta = load_model(out / "last.pt")
    assert meta["steps"] == 7 and tok is not None


def test_cached_features_on_cpu(data, tmp_path):
    out = tmp_path / "run"
    train_base(opts(data, out, augment=False, max_steps=2, phone_weight=0.0))
    caches = list((out / "feats").glob("*.npz"))
    assert caches
    mtime = caches[0].stat().st_mtime
    train_base(
        opts(data, out, augment=False, max_steps=3, phone_weight=0.0, resume=True, feat_warp=True)
    )
    assert caches[0].stat().st_mtime == mtime  # reused, not rebuilt


@pytest.mark.slow
def test_tiny_model_overfits(data, tmp_path):
    from ctcbias.audio import Fbank, load_audio
    from ctcbias.data.manifest import read_manifest
    from ctcbias.decode.greedy import greedy_ids

    train, _ = data
    utts = read_manifest(train)[:3]
    small = tmp_path / "small.jsonl"
    small.write_text("".join(json.dumps(u.to_dict()) + "\n" for u in utts))
    for u in utts:  # the manifest's audio paths are relative to its folder
        (tmp_path / u.audio).symlink_to(train.parent / u.audio)
    out = tmp_path / "run"
    o = opts(
        data,
        out,
        train=[str(small)],
        dev=str(small),
        d_model=64,
        layers=2,
        dropout=0.0,
        augment=False,
        specaug=False,
        phone_weight=0.0,
        lr=3e-3,
        warmup=20,
        max_steps=200,
        time_budget=90,
        eval_every=50,
        batch_seconds=30,
    )
    train_base(o)
    model, tok, _ = load_model(out / "best.pt")
    fb = Fbank()
    hits = 0
    for u in utts:
        feats = fb(torch.from_numpy(load_audio(train.parent / u.audio)))[None]
        with torch.no_grad():
            lp = model(feats, torch.tensor([feats.shape[1]])).log_probs[0].numpy()
        hits += tok.decode(greedy_ids(lp)) == u.text
    assert hits >= 1


def test_init_from_takes_weights_config_and_tokenizer(data, tmp_path):
    import torch

    first = tmp_path / "first"
    train_base(opts(data, first, max_steps=2, export=str(tmp_path / "ship.pt")))
    # d_model/layers flags are ignored: the config comes from the checkpoint, and with
    # lr=0 the weights stay exactly those of the checkpoint
    s = train_base(
        opts(
            data,
            tmp_path / "second",
            init_from=str(tmp_path / "ship.pt"),
            d_model=48,
            layers=3,
            lr=0.0,
            max_steps=1,
            augment=False,
        )
    )
    assert s["steps"] == 1  # a fresh schedule, not the first run's step count
    src, _, _ = load_model(tmp_path / "ship.pt")
    got, tok, _ = load_model(tmp_path / "second" / "last.pt")
    assert got.cfg == src.cfg and tok is not None
    for (name, a), (_, b) in zip(src.state_dict().items(), got.state_dict().items(), strict=True):
        assert torch.allclose(a.float(), b.float(), atol=1e-3), name
