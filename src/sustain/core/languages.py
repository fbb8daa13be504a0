"""The languages Sustain speaks: offered only where a translation of ours exists.

Django ships catalogues for a hundred languages, but those cover Django's own words; a mail or
page of ours in a language without our catalogue would come out in English anyway. So the
settings offer the language the texts are written in (LANGUAGE_CODE) and each language of
settings.LANGUAGES for which one of our apps (or LOCALE_PATHS) has a compiled catalogue.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.utils.translation import to_locale


def _catalogue_dirs() -> list[Path]:
    dirs = [Path(p) for p in settings.LOCALE_PATHS]
    for config in apps.get_app_configs():
        if config.name.startswith("sustain."):
            dirs.append(Path(config.path) / "locale")
    return [d for d in dirs if d.is_dir()]


def translated() -> set[str]:
    """Locale names (pt_BR) with a compiled catalogue of ours."""
    found = set()
    for folder in _catalogue_dirs():
        for entry in folder.iterdir():
            if (entry / "LC_MESSAGES" / "django.mo").is_file():
                found.add(entry.name)
    return found


def offered() -> list[tuple[str, str]]:
    """(code, name) pairs a person may choose, the default language first."""
    have = translated()
    default = settings.LANGUAGE_CODE
    return [
        (code, str(name))
        for code, name in settings.LANGUAGES
        if code == default or to_locale(code) in have
    ] or [(default, default)]


def is_offered(code: str) -> bool:
    return code in dict(offered())
