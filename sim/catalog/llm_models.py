"""LLM architectures and numeric precisions: what the inference roofline needs to know about a model.

An `LlmArchitecture` holds the shapes of a decoder-only transformer as published (layers, hidden
size, heads, KV heads, head dimension, feed-forward size, vocabulary, experts). Everything else is
derived from the shapes, so one formula serves every entry and the tests can compare the derived
parameter count with the figure each paper states:

    attention per layer  = d * hd * (2 * n_heads + 2 * n_kv_heads)       (Q, O and K, V projections)
    feed-forward / expert = 3 * d * f   (gated SwiGLU)   or   2 * d * f   (plain MLP)
    router per layer      = d * n_experts                                  (mixture-of-experts only)
    norms per layer       = 2 * d                                          (weights only)
    embeddings            = V * d (+ V * d output projection unless tied) + learned positions * d

KV-cache bytes per token = 2 (K and V) x layers x KV heads x head dim x bytes per element
(e.g. Llama-2-7B in bf16: 2 x 32 x 32 x 128 x 2 = 524,288 B = 0.5 MiB per token; Llama-2-70B with
8 KV heads: 327,680 B = 320 KiB per token).

A `ServedModel` adds the precision of the weights and of the KV cache (bf16, fp8, int4), which sets
the bytes moved per step and, for fp8 on hardware with fp8 tensor cores, the usable peak FLOP/s.

The catalog (`llm_models.toml`, next to this file) cites its source for every entry;
`load_llm_catalog()` reads it, `llm_architecture(name)` returns one entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from sim.errors import DataFileError

CATALOG_PATH = Path(__file__).with_name("llm_models.toml")


@dataclass(frozen=True)
class Precision:
    """A numeric format for weights or KV cache.

    `bytes_per_element` [B]; `math_format` is the tensor-core format the matrix products run in
    when this precision is used for the weights: "bf16" or "fp8". Weight-only quantisation (int4
    AWQ/GPTQ kernels, W4A16) dequantises to bf16 before the product, so its math format is bf16;
    fp8 checkpoints on Hopper run fp8 x fp8 products (W8A8), so their math format is fp8.
    """

    name: str
    bytes_per_element: float
    math_format: str

    def __post_init__(self) -> None:
        if self.bytes_per_element <= 0:
            raise ValueError(f"precision {self.name}: bytes per element must be positive")
        if self.math_format not in ("bf16", "fp8"):
            raise ValueError(f"precision {self.name}: math format must be 'bf16' or 'fp8'")


# bfloat16: 16 bits (Kalamkar et al. 2019, "A Study of BFLOAT16 for Deep Learning Training").
BF16 = Precision("bf16", 2.0, "bf16")
# FP8 E4M3: 8 bits (Micikevicius et al. 2022, "FP8 Formats for Deep Learning", arXiv:2209.05433).
FP8 = Precision("fp8", 1.0, "fp8")
# 4-bit integer weights, weight-only (W4A16; Lin et al. 2024 AWQ, Frantar et al. 2023 GPTQ).
# Per-group scales (about 16 bits per 128 weights, i.e. +3 %) are not counted.
INT4 = Precision("int4", 0.5, "bf16")

PRECISIONS: dict[str, Precision] = {p.name: p for p in (BF16, FP8, INT4)}


def precision(name: str) -> Precision:
    """The precision called `name` ("bf16", "fp8" or "int4")."""
    try:
        return PRECISIONS[name]
    except KeyError:
        raise ValueError(f"unknown precision {name!r}; expected one of {sorted(PRECISIONS)}") from None


@dataclass(frozen=True)
class LlmArchitecture:
    """Shapes of a decoder-only transformer, as published. Units: counts of elements."""

    name: str
    display_name: str
    n_layers: int
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_hidden_size: int
    gated_ffn: bool
    vocab_size: int
    tied_embeddings: bool
    learned_position_tokens: int
    n_experts: int
    n_active_experts: int
    max_context_tokens: int
    published_total_params: float
    published_active_params: float
    source: str

    def __post_init__(self) -> None:
        positive = ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim", "ffn_hidden_size",
                    "vocab_size", "n_experts", "n_active_experts", "max_context_tokens")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"model {self.name}: {name} must be positive, got {getattr(self, name)}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"model {self.name}: n_heads {self.n_heads} is not a multiple of "
                             f"n_kv_heads {self.n_kv_heads}")
        if self.n_active_experts > self.n_experts:
            raise ValueError(f"model {self.name}: {self.n_active_experts} active experts > "
                             f"{self.n_experts} experts")
        if self.learned_position_tokens < 0:
            raise ValueError(f"model {self.name}: learned_position_tokens must be >= 0")

    # ---- derived sizes (parameters) -------------------------------------------------------------
    @property
    def attention_dim(self) -> int:
        """n_heads x head_dim: width of the attention output (d_attn in Kaplan et al. 2020)."""
        return self.n_heads * self.head_dim

    @property
    def is_mixture_of_experts(self) -> bool:
        return self.n_experts > 1

    @property
    def attention_params_per_layer(self) -> int:
        return self.hidden_size * self.head_dim * (2 * self.n_heads + 2 * self.n_kv_heads)

    @property
    def expert_params_per_layer(self) -> int:
        """Parameters of ONE feed-forward expert (the whole FFN for a dense model)."""
        matrices = 3 if self.gated_ffn else 2
        return matrices * self.hidden_size * self.ffn_hidden_size

    @property
    def router_params_per_layer(self) -> int:
        return self.hidden_size * self.n_experts if self.is_mixture_of_experts else 0

    @property
    def norm_params_per_layer(self) -> int:
        return 2 * self.hidden_size

    @property
    def input_embedding_params(self) -> int:
        """Token embedding table plus learned position table: looked up, not multiplied."""
        return (self.vocab_size + self.learned_position_tokens) * self.hidden_size

    @property
    def output_projection_params(self) -> int:
        """The un-embedding matrix (a real matrix product per token), shared when tied."""
        return self.vocab_size * self.hidden_size

    def _block_params(self, experts: int) -> int:
        per_layer = (self.attention_params_per_layer + experts * self.expert_params_per_layer
                     + self.router_params_per_layer + self.norm_params_per_layer)
        return self.n_layers * per_layer + self.hidden_size  # + final norm

    @property
    def total_params(self) -> int:
        """All stored parameters."""
        untied_output = 0 if self.tied_embeddings else self.output_projection_params
        return self._block_params(self.n_experts) + self.input_embedding_params + untied_output

    @property
    def active_params(self) -> int:
        """Parameters used for one token (top-k experts for MoE), embeddings included."""
        untied_output = 0 if self.tied_embeddings else self.output_projection_params
        return self._block_params(self.n_active_experts) + self.input_embedding_params + untied_output

    @property
    def matmul_params_per_token(self) -> int:
        """Active parameters that enter a matrix product for each token: the blocks plus the output
        projection, without the embedding lookups. Forward FLOPs per token = 2 x this (+ attention),
        as in Kaplan et al. 2020 (arXiv:2001.08361), Table 1."""
        return self._block_params(self.n_active_experts) + self.output_projection_params

    @property
    def expert_params(self) -> int:
        """Parameters in the feed-forward experts of all layers (the part MoE routing leaves cold)."""
        return self.n_layers * self.n_experts * self.expert_params_per_layer

    @property
    def kv_cache_elements_per_token(self) -> int:
        """2 (K and V) x layers x KV heads x head dim."""
        return 2 * self.n_layers * self.n_kv_heads * self.head_dim

    def kv_cache_bytes_per_token(self, kv_precision: Precision) -> float:
        """KV-cache bytes per token of context [B] = 2 x layers x KV heads x head dim x bytes/element."""
        return self.kv_cache_elements_per_token * kv_precision.bytes_per_element


@dataclass(frozen=True)
class ServedModel:
    """An architecture as deployed: precision of its weights and of its KV cache."""

    architecture: LlmArchitecture
    weights: Precision = BF16
    kv_cache: Precision = BF16

    @property
    def weight_bytes(self) -> float:
        """Bytes of all stored weights [B] (embeddings included)."""
        return self.architecture.total_params * self.weights.bytes_per_element

    @property
    def kv_cache_bytes_per_token(self) -> float:
        """[B per token of context]."""
        return self.architecture.kv_cache_bytes_per_token(self.kv_cache)

    @property
    def label(self) -> str:
        return f"{self.architecture.display_name} ({self.weights.name} weights, {self.kv_cache.name} KV)"


_FIELD_TYPES = {f.name: f.type for f in fields(LlmArchitecture)}


def _entry(path: Path, name: str, table: dict) -> LlmArchitecture:
    expected = [f for f in _FIELD_TYPES if f != "name"]
    missing = [f for f in expected if f not in table]
    unknown = [k for k in table if k not in _FIELD_TYPES]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        raise DataFileError(path, f"[models.{name}]: {'; '.join(problems)}")
    for key, value in table.items():
        wanted = _FIELD_TYPES[key]
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "str": isinstance(value, str),
        }[wanted]
        if not ok:
            raise DataFileError(path, f"[models.{name}] {key} = {value!r}: expected {wanted}")
    try:
        return LlmArchitecture(name=name, **table)
    except (TypeError, ValueError) as exc:
        raise DataFileError(path, f"[models.{name}]: {exc}") from None


@cache
def load_llm_catalog(path: Path = CATALOG_PATH) -> dict[str, LlmArchitecture]:
    """All catalog entries by name, read from `path` (the TOML next to this module by default)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, f"not valid TOML: {exc}") from None
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise DataFileError(path, "expected at least one [models.<name>] table")
    return {name: _entry(path, name, table) for name, table in models.items()}


def llm_architecture(name: str) -> LlmArchitecture:
    """The catalog entry called `name`; an unknown name lists the valid ones."""
    catalog = load_llm_catalog()
    try:
        return catalog[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; the catalog has {', '.join(sorted(catalog))}") from None
