"""The encoder-decoder core: cross-attention against torch's own multi-head attention, masks,
and the GRU seq2seq models' shapes and padding behaviour."""

import pytest
import torch

from models.core.encoder_decoder import CrossAttention, EncoderDecoder, EncoderDecoderConfig
from models.core.rnn_seq2seq import GRUSeq2Seq, GRUSeq2SeqConfig


def copy_into_torch_mha(cross: CrossAttention, n_embd: int, n_heads: int) -> torch.nn.MultiheadAttention:
    reference = torch.nn.MultiheadAttention(n_embd, n_heads, batch_first=True)
    with torch.no_grad():
        reference.in_proj_weight.copy_(torch.cat([cross.w_q.weight, cross.w_k.weight, cross.w_v.weight]))
        reference.in_proj_bias.copy_(torch.cat([cross.w_q.bias, cross.w_k.bias, cross.w_v.bias]))
        reference.out_proj.weight.copy_(cross.w_o.weight)
        reference.out_proj.bias.copy_(cross.w_o.bias)
    return reference.eval()


@pytest.mark.parametrize("need_weights", [True, False])
def test_cross_attention_equals_torch_multihead_attention(need_weights):
    torch.manual_seed(0)
    n_embd, n_heads = 32, 4
    cross = CrossAttention(n_embd, n_heads).eval()
    reference = copy_into_torch_mha(cross, n_embd, n_heads)
    x, memory = torch.randn(3, 5, n_embd), torch.randn(3, 7, n_embd)
    memory_mask = torch.ones(3, 7, dtype=torch.bool)
    memory_mask[1, 4:] = False  # a shorter source, padded
    out, details = cross(x, memory, memory_mask=memory_mask, need_weights=need_weights)
    expected, expected_weights = reference(x, memory, memory, key_padding_mask=~memory_mask,
                                           need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    if need_weights:
        weights = details.weights  # (B, H, T, S)
        torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, n_heads, 5))
        assert torch.all(weights[1, :, :, 4:] == 0)  # padding gets exactly nothing


def tiny_transformer() -> EncoderDecoder:
    torch.manual_seed(1)
    config = EncoderDecoderConfig(source_vocab=11, target_vocab=13, n_embd=16, n_head=2, ffn_hidden=32, max_len=20)
    return EncoderDecoder(config).eval()


def test_trace_has_the_three_attentions_with_their_masks():
    model = tiny_transformer()
    source = torch.tensor([[4, 5, 6, 2, 0, 0]])  # two pads at the end
    target = torch.tensor([[1, 7, 8, 9]])
    trace = model.trace(source, target)
    assert len(trace.encoder_self) == len(trace.decoder_self) == len(trace.cross) == 2
    encoder, decoder, cross = trace.encoder_self[0][0], trace.decoder_self[0][0], trace.cross[0][0]
    assert encoder.shape == (2, 6, 6) and decoder.shape == (2, 4, 4) and cross.shape == (2, 4, 6)
    assert torch.all(encoder[:, :, 4:] == 0) and torch.all(cross[:, :, 4:] == 0)  # no weight on padding
    assert torch.all(torch.triu(decoder, diagonal=1) == 0)  # causal: nothing above the diagonal
    assert torch.all(encoder[:, :4, :4].triu(1).sum() > 0)  # bidirectional: the encoder looks ahead
    for weights in (encoder, decoder, cross):
        torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1]))
    torch.testing.assert_close(trace.logits, model(source, target), atol=1e-5, rtol=1e-5)


def test_decoder_does_not_peek_and_padding_does_not_leak():
    model = tiny_transformer()
    source = torch.tensor([[4, 5, 6, 2]])
    a = model(source, torch.tensor([[1, 7, 8, 9]]))
    b = model(source, torch.tensor([[1, 7, 3, 10]]))
    torch.testing.assert_close(a[:, :2], b[:, :2])  # later target words leave earlier outputs alone
    assert not torch.allclose(a[:, 2:], b[:, 2:])
    padded = model(torch.tensor([[4, 5, 6, 2, 0, 0, 0]]), torch.tensor([[1, 7, 8, 9]]))
    torch.testing.assert_close(a, padded, atol=1e-5, rtol=1e-5)


def test_long_sources_padded_in_a_batch_translate_as_alone():
    """Sentences as long as the longest held-out ones (40 words): positions and the padding mask
    hold there too, so a long source batched with a longer one gets exactly its own outputs."""
    torch.manual_seed(3)
    model = EncoderDecoder(EncoderDecoderConfig(source_vocab=11, target_vocab=13, n_embd=16, n_head=2,
                                                ffn_hidden=32, max_len=80)).eval()
    long_source = torch.randint(4, 11, (1, 41))
    longer = torch.randint(4, 11, (1, 60))
    batch = torch.cat([torch.cat([long_source, torch.zeros(1, 19, dtype=torch.long)], dim=1), longer])
    target = torch.randint(4, 13, (2, 45))
    alone = model(long_source, target[:1])
    torch.testing.assert_close(model(batch, target)[:1], alone, atol=1e-5, rtol=1e-5)
    trace = model.trace(batch, target)
    assert all(torch.all(w[0, :, :, 41:] == 0) for w in trace.cross)  # no cross-attention on the pads


def test_token_vectors_do_not_drown_the_positions():
    """Scaled by sqrt(C), a fresh model's token vectors have entries of about 1, like the sines and
    cosines they are added to (torch's default N(0, 1) tables would make them sqrt(C) times larger)."""
    model = EncoderDecoder(EncoderDecoderConfig(source_vocab=79, target_vocab=101, n_embd=64, max_len=80))
    for table in (model.source_embed, model.target_embed):
        scaled = table.weight * 64 ** 0.5
        assert 0.8 < float(scaled.pow(2).mean().sqrt()) < 1.25
    assert float(model.positions.pow(2).mean().sqrt()) == pytest.approx(0.5 ** 0.5, abs=1e-3)


@pytest.mark.parametrize("attention", [False, True])
def test_gru_seq2seq_padding_and_shapes(attention):
    torch.manual_seed(2)
    model = GRUSeq2Seq(GRUSeq2SeqConfig(11, 13, attention=attention, embedding=8, hidden=16)).eval()
    source = torch.tensor([[4, 5, 6, 2]])
    padded = torch.tensor([[4, 5, 6, 2, 0, 0], [4, 2, 0, 0, 0, 0]])
    target = torch.tensor([[1, 7, 8]])
    alone = model.trace(source, target)
    batch = model.trace(padded, target.expand(2, -1))
    assert alone.logits.shape == (1, 3, 13) and alone.summary.shape == (1, 16)
    torch.testing.assert_close(alone.logits[0], batch.logits[0], atol=1e-5, rtol=1e-5)  # pads change nothing
    torch.testing.assert_close(alone.summary[0], batch.summary[0], atol=1e-6, rtol=1e-5)
    if attention:
        weights = batch.attention
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
        assert torch.all(weights[1, :, 2:] == 0)
    else:
        assert alone.attention is None
