"""CLI options that several commands share, declared once so their help cannot drift apart."""

from __future__ import annotations

from typing import Annotated

import typer

#: `--ray-address` of `rag index` and `rag eval`.
RayAddressOption = Annotated[
    str | None,
    typer.Option(help="With --engine ray: the cluster to join (host:port); default local."),
]
