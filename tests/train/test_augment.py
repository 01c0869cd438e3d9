import torch

from ctcbias.train.augment import AugmentConfig, WaveAugment
from ctcbias.train.specaugment import spec_augment


def batch():
    w = torch.randn(4, 24000) * 0.1
    lens = torch.tensor([24000, 16000, 8000, 300])
    for i, n in enumerate(lens.tolist()):
        w[i, n:] = 0
    return w, lens


def test_augment_keeps_shapes_and_finite_values():
    g = torch.Generator().manual_seed(1)
    aug = WaveAugment(AugmentConfig(p_speed=1, p_gain=1, p_reverb=1, p_noise=1, p_telephone=1))
    for _ in range(5):
        w, lens = batch()
        out, out_lens = aug(w, lens, g)
        assert out.shape == (4, int(out_lens.max()))
        assert torch.isfinite(out).all()
        assert ((out_lens.float() / lens.float() - 1).abs() < 0.12).all()
        for i, n in enumerate(out_lens.tolist()):
            assert out[i, n:].abs().max() == 0 if n < out.shape[1] else True


def test_augment_is_seeded():
    w, lens = batch()
    a = WaveAugment()(w.clone(), lens, torch.Generator().manual_seed(3))
    b = WaveAugment()(w.clone(), lens, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_specaugment_masks_with_fill():
    f = torch.randn(2, 300, 80)
    fill = torch.full((80,), 7.0)
    out = spec_augment(f, torch.tensor([300, 120]), fill=fill, g=torch.Generator().manual_seed(0))
    assert out.shape == f.shape
    masked = out == 7.0
    assert masked.any() and masked.float().mean() < 0.7


def test_feature_warp_identity_and_lengths():
    import torch

    from ctcbias.train.specaugment import feature_warp

    g = torch.Generator().manual_seed(0)
    feats = torch.randn(3, 50, 80)
    lens = torch.tensor([50, 40, 7])
    same, same_len = feature_warp(feats, lens, (1.0, 1.0), (1.0, 1.0), g)
    assert same_len.tolist() == [50, 40, 7]
    for i, n in enumerate(same_len.tolist()):  # valid frames unchanged (padding may differ)
        assert torch.allclose(same[i, :n], feats[i, :n], atol=1e-6)
    fast, fast_len = feature_warp(feats, lens, (1.0, 1.0), (2.0, 2.0), g)
    assert fast_len.tolist() == [25, 20, 4] and fast.shape == (3, 25, 80)
    assert torch.allclose(fast[0, 3], feats[0, 6])  # frame t takes frame 2t
    low, _ = feature_warp(feats, lens, (0.5, 0.5), (1.0, 1.0), g)
    assert torch.allclose(low[1, 5, 10], feats[1, 5, 5])  # bin j takes bin j/2
    assert torch.isfinite(feature_warp(feats, lens, g=g)[0]).all()
