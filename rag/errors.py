"""Errors a user can act on; each message names the file or setting at fault."""


class MemragError(Exception):
    """Base class of every error memrag raises on purpose."""


class InputError(MemragError):
    """A path or document that cannot be ingested (missing, empty, undecodable)."""


class ConfigError(MemragError):
    """A settings file or value that cannot be understood."""


class IndexFormatError(MemragError):
    """An index directory that is missing, corrupt, or not a memrag index."""


class IndexBusyError(MemragError):
    """An index dir that another process is building right now."""


class EmbedderMismatchError(MemragError):
    """An index opened with an embedder other than the one it was built with."""


class LLMError(MemragError):
    """An LLM backend that failed after retries or answered something unusable."""


class EmbeddingEndpointError(MemragError):
    """An embeddings endpoint that failed after retries or answered something unusable."""


class MissingExtraError(MemragError):
    """An optional dependency that is not installed; the message names the extra."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"{package} is not installed: pip install 'memrag[{extra}]'")


class OutputPathError(MemragError):
    """An output option naming a path that cannot be written (a folder for a file, ...)."""


class IndexChangedError(IndexFormatError):
    """An index dir a build replaced while a reader was still loading the version it opened."""


class DiskFullError(MemragError):
    """A build that ran out of disk space; the message names what it was writing."""
