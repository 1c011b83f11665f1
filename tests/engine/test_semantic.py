"""Semantic retrieval: the bundled static model and the index over the knowledge base."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import socket
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

import bot.qa.semantic
from bot.qa.semantic import MODEL_DIR, Projection, SemanticIndex, SemanticModel, WordPiece, default_model
from tests.fixtures import bundled_kb

# Printed by scripts/build_semantic_model.py as "fingerprint": the sha256 of model.json,
# which records every other file's sha256. Rebuilding the model changes it on purpose.
FINGERPRINT = "2ed23b89c4808ae3e7a13e39aea2366794bfc1dac255744b11df7eb1792e6569"

HOSTILE = [
    "",
    "   ",
    "a" * 50_000,
    "why " * 12_500,
    "🙏🇯🇵👍🏽❤️" * 100,
    "\x00\x01\x07\x1b[31m\x7f\u200b\u200d\ufeff",
    "مرحبا NATO שלום \u202eevil\u202c",
    "日本はいつNATOのサイバー防衛センターに参加しましたか？",
    "\ud800 lone surrogate \udfff",
    "[UNK] [PAD] [CLS] ##ing",
]


@cache
def bundled_index() -> SemanticIndex:
    return SemanticIndex.build(default_model(), bundled_kb())


def small_index(model: SemanticModel) -> SemanticIndex:
    return SemanticIndex.from_texts(
        model,
        [
            ("visit", ["when did stoltenberg visit tokyo"]),
            ("cyber", ["when did japan join the nato cyber defence centre"]),
            ("chips", ["semiconductor supply chains with taiwan"]),
        ],
    )


def test_the_bundled_model_is_the_one_the_build_script_recorded() -> None:
    raw = (MODEL_DIR / "model.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == FINGERPRINT
    recorded: dict[str, str] = json.loads(raw)["sha256"]
    assert set(recorded) >= {"vectors.npy", "scales.npy", "vocab.txt"}
    for name, digest in recorded.items():
        assert hashlib.sha256((MODEL_DIR / name).read_bytes()).hexdigest() == digest, name
    assert default_model().fingerprint == FINGERPRINT
    assert (
        (MODEL_DIR / "LICENSE-Apache-2.0").read_text().startswith("\n                                 Apache")
    )


def test_the_model_loads_and_encodes_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError("semantic retrieval tried to reach the network")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    model = SemanticModel.load(MODEL_DIR)
    vector = model.encode(["when did japan join the nato cyber centre"])
    assert vector.shape == (1, model.dim) and np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_loading_the_model_imports_no_machine_learning_framework() -> None:
    probe = (
        "import sys; from bot.qa.semantic import default_model; default_model().encode(['hello']); "
        "print(' '.join(m for m in ('torch', 'tokenizers', 'transformers', 'huggingface_hub', "
        "'model2vec', 'onnxruntime', 'sentence_transformers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == ""


def test_vectors_are_unit_length_float32() -> None:
    model = default_model()
    vectors = model.encode(["who is jens stoltenberg", "ITPP?", "Tōkyō liaison office", "a"])
    assert vectors.dtype == np.float32 and vectors.shape == (4, model.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_text_with_no_known_token_is_the_zero_vector() -> None:
    vectors = default_model().encode(["", "🙏🙏", "\x00\x01"])
    assert not vectors.any()


def test_a_paraphrase_ranks_its_entry_above_unrelated_ones() -> None:
    model = default_model()
    index = small_index(model)
    for question, entry_id in [
        ("stoltenberg's trip to japan", "visit"),
        ("japan's entry into the cyber center", "cyber"),
    ]:
        hits = index.search(model.encode([question])[0], k=3)
        assert hits[0].entry_id == entry_id
        assert hits[0].score > hits[1].score >= hits[2].score


def test_the_index_over_the_base_finds_a_curated_phrasing_first() -> None:
    model = default_model()
    index = bundled_index()
    kb = bundled_kb()
    assert index.entry_ids == tuple(e.id for e in kb.entries) and index.matches(model)
    entry = kb.entries[0]
    hits = index.search(model.encode([entry.questions[0]])[0], k=5)
    assert hits[0].entry_id == entry.id and hits[0].score == pytest.approx(1.0, abs=1e-4)
    text, score = index.closest_text(model.encode([entry.questions[0]])[0], entry.id)
    assert text == entry.questions[0] and score == pytest.approx(hits[0].score)


def test_the_index_pickles_to_identical_search_results() -> None:
    model = default_model()
    index = bundled_index()
    copy = pickle.loads(pickle.dumps(index))
    for question in ["why are nato and japan getting closer", "who is kishida", "chip export controls"]:
        vector = model.encode([question])[0]
        assert copy.search(vector, k=10) == index.search(vector, k=10)
    assert copy.model_fingerprint == index.model_fingerprint


def test_search_breaks_ties_in_base_order_and_never_returns_more_than_there_is() -> None:
    model = default_model()
    index = SemanticIndex.from_texts(model, [("b", ["same text"]), ("a", ["same text"]), ("c", ["other"])])
    vector = model.encode(["same text"])[0]
    assert [h.entry_id for h in index.search(vector, k=1)] == ["b"]
    assert [h.entry_id for h in index.search(vector, k=10)][:2] == ["b", "a"]
    assert index.search(vector, k=0) == ()
    empty = SemanticIndex.from_texts(model, [])
    assert empty.search(vector, k=5) == () and len(empty) == 0


def test_a_large_index_searches_a_few_rows_and_finds_exactly_what_a_full_scan_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bundled base is below the size at which searches prune rows; made "large", its
    # projected search must give the same entries, order and cosines (to the bit) as one
    # product over every row, also with rows excluded as training excludes them, and it
    # must have skipped rows to do so.
    model = default_model()
    full = bundled_index()
    assert full.projection is None
    monkeypatch.setattr(bot.qa.semantic, "PRUNE_ROWS", 100)
    projection = Projection.of(full.matrix, full.starts)
    assert projection is not None
    pruned = SemanticIndex(
        full.entry_ids, full.starts, full.matrix, full.texts, full.model_fingerprint, projection
    )
    computed: list[int] = []
    real_dot = bot.qa.semantic.dot

    def counting_dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
        if matrix.shape[1] == model.dim:  # exact cosines, not the projection's bounds
            computed.append(len(matrix))
        return real_dot(matrix, vector)

    monkeypatch.setattr(bot.qa.semantic, "dot", counting_dot)
    kb = bundled_kb()
    questions = [
        "why are nato and japan getting closer",
        "when did japan join the nato cyber centre",
        "what did china say about the tokyo office",
        "thanks!",
        "",
        *(e.questions[-1] for e in kb.entries[::25]),
    ]
    rows = len(full.texts)
    skipped: list[bool] = []
    for question, excluded in zip(questions, [(), (0, 1, 2), (rows - 1,)] * len(questions), strict=False):
        vector = model.encode([question])[0]
        exact = real_dot(full.matrix, vector)
        exact[list(excluded)] = -1.0
        best = np.maximum.reduceat(exact, full.starts)
        expected = bot.qa.semantic.top(best, 8)
        computed.clear()
        scores = pruned.scorer(vector, excluded)
        assert scores.top(8) == expected, question
        assert [scores.best(i) for i in expected] == [float(best[i]) for i in expected]
        assert scores.best(5) == float(best[5])
        skipped.append(sum(computed) < rows)
    # Most questions skip rows (one close to nothing, "thanks!", may not).
    assert sum(skipped) >= 0.75 * len(questions), skipped
    assert pruned.search(model.encode(["who is kishida"])[0], k=5) == full.search(
        model.encode(["who is kishida"])[0], k=5
    )


def test_an_entry_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        SemanticIndex.from_texts(default_model(), [("a", ["x"]), ("a", ["y"])])


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_encodes_and_searches_without_crashing(text: str) -> None:
    model = default_model()
    [vector] = model.encode([text])
    assert vector.shape == (model.dim,) and np.isfinite(vector).all()
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5) or not vector.any()
    assert len(bundled_index().search(vector, k=5)) == 5


def test_a_directory_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a"):
        SemanticModel.load(tmp_path)
    with pytest.raises(OSError):
        SemanticModel.load(tmp_path / "missing")


# The tokenizer on a vocabulary small enough to read: the build script checks it against
# the reference tokenizer on the real one.
TINY = WordPiece(
    {t: i for i, t in enumerate("[UNK] un ##aff ##able want ##ed , . naive cafe 日 本 a".split())}, 0
)


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("unaffable", ["un", "##aff", "##able"]),
        ("Wanted, unwanted.", ["want", "##ed", ",", "[UNK]", "."]),
        ("NAÏVE Café", ["naive", "cafe"]),
        ("日本", ["日", "本"]),
        ("a\x00\u200bb\tcafe", ["[UNK]", "cafe"]),
        ("a" * 101, ["[UNK]"]),
        ("", []),
    ],
)
def test_wordpiece_splits_into_the_longest_known_pieces(text: str, pieces: list[str]) -> None:
    names = {i: t for t, i in TINY.vocab.items()}
    assert [names[i] for i in TINY.ids(text)] == pieces
