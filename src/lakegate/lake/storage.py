"""Access to the lake through fsspec: one object for local folders and remote URLs.

``Lake`` knows its root URL, the fsspec filesystem behind it and the storage options
that the same URL needs in dlt's filesystem destination and in DuckDB. Azure specifics
(credentials, blob metadata) live in :mod:`lakegate.lake.azure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec

from lakegate.errors import ConfigError

if TYPE_CHECKING:
    from lakegate.settings import Settings

AZURE_PROTOCOLS = frozenset({"az", "abfs", "abfss", "adl"})


def _split(url: str) -> tuple[str, str]:
    """(protocol, path) of a URL; a plain path is ``file``."""
    if "://" not in url:
        return "file", str(Path(url).expanduser().resolve())
    protocol, _, rest = url.partition("://")
    protocol = protocol.lower()
    if protocol == "file":
        return "file", str(Path(rest).expanduser().resolve())
    return protocol, rest.rstrip("/")


@dataclass
class Lake:
    """A lake root and the filesystem that reaches it."""

    url: str
    """Root as given, normalised: ``/abs/path`` for local, ``az://container/prefix`` otherwise."""
    protocol: str
    root: str
    """Root path as fsspec sees it (no protocol)."""
    storage_options: dict[str, Any] = field(default_factory=dict)
    settings: Settings | None = None
    _fs: Any = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> Lake:
        """Open the lake at ``url`` with credentials from ``settings``."""
        protocol, root = _split(url)
        options: dict[str, Any] = {}
        if protocol in AZURE_PROTOCOLS:
            if settings is None:
                raise ConfigError(f"lake {url}: Azure lakes need settings with credentials")
            from lakegate.lake.azure import storage_options

            options = storage_options(settings)
        elif protocol not in fsspec.available_protocols():
            raise ConfigError(f"lake {url}: unknown storage protocol {protocol!r}")
        norm = root if protocol == "file" else f"{protocol}://{root}"
        return cls(
            url=norm, protocol=protocol, root=root, storage_options=options, settings=settings
        )

    @property
    def is_local(self) -> bool:
        """True for a folder on this machine."""
        return self.protocol == "file"

    @property
    def is_azure(self) -> bool:
        """True for Blob Storage / ADLS Gen2."""
        return self.protocol in AZURE_PROTOCOLS

    @property
    def fs(self) -> Any:
        """The fsspec filesystem (created on first use)."""
        if self._fs is None:
            self._fs = fsspec.filesystem(self.protocol, **self.storage_options)
        return self._fs

    def path(self, *parts: str) -> str:
        """fsspec path of ``parts`` under the root (no protocol)."""
        clean = [p.strip("/") for p in parts if p and p.strip("/")]
        return "/".join([self.root.rstrip("/"), *clean]) if clean else self.root

    def url_of(self, *parts: str) -> str:
        """Full URL of ``parts`` under the root (what dlt and DuckDB are given)."""
        p = self.path(*parts)
        return p if self.is_local else f"{self.protocol}://{p}"

    def child(self, *parts: str) -> Lake:
        """A lake rooted at ``parts`` under this one (tenant prefixes)."""
        root = self.path(*parts)
        norm = root if self.is_local else f"{self.protocol}://{root}"
        return Lake(
            url=norm,
            protocol=self.protocol,
            root=root,
            storage_options=self.storage_options,
            settings=self.settings,
            _fs=self._fs,
        )

    def exists(self, *parts: str) -> bool:
        """True when ``parts`` exists under the root."""
        return bool(self.fs.exists(self.path(*parts)))

    def glob(self, pattern: str) -> list[str]:
        """fsspec paths matching ``pattern`` (relative to the root), sorted."""
        return sorted(self.fs.glob(self.path(pattern)))

    def tag_files(self, paths: list[str], metadata: Mapping[str, str]) -> None:
        """Attach metadata (tenant_id, job_id, run_id, environment, source) to files.

        On Azure this sets blob metadata and, where enabled, index tags; a local lake
        has nowhere to keep it, so this does nothing there.
        """
        if not self.is_azure or not paths:
            return
        from lakegate.lake.azure import tag_blobs

        assert self.settings is not None
        tag_blobs(self, paths, metadata)
