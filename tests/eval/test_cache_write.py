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
