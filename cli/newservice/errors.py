"""The one-line errors newservice shows, and how Copier's answer errors become one.

Every failure the user can cause ends as a `NewserviceError`: the CLI prints its
message on one line of stderr and exits with its code, so no traceback reaches
the user unless they ask for it with --debug.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

USAGE_EXIT = 2
FAILURE_EXIT = 1
INTERRUPTED_EXIT = 130
CONFLICTS_EXIT = 3
"""`newservice update` finished, but some files hold conflicts to resolve by hand."""
UPDATE_AVAILABLE_EXIT = 10
"""`newservice check-update`: the project is behind the installed template."""

Warn = Callable[[str], None]
"""How a command reports what did not stop it; the CLI prints it as one line on stderr."""


class NewserviceError(Exception):
    """A failure explained in one line; nothing was written."""

    exit_code = FAILURE_EXIT

    def __init__(self, message: str) -> None:
        # One line, whatever the source: validators and OS errors may carry newlines.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(NewserviceError):
    """The command line or an answer was wrong; fixing the input fixes it."""

    exit_code = USAGE_EXIT


# Copier reports a refused answer with one of these messages (copier/_user_data.py);
# they are matched so the user is told which flag to change, not which question.
_VALIDATION = re.compile(r"Validation error for question '(?P<key>[^']+)': (?P<detail>.*)", re.S)
_CHOICE = re.compile(r"Invalid choice for '(?P<key>[^']+)': (?P<detail>.*)", re.S)
_NOT_IN = re.compile(r"(?P<given>.+) is not in (?P<valid>\[.*\])", re.S)
_REQUIRED = re.compile(r'Question "(?P<key>[^"]+)" is required')
_TYPE = re.compile(
    r'Invalid answer "(?P<given>.*)" of type ".*" to question "(?P<key>[^"]+)"'
    r' of type "(?P<type>[^"]+)"',
    re.S,
)


def from_copier(error: Exception, origins: Mapping[str, str]) -> UsageError | None:
    """The usage error for an answer Copier refused, or None for any other error.

    `origins` says where each answer came from ("--db", "--data db", ...) so the
    message names what the user typed.
    """
    text = str(error)
    if match := _VALIDATION.fullmatch(text):
        key, detail = match["key"], match["detail"]
    elif match := _CHOICE.fullmatch(text):
        key, detail = match["key"], _readable_choices(match["detail"])
    elif match := _REQUIRED.fullmatch(text):
        key, detail = match["key"], "an answer is required"
    elif match := _TYPE.fullmatch(text):
        key, detail = match["key"], f"expected a {match['type']}, not {match['given']}"
    else:
        return None
    return UsageError(f"{origins.get(key, repr(key))}: {detail}")


@contextmanager
def copier_errors(
    *, origins: Mapping[str, str], source: str, failed: str, hint: str = ""
) -> Iterator[None]:
    """Turn what Copier raises into one-line errors: a refused answer names the flag,
    anything else says what `failed` and why, followed by `hint`."""
    from copier.errors import CopierError, UnsafeTemplateError  # noqa: PLC0415 - slow import
    from jinja2 import TemplateError  # noqa: PLC0415

    try:
        yield
    except KeyboardInterrupt:
        # Copier's interrupt at a prompt is also a CopierError: keep it an interrupt.
        raise
    except UnsafeTemplateError as error:
        raise untrusted(error, source) from error
    except (ValueError, CopierError) as error:
        usage = from_copier(error, origins)
        if usage is not None:
            raise usage from error
        raise NewserviceError(f"{failed}: {error}{hint}") from error
    except TemplateError as error:
        raise NewserviceError(f"{failed}: {error}{hint}") from error
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        raise NewserviceError(f"{failed}: {error.strerror}{where}{hint}") from error


_UNSAFE = re.compile(r"potentially unsafe features?: (?P<features>[^.\n]+)")


def untrusted(error: Exception, source: str) -> UsageError:
    """The usage error for Copier's refusal of a template feature that runs code."""
    match = _UNSAFE.search(str(error))
    features = match["features"] if match else "tasks or extensions"
    return UsageError(
        f"the template {source} uses Copier features that run code on this machine"
        f" ({features}); pass --trust only if you trust it"
    )


def _readable_choices(detail: str) -> str:
    match = _NOT_IN.fullmatch(detail)
    if match is None:
        # A per-choice validator's own message: already written for people.
        return detail
    try:
        valid = ast.literal_eval(match["valid"])
    except (ValueError, SyntaxError):
        return detail
    return f"{match['given']} is not one of {', '.join(map(str, valid))}"
