"""The one exception type for errors a user can cause (bad input, bad request, bad scenario)."""


class IlrsError(Exception):
    """A user-correctable error. The message names the input, what was wrong and what to do.

    The CLI prints it without a traceback and exits non-zero.
    """

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None):
        self.message = message
        self.source = source
        self.hint = hint
        parts = []
        if source:
            parts.append(f"{source}: ")
        parts.append(message)
        if hint:
            parts.append(f" ({hint})")
        super().__init__("".join(parts))
