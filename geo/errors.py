"""The exceptions parksite raises for things a user can fix.

Every class inherits from :class:`ParksiteError` and from the matching builtin, so a
caller can catch either. The CLI turns any :class:`ParksiteError` into a one-line
message and exit code 2; anything else is a bug and is reported as such.
"""

from __future__ import annotations


class ParksiteError(Exception):
    """Base class of every error parksite raises on purpose."""


class InputError(ParksiteError, ValueError):
    """Bad input data or arguments: the message names the file, layer, feature and fix."""


class StudyError(InputError):
    """A study file (``layers/*.toml``) has one or more problems.

    ``problems`` holds every problem found, each a full sentence; the message lists
    them all so that a user can fix the file in one go.
    """

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{path}: {n} problem{'s' if n != 1 else ''} in the study file"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class LayerError(InputError):
    """A layer file cannot be read or fails validation."""


class MissingFileError(LayerError, FileNotFoundError):
    """A file named in a study file or on the command line does not exist."""


class OutputError(ParksiteError, OSError):
    """An output cannot be written (exists and overwrite not allowed, bad folder, …)."""


class NetworkError(InputError):
    """A road network cannot be built or a point cannot be placed on it."""


class ModelError(InputError):
    """A model is badly specified or infeasible (weights, AHP consistency, layout)."""
