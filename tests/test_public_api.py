"""The curated public surface stays sorted, importable and complete."""

from __future__ import annotations

import importlib

import alliance

DOMAIN_PACKAGES = ["alliance.instruments", "alliance.monitoring", "alliance.transcripts",
                   "alliance.training", "alliance.coding", "alliance.outcome"]


def test_all_is_sorted_and_unique() -> None:
    assert alliance.__all__ == sorted(set(alliance.__all__))


def test_every_public_name_exists() -> None:
    for name in alliance.__all__:
        assert hasattr(alliance, name), name


def test_every_error_class_is_public() -> None:
    from alliance import errors

    classes = [n for n, v in vars(errors).items()
               if isinstance(v, type) and issubclass(v, errors.AllianceError)]
    assert set(classes) <= set(alliance.__all__), set(classes) - set(alliance.__all__)


def test_domain_packages_export_through_the_top_level_as_the_same_objects() -> None:
    # Not just the names: one top-level name must never stand for two different objects
    # (``alliance.Episode`` once came from monitoring while ``find_episodes`` came from coding).
    for module_name in DOMAIN_PACKAGES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name in getattr(module, "__all__", []):
            if name.isupper():  # constants stay in their package
                continue
            assert name in alliance.__all__, f"{module_name}.{name} is not in alliance.__all__"
            assert getattr(alliance, name) is getattr(module, name), (
                f"alliance.{name} is not {module_name}.{name}")


def test_transcript_episodes_and_score_episodes_have_distinct_public_names() -> None:
    from alliance.coding.episodes import Episode, find_episodes
    from alliance.monitoring.episodes import ScoreEpisode

    assert alliance.Episode is Episode
    assert alliance.find_episodes is find_episodes
    assert alliance.ScoreEpisode is ScoreEpisode
