"""Errors the engine reports to its user, with the exit code the CLI gives them."""


class EngineError(Exception):
    """Something the user asked for cannot be done. `from_daemon`: whether Docker reports it
    from its daemon or its client finds it itself (each face words and codes it: cli/errors.py,
    api/status.py)."""

    exit_code = 1
    from_daemon = True

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(EngineError):
    pass


class Conflict(EngineError):
    pass


class InvalidArgument(EngineError):
    """The daemon refuses a parameter (an unknown filter, a bad value): a 400 on the API."""


class InvalidInput(EngineError):
    """Bad input caught before anything is done (a malformed reference, a hostile tar)."""

    from_daemon = False


class ContainerStartError(EngineError):
    """`run` could not start the command: 125 engine, 126 cannot invoke, 127 not found."""

    def __init__(self, message: str, exit_code: int = 125):
        super().__init__(message)
        self.exit_code = exit_code


def from_os_error(exc: OSError) -> EngineError:
    """An operating-system failure (a full disk, a name too long) in Docker's words, which
    are Go's: `<path>: no space left on device`, lower case."""
    reason = exc.strerror or str(exc)
    reason = reason[:1].lower() + reason[1:]
    return EngineError(f"{exc.filename}: {reason}" if exc.filename else reason)
