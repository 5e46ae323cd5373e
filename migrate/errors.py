"""One exception root, one subclass per kind of failure; each carries the exit code the CLI uses."""
from __future__ import annotations

# Exit codes, documented in README.md and asserted in the CLI tests.
EXIT_OK = 0
EXIT_FINDINGS = 1
"""Findings at or above --fail-on, a plan that does not validate, or differences found by verify."""
EXIT_INPUT = 2
"""Bad usage or a bad input file."""
EXIT_ENVIRONMENT = 3
"""The environment is not as needed: the engine is unreachable, a tool is missing."""
EXIT_INTERNAL = 4
"""A bug: the traceback goes to a log file, one line to the screen."""
EXIT_INTERRUPTED = 130


class MigrateError(Exception):
    """Root of every error the tool reports in one line."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(MigrateError):
    """A file or argument the user gave is missing, unreadable or malformed."""

    exit_code = EXIT_INPUT


class PlanError(InputError):
    """A plan (or an edit of it) that cannot be carried out: the message names the object or step and the fix."""


class EngineError(MigrateError):
    """A Docker Engine could not be reached or refused a request the scan needs."""

    exit_code = EXIT_ENVIRONMENT


class RuleError(InputError):
    """A rule file, a predicate, a message template or a field path in them is malformed."""


class ArchiveError(InputError):
    """A tar stream that cannot be digested: an entry outside its root, an unknown type, a truncated end."""


class CommandLineError(InputError):
    """A value a Windows command line (or the backup folder around it) cannot carry."""


class InternalError(MigrateError):
    """A broken invariant of the tool itself (a packaging slip, a value no input can produce): a bug to report."""
