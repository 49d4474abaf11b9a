"""The integer-mask dropout."""

import pytest
import torch

from skseqrec.nn.dropout import Dropout, keep_mask


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_keep_mask_drops_p_and_pairs_are_independent(p):
    torch.manual_seed(0)
    threshold = round(p * 32768)
    mask = keep_mask((1001, 999), threshold)  # odd element count
    assert mask.shape == (1001, 999) and mask.dtype == torch.bool
    dropped = ~mask.flatten()
    assert abs(dropped.float().mean().item() - p) < 0.005
    # elements 2i and 2i+1 come from one 31-bit draw: they must still be independent
    both = (dropped[0:-1:2] & dropped[1::2]).float().mean().item()
    assert abs(both - p * p) < 0.005


def test_keep_mask_is_reproducible_from_the_global_seed():
    torch.manual_seed(3)
    a = keep_mask((64, 33), 6554)
    torch.manual_seed(3)
    b = keep_mask((64, 33), 6554)
    assert torch.equal(a, b)
    assert not torch.equal(a, keep_mask((64, 33), 6554))


def test_dropout_is_unbiased_and_its_gradient_is_the_mask():
    torch.manual_seed(0)
    layer = Dropout(0.2).train()
    x = torch.full((2000, 500), 3.0, requires_grad=True)
    y = layer(x)
    assert abs((y == 0).float().mean().item() - 0.2) < 0.005
    assert abs(y.mean().item() - 3.0) < 0.02
    scale = 32768 / (32768 - round(0.2 * 32768))  # p is rounded to a multiple of 1/32768
    kept = y != 0
    assert torch.allclose(y[kept], torch.tensor(3.0 * scale))
    y.sum().backward()
    assert torch.allclose(x.grad, torch.where(kept, scale, 0.0))


def test_dropout_is_identity_in_eval_mode_and_at_zero():
    x = torch.randn(4, 7)
    assert Dropout(0.3).eval()(x) is x
    assert Dropout(0.0).train()(x) is x
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(1.0)
