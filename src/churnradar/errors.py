"""The one error hierarchy of churnradar.

    ChurnradarError             anything churnradar raises on purpose; carries a catalogue key
    ├── InvalidInput            bad data or arguments; ``.problems`` lists row/column/code/params
    ├── NotFound                a thing that does not exist, or that the caller may not see
    ├── PermissionDenied        the caller may see it but not do this
    ├── Conflict                the request clashes with stored state (duplicate, run in progress)
    ├── ConfigurationError      settings that cannot work (bad URL, unreachable database, locale)
    ├── NotFittedError          a model used before ``fit``
    └── ConvergenceError        an optimiser that did not converge

Every error names a message key of the i18n catalogue and the parameters to fill it, so each
boundary (CLI, API, pages) renders it in the user's language. ``str(error)`` is the English text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (row as the user sees it, column) and why."""

    code: str
    row: int | None = None
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class ChurnradarError(Exception):
    """Base class. ``key`` is an i18n catalogue key, ``params`` fill its placeholders."""

    key: str = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.render("en"))

    def render(self, locale: str) -> str:
        from churnradar.i18n import translate

        return translate(self.key, locale, **self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as its key and parameters (an import validates in another process)
        return (_rebuild, (type(self), self.key, self.params, self.__dict__))


class InvalidInput(ChurnradarError):
    key = "error.invalid_input"

    def __init__(
        self, key: str | None = None, /, *, problems: list[Problem] | None = None, **params: Any
    ) -> None:
        self.problems = problems or []
        super().__init__(key, **params)


class NotFound(ChurnradarError):
    key = "error.not_found"


class PermissionDenied(ChurnradarError):
    key = "error.permission_denied"


class Conflict(ChurnradarError):
    key = "error.conflict"


class ConfigurationError(ChurnradarError):
    key = "error.configuration"


class NotFittedError(ChurnradarError):
    key = "error.not_fitted"


class ConvergenceError(ChurnradarError):
    key = "error.convergence"


def _rebuild(
    kind: type[ChurnradarError], key: str, params: dict[str, Any], state: dict[str, Any]
) -> ChurnradarError:
    error = Exception.__new__(kind)
    error.__dict__.update(state)
    error.key, error.params = key, params
    Exception.__init__(error, error.render("en"))
    return error
