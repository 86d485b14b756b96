"""The collection the milvus kind keeps: its schema, its vector index, and counting its rows."""

from __future__ import annotations

from typing import Any

from indexers.milvus.settings import MilvusSettings

#: The primary key (the 16-hex passage id) and vector field names.
ID_FIELD, VECTOR_FIELD = "id", "vector"


def create_collection(client: Any, name: str, dim: int, settings: MilvusSettings) -> None:
    """Create collection `name` for `dim`-wide vectors with the configured index and metric."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(ID_FIELD, DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    # Strong: a search sees every insert and delete made before it, as FAISS does.
    client.create_collection(name, schema=schema, consistency_level="Strong")
    index = client.prepare_index_params()
    index.add_index(
        field_name=VECTOR_FIELD,
        index_type=settings.index_type,
        metric_type=settings.metric,
        params=dict(settings.index_params),
    )
    # sync=False: pymilvus would poll the build (AllocTimestamp, which Milvus Lite does not
    # implement, then 0.5 s sleeps); loading the collection waits for the index anyway.
    client.create_index(name, index, sync=False)


def row_count(client: Any, name: str) -> int:
    """Rows collection `name` holds now, deletes applied (0 when it does not exist)."""
    if not client.has_collection(name):
        return 0
    client.load_collection(name)
    rows = client.query(name, filter="", output_fields=["count(*)"])
    return int(rows[0]["count(*)"])
