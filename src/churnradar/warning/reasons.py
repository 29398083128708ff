"""One-line reasons in the reader's language, filled from the evidence.

A sentence is a sequence of fragments; a fragment that names a missing value is left out, so
"已 45 天未跟进" + "（该客户通常 7 天一次）" becomes just the first part for a customer whose usual
rhythm is unknown. Templates were checked by the parser: bare feature names and number formats.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping

from churnradar.warning.spec import Sentence

_FORMATTER = string.Formatter()


def render(sentence: Sentence, values: Mapping[str, object], locale: str) -> str:
    shown = []
    for fragment in sentence.fragments(locale):
        names = [name for _, name, _, _ in _FORMATTER.parse(fragment) if name]
        if all(_present(values.get(name)) for name in names):
            shown.append(fragment.format_map({name: values[name] for name in names}))
    return "".join(shown)


def _present(value: object) -> bool:
    if value is None:
        return False
    return not (isinstance(value, float) and math.isnan(value))
