"""Each block's math pinned on tiny hand-checked cases."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skseqrec.nn import (
    HSTUBlock,
    PreNormBlock,
    RelativePositionBias,
    RotaryEmbedding,
    SequenceContext,
    SequenceEncoder,
    TimeGapBias,
    in_batch_negatives,
    infonce_loss,
    mse_loss,
    sampling_log_q,
    time_gap_buckets,
)


def _context(items, times=None):
    return SequenceContext.from_items(torch.tensor(items), timestamps=times)


def test_rope_scores_depend_only_on_the_offset():
    torch.manual_seed(0)
    rope = RotaryEmbedding(8)
    q, k = torch.randn(8), torch.randn(8)

    def score(m, n):
        cos_m, sin_m = rope.angles(torch.tensor([[m]]))
        cos_n, sin_n = rope.angles(torch.tensor([[n]]))

        def rotate(x, cos, sin):
            even, odd = x[0::2], x[1::2]
            return torch.stack((even * cos - odd * sin, even * sin + odd * cos), -1).flatten()

        return rotate(q, cos_m[0, 0, 0], sin_m[0, 0, 0]) @ rotate(k, cos_n[0, 0, 0], sin_n[0, 0, 0])

    assert score(5, 3).item() == pytest.approx(score(12, 10).item(), abs=1e-5)
    assert score(5, 3).item() == pytest.approx(score(2, 0).item(), abs=1e-5)
    assert score(5, 3).item() != pytest.approx(score(5, 4).item(), rel=1e-3)
    # position 0 is the identity rotation
    cos, sin = rope.angles(torch.tensor([[0]]))
    assert torch.all(cos == 1) and torch.all(sin == 0)


def test_rope_block_output_does_not_depend_on_left_padding():
    """With relative positions, padding a history further left changes nothing."""
    torch.manual_seed(0)
    d, heads = 8, 2
    encoder = SequenceEncoder(
        10,
        d,
        [
            PreNormBlock(
                d, heads, 0.0, norm=nn.RMSNorm, activation="swiglu", rotary=RotaryEmbedding(4)
            )
        ],
        _none(),
        norm=nn.RMSNorm,
    ).eval()
    short = encoder.encode_last(torch.tensor([[3, 4, 5]]))
    padded = encoder.encode_last(torch.tensor([[0, 0, 0, 3, 4, 5]]))
    torch.testing.assert_close(short, padded, rtol=1e-5, atol=1e-6)


def _none():
    from skseqrec.nn import NoPositionalEmbedding

    return NoPositionalEmbedding()


def test_time_gap_buckets_match_the_formula():
    gaps = torch.tensor([0, 1, 2, 3, 10, 3600, 10**12, -60])
    expected = [
        min(max(math.floor(math.log(max(abs(g), 1)) / 0.301), 0), 128) for g in gaps.tolist()
    ]
    assert time_gap_buckets(gaps).tolist() == expected
    assert time_gap_buckets(torch.tensor([10**12])).item() == 91
    assert time_gap_buckets(torch.tensor([1e60])).item() == 128


def test_relative_position_bias_indexes_the_offset():
    bias = RelativePositionBias(4)
    with torch.no_grad():
        bias.weight.copy_(torch.arange(7.0))  # value = offset (j - i) + 3
    out = bias(_context([[1, 2, 3]]))[0, 0]
    expected = torch.tensor([[3.0, 4, 5], [2, 3, 4], [1, 2, 3]])
    torch.testing.assert_close(out, expected)


def test_time_gap_bias_uses_the_query_own_time():
    bias = TimeGapBias()
    with torch.no_grad():
        bias.weight.copy_(torch.arange(129.0))
    times = torch.tensor([[0.0, 1.0, 61.0]])
    out = bias(_context([[1, 2, 3]], times))[0, 0]
    assert out[2, 0].item() == time_gap_buckets(torch.tensor([61])).item()
    assert out[2, 1].item() == time_gap_buckets(torch.tensor([60])).item()
    assert out[1, 1].item() == 0.0


def test_hstu_block_hand_computed():
    """One head, d=4: pointwise SiLU attention divided by max_len, U-gating, residual."""
    torch.manual_seed(0)
    d, max_len = 4, 5
    block = HSTUBlock(d, 1, 0.0, max_len, use_time=False).eval()
    x = torch.randn(1, 3, d)
    context = _context([[0, 7, 8]])  # one padding column
    out = block(x, context)
    normed = F.layer_norm(x, (d,), eps=1e-6)
    u, v, q, k = F.silu(normed @ block.uvqk.weight.T).chunk(4, dim=-1)
    rab = block.position_bias(context)[0, 0]
    logits = q[0] @ k[0].T + rab
    allowed = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 1, 1]])  # causal, padding key hidden
    weights = F.silu(logits) * allowed / max_len
    y = F.layer_norm(weights @ v[0], (d,), eps=1e-6) * u[0]
    expected = x[0] + block.out(y)
    torch.testing.assert_close(out[0, 1:], expected[1:], rtol=1e-5, atol=1e-6)
    # no softmax: scaling the attention logits' inputs changes the output's magnitude
    # pattern, and a key that is masked contributes nothing
    changed = x.clone()
    changed[0, 0] += 100.0  # the padding column
    torch.testing.assert_close(block(changed, context)[0, 1:], out[0, 1:])


def test_infonce_hand_checked_with_logq():
    positive = torch.tensor([[0.5]])
    negative = torch.tensor([[[0.2, -0.1]]])
    valid = torch.tensor([[True]])
    t = 0.1
    logits = [0.5 / t - math.log(2.0), 0.2 / t - math.log(4.0), -0.1 / t - math.log(0.5)]
    expected = -logits[0] + math.log(sum(math.exp(v) for v in logits))
    got = infonce_loss(
        positive,
        negative,
        valid,
        temperature=t,
        positive_log_q=torch.tensor([[math.log(2.0)]]),
        negative_log_q=torch.log(torch.tensor([4.0, 0.5])),
    )
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_sampling_log_q_expected_counts():
    popularity = torch.tensor([0.0, 0.5, 0.3, 0.2])
    got = sampling_log_q(torch.tensor([1, 3]), popularity, n_in_batch=10, n_uniform=6).exp()
    torch.testing.assert_close(got, torch.tensor([10 * 0.5 + 2.0, 10 * 0.2 + 2.0]))


def test_in_batch_negatives_come_from_valid_targets():
    targets = torch.tensor([[0, 5, 6], [7, 7, 7]])
    valid = torch.tensor([[False, True, True], [True, True, False]])
    drawn = in_batch_negatives(targets, valid, 200, generator=torch.Generator().manual_seed(0))
    assert set(drawn.tolist()) == {5, 6, 7}
    # drawn in proportion to how often an item is a (valid) target: 7 is half of them
    assert 0.35 < (drawn == 7).float().mean().item() < 0.65


def test_mse_ignores_padding():
    predictions = torch.tensor([[1.0, 2.0, 9.0]])
    targets = torch.tensor([[2.0, 2.0, 0.0]])
    valid = torch.tensor([[True, True, False]])
    assert mse_loss(predictions, targets, valid).item() == pytest.approx(0.5)


def test_cosine_encoder_scores_are_bounded():
    torch.manual_seed(0)
    encoder = SequenceEncoder(6, 4, [], _none(), similarity="cosine")
    hidden = torch.randn(2, 4) * 50
    scores = encoder.score_all(hidden)
    assert scores.abs().max() <= 1.0 + 1e-6
    torch.testing.assert_close(
        encoder.score_items(hidden, torch.tensor([1, 2])), scores[:, :2], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("kind", ["pre", "post", "ligr", "rope", "hstu"])
def test_encode_last_equals_the_last_column_of_forward(kind):
    """The last block computing the last position only is an exact shortcut."""
    from skseqrec.nn import LiGRBlock, NoPositionalEmbedding, PostNormBlock
    from skseqrec.nn.positional import LearnablePositionalEmbedding

    torch.manual_seed(0)
    d = 8

    def block():
        return {
            "pre": lambda: PreNormBlock(d, 2, 0.1),
            "post": lambda: PostNormBlock(d, 2, 0.1),
            "ligr": lambda: LiGRBlock(d, 2, 0.1),
            "rope": lambda: PreNormBlock(d, 2, 0.1, rotary=RotaryEmbedding(4)),
            "hstu": lambda: HSTUBlock(d, 2, 0.1, 6, use_time=False),
        }[kind]()

    positional = NoPositionalEmbedding() if kind == "rope" else LearnablePositionalEmbedding(6, d)
    encoder = SequenceEncoder(12, d, [block(), block()], positional).eval()
    items = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 9]])
    torch.testing.assert_close(
        encoder.encode_last(items), encoder(items)[:, -1], rtol=1e-5, atol=1e-6
    )
