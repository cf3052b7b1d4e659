"""The LLM catalog: shapes as published, parameter counts and KV-cache sizes derived from them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.catalog.llm_models import (
    BF16,
    FP8,
    INT4,
    LlmArchitecture,
    ServedModel,
    llm_architecture,
    load_llm_catalog,
    precision,
)
from sim.errors import DataFileError

EXPECTED = {"llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-405b",
            "gpt-3-175b", "mixtral-8x7b"}


def test_catalog_holds_the_models_and_each_cites_a_source():
    catalog = load_llm_catalog()
    assert EXPECTED <= set(catalog)
    for arch in catalog.values():
        assert "20" in arch.source and len(arch.source) > 40, arch.name  # a dated reference


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_derived_parameter_count_matches_the_published_figure(name):
    """Counting the published shapes gives the parameter count the authors state (names round:
    Llama-2-7B has 6.74 B, hence the 4 % band; the others land within 1.5 %)."""
    arch = llm_architecture(name)
    assert arch.total_params == pytest.approx(arch.published_total_params, rel=0.04)
    assert arch.active_params == pytest.approx(arch.published_active_params, rel=0.04)


def test_exact_counts_of_released_llama_2_checkpoints():
    """Hugging Face transformers' num_parameters() of meta-llama/Llama-2-7b-hf and -13b-hf, as printed
    in public fine-tuning logs (e.g. PEFT: 'all params: 6738415616')."""
    assert llm_architecture("llama-2-7b").total_params == 6_738_415_616
    assert llm_architecture("llama-2-13b").total_params == 13_015_864_320


def test_mixture_of_experts_counts_active_experts_only():
    mixtral = llm_architecture("mixtral-8x7b")
    assert mixtral.is_mixture_of_experts
    assert mixtral.total_params == pytest.approx(46.7e9, rel=0.002)   # Mistral AI: 46.7 B total
    assert mixtral.active_params == pytest.approx(12.9e9, rel=0.005)  # 12.9 B used per token
    dense = llm_architecture("llama-2-70b")
    assert not dense.is_mixture_of_experts and dense.active_params == dense.total_params


def test_gpt3_shares_its_embedding_and_has_learned_positions():
    gpt3 = llm_architecture("gpt-3-175b")
    assert gpt3.tied_embeddings and gpt3.learned_position_tokens == 2048
    assert gpt3.total_params == pytest.approx(175e9, rel=0.005)
    # 12 d^2 per layer is the classic count for a plain transformer block (Kaplan et al. 2020)
    per_layer = gpt3.attention_params_per_layer + gpt3.expert_params_per_layer
    assert per_layer == 12 * gpt3.hidden_size ** 2


def test_kv_cache_bytes_per_token_closed_forms():
    """2 x layers x KV heads x head dim x bytes: 0.5 MiB for Llama-2-7B (no GQA), 320 KiB for
    Llama-2-70B (8 KV heads), 128 KiB for Llama-3-8B, in bf16."""
    assert llm_architecture("llama-2-7b").kv_cache_bytes_per_token(BF16) == 2 * 32 * 32 * 128 * 2 == 524_288
    assert llm_architecture("llama-2-70b").kv_cache_bytes_per_token(BF16) == 327_680
    assert llm_architecture("llama-3-8b").kv_cache_bytes_per_token(BF16) == 131_072
    # grouped-query attention: 70B keeps 8 of 64 heads -> 8 x less KV per layer than multi-head
    llama70 = llm_architecture("llama-2-70b")
    assert llama70.n_heads // llama70.n_kv_heads == 8


def test_precision_changes_bytes_and_math_format():
    arch = llm_architecture("llama-2-70b")
    bf16 = ServedModel(arch)
    assert ServedModel(arch, FP8, FP8).weight_bytes == pytest.approx(bf16.weight_bytes / 2)
    assert ServedModel(arch, INT4, BF16).weight_bytes == pytest.approx(bf16.weight_bytes / 4)
    assert ServedModel(arch, BF16, FP8).kv_cache_bytes_per_token == bf16.kv_cache_bytes_per_token / 2
    assert FP8.math_format == "fp8" and INT4.math_format == "bf16"  # W4A16 dequantises to bf16
    assert bf16.weight_bytes == pytest.approx(138e9, rel=0.005)      # the "140 GB" of a 70B model
    assert precision("int4") is INT4
    with pytest.raises(ValueError, match="unknown precision"):
        precision("fp4")


def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ValueError, match="llama-2-7b"):
        llm_architecture("llama-9")


def _write(tmp_path, body: str):
    path = tmp_path / "models.toml"
    path.write_text(body)
    return path


def test_catalog_errors_name_the_file_the_entry_and_the_problem(tmp_path):
    load = load_llm_catalog.__wrapped__  # bypass the cache for test files
    path = _write(tmp_path, "[models.tiny]\ndisplay_name = 'Tiny'\nn_layers = 2\n")
    with pytest.raises(DataFileError, match=r"models\.toml: \[models\.tiny\]: missing hidden_size"):
        load(path)
    with pytest.raises(DataFileError, match=r"n_layers = 'two': expected int"):
        load(_write(tmp_path, llm_toml("n_layers = 'two'")))
    with pytest.raises(DataFileError, match="not valid TOML"):
        load(_write(tmp_path, "[models.x\n"))
    with pytest.raises(DataFileError, match="file not found"):
        load(tmp_path / "absent.toml")


def llm_toml(layers_line: str) -> str:
    return f"""[models.tiny]
display_name = "Tiny"
{layers_line}
hidden_size = 64
n_heads = 4
n_kv_heads = 2
head_dim = 16
ffn_hidden_size = 128
gated_ffn = true
vocab_size = 100
tied_embeddings = false
learned_position_tokens = 0
n_experts = 1
n_active_experts = 1
max_context_tokens = 64
published_total_params = 1.0e5
published_active_params = 1.0e5
source = "test"
"""


def test_a_valid_inline_entry_loads(tmp_path):
    catalog = load_llm_catalog.__wrapped__(_write(tmp_path, llm_toml("n_layers = 2")))
    tiny = catalog["tiny"]
    # 2 x (attn 64*16*(8+4) + ffn 3*64*128 + norms 128) + final norm 64 + embeddings 2*100*64
    assert tiny.total_params == 2 * (12_288 + 24_576 + 128) + 64 + 12_800


@given(layers=st.integers(1, 200), kv_heads=st.integers(1, 64), group=st.integers(1, 8),
       head_dim=st.sampled_from([64, 80, 96, 128, 256]), bytes_per=st.sampled_from([BF16, FP8, INT4]))
def test_kv_bytes_formula_for_any_shape(layers, kv_heads, group, head_dim, bytes_per):
    arch = LlmArchitecture("x", "X", layers, 4096, kv_heads * group, kv_heads, head_dim, 11008, True, 32000,
                           False, 0, 1, 1, 4096, 1.0, 1.0, "test")
    assert arch.kv_cache_bytes_per_token(bytes_per) == 2 * layers * kv_heads * head_dim * bytes_per.bytes_per_element


def test_inconsistent_shapes_are_refused():
    with pytest.raises(ValueError, match="not a multiple"):
        LlmArchitecture("x", "X", 2, 64, 6, 4, 16, 128, True, 100, False, 0, 1, 1, 64, 1.0, 1.0, "t")
    with pytest.raises(ValueError, match="active experts"):
        LlmArchitecture("x", "X", 2, 64, 4, 4, 16, 128, True, 100, False, 0, 2, 3, 64, 1.0, 1.0, "t")
