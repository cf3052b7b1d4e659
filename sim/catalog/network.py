"""Loader for ``network.toml``: link, switch, transceiver and NIC types as frozen records with sources.

Every entry must carry a ``source``; unknown or missing fields and non-positive numbers are reported
together, each naming the TOML key, the value and what was expected.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from sim.errors import DataFileError, SimInputError
from sim.physics.collectives import AlphaBeta

DEFAULT_NETWORK_CATALOG = Path(__file__).with_name("network.toml")


@dataclass(frozen=True)
class LinkType:
    """A link: bandwidth per direction [byte/s], latency per message step [s], traffic-dependent
    energy [J/bit]."""

    name: str
    bandwidth_bytes_per_s: float
    latency_s: float
    energy_per_bit_j: float
    source: str

    def alpha_beta(self) -> AlphaBeta:
        return AlphaBeta(latency_s=self.latency_s, bandwidth_bytes_per_s=self.bandwidth_bytes_per_s)


@dataclass(frozen=True)
class SwitchType:
    """A switch: ports [-], bandwidth per port and direction [byte/s], power with passive cables [W]."""

    name: str
    ports: int
    port_bandwidth_bytes_per_s: float
    power_w: float
    source: str


@dataclass(frozen=True)
class TransceiverType:
    """An optical module: bandwidth per direction [byte/s], power [W]."""

    name: str
    bandwidth_bytes_per_s: float
    power_w: float
    source: str


@dataclass(frozen=True)
class NicType:
    """A network adapter: bandwidth per direction [byte/s], power [W] (counted in the node's power)."""

    name: str
    bandwidth_bytes_per_s: float
    power_w: float
    source: str


@dataclass(frozen=True)
class NetworkCatalog:
    links: Mapping[str, LinkType]
    switches: Mapping[str, SwitchType]
    transceivers: Mapping[str, TransceiverType]
    nics: Mapping[str, NicType]

    def link(self, name: str) -> LinkType:
        return _lookup(self.links, "link", name)

    def switch(self, name: str) -> SwitchType:
        return _lookup(self.switches, "switch", name)

    def transceiver(self, name: str) -> TransceiverType:
        return _lookup(self.transceivers, "transceiver", name)

    def nic(self, name: str) -> NicType:
        return _lookup(self.nics, "nic", name)


def _lookup(table: Mapping, kind: str, name: str):
    try:
        return table[name]
    except KeyError:
        raise SimInputError(f"unknown {kind} type {name!r}; known: {', '.join(sorted(table))}") from None


_TABLES: dict[str, type] = {"link": LinkType, "switch": SwitchType, "transceiver": TransceiverType, "nic": NicType}
# Fields that may be zero (all other numbers must be > 0).
_MAY_BE_ZERO = {"latency_s", "energy_per_bit_j"}


def _parse_entry(kind: str, name: str, raw: object, errors: list[str]):
    cls = _TABLES[kind]
    where = f"{kind}.{name}"
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a table, got {raw!r}")
        return None
    wanted = {f.name: f.type for f in fields(cls) if f.name != "name"}
    for key in raw:
        if key not in wanted:
            errors.append(f"{where}.{key}: unknown field; expected one of {', '.join(sorted(wanted))}")
    values: dict[str, object] = {"name": name}
    ok = True
    for key, annotation in wanted.items():
        if key not in raw:
            errors.append(f"{where}.{key}: missing")
            ok = False
            continue
        value = raw[key]
        if annotation == "str":
            if not (isinstance(value, str) and value.strip()):
                errors.append(f"{where}.{key}: expected a non-empty string, got {value!r}")
                ok = False
        elif annotation == "int":
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                errors.append(f"{where}.{key}: expected an integer >= 1, got {value!r}")
                ok = False
        else:
            number_ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            bound_ok = number_ok and (value >= 0 if key in _MAY_BE_ZERO else value > 0)
            if not bound_ok:
                expected = "a finite number >= 0" if key in _MAY_BE_ZERO else "a finite number > 0"
                errors.append(f"{where}.{key}: expected {expected}, got {value!r}")
                ok = False
            else:
                value = float(value)
        values[key] = value
    return cls(**values) if ok else None


def parse_network_catalog(document: Mapping[str, object], path: object = "<network catalog>") -> NetworkCatalog:
    """Validate a parsed TOML document into a catalog; all problems are reported in one error."""
    errors: list[str] = []
    for key in document:
        if key not in _TABLES:
            errors.append(f"{key}: unknown table; expected one of {', '.join(_TABLES)}")
    parsed: dict[str, dict[str, object]] = {kind: {} for kind in _TABLES}
    for kind in _TABLES:
        entries = document.get(kind, {})
        if not isinstance(entries, dict):
            errors.append(f"{kind}: expected a table of named entries, got {entries!r}")
            continue
        for name, raw in entries.items():
            entry = _parse_entry(kind, name, raw, errors)
            if entry is not None:
                parsed[kind][name] = entry
    if errors:
        message = errors[0] if len(errors) == 1 else f"{len(errors)} problems: " + "; ".join(errors)
        raise DataFileError(path, message)
    return NetworkCatalog(
        links=MappingProxyType(parsed["link"]),
        switches=MappingProxyType(parsed["switch"]),
        transceivers=MappingProxyType(parsed["transceiver"]),
        nics=MappingProxyType(parsed["nic"]),
    )


@lru_cache(maxsize=8)
def load_network_catalog(path: Path = DEFAULT_NETWORK_CATALOG) -> NetworkCatalog:
    """Read and validate a network catalog file (default: the one shipped beside this module)."""
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise DataFileError(path, "network catalog not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, f"not valid TOML: {exc}") from None
    return parse_network_catalog(document, path)
