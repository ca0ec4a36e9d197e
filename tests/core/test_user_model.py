"""A person's own model: hub ids and folders load through one path, and every failure is a
clear, translatable message that arrives at once, never a traceback or a file's content."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from models.minilm import minilm_path
from models.tiny_gpt import ASSET_DIR
from models.user_model import (MAX_TOKENS, UserModelError, load_user_model, looks_like_path, model_kind,
                               position_limit)

REPO = Path(__file__).resolve().parents[2]
LOCALES = REPO / "assets" / "locales"


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory) -> Path:
    """A random 2-layer GPT-2 with the bundled byte-level BPE tokenizer, saved as safetensors."""
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_gpt2")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=4096, n_positions=64, n_embd=32, n_layer=2, n_head=2,
                                      bos_token_id=0, eos_token_id=0))
    model.save_pretrained(folder)
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(ASSET_DIR / "tokenizer.json"),
                                        eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory) -> Path:
    """A random 2-layer BERT with MiniLM's WordPiece vocabulary, saved as safetensors."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_bert")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    BertTokenizerFast(vocab_file=str(minilm_path() / "vocab.txt")).save_pretrained(folder)
    return folder


def error_of(spec: str, **options) -> UserModelError:
    with pytest.raises(UserModelError) as caught:
        load_user_model(spec, **options)
    return caught.value


# -- loading real (tiny, random) models ---------------------------------------------------


def test_saved_gpt2_folder_loads_as_a_causal_model(gpt2_folder):
    model = load_user_model(str(gpt2_folder))
    assert model.kind == "causal" and model.is_causal
    assert not model.model.training
    assert (gpt2_folder / "model.safetensors").exists()
    run = model.run("The city is old.")
    T = len(run.ids)
    assert run.attentions.shape == (2, 2, T, T)
    assert run.hidden_states.shape == (3, T, 32)
    np.testing.assert_allclose(run.attentions.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(run.attentions, k=1) == 0)  # a writer never looks ahead
    assert run.next_token_logits.shape == (4096,) and np.isfinite(run.next_token_logits).all()
    assert run.tokens == ["The", " city", " is", " old", "."]  # byte-level marks turned back into spaces
    assert not run.truncated and run.total_tokens == T


def test_saved_bert_folder_loads_as_an_encoder(bert_folder):
    model = load_user_model(str(bert_folder))
    assert model.kind == "encoder" and not model.is_causal
    run = model.run("The bank of the river.")
    T = len(run.ids)
    assert run.tokens[0] == "[CLS]" and run.tokens[-1] == "[SEP]"
    assert run.special[0] and run.special[-1] and not any(run.special[1:-1])
    assert run.attentions.shape == (2, 4, T, T)
    assert run.hidden_states.shape == (3, T, 32)
    assert run.next_token_logits is None
    assert np.triu(run.attentions, k=1).max() > 0  # a reader looks both ways


def test_long_text_is_cut_and_says_so(bert_folder):
    run = load_user_model(str(bert_folder)).run("word " * 200, max_tokens=16)
    assert len(run.ids) == 16 and run.truncated and run.total_tokens == 202
    assert run.tokens[-1] == "[SEP]"  # special tokens survive the cut


def test_text_is_cut_to_the_models_position_table(gpt2_folder, bert_folder):
    gpt2_run = load_user_model(str(gpt2_folder)).run("word " * 300)  # 64 positions, default cap 128
    assert len(gpt2_run.ids) == 64 and gpt2_run.truncated
    assert gpt2_run.attentions.shape[-1] == 64
    assert position_limit(type("Config", (), {})()) == MAX_TOKENS
    assert position_limit(type("Config", (), {"max_position_embeddings": 512})()) == MAX_TOKENS


def test_pytorch_bin_weights_load_through_the_safe_path(gpt2_folder, tmp_path):
    """A folder with only pytorch_model.bin still loads (transformers reads it with
    torch.load(weights_only=True)), and gives the same numbers as the safetensors copy."""
    from safetensors.torch import load_file

    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((gpt2_folder / name).read_bytes())
    torch.save(load_file(str(gpt2_folder / "model.safetensors")), tmp_path / "pytorch_model.bin")
    from_bin = load_user_model(str(tmp_path)).run("Hello world")
    from_safetensors = load_user_model(str(gpt2_folder)).run("Hello world")
    np.testing.assert_allclose(from_bin.next_token_logits, from_safetensors.next_token_logits, atol=1e-6)


def test_parameter_limit(gpt2_folder):
    error = error_of(str(gpt2_folder), max_parameters=1000)
    assert error.key == "models.err_too_large" and error.values["millions"] >= 0


def test_kind_detection():
    from transformers import BertConfig, GPT2Config, LlamaConfig, T5Config

    assert model_kind(GPT2Config()) == "causal"
    assert model_kind(LlamaConfig()) == "causal"
    assert model_kind(BertConfig()) == "encoder"
    assert model_kind(BertConfig(is_decoder=True)) == "causal"
    assert model_kind(T5Config()) is None


