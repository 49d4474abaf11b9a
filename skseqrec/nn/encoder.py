"""Item-sequence encoder: embeddings + positions + a stack of blocks + tied output."""

from __future__ import annotations

import math

import torch
from torch import nn

from .context import SequenceContext
from .dropout import Dropout

__all__ = ["INITS", "RatingModel", "SequenceEncoder"]

#: Weight initialisations of :meth:`SequenceEncoder.reset_parameters`.
INITS = ("normal", "xavier")


class SequenceEncoder(nn.Module):
    """Encode left-padded item-code sequences into one hidden state per position.

    Parameters
    ----------
    n_items : int
        Catalogue size; codes are ``1..n_items``, 0 is padding.
    d_model : int
    blocks : list of nn.Module
        Each called as ``block(x, context)``.
    positional : nn.Module
        Called as ``positional(context)``; returns (B, L, d) or None.
    dropout : float
        Embedding dropout.
    final_norm : bool, default=True
        A norm after the last block.
    norm : callable, default=nn.LayerNorm
        ``norm(d_model)`` builds the final norm (``nn.RMSNorm`` for the modern stack).
    scale_embeddings : bool, default=False
        Multiply item embeddings by sqrt(d) (original SASRec).
    causal : bool, default=True
    tied : bool, default=True
        Score with the input item table; otherwise a separate output table.
    similarity : {"dot", "cosine"}, default="dot"
        ``"cosine"`` L2-normalises hidden states and item vectors before scoring (HSTU,
        the InfoNCE retriever); losses divide by their temperature.
    n_special : int, default=0
        Extra input tokens after the catalogue (codes ``n_items + 1, ...``), e.g.
        BERT4Rec's mask token; they are never scored.
    init : {"normal", "xavier"}, default="normal"
        Weight initialisation, see :meth:`reset_parameters`.
    sparse_gradients : bool, default=False
        The item tables get sparse gradients under autograd: a step's gradient holds the
        rows the step read (its inputs, positives and sampled negatives), not the whole
        table, for an optimiser that updates only those rows (``torch.optim.SparseAdam``).
        The values computed are the same either way; :meth:`score_all` under autograd
        reads (and then updates) every row. Settable after construction (the
        ``sparse_gradients`` attribute).

    Examples
    --------
    :func:`~skseqrec.nn.build_encoder` builds one from component names; by hand:

    >>> import torch
    >>> from skseqrec.nn import LearnablePositionalEmbedding, PreNormBlock, SequenceEncoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = SequenceEncoder(n_items=10, d_model=8, blocks=[PreNormBlock(8, 2, 0.0)],
    ...                           positional=LearnablePositionalEmbedding(max_len=4, d_model=8))
    >>> items = torch.tensor([[0, 0, 3, 4], [1, 2, 3, 4]])  # left-padded codes, 0 = padding
    >>> hidden = encoder(items)
    >>> hidden.shape, hidden[0, :2].abs().sum().item()  # padding positions are zero
    (torch.Size([2, 4, 8]), 0.0)
    >>> last = encoder.eval().encode_last(items)  # the state after each row's latest event
    >>> last.shape, encoder.score_all(last).shape  # a score for each of the 10 items
    (torch.Size([2, 8]), torch.Size([2, 10]))
    """

    def __init__(
        self,
        n_items: int,
        d_model: int,
        blocks,
        positional: nn.Module,
        *,
        dropout: float = 0.0,
        final_norm: bool = True,
        norm=nn.LayerNorm,
        scale_embeddings: bool = False,
        causal: bool = True,
        tied: bool = True,
        similarity: str = "dot",
        n_special: int = 0,
        init: str = "normal",
        sparse_gradients: bool = False,
        gap: nn.Module | None = None,
    ):
        super().__init__()
        self.n_items = n_items
        self.d_model = d_model
        self.causal = causal
        if similarity not in ("dot", "cosine"):
            raise ValueError(f"similarity must be 'dot' or 'cosine', got {similarity!r}.")
        self.similarity = similarity
        self.scale = math.sqrt(d_model) if scale_embeddings else 1.0
        self.item_embedding = nn.Embedding(n_items + 1 + n_special, d_model, padding_idx=0)
        self.output_embedding = None if tied else nn.Embedding(n_items + 1, d_model, padding_idx=0)
        self.positional = positional
        self.gap = gap
        self.embedding_dropout = Dropout(dropout)
        self.blocks = nn.ModuleList(blocks)
        self.final_norm = norm(d_model) if final_norm else nn.Identity()
        self.sparse_gradients = sparse_gradients
        self.reset_parameters(init)

    @property
    def sparse_gradients(self) -> bool:
        """Whether the item tables get sparse gradients (see the class parameters)."""
        return self.item_embedding.sparse

    @sparse_gradients.setter
    def sparse_gradients(self, value: bool) -> None:
        # nn.Embedding's own flag: the input lookup (a module call, which hooks such as
        # explain's see) and the output lookups below all read it
        for table in (self.item_embedding, self.output_embedding):
            if table is not None:
                table.sparse = bool(value)

    def reset_parameters(self, init: str = "normal", std: float = 0.02) -> None:
        """Initialise every embedding and linear weight; biases, padding rows and the gap
        vectors are zero.

        Parameters
        ----------
        init : {"normal", "xavier"}, default="normal"
            ``"normal"``: N(0, ``std``) everywhere (Adam moves each weight by about the
            learning rate per step whatever its scale). ``"xavier"``: Xavier-normal
            (std ``sqrt(2 / (fan_in + fan_out))``), as RecTools initialises its
            transformers; its larger projection weights give the first steps larger
            logits to learn from (with N(0, 0.02) eSASRec's initial scores have a
            standard deviation of about 0.005).
        std : float, default=0.02
            Standard deviation of ``"normal"``.
        """
        if init not in INITS:
            raise ValueError(f"init must be one of {list(INITS)}, got {init!r}.")
        for module in self.modules():
            if isinstance(module, (nn.Embedding, nn.Linear)):
                if init == "xavier":
                    nn.init.xavier_normal_(module.weight)
                else:
                    nn.init.normal_(module.weight, std=std)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
        with torch.no_grad():
            for table in (self.item_embedding, self.output_embedding):
                if table is not None:
                    table.weight[0].zero_()
        if self.gap is not None:
            self.gap.reset_parameters()

    def context(self, items: torch.Tensor, timestamps: torch.Tensor | None = None):
        return SequenceContext.from_items(items, causal=self.causal, timestamps=timestamps)

    def _embed(self, items, timestamps, gaps=None):
        context = self.context(items, timestamps)
        keep = context.valid.unsqueeze(-1).to(self.item_embedding.weight.dtype)
        x = self.item_embedding(items) * self.scale
        positions = self.positional(context)
        if positions is not None:
            x = x + positions
        if self.gap is not None:
            if gaps is None:  # not known at all
                gaps = torch.full(items.shape, torch.nan, device=items.device)
            x = x + self.gap(gaps).to(x.dtype)
        return self.embedding_dropout(x) * keep, context, keep

    def forward(
        self,
        items: torch.Tensor,
        timestamps: torch.Tensor | None = None,
        gaps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Hidden states (B, L, d); rows of padding positions are zero.

        ``gaps`` (B, L): seconds from each event to the one it predicts, NaN where unknown;
        read by an encoder built with ``gap`` only.
        """
        x, context, keep = self._embed(items, timestamps, gaps)
        for block in self.blocks:
            x = block(x, context) * keep
        return self.final_norm(x) * keep

    def encode_last(
        self,
        items: torch.Tensor,
        timestamps: torch.Tensor | None = None,
        gaps: torch.Tensor | None = None,
    ):
        """Hidden state after the most recent event of each row (left padding), (B, d).

        ``gaps`` as in :meth:`forward`: for serving, the last column is the time from the
        latest event to the request.

        The last block computes the last position only when it can (``supports_last_only``),
        which saves most of its attention and all but one row of its feed-forward.
        """
        x, context, keep = self._embed(items, timestamps, gaps)
        last = self.blocks[-1] if len(self.blocks) else None
        for block in self.blocks[:-1]:
            x = block(x, context) * keep
        if last is not None and getattr(last, "supports_last_only", False):
            x = last(x, context, last_only=True)
        else:
            x = x if last is None else last(x, context)
            x = x[:, -1:]
        return (self.final_norm(x) * keep[:, -1:])[:, 0]

    @property
    def _output_table(self) -> nn.Embedding:
        return self.item_embedding if self.output_embedding is None else self.output_embedding

    @property
    def output_weight(self) -> torch.Tensor:
        """Item vectors used for scoring, (n_items + 1, d); row 0 is padding."""
        return self._output_table.weight[: self.n_items + 1]

    def _item_vectors(self, item_codes: torch.Tensor) -> torch.Tensor:
        table = self._output_table
        if table.sparse:
            # the gradient holds the rows read, not the whole table (the same values)
            vectors = nn.functional.embedding(item_codes, table.weight, padding_idx=0, sparse=True)
        else:
            vectors = self.output_weight[item_codes]
        return nn.functional.normalize(vectors, dim=-1) if self.similarity == "cosine" else vectors

    def _query(self, hidden: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(hidden, dim=-1) if self.similarity == "cosine" else hidden

    def score_items(self, hidden: torch.Tensor, item_codes: torch.Tensor) -> torch.Tensor:
        """Scores of given items: per position (..., k) -> (..., k), or shared (k,) -> (..., k).

        Shared items (a 1-D tensor, e.g. negatives drawn once per batch) cost one matmul.
        """
        hidden, vectors = self._query(hidden), self._item_vectors(item_codes)
        if item_codes.dim() == 1:
            return hidden @ vectors.T
        return (hidden.unsqueeze(-2) * vectors).sum(-1)

    def score_all(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every catalogue item (codes 1..n_items), (..., n_items)."""
        codes = torch.arange(1, self.n_items + 1, device=hidden.device)
        if self.similarity == "dot" and not (self.sparse_gradients and torch.is_grad_enabled()):
            return hidden @ self.output_weight[1:].T
        # with sparse gradients under autograd, a lookup of every row: a sparse gradient
        # (of every row) like the rest of the step's; no copy of the table otherwise
        return self._query(hidden) @ self._item_vectors(codes).T


class RatingModel(nn.Module):
    """An encoder whose item scores are ratings: ``mean + <h, e_i> + b_i``.

    Parameters
    ----------
    encoder : SequenceEncoder
    mean : float
        Global mean rating (a buffer, saved with the weights).

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import RatingModel, build_encoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = build_encoder(10, d_model=8, n_blocks=1, n_heads=2, dropout=0.0, max_len=5)
    >>> model = RatingModel(encoder, mean=3.5).eval()
    >>> hidden = model.encode_last(torch.tensor([[0, 2, 7]]))
    >>> model.score_all(hidden).shape
    torch.Size([1, 10])
    >>> rating = model.score_items(hidden, torch.tensor([[4]]))  # item 4 after items 2, 7
    >>> round(rating.item(), 1)  # untrained: about the mean
    3.5
    """

    def __init__(self, encoder: SequenceEncoder, mean: float = 0.0):
        super().__init__()
        self.encoder = encoder
        self.item_bias = nn.Embedding(encoder.n_items + 1, 1, padding_idx=0)
        nn.init.zeros_(self.item_bias.weight)
        self.register_buffer("mean", torch.tensor(float(mean)))

    @property
    def n_items(self) -> int:
        return self.encoder.n_items

    @property
    def output_weight(self) -> torch.Tensor:
        """The encoder's item vectors, (n_items + 1, d) (the biases are not part of them)."""
        return self.encoder.output_weight

    @property
    def similarity(self) -> str:
        return self.encoder.similarity

    def forward(self, items, timestamps=None, gaps=None):
        return self.encoder(items, timestamps, gaps)

    def encode_last(self, items, timestamps=None, gaps=None):
        return self.encoder.encode_last(items, timestamps, gaps)

    def score_items(self, hidden, item_codes):
        bias = self.item_bias.weight[item_codes].squeeze(-1)
        return self.mean + self.encoder.score_items(hidden, item_codes) + bias

    def score_all(self, hidden):
        return self.mean + self.encoder.score_all(hidden) + self.item_bias.weight[1:, 0]
