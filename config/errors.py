"""The one kind of error that means "this process was configured wrong", whatever part of the configuration."""

from __future__ import annotations


class ConfigurationError(Exception):
    """A process cannot start with what it was given: a settings variable, a rule data file or a secret. The message
    says what is wrong and where; `jfc` prints it without a traceback and exits with code 2."""


class SettingsError(ConfigurationError, ValueError):
    """An environment variable holds a value JFC cannot use; the message names each such variable and what is wrong."""
