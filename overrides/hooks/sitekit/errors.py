"""One error type that always says where the problem is."""

from __future__ import annotations


class SiteError(Exception):
    """A problem in a source file, reported as ``path:line: message``.

    Every check in the build raises this (or collects several) so that a
    contributor is sent straight to the offending line.
    """

    def __init__(self, path: str, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


def raise_all(errors: list[SiteError]) -> None:
    """Raise one exception listing every error (the first one's type)."""
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    first = errors[0]
    joined = "\n".join(str(e) for e in errors)
    error = SiteError(first.path, first.line, f"{first.message}\n{len(errors)} problems in all:\n{joined}")
    error.errors = list(errors)  # each one, for a caller that collects the problems of a whole build
    raise error


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1
