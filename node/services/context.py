"""What every service needs: settings, storage, the node's URLs and, for
federation, the outbound HTTP client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from node.settings import Settings
from node.storage.base import Storage
from node.urls import Urls

if TYPE_CHECKING:
    from node.federation.http import FederationHttp


@dataclass
class NodeContext:
    settings: Settings
    storage: Storage
    #: Set while the node runs (``create_app`` and the CLI open it); None otherwise.
    http: FederationHttp | None = None
    urls: Urls = field(init=False)

    def __post_init__(self) -> None:
        self.urls = Urls(self.settings.url)

    def require_http(self) -> FederationHttp:
        if self.http is None:
            raise RuntimeError("the federation HTTP client is not open")
        return self.http
