"""Summary-tree memories: RAPTOR, MemWalker and MemTree builders, one `tree` index kind."""

from indexers.tree.config import TreeSearch, TreeSettings
from indexers.tree.index import TreeIndex

__all__ = ["TreeIndex", "TreeSearch", "TreeSettings"]
