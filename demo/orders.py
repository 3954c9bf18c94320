"""Demo orders (filled in by the orders work)."""


def load(command) -> list[str]:
    """Nothing yet."""
    return []
