"""The words of the client's pages in the client's language (``client_text.yaml``).

>>> words("es-MX")["send"], words("it")["send"]
('Enviar mis respuestas', 'Send my answers')
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from alliance.errors import ConfigError
from alliance.yamltext import load_yaml

LANGUAGES = ("en", "es", "fr", "de")


@cache
def _all() -> dict[str, dict[str, str]]:
    raw = (resources.files("alliance.web") / "client_text.yaml").read_text("utf-8")
    data = load_yaml(raw, "client_text.yaml", ConfigError)
    return {lang: {k: str(v) for k, v in words.items()} for lang, words in data.items()}


def words(language: str | None) -> dict[str, str]:
    """The page words in ``language`` (its primary subtag), English when not written."""
    primary = (language or "en").split("-")[0].lower()
    return _all().get(primary, _all()["en"])
