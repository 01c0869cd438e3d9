"""``ctcbias eval``: transcribe an evaluation set with a model and a set of techniques,
and score it (WER, U-WER, B-WER, entity precision/recall/F1).

Techniques combine: ``--techniques lm,unigram,adaptive`` is one configuration. Names:

- ``none``: greedy best path, no catalog.
- ``beam``: prefix beam search, no LM, no catalog.
- ``lm``: beam search with the external word LM.
- ``unigram``: unigram boosting of catalog words through the LM's BOOST class (needs an LM).
- ``adaptive``: adaptive subword boosting over the catalog trie.
- ``decoder``: every decoder technique together, tuned (beam + LM + unigram + adaptive +
  false-accept control).
- ``pyctcdecode``: the peer decoder on the same log-probs, LM and catalog (hotwords).

Model outputs are cached per (model, manifest) under ``DATA_ROOT/cache`` so that every row
of a comparison scores the same log-probs.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ctcbias.catalog.cache import CompiledLists
from ctcbias.data.manifest import Utterance, read_manifest
from ctcbias.errors import DataError
from ctcbias.paths import data_root
from ctcbias.utils import atomic_write

log = logging.getLogger(__name__)

TECHNIQUES = ("none", "beam", "lm", "unigram", "adaptive", "decoder", "pyctcdecode")
CATALOG_TECHNIQUES = frozenset({"unigram", "adaptive", "decoder", "pyctcdecode"})


def resolve_manifest(name_or_path: str) -> tuple[str, Path]:
    """A set name (built under the data root) or a manifest path -> (label, path)."""
    from ctcbias.data.evalsets import SETS, manifest_path

    p = Path(name_or_path)
    if p.suffix == ".jsonl" or p.is_file():
        if not p.is_file():
            raise DataError(f"manifest {p}: no such file")
        return p.stem if p.name != "manifest.jsonl" else p.parent.name, p
    if name_or_path not in SETS:
        raise DataError(
            f"--set {name_or_path!r}: not a manifest file nor a set name ({', '.join(SETS)})"
        )
    path = manifest_path(name_or_path)
    if not path.is_file():
        raise DataError(
            f"evaluation set {name_or_path!r} is not built ({path} missing): "
            f"run `ctcbias data evalsets --sets {name_or_path}`"
        )
    return name_or_path, path


def parse_techniques(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    bad = [t for t in names if t not in TECHNIQUES]
    if bad or not names:
        raise DataError(
            f"--techniques: unknown {bad or text!r}; choose from {', '.join(TECHNIQUES)}"
        )
    if "none" in names and len(names) > 1:
        raise DataError("--techniques: 'none' (greedy, no catalog) cannot be combined with others")
    if "pyctcdecode" in names and len(names) > 1 and set(names) - {"pyctcdecode", "lm"}:
        raise DataError("--techniques: 'pyctcdecode' combines only with 'lm'")
    return names


@dataclass(frozen=True)
class Setup:
    techniques: tuple[str, ...]
    options: Any  # DecodeOptions or None (greedy)
    use_lm: bool
    use_catalog: bool


def make_setup(techniques: tuple[str, ...], overrides: dict[str, Any] | None = None) -> Setup:
    from ctcbias.decode import DecodeOptions

    t = set(techniques)
    if t == {"none"}:
        return Setup(techniques, None, False, False)
    decoder = "decoder" in t
    use_lm = decoder or bool(t & {"lm", "unigram"})
    opts = DecodeOptions.unbiased()
    if decoder or "unigram" in t:
        opts = replace(opts, unigram_boost=DecodeOptions().unigram_boost)
    if decoder or "adaptive" in t:
        opts = replace(opts, adaptive_boost=True)
    if overrides:
        opts = replace(opts, **overrides)
    return Setup(techniques, opts, use_lm, bool(t & CATALOG_TECHNIQUES))


def _cache_path(
    model_path: Path, manifest: Path, limit: int | None, warp_search: tuple | None = None
) -> Path:
    h = hashlib.sha1()
    st = model_path.stat()
    h.update(f"{model_path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
    ms = manifest.stat()
    h.update(f"{manifest.resolve()}:{ms.st_size}:{ms.st_mtime_ns}:{limit}".encode())
    if warp_search:  # (so that caches made before the warp search still apply)
        h.update(f":warps={','.join(map(str, warp_search))}".encode())
    return (
        data_root()
        / "cache"
        / "acoustics"
        / f"{manifest.parent.name}-{manifest.stem}-{h.hexdigest()[:12]}.npz"
    )


def compute_acoustics(
    rec: Any, utts: list[Utterance], base: Path, batch_seconds: float = 120.0
) -> tuple[list, float]:
    """Model outputs for every utterance (batched by length) and the seconds it took."""
    from tqdm import tqdm

    from ctcbias.audio import load_audio

    order = sorted(range(len(utts)), key=lambda i: utts[i].duration)
    out: list[Any] = [None] * len(utts)
    t_model = 0.0
    batch: list[int] = []
    bar = tqdm(total=len(utts), desc="acoustic model", unit="utt", leave=False)

    def flush() -> None:
        nonlocal t_model
        if not batch:
            return
        waves = [load_audio(utts[i].audio_path(base)) for i in batch]
        t0 = time.perf_counter()
        if max(len(w) for w in waves) > 30 * 16000:
            res = [rec.acoustics(w) for w in waves]
        else:
            res = rec.acoustics_batch(waves)
        t_model += time.perf_counter() - t0
        for i, r in zip(batch, res, strict=True):
            out[i] = r
        bar.update(len(batch))
        batch.clear()

    for i in order:
        if batch and utts[i].duration * (len(batch) + 1) > batch_seconds:
            flush()
        batch.append(i)
    flush()
    bar.close()
    return out, t_model


def evaluate(
    set_name: str,
    *,
    model_path: str | Path | None = None,
    techniques: str = "none",
    catalog_size: int | None = None,
    limit: int | None = None,
    lm_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    use_cache: bool = True,
    hotword_weight: float = 10.0,
    phones: bool = False,
    warps: Any = "default",
    warp_refine: float | None = None,
) -> dict[str, Any]:
    """Score ``set_name`` (a set name or manifest path); returns the JSON-ready summary.
    ``warps``, ``warp_refine``: the recognizer's frequency-warp search ("default" / None:
    its defaults; ``warps=None``: one plain pass; or a list of warps and a step)."""
    from ctcbias.eval.metrics import summarize
    from ctcbias.recognizer import (
        DEFAULT_WARP_REFINE,
        DEFAULT_WARPS,
        Recognizer,
        default_model_path,
    )

    names = parse_techniques(techniques)
    label, manifest = resolve_manifest(set_name)
    setup = make_setup(names, overrides)
    utts = read_manifest(manifest)
    if limit:
        utts = utts[:limit]
    if not utts:
        raise DataError(f"manifest {manifest}: no utterances")
    if setup.use_catalog and catalog_size is None:
        raise DataError(
            f"--techniques {techniques}: needs --catalog-size (a biasing list per utterance)"
        )
    if catalog_size is not None and any(str(catalog_size) not in u.bias for u in utts):
        missing = next(u.id for u in utts if str(catalog_size) not in u.bias)
        raise DataError(
            f"manifest {manifest}: utterance {missing} has no bias list for N={catalog_size}"
        )
    mpath = Path(model_path) if model_path else default_model_path()
    rec = Recognizer.from_pretrained(
        mpath,
        warps=DEFAULT_WARPS if warps == "default" else warps,
        warp_refine=DEFAULT_WARP_REFINE if warp_refine is None else warp_refine,
    )
    cache = _cache_path(mpath, manifest, limit, rec.warp_search)
    t_model = 0.0
    cached = _read_cache(cache, utts, rec.frame_shift_s) if use_cache else None
    if cached is not None:
        acoustics, t_model = cached
        log.info("acoustics from cache %s", cache)
    else:
        acoustics, t_model = compute_acoustics(rec, utts, manifest.parent)
        if use_cache:
            arrays = {
                "model_seconds": np.array(t_model),
                "warps": np.array([a.warp for a in acoustics], dtype=np.float32),
            }
            for i, a in enumerate(acoustics):
                arrays[f"lp{i}"] = a.log_probs.astype(np.float16)
                for k, v in a.phone_log_probs.items():
                    arrays[f"ph{i}_{k}"] = v.astype(np.float16)
            _write_cache(cache, arrays)

    lm = None
    lm_file: Path | None = None
    if setup.use_lm:
        lm_file = Path(lm_path) if lm_path else default_lm_path()
        if not lm_file.is_file():
            raise DataError(
                f"LM {lm_file}: no such file (build one with `ctcbias lm build`, or pass --lm)"
            )
    peer = None
    if "pyctcdecode" in names:
        from ctcbias.decode.peers import PyctcdecodePeer

        peer = PyctcdecodePeer(rec.vocab, lm_file)
    elif setup.use_lm:
        from ctcbias.decode import load_lm

        lm = load_lm(lm_file)

    refs, hyps, ents, rare, bias = [], [], [], [], []
    from tqdm import tqdm

    t0 = time.perf_counter()
    for u, ac in tqdm(
        list(zip(utts, acoustics, strict=True)), desc="decode", unit="utt", leave=False
    ):
        blist = u.bias.get(str(catalog_size)) if catalog_size is not None else None
        catalog = None
        if peer is not None:
            text = peer.decode(
                ac.log_probs, blist if setup.use_catalog else None, hotword_weight=hotword_weight
            )
        elif setup.options is None:
            text = rec.decode(ac, greedy=True).text
        else:
            if setup.use_catalog and blist:
                # compiled with the tokenizer, as `ctcbias transcribe --entities` does
                catalog = _compiled_catalog(rec, blist)
            text = rec.decode(ac, catalog=catalog, options=setup.options, lm=lm).text
        refs.append(u.text)
        hyps.append(text)
        ents.append([e["text"] for e in u.entities])
        rare.append(list(u.rare) or ents[-1])
        bias.append(blist if blist is not None else rare[-1])
    t_search = time.perf_counter() - t0
    summary = summarize(
        refs,
        hyps,
        rare_lists=rare,
        bias_lists=bias,
        ref_entities=ents,
        catalogs=bias if catalog_size is not None else None,
    )
    audio_s = sum(a.duration for a in acoustics)
    if phones:
        summary["phone_error_rates"] = phone_error_rates(refs, acoustics)
    return {
        **summary,
        "audio_seconds": round(audio_s, 2),
        "decode_seconds": round(t_model + t_search, 2),
        "model_seconds": round(t_model, 2),
        "search_seconds": round(t_search, 2),
        "config": {
            "set": label,
            "manifest": str(manifest),
            "model": str(mpath),
            "techniques": list(names),
            "catalog_size": catalog_size,
            "limit": limit,
            "lm": str(lm_file) if lm_file else None,
            "warps": list(rec.warps),
            "warp_refine": rec.warp_refine if rec.warp_search else None,
            "options": setup.options.to_dict() if setup.options is not None else None,
        },
    }


# Bias lists compiled (with their tries) in this process: a tuning grid decodes the same
# lists with many settings, each evaluate() with a recognizer of its own. Bounded by the
# entities held: 400 lists of 1,000, or 40 of 10,000 (a bound of 400 lists filled 24 GB
# with 10,000-entity lists).
_COMPILED: CompiledLists[Any] = CompiledLists(400_000)


def _compiled_catalog(rec: Any, names: list[str]) -> Any:
    """``names`` compiled for ``rec``'s tokenizer, from the per-process cache if there."""
    return _COMPILED.get(
        (rec.ctc_vocab.fingerprint, tuple(names)),
        lambda: rec.compile_catalog(names).compile(rec.tokenizer),
    )


