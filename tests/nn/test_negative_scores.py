"""Per-position negatives read from the full score matrix equal the gathered scores."""

import pytest
import torch

from skseqrec.nn import Objective, build_encoder


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
@pytest.mark.parametrize("n_items", [30, 5000])  # 30 <= 64 k: matrix; 5000 > 64 k: gathered
def test_negative_scores_match_the_gathered_ones(similarity, n_items):
    torch.manual_seed(0)
    module = build_encoder(
        n_items, d_model=8, n_blocks=0, n_heads=1, dropout=0.0, max_len=6, similarity=similarity
    )
    hidden = torch.randn(3, 6, 8, requires_grad=True)
    negatives = torch.randint(1, n_items + 1, (3, 6, 4))
    objective = Objective(loss="gbce", negative_sampling="uniform", num_negatives=4)
    got = objective._negative_scores(module, hidden, negatives)
    expected = module.score_items(hidden, negatives)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    # gradients reach the same item vectors either way
    (grad_got,) = torch.autograd.grad(got.sum(), module.item_embedding.weight)
    (grad_expected,) = torch.autograd.grad(expected.sum(), module.item_embedding.weight)
    torch.testing.assert_close(grad_got, grad_expected, rtol=1e-4, atol=1e-5)
