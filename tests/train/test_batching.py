from ctcbias.train.batching import bucket_batches, ctc_min_frames, shard_batches


def test_bucket_batches_cover_all_and_respect_size():
    durs = [1 + (i * 7919 % 100) / 10 for i in range(500)]
    batches = bucket_batches(durs, 60.0, seed=0)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(len(b) == 1 or len(b) * max(durs[i] for i in b) <= 60.0 for b in batches)
    assert bucket_batches(durs, 60.0, seed=0) == batches != bucket_batches(durs, 60.0, seed=1)


def test_shard_batches_equal_counts():
    batches = [[i] for i in range(11)]
    shards = [shard_batches(batches, r, 4) for r in range(4)]
    assert {len(s) for s in shards} == {2}
    assert shard_batches(batches[:2], 3, 4)  # fewer batches than ranks: nobody idles


def test_ctc_min_frames():
    assert ctc_min_frames([1, 2, 2, 3]) == 5 and ctc_min_frames([]) == 0
