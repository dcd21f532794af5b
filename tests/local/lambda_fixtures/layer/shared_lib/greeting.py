"""A layer module."""


def greet(name: str) -> str:
    return f"hello {name} from the layer"
