"""The second stage: an MLP that scores (user, candidate item) pairs.

It reads what the retriever knows (its user vector, the item's vector, their product, the
retriever's score and rank) and what it does not need interactions for (the item's metadata,
its popularity, whether the retriever knew it at all). Pairs whose *id part* is masked (ID
dropout in training; items the retriever never saw at serving time) look exactly like a cold
item: no item vector, no score, not retrieved, popularity 0, unknown flag set, so the MLP
learns to rank from metadata where it has nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MetadataEncoder", "PairRanker"]


class MetadataEncoder(nn.Module):
    """Item metadata fields -> one vector per item.

    Each field has an embedding table over its codes (0 = padding, 1 = missing, 2.. values);
    a field's vector is the mean of its non-padding codes' embeddings (one code for a
    categorical or a numeric bucket, several for a multi-label field such as genres), a
    numeric field adds its normalised value times a learned vector, and the fields' vectors
    are summed.

    Parameters
    ----------
    fields : sequence of (n_codes, numeric)
        One entry per field, in a fixed order.
    dim : int

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn.ranker import MetadataEncoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = MetadataEncoder([(6, False), (4, True)], dim=3)  # genres, a numeric year
    >>> genres = torch.tensor([[2, 3], [4, 0], [4, 4]])  # two genres; one (0 pads); the same
    >>> years = torch.tensor([[2], [3], [3]])  # year buckets
    >>> vectors = encoder([genres, years], [None, torch.tensor([-0.5, 1.0, 1.0])])
    >>> vectors.shape, torch.allclose(vectors[1], vectors[2])  # padding codes are ignored
    (torch.Size([3, 3]), True)
    """

    def __init__(self, fields: Sequence[tuple[int, bool]], dim: int):
        super().__init__()
        self.tables = nn.ModuleList(
            nn.Embedding(n_codes, dim, padding_idx=0) for n_codes, _ in fields
        )
        self.numeric = nn.ParameterList(
            nn.Parameter(torch.zeros(dim)) for _, numeric in fields if numeric
        )
        self._numeric_index = []
        count = 0
        for _, numeric in fields:
            self._numeric_index.append(count if numeric else None)
            count += bool(numeric)
        for table in self.tables:
            nn.init.normal_(table.weight, std=0.1)
            with torch.no_grad():
                table.weight[0].zero_()

    def forward(self, codes: Sequence[torch.Tensor], values: Sequence[torch.Tensor | None]):
        """``codes[f]``: (..., m_f) long; ``values[f]``: (...) float or None -> (..., dim)."""
        total = None
        for index, table in enumerate(self.tables):
            field_codes = codes[index]
            present = (field_codes > 0).unsqueeze(-1).to(table.weight.dtype)
            vector = (table(field_codes) * present).sum(-2) / present.sum(-2).clamp_min(1.0)
            numeric = self._numeric_index[index]
            if numeric is not None:
                vector = vector + values[index].unsqueeze(-1) * self.numeric[numeric]
            total = vector if total is None else total + vector
        return total


def _mlp(width: int, hidden_layer_sizes, dropout_rate: float) -> nn.Sequential:
    layers = []
    for size in hidden_layer_sizes:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout_rate)]
        width = size
    layers.append(nn.Linear(width, 1))
    nn.init.zeros_(layers[-1].weight)
    nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


class PairRanker(nn.Module):
    """Score (user, item) pairs with an MLP over retriever, metadata and popularity features.

    A pair with an id part is scored by the retriever's standardised score (times a learned
    weight, 1 at first) plus an MLP's correction (0 at first), so an untrained ranker keeps
    the retriever's order; a pair without one (a cold item, or ID dropout in training) by a
    second MLP, ``cold_mlp``, over the same features with the id part zeroed. Both are
    trained in the same lists, so their scores compare.

    The item side is stored in buffers indexed by item code (row 0 = padding), so a batch is
    only user vectors, candidate codes, the retriever's scores and ranks, and a mask of the
    pairs whose id part is hidden.

    Parameters
    ----------
    item_vectors : Tensor (n_items + 1, d)
        The retriever's item vectors; zero rows for items it does not know.
    popularity : Tensor (n_items + 1,)
        Normalised popularity in [0, 1] (0 for unknown items).
    unknown : Tensor (n_items + 1,) bool
        Items the retriever never saw in training.
    metadata_codes : list of Tensor (n_items + 1, m_f) long
    metadata_values : list of Tensor (n_items + 1,) float or None
    metadata_sizes : list of int
        Embedding table size of each field.
    max_rank : int
        The retriever's candidate count; ranks are read as ``log1p(rank) / log1p(max_rank)``.
    score_stats : (float, float)
        Mean and standard deviation of the retriever's candidate scores at fit time.
    hidden_layer_sizes : sequence of int
    dropout_rate : float

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn.ranker import PairRanker
    >>> _ = torch.manual_seed(0)
    >>> vectors = torch.randn(5, 4)
    >>> vectors[[0, 4]] = 0.0  # row 0: padding; item 4: unknown to the retriever
    >>> ranker = PairRanker(vectors, popularity=torch.tensor([0.0, 1.0, 0.6, 0.3, 0.0]),
    ...                     unknown=torch.tensor([True, False, False, False, True]),
    ...                     max_rank=3, hidden_layer_sizes=(8,))
    >>> users = torch.randn(2, 4)
    >>> items = torch.tensor([[1, 2, 3], [4, 2, 0]])  # code 0: an empty slot
    >>> scores = torch.tensor([[2.0, 1.0, 0.5], [0.0, 1.5, 0.0]])
    >>> ranks = torch.tensor([[1, 2, 3], [0, 1, 0]])
    >>> ranker(users, items, scores, ranks).tolist()  # untrained: the retriever's scores
    [[2.0, 1.0, 0.5], [0.0, 1.5, 0.0]]
    """

    def __init__(
        self,
        item_vectors: torch.Tensor,
        popularity: torch.Tensor,
        unknown: torch.Tensor,
        metadata_codes: Sequence[torch.Tensor] = (),
        metadata_values: Sequence[torch.Tensor | None] = (),
        metadata_sizes: Sequence[int] = (),
        *,
        max_rank: int = 200,
        score_stats: tuple[float, float] = (0.0, 1.0),
        hidden_layer_sizes: Sequence[int] = (256, 128),
        dropout_rate: float = 0.1,
    ):
        super().__init__()
        dim = item_vectors.shape[1]
        self.register_buffer("item_vectors", item_vectors.float())
        self.register_buffer("popularity", popularity.float())
        self.register_buffer("unknown", unknown.bool())
        self.register_buffer("max_rank", torch.tensor(float(max_rank)))
        self.register_buffer("score_stats", torch.tensor([float(s) for s in score_stats]))
        self.n_fields = len(metadata_codes)
        for index, (codes, values) in enumerate(zip(metadata_codes, metadata_values)):
            self.register_buffer(f"metadata_codes_{index}", codes.long())
            if values is not None:
                self.register_buffer(f"metadata_values_{index}", values.float())
        fields = [
            (size, values is not None) for size, values in zip(metadata_sizes, metadata_values)
        ]
        self.metadata = MetadataEncoder(fields, dim) if fields else None
        # user, item vector, product; metadata vector and its product with the user;
        # score, rank, retrieved, popularity, unknown
        width = 3 * dim + (2 * dim if self.metadata is not None else 0) + 5
        # two heads: ``mlp`` corrects the retriever's score of pairs with an id part, a
        # residual on it (zero at first: an untrained ranker keeps the retriever's order);
        # ``cold_mlp`` scores pairs without one (cold items, ID dropout) from the rest
        self.mlp = _mlp(width, hidden_layer_sizes, dropout_rate)
        self.cold_mlp = _mlp(width, hidden_layer_sizes, dropout_rate)
        self.score_weight = nn.Parameter(torch.tensor(1.0))
        # added to the cold head's scores; set after training on held-out served lists
        self.register_buffer("cold_offset", torch.tensor(0.0))

    @property
    def n_items(self) -> int:
        return self.item_vectors.shape[0] - 1

    def item_metadata(self, items: torch.Tensor) -> torch.Tensor | None:
        """Metadata vectors (..., d) of item codes (...), or None without metadata."""
        if self.metadata is None:
            return None
        codes = [getattr(self, f"metadata_codes_{i}")[items] for i in range(self.n_fields)]
        values = [
            getattr(self, f"metadata_values_{i}")[items]
            if hasattr(self, f"metadata_values_{i}")
            else None
            for i in range(self.n_fields)
        ]
        return self.metadata(codes, values)

    def forward(
        self,
        users: torch.Tensor,
        items: torch.Tensor,
        scores: torch.Tensor,
        ranks: torch.Tensor,
        id_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Scores (B, L) of candidate codes ``items`` (B, L) for user vectors (B, d).

        ``scores``: the retriever's scores (B, L); ``ranks``: its ranks, 1-based, 0 = not
        among its candidates; ``id_mask`` (B, L) bool: pairs to score as if the item were
        unknown to the retriever (ID dropout, cold-start simulation).
        """
        hidden = self.unknown[items]
        if id_mask is not None:
            hidden = hidden | id_mask
        mean, std = self.score_stats[0], self.score_stats[1].clamp_min(1e-6)
        standardised = (scores - mean) / std * (~hidden).to(users.dtype)
        out = self.score_weight * standardised
        # features of the filled slots only (code 0 is an empty slot), one head per kind
        rows, slots = (items > 0).nonzero(as_tuple=True)
        codes, pair_hidden = items[rows, slots], hidden[rows, slots]
        known = (~pair_hidden).to(users.dtype)
        user = users[rows]
        vector = self.item_vectors[codes] * known.unsqueeze(-1)
        pair_ranks = ranks[rows, slots]
        retrieved = ((pair_ranks > 0) & ~pair_hidden).to(users.dtype)
        rank = torch.where(
            retrieved > 0,
            torch.log1p(pair_ranks.to(users.dtype)) / torch.log1p(self.max_rank),
            torch.ones_like(retrieved),
        )
        parts = [user, vector, user * vector]
        meta = self.item_metadata(codes)
        if meta is not None:
            parts += [meta, user * meta]
        scalars = [
            standardised[rows, slots],
            rank,
            retrieved,
            self.popularity[codes] * known,
            1.0 - known,
        ]
        features = torch.cat([*parts, torch.stack(scalars, dim=-1)], dim=-1)
        residual = torch.empty(len(codes), dtype=out.dtype, device=out.device)
        warm, cold = ~pair_hidden, pair_hidden
        residual[warm] = out[rows[warm], slots[warm]] + self.mlp(features[warm]).squeeze(-1)
        residual[cold] = (self.cold_mlp(features[cold]).squeeze(-1) + self.cold_offset).to(
            out.dtype
        )
        return out.index_put((rows, slots), residual)