# -- failures: fast, clear, nothing leaked --------------------------------------------------


@pytest.mark.timeout(60)
def test_unknown_hub_id_offline_fails_at_once():
    error = error_of("someone-who-does-not-exist/no-such-model-xyz")
    assert error.key == "models.err_not_cached_offline"
    assert error.values == {"spec": "someone-who-does-not-exist/no-such-model-xyz"}


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ("", "models.err_empty"),
        ("   ", "models.err_empty"),
        ("/etc/passwd", "models.err_not_folder"),
        ("../../", "models.err_no_config"),
        ("/definitely/not/here", "models.err_path_missing"),
        ("foo/bar/baz", "models.err_bad_id"),
        ("a model with spaces", "models.err_bad_id"),
        ("evil/..", "models.err_bad_id"),
    ],
)
def test_paths_and_ids_that_are_not_models(spec, key):
    error = error_of(spec)
    assert error.key == key
    shown = json.dumps(error.values) + str(error)
    assert "root:" not in shown  # no content of /etc/passwd


def test_folders_that_are_not_quite_models(tmp_path, bert_folder):
    assert error_of(str(tmp_path)).key == "models.err_no_config"
    (tmp_path / "config.json").write_text((bert_folder / "config.json").read_text())
    assert error_of(str(tmp_path)).key == "models.err_no_weights"
    (tmp_path / "model.safetensors").write_bytes((bert_folder / "model.safetensors").read_bytes())
    assert error_of(str(tmp_path)).key == "models.err_no_tokenizer"


def test_unknown_family_and_remote_code_are_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "vocab.txt").write_text("[UNK]\n")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no_such_family"}))
    assert error_of(str(tmp_path)).key == "models.err_unknown_family"
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "custom", "auto_map": {"AutoConfig": "x.Config"}}))
    assert error_of(str(tmp_path)).key == "models.err_remote_code"


def test_encoder_decoder_models_are_refused(tmp_path):
    from transformers import T5Config, T5Model

    T5Model(T5Config(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2)).save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("[UNK]\n")
    error = error_of(str(tmp_path))
    assert error.key == "models.err_unsupported" and error.values["model_type"] == "t5"


def test_path_detection():
    assert looks_like_path("/abs/path") and looks_like_path("./here") and looks_like_path("../up")
    assert looks_like_path("~/models/x") and looks_like_path("C:\\models\\x")
    assert not looks_like_path("gpt2") and not looks_like_path("openai-community/gpt2")


# -- every message exists in both languages --------------------------------------------------


def used_error_keys() -> set[str]:
    sources = (REPO / "models" / "user_model.py").read_text() + (REPO / "components" / "model_picker.py").read_text()
    return set(re.findall(r'"(models\.err_\w+)"', sources))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_error_messages_are_translated(lang):
    strings = json.loads((LOCALES / lang / "models.json").read_text(encoding="utf-8"))
    english = json.loads((LOCALES / "en" / "models.json").read_text(encoding="utf-8"))
    assert set(strings) == set(english)
    keys = used_error_keys()
    assert len(keys) >= 15
    for key in keys:
        name = key.split(".", 1)[1]
        assert name in strings, f"{key} missing in {lang}"
        placeholders = set(re.findall(r"\{(\w+)", strings[name]))
        assert placeholders == set(re.findall(r"\{(\w+)", english[name])), key
        strings[name].format(**{p: 1 for p in placeholders})


# -- the picker keeps the bundled model when loading fails -----------------------------------


def picker_script():
    import streamlit as st

    from components.model_picker import user_model_picker

    chosen = user_model_picker("test", kinds=("encoder",))
    st.session_state["picked"] = None if chosen is None else chosen.spec


@pytest.mark.timeout(120)
def test_picker_shows_a_message_and_returns_none_on_failure(gpt2_folder, bert_folder):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(picker_script, default_timeout=90).run()
    assert not at.exception and at.session_state["picked"] is None
    at.text_input(key="test_user_model_spec").input("/etc/passwd")
    at.button(key="test_user_model_load").click().run()
    assert not at.exception and at.session_state["picked"] is None
    assert len(at.error) == 1 and "is a file, not a model folder" in at.error[0].value
    assert "root:" not in at.error[0].value

    at.text_input(key="test_user_model_spec").input(str(gpt2_folder))  # a writer, but this page reads
    at.button(key="test_user_model_load").click().run()
    assert at.session_state["picked"] is None and "needs a" in at.error[0].value

    at.text_input(key="test_user_model_spec").input(str(bert_folder))
    at.button(key="test_user_model_load").click().run()
    assert not at.exception and not at.error and at.session_state["picked"] == str(bert_folder)
    at.button(key="test_user_model_clear").click().run()
    assert at.session_state["picked"] is None
