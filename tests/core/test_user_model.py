"""A person's own model: hub ids and folders load through one path, and every failure is a
clear, translatable message that arrives at once, never a traceback or a file's content."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from models.pretrained.minilm import minilm_path
from models.pretrained.tiny_gpt import ASSET_DIR
from models.pretrained.user_model import (MAX_TOKENS, UserModelError, load_user_model, looks_like_path, model_kind,
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
    sources = (REPO / "models" / "pretrained" / "user_model.py").read_text() + (REPO / "components" / "model_picker.py").read_text()
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


# -- code in a model folder never runs ---------------------------------------------------------------


class Planted:
    """Unpickling this runs code: it writes ``path``. ``torch.load(weights_only=True)`` must refuse it."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return exec, (f"open({self.path!r}, 'w').write('ran')",)


def copy_model_files(source: Path, target: Path, skip: tuple[str, ...] = ()) -> Path:
    target.mkdir(exist_ok=True)
    for path in source.iterdir():
        if path.name not in skip:
            (target / path.name).write_bytes(path.read_bytes())
    return target


def plant_module(folder: Path, sentinel: Path) -> None:
    """A python file that would write ``sentinel`` if transformers imported it for the folder."""
    (folder / "planted.py").write_text(f"open({str(sentinel)!r}, 'w').write('ran')\n"
                                       "from transformers import PretrainedConfig, PreTrainedModel\n"
                                       "class PlantedConfig(PretrainedConfig):\n    model_type = 'planted'\n"
                                       "class PlantedModel(PreTrainedModel):\n    config_class = PlantedConfig\n")


def test_auto_map_code_never_runs(gpt2_folder, tmp_path):
    """A config pointing at the folder's own python file: refused for an unknown family, loaded with
    transformers' own class for a known one, and the file is never imported either way."""
    sentinel = tmp_path / "sentinel"
    auto_map = {"AutoConfig": "planted.PlantedConfig", "AutoModel": "planted.PlantedModel",
                "AutoModelForCausalLM": "planted.PlantedModel", "AutoTokenizer": ["planted.PlantedConfig", None]}

    unknown = copy_model_files(gpt2_folder, tmp_path / "unknown")
    plant_module(unknown, sentinel)
    (unknown / "config.json").write_text(json.dumps({"model_type": "planted", "auto_map": auto_map}))
    assert error_of(str(unknown)).key == "models.err_remote_code"

    known = copy_model_files(gpt2_folder, tmp_path / "known")
    plant_module(known, sentinel)
    config = json.loads((known / "config.json").read_text())
    (known / "config.json").write_text(json.dumps({**config, "auto_map": auto_map}))
    tokenizer_config = json.loads((known / "tokenizer_config.json").read_text())
    (known / "tokenizer_config.json").write_text(json.dumps({**tokenizer_config, "auto_map": auto_map}))
    model = load_user_model(str(known))
    assert type(model.model).__module__.startswith("transformers.models.gpt2")
    assert not sentinel.exists()


def test_safetensors_are_read_and_a_bin_beside_them_is_never_opened(gpt2_folder, tmp_path):
    sentinel = tmp_path / "sentinel"
    folder = copy_model_files(gpt2_folder, tmp_path / "both")
    torch.save({"transformer.wte.weight": Planted(sentinel)}, folder / "pytorch_model.bin")
    both = load_user_model(str(folder)).run("Hello world")
    only_safetensors = load_user_model(str(gpt2_folder)).run("Hello world")
    np.testing.assert_array_equal(both.next_token_logits, only_safetensors.next_token_logits)
    assert not sentinel.exists()


def test_a_pickle_that_runs_code_is_refused(gpt2_folder, tmp_path):
    sentinel = tmp_path / "sentinel"
    folder = copy_model_files(gpt2_folder, tmp_path / "bin_only", skip=("model.safetensors",))
    torch.save({"transformer.wte.weight": Planted(sentinel)}, folder / "pytorch_model.bin")
    error = error_of(str(folder))
    assert error.key == "models.err_load_failed"
    assert not sentinel.exists()
    with pytest.raises(Exception):  # the same file through plain torch.load(weights_only=True)
        torch.load(folder / "pytorch_model.bin", weights_only=True)
    assert not sentinel.exists()


def test_a_tokenizer_folder_with_auto_map_code_never_runs(gpt2_folder, tmp_path):
    from models.text.tokenization import UserTokenizerError, load_user_tokenizer

    sentinel = tmp_path / "sentinel"
    folder = tmp_path / "tokenizer"
    folder.mkdir()
    plant_module(folder, sentinel)
    (folder / "tokenizer_config.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": ["planted.PlantedConfig",
                                                                                              None]}}))
    with pytest.raises(UserTokenizerError):
        load_user_tokenizer(str(folder))
    (folder / "tokenizer.json").write_bytes((gpt2_folder / "tokenizer.json").read_bytes())
    try:
        load_user_tokenizer(str(folder))
    except UserTokenizerError:
        pass  # refusing is fine too; running the file is not
    assert not sentinel.exists()


# -- paths that are not models: a message, never a file's content ------------------------------------

PASSWD_LINE = "root:x:0:0"


@pytest.mark.parametrize(("spec", "key"), [
    ("/etc", "models.err_no_config"),
    ("/etc/", "models.err_no_config"),
    ("../../../../../../../../etc/passwd", "models.err_not_folder"),
    ("/etc/shadow", "models.err_not_folder"),
    ("/proc/self/environ", "models.err_not_folder"),
    ("/dev/zero", "models.err_not_folder"),
])
def test_system_paths_get_a_message_without_content(spec, key):
    error = error_of(spec)
    assert error.key == key and error.values == {"spec": spec}
    for lang in ("en", "zh"):
        template = json.loads((LOCALES / lang / "models.json").read_text(encoding="utf-8"))[key.split(".", 1)[1]]
        shown = template.format(**error.values)
        assert spec in shown and PASSWD_LINE not in shown and "\n" not in spec


def test_user_tokenizer_on_system_paths_shows_no_content():
    from models.text.tokenization import UserTokenizerError, load_user_tokenizer

    for spec in ("/etc/passwd", "../../../../../../../../etc/passwd", "/etc", "/etc/"):
        with pytest.raises(UserTokenizerError) as caught:
            load_user_tokenizer(spec)
        assert PASSWD_LINE not in str(caught.value) and PASSWD_LINE not in caught.value.detail
