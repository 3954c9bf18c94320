"""The root of every domain error. Each app defines its own small tree under it."""


class DomainError(Exception):
    """A business rule refused the request. ``message`` is safe to show to the user."""

    def __init__(self, message: str = "", **params):
        self.params = params
        self.message = str(message) % params if params else str(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
