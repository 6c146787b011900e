"""What a run of the demo data generator created, per table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DemoDataSummary:
    requested: int
    existing: int
    created: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def add(self, name: str, count: int) -> None:
        self.created[name] = self.created.get(name, 0) + count
