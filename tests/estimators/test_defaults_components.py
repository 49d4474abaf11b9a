"""The full-catalogue objective, the new training parameters, target counts and BERT's 80/10/10."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import skseqrec.estimators._transformer as transformer_module
from skseqrec import BERT4RecEstimator, ESASRecEstimator, SASRecClassifierEstimator
from skseqrec.data import build_sequences
from skseqrec.datasets import make_sequential_world
from skseqrec.exceptions import InvalidParameterError
from skseqrec.nn import Objective
from skseqrec.nn.factory import build_encoder
from skseqrec.training import EarlyStopping

TINY = dict(hidden_units=8, num_blocks=1, max_len=8, batch_size=16, epochs=1)
N_ITEMS = 7


@pytest.fixture(scope="module")
def X():
    return make_sequential_world(n_users=40, n_items=20, min_length=5, max_length=8, random_state=0)


# ------------------------------------------------------------ full-catalogue objective
@pytest.fixture(scope="module")
def scored():
    """A tiny encoder, fixed hidden states, targets with one padding position, and the
    hand-computed logits of every (valid position, catalogue item)."""
    torch.manual_seed(0)
    module = build_encoder(
        N_ITEMS, d_model=4, n_blocks=0, n_heads=1, dropout=0.0, max_len=4, init="xavier"
    )
    hidden = torch.randn(2, 3, 4)
    targets = torch.tensor([[3, 7, 1], [0, 5, 2]])
    valid = targets != 0
    with torch.no_grad():
        table = module.item_embedding.weight[1 : N_ITEMS + 1]  # row j = code j + 1
        logits = hidden[valid] @ table.T  # (5, N_ITEMS)
    return module, hidden, targets, valid, logits, targets[valid] - 1


def _full(loss, module, hidden, targets, valid, **kwargs):
    objective = Objective(loss=loss, negative_sampling="full", num_negatives=2, **kwargs)
    with torch.no_grad():
        return float(objective(module, hidden, targets, valid, generator=torch.Generator()))


@pytest.mark.parametrize("loss", ["softmax", "sampled_softmax", "infonce"])
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_full_softmax_losses_are_cross_entropy_over_the_catalogue(scored, loss, temperature):
    module, hidden, targets, valid, logits, columns = scored
    scaled = logits / temperature
    expected = -scaled.log_softmax(-1)[torch.arange(len(columns)), columns].mean()
    got = _full(loss, module, hidden, targets, valid, temperature=temperature)
    assert got == pytest.approx(float(expected), rel=1e-5)


def test_full_bce_averages_the_negative_term_over_every_other_item(scored):
    module, hidden, targets, valid, logits, columns = scored
    per_position = []
    for row, column in zip(logits.tolist(), columns.tolist()):
        positive = math.log1p(math.exp(-row[column]))  # BCE(s, 1)
        others = [math.log1p(math.exp(s)) for j, s in enumerate(row) if j != column]
        assert len(others) == N_ITEMS - 1
        per_position.append(positive + sum(others) / len(others))
    expected = sum(per_position) / len(per_position)  # the padding position is not counted
    assert _full("bce", module, hidden, targets, valid) == pytest.approx(expected, rel=1e-5)


def _gbce_by_hand(logits, columns, beta, divisor):
    per_position = []
    for row, column in zip(logits.tolist(), columns.tolist()):
        positive = -beta * F.logsigmoid(torch.tensor(row[column])).item()
        others = sum(math.log1p(math.exp(s)) for j, s in enumerate(row) if j != column)
        per_position.append((positive + others) / divisor)
    return sum(per_position) / len(per_position)


def test_full_gbce_averages_over_its_n_items_terms(scored):
    """beta = gbce_beta(n - 1, n, t) = 1 whatever t; the mean runs over the positive and
    the n - 1 other items."""
    module, hidden, targets, valid, logits, columns = scored
    expected = _gbce_by_hand(logits, columns, 1.0, N_ITEMS)
    for t in (0.0, 0.75, 1.0):
        got = _full("gbce", module, hidden, targets, valid, gbce_t=t)
        assert got == pytest.approx(expected, rel=1e-5)
    # a beta other than 1 would change the value
    other = _gbce_by_hand(logits, columns, 0.5, N_ITEMS)
    assert _full("gbce", module, hidden, targets, valid) != pytest.approx(other, rel=1e-3)


def test_full_catalogue_draws_no_negatives(scored):
    module, hidden, targets, valid, _, _ = scored
    generator = torch.Generator().manual_seed(3)
    before = generator.get_state()
    objective = Objective(loss="bce", negative_sampling="full", num_negatives=50)
    with torch.no_grad():
        objective(module, hidden, targets, valid, generator=generator)
    assert torch.equal(generator.get_state(), before)


# ------------------------------------------------------------------ new parameters
@pytest.mark.parametrize("limit, expected", [(10_000, "full"), (19, "shared"), (20, "full")])
def test_auto_negative_sampling_depends_on_the_catalogue_size(X, monkeypatch, limit, expected):
    monkeypatch.setattr(transformer_module, "FULL_CATALOGUE_MAX_ITEMS", limit)
    est = SASRecClassifierEstimator(**TINY, negative_sampling="auto").fit(X)
    assert est.n_items_ == 20
    assert est.negative_sampling_ == expected
    assert est._make_objective().negative_sampling == expected
    assert est.negative_sampling == "auto"  # the parameter itself is left alone


def test_explicit_negative_sampling_is_kept(X, monkeypatch):
    monkeypatch.setattr(transformer_module, "FULL_CATALOGUE_MAX_ITEMS", 10_000)
    est = SASRecClassifierEstimator(**TINY, negative_sampling="uniform").fit(X)
    assert est.negative_sampling_ == "uniform"


def _linear_weights(module):
    return [m.weight for m in module.modules() if isinstance(m, torch.nn.Linear)]


def test_init_sets_the_scale_of_linear_weights():
    normal = SASRecClassifierEstimator(hidden_units=16, init="normal").build_module(30)
    xavier = SASRecClassifierEstimator(hidden_units=16, init="xavier").build_module(30)
    # the biggest matrix is the 16 -> 64 feed-forward
    w_normal = max(_linear_weights(normal), key=torch.Tensor.numel).detach()
    w_xavier = max(_linear_weights(xavier), key=torch.Tensor.numel).detach()
    assert w_normal.shape == w_xavier.shape and w_normal.numel() >= 1024
    assert float(w_normal.std()) == pytest.approx(0.02, rel=0.1)
    fan_out, fan_in = w_xavier.shape
    assert float(w_xavier.std()) == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.1)
    # the padding row stays zero under both
    assert not xavier.item_embedding.weight[0].any() and not normal.item_embedding.weight[0].any()
    with pytest.raises(InvalidParameterError, match="init"):
        SASRecClassifierEstimator(**TINY, init="kaiming").check_params()


def test_betas_reach_the_optimiser():
    module = torch.nn.Linear(2, 2)
    for optimizer in ("adam", "adamw"):
        est = SASRecClassifierEstimator(betas=(0.8, 0.95), optimizer=optimizer)
        groups = est._make_optimizer(module).param_groups
        assert all(group["betas"] == (0.8, 0.95) for group in groups)
    assert SASRecClassifierEstimator().betas == (0.9, 0.98)


@pytest.mark.parametrize("betas", [(0.9, 0.98, 0.999), (0.9,), (0.9, 1.0), "ab", ()])
def test_bad_betas_raise(X, betas):
    est = SASRecClassifierEstimator(**TINY, betas=betas)
    with pytest.raises(InvalidParameterError, match="betas"):
        est.fit(X)
    assert not hasattr(est, "module_")


def test_adamw_decays_only_linear_weights():
    est = SASRecClassifierEstimator(hidden_units=8, optimizer="adamw", weight_decay=0.1)
    module = est.build_module(30)
    groups = est._make_optimizer(module).param_groups
    assert len(groups) == 2
    decayed, kept = groups
    linear = {id(w) for w in _linear_weights(module)}
    assert {id(p) for p in decayed["params"]} == linear and decayed["weight_decay"] == 0.1
    assert kept["weight_decay"] == 0.0
    kept_ids = {id(p) for p in kept["params"]}
    assert id(module.item_embedding.weight) in kept_ids
    assert id(module.final_norm.weight) in kept_ids
    biases = [m.bias for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert biases and all(id(b) in kept_ids for b in biases if b is not None)
    # every parameter is in exactly one group
    assert len(decayed["params"]) + len(kept["params"]) == len(list(module.parameters()))
    # Adam keeps one group with the L2 penalty on everything
    adam = SASRecClassifierEstimator(hidden_units=8, weight_decay=0.1)._make_optimizer(module)
    assert len(adam.param_groups) == 1 and adam.param_groups[0]["weight_decay"] == 0.1


def _one_epoch(est, train, seed=0):
    est.set_params(gap_conditioning=False)  # outside fit, which learns the gaps' time unit
    rows = []
    for batch in est._batch_factory(train, np.random.default_rng(seed), torch.device("cpu"))(1):
        rows.extend(batch["sequence"].tolist())
    return rows


def test_bucketed_batches_hold_every_user_once_with_less_padding():
    lengths = np.arange(2, 42)  # 40 users of 2..41 events
    users = np.repeat(np.arange(len(lengths)), lengths)
    items = np.arange(1, len(users) + 1) % 30 + 1
    train = build_sequences(users, items, np.arange(len(users)))
    shapes = {}
    for batching in ("random", "bucketed"):
        est = SASRecClassifierEstimator(max_len=40, batch_size=4, batching=batching)
        rows = _one_epoch(est, train)
        # every user once per epoch, with his most recent max_len + 1 events
        assert sorted(sum(1 for c in row if c) for row in rows) == sorted(np.minimum(lengths, 41))
        widths = [
            len(batch["sequence"][0])
            for batch in est._batch_factory(train, np.random.default_rng(0), torch.device("cpu"))(1)
        ]
        shapes[batching] = sorted(widths)
    # one pool (40 users < 50 batches): sorted by length, every batch holds 4 neighbouring
    # lengths and is cut to its longest row, the least padding possible
    assert shapes["bucketed"] == list(range(5, 42, 4))
    assert sum(shapes["random"]) > sum(shapes["bucketed"]) * 1.2
    with pytest.raises(InvalidParameterError, match="batching"):
        SASRecClassifierEstimator(batching="sorted").check_params()


def test_early_stopping_parameters_build_the_callback():
    est = SASRecClassifierEstimator(
        early_stopping_steps=40,
        early_stopping_min_steps=100,
        early_stopping_tol="se",
        restore_best_weights=False,
    )
    [callback] = est._training_callbacks(True)
    assert isinstance(callback, EarlyStopping)
    assert (callback.monitor, callback.patience, callback.patience_steps) == (
        "valid_ndcg@10",
        None,
        40,
    )
    assert (callback.min_steps, callback.tol, callback.restore_best) == (100, "se", False)
    assert callback.patience_rate == 0.0
    assert est._training_callbacks(False) == []  # no validation data, no early stopping
    est.set_params(early_stopping_rate=0.5)
    assert est._training_callbacks(True)[0].patience_rate == 0.5


def test_patience_in_rounds_replaces_a_presets_steps():
    # a preset stops in steps; a user's early_stopping_patience must do what it says
    est = ESASRecEstimator(early_stopping_patience=2)
    assert est.early_stopping_steps is not None
    [callback] = est._training_callbacks(True)
    assert (callback.patience, callback.patience_steps, callback.patience_rate) == (2, None, 0.0)


def test_bad_early_stopping_values_raise():
    for bad in (
        {"early_stopping_tol": "sd"},
        {"early_stopping_tol": -0.1},
        {"validation_interval": 0},
        {"early_stopping_steps": 0},
        {"early_stopping_rate": -0.5},
    ):
        with pytest.raises(InvalidParameterError):
            SASRecClassifierEstimator(**bad).check_params()


# Adam moves every weight by about the learning rate: 1e-12 keeps the ranking (and the
# monitored ndcg) as it was, so nothing improves after the first record
FROZEN = dict(TINY, learning_rate=1e-12, epochs=5)  # 40 users / 16 = 3 steps per epoch


def test_early_stopping_steps_counts_optimiser_steps(X):
    est = SASRecClassifierEstimator(**FROZEN, early_stopping_steps=3).fit(X)
    assert est.n_epochs_ == 2 and est.best_epoch_ == 1
    assert "did not improve for 3 steps" in est.stop_reason_
    patient = SASRecClassifierEstimator(
        **FROZEN, early_stopping_steps=3, early_stopping_min_steps=10
    ).fit(X)
    # the plateau is waited out until step 12 >= 10
    assert patient.n_epochs_ == 4 and list(patient.history_["step"]) == [3, 6, 9, 12]
    assert "did not improve for 9 steps" in patient.stop_reason_


# ----------------------------------------------------------------------- target counts
def test_count_targets_counts_the_shifted_window_targets():
    # user 0: 1 2 3 4 5; user 1: 2 3; user 2: 6 5 4 3 (codes; times in row order)
    users = np.array([0] * 5 + [1] * 2 + [2] * 4)
    items = np.array([1, 2, 3, 4, 5, 2, 3, 6, 5, 4, 3])
    train = build_sequences(users, items, np.arange(len(users)))
    est = SASRecClassifierEstimator(max_len=2)
    # windows of max_len + 1 = 3: [3 4 5] -> 4, 5; [2 3] -> 3; [5 4 3] -> 4, 3
    counts = est._count_targets(train, 6)
    assert counts.tolist() == [0, 0, 0, 2, 2, 1, 0]
    longer = SASRecClassifierEstimator(max_len=10)._count_targets(train, 6)
    # every event but each user's first: 2 3 4 5 | 3 | 5 4 3
    assert longer.tolist() == [0, 0, 1, 3, 2, 2, 0]


def test_count_targets_matches_the_training_batches(X):
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 15, size=30)
    users = np.repeat(np.arange(30), lengths)
    items = rng.integers(1, 13, size=len(users))
    train = build_sequences(users, items, np.arange(len(users)))
    est = SASRecClassifierEstimator(max_len=6, batch_size=7)
    seen = np.zeros(13, dtype=np.int64)
    for row in _one_epoch(est, train):
        row = np.array(row)
        inputs, targets = row[:-1], row[1:]
        np.add.at(seen, targets[(inputs != 0) & (targets != 0)], 1)
    assert est._count_targets(train, 12).tolist() == seen.tolist()


# -------------------------------------------------------------------- BERT's 80/10/10
def test_bert4rec_masks_80_10_10():
    n_items, rows, width = 500, 64, 50
    est = BERT4RecEstimator(hidden_units=8, num_blocks=1, num_heads=1, max_len=width, mask_prob=0.5)
    module = est.build_module(n_items)
    captured = {}

    def forward(items, times=None):
        # position b * width + l in the first feature: tells which positions were scored
        captured["inputs"] = items.clone()
        out = torch.zeros(*items.shape, module.d_model)
        out[..., 0] = torch.arange(items.numel(), dtype=torch.float32).view(items.shape)
        return out

    def objective(module, hidden, targets, valid, *, generator, labels=None):
        captured["positions"] = hidden[:, 0].long()
        captured["targets"] = targets.clone()
        return hidden.sum()

    module.forward = forward
    sequence = torch.randint(
        1, n_items + 1, (rows, width), generator=torch.Generator().manual_seed(1)
    )
    est._loss(module, {"sequence": sequence}, torch.Generator().manual_seed(0), objective)

    flat, inputs = sequence.flatten(), captured["inputs"].flatten()
    masked = torch.zeros(rows * width, dtype=torch.bool)
    masked[captured["positions"]] = True
    assert torch.equal(captured["targets"], flat[masked])  # the originals are the targets
    assert masked.float().mean().item() == pytest.approx(0.5, abs=0.05)
    assert torch.equal(inputs[~masked], flat[~masked])  # the rest is left as it is
    shown = inputs[masked]
    n = len(shown)
    mask_token = shown == n_items + 1
    kept = shown == flat[masked]
    replaced = ~mask_token & ~kept
    assert mask_token.sum().item() / n == pytest.approx(0.8, abs=0.05)
    assert kept.sum().item() / n == pytest.approx(0.1, abs=0.04)
    assert replaced.sum().item() / n == pytest.approx(0.1, abs=0.04)
    random_items = shown[replaced]
    assert ((random_items >= 1) & (random_items <= n_items)).all()
    assert len(random_items.unique()) > 0.8 * len(random_items)  # spread over the catalogue


def test_bert4rec_validation_loss_always_shows_the_mask():
    n_items = 50
    est = BERT4RecEstimator(hidden_units=8, num_blocks=1, num_heads=1, max_len=10)
    module = est.build_module(n_items)
    captured = {}
    real_forward = module.forward

    def forward(items, times=None):
        captured["inputs"] = items.clone()
        return real_forward(items, times)

    module.forward = forward
    sequence = torch.randint(1, n_items + 1, (200, 10), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        est._loss(
            module,
            {"sequence": sequence, "last_only": True},
            torch.Generator().manual_seed(0),
            Objective(loss="softmax"),
        )
    inputs = captured["inputs"]
    assert (inputs[:, -1] == n_items + 1).all()
    assert torch.equal(inputs[:, :-1], sequence[:, :-1])


def test_tol_se_with_monitor_loss_is_refused(X):
    est = SASRecClassifierEstimator(
        **dict(TINY, epochs=2), monitor="loss", early_stopping_patience=2, early_stopping_tol="se"
    )
    with pytest.raises(InvalidParameterError, match="standard error"):
        est.fit(X)
    assert not hasattr(est, "module_")
