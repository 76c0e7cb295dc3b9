"""Languages from the command line: list, show --lang, and adding a language with `add`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from alliance.cli import main
from alliance.instruments import get_instrument


@pytest.fixture(autouse=True)
def deployer_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "deployer"
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(folder))
    return folder


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def wai_wording(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"instrument": "wai-sr", "licence": "Licensed for testing",
                            "instructions": "Rate each.", "anchors": {1: "low", 5: "high"},
                            "items": {str(i): f"Placeholder {i}" for i in range(1, 13)}}
    base.update(changes)
    return base


SPANISH = {"language": "es", "title": "Título de prueba", "licence": "Licencia de prueba",
           "instructions": "Valore cada frase.", "anchors": {1: "poco", 5: "mucho"},
           "items": {str(i): f"Texto {i}" for i in range(1, 13)}}


def test_list_shows_the_languages_of_each_instrument() -> None:
    code, out, _ = run("instruments", "list")
    assert code == 0
    assert out.splitlines()[0].split() == ["id", "kind", "items", "wording", "languages",
                                           "scores", "title"]
    line = next(x for x in out.splitlines() if x.startswith("alliance-12 "))
    assert "en, de, es, fr" in line and "Alliance-12" in line
    wai = next(x for x in out.splitlines() if x.startswith("wai-sr "))
    assert " - " in wai


def test_list_as_json_carries_the_languages() -> None:
    code, out, _ = run("instruments", "list", "--format", "json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["session-check-4"]["languages"] == ["en", "de", "es", "fr"]
    assert rows["phq-9"]["languages"] == []


def test_show_in_spanish_prints_the_spanish_title_instructions_anchors_and_items() -> None:
    code, out, err = run("instruments", "show", "alliance-12", "--lang", "es", "--rater",
                         "therapist")
    assert code == 0 and err == ""
    spanish = get_instrument("alliance-12").wording("therapist", "es")
    assert out.startswith("Alianza-12  [alliance-12 v1.0]")
    assert "language: es (available: en, de, es, fr)" in out
    assert spanish.instructions in out and "5 = Muy de acuerdo" in out
    assert all(spanish.text(i) in out for i in spanish.items)


def test_show_in_a_missing_language_falls_back_with_a_note() -> None:
    code, out, err = run("instruments", "show", "pulse-3", "--lang", "it")
    assert code == 0
    assert err.strip() == "note: no Italian version of pulse-3: shown in English"
    assert get_instrument("pulse-3").item("bond").text_for("client") in out


def test_show_refuses_a_malformed_language_tag() -> None:
    code, _, err = run("instruments", "show", "pulse-3", "--lang", "Deutsch!")
    assert code == 1
    assert err.strip() == ("error: pulse-3: language: 'Deutsch!' is not a language tag like "
                           "es, fr, de or pt-BR")


def test_add_a_spanish_wording_file_to_a_licensed_wai_sr(tmp_path: Path,
                                                         deployer_dir: Path) -> None:
    code, _, err = run("instruments", "add", write(tmp_path / "wai-en.yaml", wai_wording()))
    assert code == 0, err
    code, out, err = run("instruments", "add",
                         write(tmp_path / "wai-es.yaml", wai_wording(**SPANISH)))
    assert code == 0, err
    assert "languages en, es" in out
    saved = yaml.safe_load((deployer_dir / "wai-sr.yaml").read_text(encoding="utf-8"))
    assert saved["translations"]["es"]["items"]["7"] == {"client": "Texto 7"}
    code, out, _ = run("instruments", "show", "wai-sr", "--lang", "es")
    assert code == 0
    assert "Título de prueba" in out and "Texto 7" in out and "licence: Licencia de prueba" in out
    code, out, _ = run("instruments", "list")
    assert "en, es" in next(x for x in out.splitlines() if x.startswith("wai-sr "))


def test_adding_a_language_twice_needs_replace(tmp_path: Path) -> None:
    run("instruments", "add", write(tmp_path / "wai-en.yaml", wai_wording()))
    es = write(tmp_path / "wai-es.yaml", wai_wording(**SPANISH))
    assert run("instruments", "add", es)[0] == 0
    code, _, err = run("instruments", "add", es)
    assert code == 1 and "already has a Spanish (es) version; pass --replace" in err
    newer = write(tmp_path / "wai-es2.yaml", wai_wording(**{**SPANISH, "title": "Otro"}))
    assert run("instruments", "add", newer, "--replace")[0] == 0
    assert "Otro  [wai-sr" in run("instruments", "show", "wai-sr", "--lang", "es")[1]


def test_add_a_spanish_only_wording_to_the_structure_only_spec(tmp_path: Path) -> None:
    code, _, err = run("instruments", "add", write(tmp_path / "wai-es.yaml",
                                                   wai_wording(**SPANISH)))
    assert code == 0, err
    code, out, err = run("instruments", "show", "wai-sr")
    assert code == 0
    assert err.strip() == "note: no English version of wai-sr: shown in Spanish"
    assert "Texto 1" in out


def test_add_a_new_language_to_a_bundled_instrument(tmp_path: Path, deployer_dir: Path) -> None:
    inst = get_instrument("session-check-4")
    data = {"instrument": "session-check-4", "language": "pt-BR", "licence": "CC-BY-4.0",
            "title": "Checagem da sessão", "anchors": {0: "Nada", 10: "Totalmente"},
            "instructions": {"client": "Avalie a sessão.", "therapist": "Avalie pelo cliente."},
            "items": {i: {"client": f"Cliente {i}", "therapist": f"Terapeuta {i}"}
                      for i in inst.item_ids}}
    code, out, err = run("instruments", "add", write(tmp_path / "pt.yaml", data))
    assert code == 0, err
    assert (deployer_dir / "session-check-4.yaml").exists()
    code, out, _ = run("instruments", "show", "session-check-4", "--lang", "pt", "--rater",
                       "therapist")
    assert code == 0 and "Checagem da sessão" in out and "Terapeuta goals" in out


def test_add_refuses_a_bad_translation_file_naming_it(tmp_path: Path) -> None:
    run("instruments", "add", write(tmp_path / "wai-en.yaml", wai_wording()))
    bad = write(tmp_path / "bad.yaml", wai_wording(**{**SPANISH, "anchors": {1: "a", 7: "b"}}))
    code, _, err = run("instruments", "add", bad)
    assert code == 1
    assert err.strip() == (f'error: {bad}: translation "es", field anchors: 7 is outside a '
                           f"whole number from 1 to 5")


def test_validate_names_the_languages_of_a_spec() -> None:
    spec = Path(__file__).parents[2] / "src/alliance/instruments/specs/pulse-3.yaml"
    code, out, _ = run("instruments", "validate", str(spec))
    assert code == 0 and out.strip().endswith("(pulse-3 v1.0, 3 items, languages en, de, es, fr)")


def test_validate_refuses_a_spec_with_an_incomplete_translation(tmp_path: Path) -> None:
    from alliance.instruments import spec_to_mapping

    mapping = spec_to_mapping(get_instrument("pulse-3"))
    del mapping["translations"]["fr"]["items"]["task"]["therapist"]
    path = write(tmp_path / "pulse-3.yaml", mapping)
    code, _, err = run("instruments", "validate", path)
    assert code == 1
    assert err.strip() == (f'invalid: {path}: translation "fr", item "task": no therapist '
                           f"wording (the en version has one)")
