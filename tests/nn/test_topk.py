"""Seen-item exclusion: exact whatever the order of codes and padding in a row."""

from __future__ import annotations

import torch

from skseqrec.nn import mask_scores, topk_items


def test_item_one_is_excluded_even_before_padding():
    """Padding (0) and item 1 once shared column 0 of a scatter with duplicate indices: the
    last write won, so ``[1, 0]`` left item 1 in the candidates."""
    scores = torch.tensor([[5.0, 4.0, 3.0], [5.0, 4.0, 3.0], [5.0, 4.0, 3.0]])
    exclude = torch.tensor([[1, 0], [0, 1], [1, 1]])
    masked = mask_scores(scores.clone(), exclude)
    assert torch.isinf(masked[:, 0]).all()
    assert torch.equal(masked[:, 1:], scores[:, 1:])
    values, codes = topk_items(masked, 1)
    assert codes[:, 0].tolist() == [2, 2, 2]


def test_only_padding_excludes_nothing_and_allowed_still_applies():
    scores = torch.tensor([[1.0, 2.0, 3.0]])
    assert torch.equal(mask_scores(scores.clone(), torch.zeros((1, 4), dtype=torch.long)), scores)
    allowed = torch.tensor([True, False, True])
    masked = mask_scores(scores.clone(), torch.tensor([[3, 0]]), allowed)
    assert masked.tolist() == [[1.0, float("-inf"), float("-inf")]]
