from __future__ import annotations

from pathlib import Path

import pytest

from alliance.coding.embedder import (
    MODEL_SHA256,
    load_embedder,
    packaged_model_dir,
    resolve_model,
    verify_model,
)
from alliance.errors import ModelError


def fake_model(tmp_path: Path) -> Path:
    d = tmp_path / "model"
    d.mkdir()
    (d / "model.safetensors").write_bytes(b"not the weights")
    return d


def test_tampered_model_is_refused(tmp_path) -> None:
    with pytest.raises(ModelError, match="does not match"):
        verify_model(fake_model(tmp_path))


def test_configured_path_is_verified_unless_opted_out(tmp_path, monkeypatch) -> None:
    d = fake_model(tmp_path)
    monkeypatch.setenv("ALLIANCE_MODEL_PATH", str(d))
    for encoder in ("onnx", "sentence-transformers"):  # refused before any runtime loads
        with pytest.raises(ModelError, match="does not match"):
            load_embedder(encoder=encoder)
    monkeypatch.setenv("ALLIANCE_MODEL_VERIFY", "0")
    src = resolve_model()
    assert src.path == d.resolve() and not src.verify and not src.packaged


@pytest.mark.parametrize(("encoder", "message"), [
    ("onnx", r"config\.json: missing; not a sentence-transformers model folder"),
    pytest.param("sentence-transformers", "cannot load", marks=pytest.mark.model),
])
def test_opted_out_but_unloadable_model_is_a_model_error(tmp_path, encoder, message) -> None:
    with pytest.raises(ModelError, match=message):
        load_embedder(fake_model(tmp_path), verify=False, encoder=encoder)


def test_missing_model_dir_is_a_model_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_embedder(tmp_path / "nowhere", verify=False)


def test_packaged_model_is_always_verified(monkeypatch) -> None:
    monkeypatch.delenv("ALLIANCE_MODEL_PATH", raising=False)
    monkeypatch.setenv("ALLIANCE_MODEL_VERIFY", "0")
    src = resolve_model()
    assert src.packaged and src.verify
    assert (packaged_model_dir() / "model.safetensors").is_file()


def test_expected_checksum_is_the_published_one() -> None:
    assert MODEL_SHA256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_embedding_cache_encodes_each_text_once_and_survives_a_restart(tmp_path,
                                                                         fake_embedder) -> None:
    from alliance.coding.embedder import EmbeddingCache

    calls: list[int] = []

    class Counting:
        name, dimension, runtime = fake_embedder.name, fake_embedder.dimension, "test"

        def encode(self, texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return fake_embedder.encode(texts)

    path = tmp_path / "cache.npz"
    cache = EmbeddingCache(Counting(), path)
    first = cache.encode(["a b", "c d", "a b"])
    assert calls == [2] and first.shape == (3, fake_embedder.dimension)
    again = EmbeddingCache(Counting(), path).encode(["c d", "a b"])
    assert calls == [2]  # nothing re-encoded after reloading the file
    assert (again[1] == first[0]).all()

    class Other(Counting):
        name = "another model"

    EmbeddingCache(Other(), path).encode(["a b"])
    assert calls == [2, 1]  # a cache of another model is not trusted
