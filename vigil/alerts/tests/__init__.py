from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(kind: str, name: str) -> bytes:
    """The raw body of fixtures/<kind>/<name>.json, as the HTTP layer would hand it over."""
    return (FIXTURES / kind / f"{name}.json").read_bytes()
