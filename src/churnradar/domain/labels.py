"""Words shown in both languages: a label, and for catalogue entries a one-line meaning.

The catalogues (features, metrics, segments) keep their zh and en text beside the code they
describe; these mixins give each entry the text for a locale.
"""

from __future__ import annotations


def _chinese(locale: str) -> bool:
    return locale.startswith("zh")


class Labelled:
    """Has ``zh`` and ``en`` labels."""

    zh: str
    en: str

    def label(self, locale: str) -> str:
        return self.zh if _chinese(locale) else self.en


class Described(Labelled):
    """Has labels and a one-line meaning, ``meaning_zh`` and ``meaning_en``."""

    meaning_zh: str
    meaning_en: str

    def meaning(self, locale: str) -> str:
        return self.meaning_zh if _chinese(locale) else self.meaning_en
