"""Demo wallet (filled in by the wallet work)."""


def load(command) -> list[str]:
    """Nothing yet."""
    return []
