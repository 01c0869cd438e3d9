"""The acoustics cache is written whole under a temporary name of its own, then renamed:
several processes computing the same set at once (bench/tune.py's jobs) used to share one
temporary name, and the second rename failed."""

from __future__ import annotations

import threading

import numpy as np

from ctcbias.eval.runner import _write_cache


def test_concurrent_writers_of_one_cache_all_succeed(tmp_path):
    cache = tmp_path / "entity-dev-manifest-0123.npz"
    arrays = {"lp0": np.arange(20000, dtype=np.float16), "model_seconds": np.array(1.5)}
    errors: list[BaseException] = []
    gate = threading.Barrier(6)

    def writer():
        gate.wait()
        try:
            _write_cache(cache, arrays)
        except BaseException as exc:  # noqa: BLE001 (collected, asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with np.load(cache) as data:
        assert np.array_equal(data["lp0"], arrays["lp0"])
    assert [p.name for p in tmp_path.iterdir()] == [cache.name]  # no temporary file left


def test_unreadable_cache_is_computed_again(tmp_path, caplog):
    from ctcbias.data.manifest import Utterance
    from ctcbias.eval.runner import _read_cache

    cache = tmp_path / "set-manifest-0123.npz"
    utts = [Utterance(id="u0", audio="a.opus", duration=1.0, text="x")]
    assert _read_cache(cache, utts, 0.04) is None  # none yet
    _write_cache(cache, {"lp0": np.zeros((5, 3), np.float16), "model_seconds": np.array(2.0),
                         "warps": np.array([0.94], np.float32)})
    acoustics, seconds = _read_cache(cache, utts, 0.04)
    assert seconds == 2.0 and acoustics[0].log_probs.shape == (5, 3)
    assert acoustics[0].warp == np.float32(0.94)
    data = bytearray(cache.read_bytes())
    data[60:80] = bytes(20)  # a file cut short or overwritten by another writer
    cache.write_bytes(bytes(data))
    with caplog.at_level("WARNING"):
        assert _read_cache(cache, utts, 0.04) is None
    assert "computing it again" in caplog.text
