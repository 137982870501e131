"""Errors the engine reports to its user, with the exit code the CLI gives them."""


class EngineError(Exception):
    """Something the user asked for cannot be done; printed as Docker prints daemon errors."""

    exit_code = 1
    prefix = "Error response from daemon: "

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.prefix + self.message


class NotFound(EngineError):
    pass


class Conflict(EngineError):
    pass


class InvalidInput(EngineError):
    """Bad input caught before anything is done (a malformed reference, a hostile tar)."""

    prefix = ""


class BadParameter(EngineError):
    """A request the daemon refuses as invalid (dockerd's errdefs.InvalidParameter: 400),
    printed as a daemon error."""


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


def http_status(exc: BaseException) -> int:
    """The status dockerd answers an API call with for this error."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, (InvalidInput, BadParameter)):
        return 400
    return 500
