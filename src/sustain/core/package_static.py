"""Static files served straight from an installed Python package (plotly's own plotly.min.js):
a staticfiles finder, so whitenoise (WHITENOISE_USE_FINDERS), `{% static %}` and collectstatic
see them like our own files, and nothing is copied into the repository or fetched from another
origin. settings.PACKAGE_STATIC maps a static path to (package, file inside the package).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage


def _package_dir(package: str) -> str | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return next(iter(spec.submodule_search_locations))


class PackageFileFinder(BaseFinder):
    """Finds the files settings.PACKAGE_STATIC names, each in its own package's folder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # static path -> (storage rooted at the file's folder, the file's name there)
        self.files: dict[str, tuple[FileSystemStorage, str]] = {}
        for url_path, (package, inside) in getattr(settings, "PACKAGE_STATIC", {}).items():
            root = _package_dir(package)
            if root is None:
                continue
            folder, name = os.path.split(os.path.join(root, inside))
            storage = FileSystemStorage(location=folder)
            prefix = os.path.dirname(url_path)
            storage.prefix = prefix  # type: ignore[attr-defined]  # whitenoise and collectstatic read it
            if os.path.basename(url_path) == name and os.path.exists(os.path.join(folder, name)):
                self.files[url_path] = (storage, name)

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        found = self.files.get(path)
        if found is None:
            return [] if find_all else None
        full = found[0].path(found[1])
        return [full] if find_all else full

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for storage, name in self.files.values():
            yield name, storage
