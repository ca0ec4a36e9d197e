"""The sampling lab: knob checks, top tokens, seeded draws and continuations, for our GPT and a transformers model."""

import numpy as np
import pytest
import torch
from scipy import stats

from models.core.gpt import GPT, GPTConfig
from models.labs.sampling import (
    Settings,
    check_combination,
    continuations,
    cumulative_mass,
    draw_samples,
    first_tokens,
    prompt_logits,
    sampling_view,
    top_tokens,
)
from models.core.sampling import written_length
from models.pretrained.tiny_gpt import TinyGPTModel, load_tokenizer
from models.pretrained.user_model import TransformersModel as HFCausalModel

VOCAB = 4096  # the bundled tokenizer's size


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    config = GPTConfig.style_2024(vocab_size=VOCAB, block_size=64, n_layer=2, n_head=4, n_embd=64)
    return TinyGPTModel(GPT(config).eval(), load_tokenizer(), name="test")


@pytest.fixture(scope="module")
def hf_model():
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config).eval()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=load_tokenizer(), bos_token="<|endoftext|>",
                                        eos_token="<|endoftext|>")
    return HFCausalModel(model, tokenizer, name="hf-test")


def peaked_logits(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(VOCAB, generator=generator) * 3


# -- knobs -------------------------------------------------------------------------


def test_sliders_map_to_core_settings():
    settings, issues = check_combination(0.8, 0, 1.0, VOCAB)
    assert settings == Settings(0.8, None, None) and issues == []
    settings, issues = check_combination(1.2, 40, 0.9, VOCAB)
    assert settings == Settings(1.2, 40, 0.9) and issues == []


@pytest.mark.parametrize("temperature,top_k,top_p,key", [
    (1.0, 0, 0.0, "top_p_zero"), (1.0, 0, 1.5, "top_p_above_one"),
    (-0.5, 0, 1.0, "temperature_negative"), (1.0, -3, 1.0, "top_k_negative"),
])
def test_impossible_combinations_cannot_sample(temperature, top_k, top_p, key):
    settings, issues = check_combination(temperature, top_k, top_p, VOCAB)
    assert settings is None
    assert [(i.level, i.key) for i in issues] == [("error", key)]


def test_remarks_on_combinations_that_change_or_do_nothing():
    _, issues = check_combination(0.0, 10, 1.0, VOCAB)
    assert [i.key for i in issues] == ["greedy_ignores_filters"]
    _, issues = check_combination(0.0, 0, 0.5, VOCAB)
    assert [i.key for i in issues] == ["greedy_ignores_filters"]
    _, issues = check_combination(1.0, 1, 1.0, VOCAB)
    assert [i.key for i in issues] == ["top_k_one_is_greedy"]
    settings, issues = check_combination(1.0, 50, 1.0, 20)
    assert settings.top_k == 20 and issues[0].key == "top_k_clamped" and issues[0].level == "warning"


# -- distribution ------------------------------------------------------------------


def test_top_tokens_are_the_view_in_rank_order():
    view = sampling_view(peaked_logits(), Settings(0.7, None, 0.8))
    top = top_tokens(view, 20)
    assert top.ids == view.order[:20].tolist()
    assert top.scaled == sorted(top.scaled, reverse=True)
    assert top.kept_count == int(view.kept.sum()) == top.nucleus_cut
    # the nucleus: the first kept_count ranked tokens are exactly the kept ones
    assert view.kept[view.order[: top.kept_count]].all() and not view.kept[view.order[top.kept_count:]].any()
    mass = cumulative_mass(view, VOCAB)
    assert mass[top.kept_count - 1] >= 0.8 and (top.kept_count == 1 or mass[top.kept_count - 2] < 0.8)
    assert abs(sum(view.adjusted_probs.tolist()) - 1) < 1e-5


def test_raw_bars_ignore_temperature_adjusted_bars_do_not():
    logits = peaked_logits(1)
    cold, hot = (top_tokens(sampling_view(logits, Settings(t, None, None)), 5) for t in (0.5, 2.0))
    assert cold.raw == hot.raw
    assert cold.adjusted[0] > hot.adjusted[0]


def test_prompt_logits_equal_a_plain_forward(tiny):
    prompt = prompt_logits(tiny, "The history of")
    assert prompt.tokens == ["The", " history", " of"] and not prompt.from_start_token and prompt.cut == 0
    logits, _ = tiny.model(torch.tensor([prompt.ids]))
    torch.testing.assert_close(prompt.logits, logits[0, -1])


def test_empty_prompt_starts_from_end_of_text_and_long_prompts_are_cut(tiny):
    empty = prompt_logits(tiny, "")
    assert empty.from_start_token and empty.ids == [tiny.tokenizer.token_to_id("<|endoftext|>")]
    text = "word " * 500
    long = prompt_logits(tiny, text)
    assert len(long.ids) == tiny.context and long.cut == len(tiny.encode(text)) - tiny.context
    assert long.ids == tiny.encode(text)[-tiny.context:]


# -- draws ---------------------------------------------------------------------------


def test_draws_are_seeded_and_follow_the_probabilities():
    view = sampling_view(peaked_logits(2), Settings(1.0, 8, None))
    first, again, other = draw_samples(view, 20_000, 3), draw_samples(view, 20_000, 3), draw_samples(view, 20_000, 4)
    assert np.array_equal(first.counts, again.counts)
    assert not np.array_equal(first.counts, other.counts)
    assert first.counts.sum() == 20_000 and first.distinct <= 8
    assert (first.counts[~view.kept.numpy()] == 0).all()  # removed tokens are never drawn
    kept = view.kept.numpy()
    expected = view.adjusted_probs.numpy()[kept].astype(np.float64) * 20_000
    expected *= 20_000 / expected.sum()
    assert stats.chisquare(first.counts[kept], expected).pvalue > 1e-3
    assert first.total_variation < 0.03
    assert abs(sum(first.frequency) + first.other_frequency - 1) < 1e-9


def test_greedy_draws_are_one_token():
    view = sampling_view(peaked_logits(5), Settings(0.0, None, None))
    result = draw_samples(view, 500, 0)
    assert result.distinct == 1 and result.ids == [int(peaked_logits(5).argmax())] and result.frequency == [1.0]


def test_draw_count_is_bounded():
    view = sampling_view(peaked_logits(), Settings(1.0, None, None))
    with pytest.raises(ValueError):
        draw_samples(view, 0, 0)


# -- continuations -----------------------------------------------------------------


def greedy_by_hand(model, ids, n):
    """Argmax of a full forward pass at every step: no cache, no sampling code."""
    ids = list(ids)
    for _ in range(n):
        logits, _ = model(torch.tensor([ids]))
        ids.append(int(logits[0, -1].argmax()))
    return ids[-n:]


def test_same_seed_same_text_and_greedy_is_argmax(tiny):
    ids = tiny.encode("The city is")
    first = continuations(tiny, ids, [0.0, 0.8, 1.5], 12, None, 0.95, seed=7)
    again = continuations(tiny, ids, [0.0, 0.8, 1.5], 12, None, 0.95, seed=7)
    other = continuations(tiny, ids, [0.0, 0.8, 1.5], 12, None, 0.95, seed=8)
    assert [c.ids for c in first] == [c.ids for c in again]
    assert first[0].ids == other[0].ids  # greedy does not use the seed
    assert first[2].ids != other[2].ids
    assert first[0].ids == greedy_by_hand(tiny.model, ids, 12)
    assert first[1].text == tiny.tokenizer.decode(first[1].ids)
    assert "".join(first[1].pieces) == first[1].text or len(first[1].pieces) == 12


def test_transformers_model_logits_and_greedy_match_its_own_generate(hf_model):
    ids = hf_model.encode("The history of")
    prompt = prompt_logits(hf_model, "The history of")
    assert prompt.ids == ids
    torch.testing.assert_close(prompt.logits, hf_model.model(torch.tensor([ids])).logits[0, -1])
    ours = continuations(hf_model, ids, [0.0], 10, None, None, seed=0)[0].ids
    reference = hf_model.model.generate(torch.tensor([ids]), max_new_tokens=10, do_sample=False,
                                        attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                        pad_token_id=0)
    assert ours == reference[0, len(ids):].tolist()


def test_transformers_model_sampling_is_seeded(hf_model):
    ids = hf_model.encode("The city is")
    first = continuations(hf_model, ids, [1.0], 10, 50, 0.9, seed=1)[0].ids
    assert first == continuations(hf_model, ids, [1.0], 10, 50, 0.9, seed=1)[0].ids
    assert hf_model.start_ids() == [0]



# -- several rows at once ------------------------------------------------------------


ROW_TEMPERATURES = [0.0, 0.3, 0.7, 1.0, 1.5, 2.0]


def test_rows_written_together_are_the_rows_written_one_by_one(tiny):
    """GPT.generate_rows (one forward pass per position for all rows) against GPT.generate
    (one row per call) with the same seed: the same scores, the same tokens."""
    idx = torch.tensor([tiny.encode("The city is")])
    for top_k, top_p in ((None, None), (40, 0.9)):
        generators = [torch.Generator().manual_seed(11) for _ in ROW_TEMPERATURES]
        rows = tiny.model.generate_rows(idx, 16, ROW_TEMPERATURES, top_k, top_p, generators)
        assert rows.shape == (len(ROW_TEMPERATURES), 16)
        for row, temperature in zip(rows.tolist(), ROW_TEMPERATURES):
            alone = tiny.model.generate(idx, 16, temperature=temperature, top_k=top_k, top_p=top_p,
                                        generator=torch.Generator().manual_seed(11))
            assert row == alone[0, idx.size(1):].tolist(), (temperature, top_k, top_p)
    assert rows[0].tolist() == greedy_by_hand(tiny.model, idx[0].tolist(), 16)


def test_batched_scores_match_single_row_scores(tiny):
    """The scores behind every step of a batch of rows equal the single-row scores (float rounding only)."""
    idx = torch.tensor([tiny.encode("The history of")])
    written = tiny.model.generate_rows(idx, 6, [0.0, 1.0], generators=[None, torch.Generator().manual_seed(0)])
    rows = torch.cat([idx.expand(2, -1), written], dim=1)  # (2, T + 6)
    with torch.no_grad():
        together, _ = tiny.model(rows)
        for r in range(2):
            alone, _ = tiny.model(rows[r : r + 1])
            torch.testing.assert_close(together[r], alone[0], rtol=1e-5, atol=1e-5)


def test_generate_rows_checks_its_arguments(tiny):
    idx = torch.tensor([tiny.encode("The city is")])
    with pytest.raises(ValueError):
        tiny.model.generate_rows(idx.expand(2, -1), 4, [1.0, 1.0])  # one prompt only
    with pytest.raises(ValueError):
        tiny.model.generate_rows(idx, 4, [1.0, 0.5], generators=[None])
    with pytest.raises(ValueError):
        tiny.model.generate_rows(idx, 4, [1.0], top_p=0.0)


def test_a_longer_run_begins_with_the_shorter_one(tiny):
    ids = tiny.encode("The city is")
    longer = continuations(tiny, ids, ROW_TEMPERATURES, 16, None, 0.9, seed=3)
    shorter = continuations(tiny, ids, ROW_TEMPERATURES, 11, None, 0.9, seed=3)
    cut = first_tokens(tiny, longer, [0.7, 0.0, 2.0], 11)
    expected = {c.temperature: c for c in shorter}
    assert [c.temperature for c in cut] == [0.7, 0.0, 2.0]
    for c in cut:
        assert c.ids == expected[c.temperature].ids and c.text == expected[c.temperature].text
        assert c.pieces == expected[c.temperature].pieces


def test_written_lengths_round_up_to_the_step():
    assert [written_length(n) for n in (1, 8, 9, 20, 21, 24, 47, 48, 64)] == [8, 8, 16, 24, 24, 24, 48, 48, 64]
    assert all(written_length(n) >= n for n in range(1, 65))


def test_transformers_rows_written_together_match_one_row(hf_model):
    ids = hf_model.encode("The city is")
    together = continuations(hf_model, ids, [0.0, 0.8, 1.5], 10, 50, 0.95, seed=4)
    for row in together:
        assert row.ids == continuations(hf_model, ids, [row.temperature], 10, 50, 0.95, seed=4)[0].ids
