"""The installed memrag version, recorded in manifests and eval results."""

from importlib.metadata import PackageNotFoundError, version


def memrag_version() -> str:
    """Return memrag's version, or 'dev' when running from a source tree that is not installed."""
    try:
        return version("memrag")
    except PackageNotFoundError:
        return "dev"
