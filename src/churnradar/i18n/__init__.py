"""Message catalogues (zh-CN, the default, and en) and the one function that reads them.

Catalogues are flat JSON maps from a dotted key to a ``str.format`` template. A key missing
from a locale falls back to English, then to the key itself, so a missing text never crashes.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SUPPORTED_LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


@cache
def catalogue(locale: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def normalise_locale(locale: str) -> str | None:
    """Map what people write (zh, zh_CN, zh-cn, en-US, EN) to a supported locale, else None."""
    wanted = locale.strip().replace("_", "-").lower()
    for supported in SUPPORTED_LOCALES:
        if wanted == supported.lower() or wanted.split("-")[0] == supported.split("-")[0].lower():
            return supported
    return None


class LocalisedText:
    """A catalogue key with its parameters, to be rendered later in the reader's locale;
    usable as a parameter of another message (a reason inside an error, say)."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key, self.params = key, params

    def __repr__(self) -> str:
        return f"LocalisedText({self.key!r})"


def translate(key: str, locale: str = DEFAULT_LOCALE, /, **params: Any) -> str:
    resolved = normalise_locale(locale) or DEFAULT_LOCALE
    params = {
        name: translate(value.key, resolved, **value.params)
        if isinstance(value, LocalisedText)
        else value
        for name, value in params.items()
    }
    template = catalogue(resolved).get(key) or catalogue("en").get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
