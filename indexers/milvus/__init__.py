"""The milvus index kind: Milvus Lite inside the index dir, or a Milvus server by URI."""

from indexers.milvus.index import MilvusIndex
from indexers.milvus.settings import MilvusSearch, MilvusSettings

__all__ = ["MilvusIndex", "MilvusSearch", "MilvusSettings"]
