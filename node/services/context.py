"""What every service needs: settings, storage and the node's URLs."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.settings import Settings
from node.storage.base import Storage
from node.urls import Urls


@dataclass
class NodeContext:
    settings: Settings
    storage: Storage
    urls: Urls = field(init=False)

    def __post_init__(self) -> None:
        self.urls = Urls(self.settings.url)