def _read_cache(cache: Path, utts: list[Utterance], frame_shift_s: float) -> Any:
    """``(acoustics, model seconds)`` from the cache file, or None when there is none or it
    cannot be read (a file cut short by an older writer: it is computed again)."""
    if not cache.is_file():
        return None
    from ctcbias.recognizer import Acoustics

    try:
        with np.load(cache, allow_pickle=False) as data:
            files = list(data.files)
            acoustics = [
                Acoustics(
                    data[f"lp{i}"].astype(np.float32),
                    {
                        int(k.split("_")[1]): data[k].astype(np.float32)
                        for k in files
                        if k.startswith(f"ph{i}_")
                    },
                    frame_shift_s,
                    utts[i].duration,
                    float(data["warps"][i]) if "warps" in files else 1.0,
                )
                for i in range(len(utts))
            ]
            return acoustics, float(data["model_seconds"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("acoustics cache %s unreadable (%s): computing it again", cache, exc)
        return None


def _write_cache(cache: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the acoustics cache whole, under a temporary name of this writer's own, then
    rename it: several processes (bench/tune.py's jobs) may compute the same set at once."""
    with atomic_write(cache, "wb") as fh:
        np.savez(fh, **arrays)


def default_lm_path() -> Path:
    from ctcbias.paths import DEFAULT_MODEL_DIR

    shipped = DEFAULT_MODEL_DIR / "lm.arpa.gz"
    return shipped if shipped.is_file() else data_root() / "lm" / "lm.arpa"


def phone_error_rates(refs: list[str], acoustics: list[Any]) -> dict[str, float]:
    """Phone error rate of each intermediate phone head (greedy) against the reference
    transcripts' pronunciations (lexicon + G2P)."""
    from ctcbias.decode.greedy import greedy_ids
    from ctcbias.eval.metrics import phone_error_rate
    from ctcbias.text.lexicon import text_to_phones
    from ctcbias.text.phones import PHONE_VOCAB

    ref_phones = [text_to_phones(r) for r in refs]
    out = {}
    for layer in sorted(acoustics[0].phone_log_probs):
        hyps = [[PHONE_VOCAB[i] for i in greedy_ids(a.phone_log_probs[layer])] for a in acoustics]
        out[f"layer_{layer}"] = round(phone_error_rate(ref_phones, hyps), 4)
    return out
