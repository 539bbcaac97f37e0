"""What the engine asks of a pull connector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class SourcePage:
    """One page of a source. ``removed`` are source ids the source says are gone (Bling
    ``situacao = E``): never mirrored as live."""

    records: Sequence[Mapping[str, Any]]
    has_more: bool
    removed: Sequence[str] = field(default_factory=tuple)


class PullConnector(Protocol):
    source: str

    def read_page(
        self, *, mode: Literal["incremental", "full"], page: int, since: datetime | None
    ) -> SourcePage:
        """Page ``page`` (1-based) of the catalog; ``since`` bounds incremental reads."""
        ...
