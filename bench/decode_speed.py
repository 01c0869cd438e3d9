"""Decode speed vs catalog size: ctcbias biased beam search vs pyctcdecode hotwords.

    python bench/decode_speed.py --set entity-tts --utts 10 [--runs 5] [--per-utterance]
    python bench/decode_speed.py --audio examples/*.ogg [--runs 5]
    python bench/decode_speed.py --npy LOGPROBS.npy --vocab VOCAB.txt --fps 25
    python bench/decode_speed.py --synthetic

Input: real log-probs of the shipped model (``--model``) on ``--audio`` files, one after
the other in one decode (``--per-utterance``: a decode per file, times summed); or a
saved (T, V) ``--npy`` with its vocabulary at ``--fps`` frames/s; or
``--synthetic``: a sentencepiece tokenizer trained here on Earnings-21 text and log-probs
that are random but peaky (each token of a real sentence spikes on one frame, blanks
elsewhere, Gaussian noise on the logits), ``--fps`` frames/s, ``--seconds`` of audio.
Entities: surnames + world cities from ../shared/data/entities; compiling each catalog
(``--compile-runs`` times; median and maximum) is timed before the decodes.
One thread; times are seconds of decoding per second of audio. Ours runs the compiled
search when it is built; ``CTCBIAS_PURE_PYTHON=1`` times the Python reference instead (the
header and the JSON line say which ran). Ours: ``--runs`` rounds, each
decoding every size once (after one untimed decode per size), median and minimum per
size, and the median over the rounds of each round's time over its no-catalog time
(when the sizes start at 0: a slow spell within a round cancels out); pyctcdecode: median
of ``--peer-runs`` runs per size.
Every ``DecodeOptions`` field is a flag (``--unbiased-beam 0``, ``--false-accept-margin
none``, ...), to time another configuration of ours; the header and the JSON line name
the options that differ from the defaults.
With ``--lm`` (a file, or ``default``: the shipped LM), both decoders also use that word
LM: ours with its defaults (unigram boosting of the catalog words included), pyctcdecode
with the same weights. Prints a Markdown table and a JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import random
import statistics
import sys
import tempfile
import time

import numpy as np


def synthetic(tokenizer, sentences: list[str], seconds: float, fps: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    frames = int(seconds * fps)
    ids: list[int] = []
    for s in sentences:
        ids.extend(tokenizer.encode(s))
        if len(ids) * 2 >= frames:
            break
    ids = ids[: frames // 2]
    size = len(tokenizer.vocab)
    logits = rng.normal(scale=1.5, size=(frames, size)).astype(np.float32)
    # Blank dominates most frames, more or less confidently (p(blank) ~ 0.9 .. 0.99999).
    logits[:, 0] += rng.uniform(9.0, 17.0, size=frames)
    pos = np.sort(rng.choice(frames, size=len(ids), replace=False))
    for p, tok in zip(pos, ids, strict=True):
        logits[p, 0] = rng.uniform(0.0, 8.0)  # a token frame: blank is the runner-up at most
        logits[p, tok] += 12.0 + rng.normal()
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def peer_cell(row: dict) -> str:
    if "pyctcdecode_rtf" not in row:
        return "-"
    return str(row["pyctcdecode_rtf"]) if row["pyctcdecode_rtf"] is not None else "skipped (slow)"


def bench_entities(ent_dir) -> list[str]:
    """The benchmarks' entities: surnames + world cities of the shared entity lists, in one
    fixed shuffled order (a size-N catalog is the first N)."""
    names = []
    for fname in ("surnames.txt", "world_cities.txt"):
        names += [n for n in (ent_dir / fname).read_text(encoding="utf-8").splitlines() if n]
    random.Random(0).shuffle(names)
    return names


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    import torch

    torch.set_num_threads(1)
    from ctcbias.catalog import EntityCatalog
    from ctcbias.cli.decode import add_option_flags, options_from_args
    from ctcbias.decode import DecodeOptions, beam_search
    from ctcbias.decode.beam import compiled_search
    from ctcbias.paths import shared_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", nargs="+", help="audio files run through --model")
    parser.add_argument("--set", dest="eval_set",
                        help="instead of --audio: the first --utts utterances of this "
                             "evaluation set (name or manifest)")
    parser.add_argument("--utts", type=int, default=10)
    parser.add_argument("--per-utterance", action="store_true",
                        help="with --audio / --set: decode each file on its own (a request "
                             "each; times summed) instead of all of them one after the other "
                             "in one decode")
    parser.add_argument("--model", help="checkpoint for --audio (default: the shipped model)")
    parser.add_argument("--npy", help="(T, V) log-probs")
    parser.add_argument("--vocab", help="vocabulary file for --npy")
    parser.add_argument("--synthetic", action="store_true", help="synthetic peaky log-probs")
    parser.add_argument("--runs", type=int, default=5, help="rounds of ours over all sizes")
    parser.add_argument("--peer-runs", type=int, default=0,
                        help="runs of pyctcdecode per size (default: --runs)")
    parser.add_argument("--seconds", type=float, default=30.0, help="with --synthetic")
    parser.add_argument("--fps", type=float, default=25.0,
                        help="frames per second of --npy / --synthetic (our model: 25)")
    parser.add_argument("--sizes", default="0,100,1000,10000")
    parser.add_argument("--beam", type=int, default=16)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--lm", help="word LM for both decoders ('default': the shipped one)")
    parser.add_argument("--compile-runs", type=int, default=5,
                        help="compilations per size; the table gives their median")
    parser.add_argument(
        "--peer-max-s",
        type=float,
        default=120.0,
        help="skip pyctcdecode at a size whose runs would take longer than this (seconds, "
             "scaled from the previous size's in proportion to the list)",
    )
    add_option_flags(parser)  # --unbiased-beam 0 etc.: time another configuration
    args = parser.parse_args()

    root = shared_data()
    ent_dir = root / "entities"
    if not ent_dir.is_dir():
        print(f"skipped: needs {ent_dir}", file=sys.stderr)
        return 0
    names = bench_entities(ent_dir)

    if sum(map(bool, (args.audio, args.eval_set, args.npy, args.synthetic))) != 1:
        parser.error("give exactly one of --audio, --set, --npy, --synthetic")
    fps = args.fps
    if args.eval_set:
        from ctcbias.data.manifest import read_manifest
        from ctcbias.eval.runner import resolve_manifest

        _, manifest = resolve_manifest(args.eval_set)
        args.audio = [str(u.audio_path(manifest.parent))
                      for u in read_manifest(manifest)[: args.utts]]
    if args.audio:
        from ctcbias.recognizer import Recognizer

        rec = Recognizer.from_pretrained(args.model)
        pieces = [rec.acoustics(a).log_probs for a in args.audio]
        log_probs = np.concatenate(pieces)
        vocab, tokenizer, fps = rec.vocab, rec.tokenizer, 1.0 / rec.frame_shift_s
    elif args.npy:
        from ctcbias.cli.decode import read_vocab

        vocab = read_vocab(args.vocab)
        log_probs = np.load(args.npy).astype(np.float32)
        tokenizer = None
    else:
        from ctcbias.text.tokenizer import Tokenizer

        lines = []
        with (root / "earnings" / "earnings21" / "sentences.jsonl").open() as handle:
            for line in handle:
                lines.append(json.loads(line)["text"])
                if len(lines) >= 4000:
                    break
        tokenizer = Tokenizer.train(lines, tempfile.mkdtemp(), vocab_size=256)
        vocab = tokenizer.vocab
        log_probs = synthetic(tokenizer, lines[100:], args.seconds, fps)
    audio_s = log_probs.shape[0] / fps
    if args.per_utterance and not args.audio:
        parser.error("--per-utterance needs --audio or --set")
    # what one decode gets: each file's log-probs, or all of them one after the other
    segments = pieces if args.per_utterance else [log_probs]
    # the vocabulary as the recognizer hands it to the search (built once, not per decode)
    from ctcbias.catalog.vocab import CtcVocab

    vocab = CtcVocab.coerce(vocab)
    options = options_from_args(args, beam_size=args.beam, frame_shift_s=1.0 / fps)
    lm = lm_path = None
    if args.lm:
        from ctcbias.decode import load_lm
        from ctcbias.eval.runner import default_lm_path

        lm_path = default_lm_path() if args.lm == "default" else args.lm
        lm = load_lm(lm_path)
    peer = None
    if not args.no_peer:
        try:
            from ctcbias.decode.peers import PyctcdecodePeer

            peer = PyctcdecodePeer(list(vocab.tokens), lm_path)
        except Exception as exc:  # noqa: BLE001
            print(f"pyctcdecode unavailable: {exc}", file=sys.stderr)
    sizes = [int(x) for x in args.sizes.split(",")]
    catalogs, compiled, rows = {}, {}, []
    for n in sizes:
        took = []
        for _ in range(max(1, args.compile_runs) if n else 1):
            start = time.perf_counter()
            catalogs[n] = EntityCatalog.from_entities(names[:n], tokenizer=tokenizer)
            compiled[n] = catalogs[n].compiled_for(vocab) if n else None
            if compiled[n] is not None:
                _ = compiled[n].trie
            took.append(time.perf_counter() - start)
        rows.append({"entities": n, "compile_s": round(statistics.median(took), 3),
                     "compile_max_s": round(max(took), 3)})
        # one untimed decode: builds what the first decode with a catalog caches
        for seg in segments:
            beam_search(seg, vocab, catalog=compiled[n], options=options, lm=lm)
    # Ours: each round decodes every size once, so that a slow spell of the machine
    # slows all sizes alike; the median and the minimum over the rounds per size.
    times: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(args.runs):
        for n in sizes:
            times[n].append(
                timed(lambda c=compiled[n]: [beam_search(
                    seg, vocab, catalog=c, options=options, lm=lm) for seg in segments], 1)
            )
    for row in rows:
        row["ours_rtf"] = round(statistics.median(times[row["entities"]]) / audio_s, 7)
        row["ours_min_rtf"] = round(min(times[row["entities"]]) / audio_s, 7)
        # each round's time over the same round's no-catalog time (when the sizes include
        # 0): a slow spell of the VM during a round cancels out
        if sizes[0] == 0:
            row["ours_paired_ratio"] = round(statistics.median(
                a / b for a, b in zip(times[row["entities"]], times[0], strict=True)), 3)
    peer_s, peer_n = 0.0, 0
    for row in rows:
        if peer is None:
            break
        n = row["entities"]
        # pyctcdecode's hotword search grows about linearly with the list: skip a size whose
        # runs would take over --peer-max-s going by the previous size's
        if peer_s * (n / peer_n if peer_n else 1.0) > args.peer_max_s:
            row["pyctcdecode_rtf"] = None  # skipped: too slow
            continue
        hot = peer.hotwords(catalogs[n]) if n else None
        t0 = time.perf_counter()
        row["pyctcdecode_rtf"] = round(
            timed(lambda h=hot: [peer.decode(seg, hotwords=h, beam_width=args.beam)
                                 for seg in segments],
                  args.peer_runs or args.runs)
            / audio_s,
            5,
        )
        peer_s, peer_n = time.perf_counter() - t0, n
    for row in rows:
        print(json.dumps(row), file=sys.stderr)
    search = "compiled" if compiled_search() else "Python"
    defaults = DecodeOptions()
    changed = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
               if f.name != "frame_shift_s"
               and getattr(options, f.name) != getattr(defaults, f.name)}
    base, base_min = rows[0]["ours_rtf"], rows[0]["ours_min_rtf"]
    print(
        f"\nDecode time per second of audio ({audio_s:.0f} s, {log_probs.shape[0]} frames"
        f"{f' in {len(segments)} decodes' if len(segments) > 1 else ''}, "
        f"V={len(vocab)}, beam {options.beam_size}, LM: {lm_path or 'none'}, "
        f"options: {changed or 'defaults'}, ours ({search} search): "
        f"median and min "
        f"of {args.runs} rounds over the sizes, pyctcdecode: median of "
        f"{args.peer_runs or args.runs}, compile: median (max) of {args.compile_runs}, 1 thread, "
        f"{platform.processor() or platform.machine()}, python {platform.python_version()})\n"
    )
    peer_base = rows[0].get("pyctcdecode_rtf")
    print("| entities | compile s | ctcbias s/s (median) | vs no catalog | ctcbias s/s (min) "
          "| vs no catalog | vs no catalog, same round (median) | pyctcdecode hotwords s/s "
          "| vs its no catalog |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        paired = f"{r['ours_paired_ratio']:.2f}x" if "ours_paired_ratio" in r else "-"
        peer_ratio = "-"
        if peer_base and r.get("pyctcdecode_rtf"):
            peer_ratio = f"{r['pyctcdecode_rtf'] / peer_base:.1f}x"
        print(
            f"| {r['entities']} | {r['compile_s']} ({r['compile_max_s']}) | {r['ours_rtf']:.7f} | "
            f"{r['ours_rtf'] / base:.2f}x | {r['ours_min_rtf']:.7f} | "
            f"{r['ours_min_rtf'] / base_min:.2f}x | {paired} | {peer_cell(r)} | {peer_ratio} |"
        )
    print()
    print(json.dumps({"command": " ".join(sys.argv), "search": search, "audio_s": audio_s,
                      "decodes": len(segments),
                      "options": changed,
                      "lm": str(lm_path) if lm_path else None, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
