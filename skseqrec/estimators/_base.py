"""What every skseqrec estimator shares: data plumbing, ranking, predict, score, state.

Subclasses implement ``fit`` and ``_score_windows`` (scores of every catalogue item
given left-padded history windows); everything that maps ids, excludes seen items,
chunks the catalogue and builds output frames lives here once.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._doclinks import doc_link_template
from .._version import __version__
from ..data import (
    IdEncoder,
    Sequences,
    TimeAxis,
    build_sequences,
    check_interactions,
    pad_windows,
    to_pandas,
)
from ..exceptions import LeakWarning, VersionMismatchWarning
from ..nn import mask_scores, topk_items
from ..protocol import frame_holdout, score_holdout, user_stacklevel, warn_dropped

__all__ = ["BaseRecommender", "PREDICT_PROBA_MAX_BYTES", "SCORING_CHUNK_BYTES"]

#: ``predict_proba`` refuses results larger than this (bytes of float32).
PREDICT_PROBA_MAX_BYTES = 2 * 1024**3
#: Catalogue scores are computed for at most this many bytes of float32 at a time.
SCORING_CHUNK_BYTES = 64 * 1024**2
#: On CPU, ranking a large catalogue scores this many windows at a time, a block of
#: ``_CPU_RANKING_BLOCK_BYTES`` of items after another (256 x 8,192): a block stays in
#: the cache between its matrix product and its top-k, and the item vectors are read
#: once per 256 windows. Top-10 of 2,000 users over 1M items at 32 dimensions, 1 thread
#: (CPU seconds of rank): 3.7 s; 64 x 16,384: 4.6 s; whole rows (16 windows): 11.5 s.
_CPU_RANKING_ROWS = 256
_CPU_RANKING_BLOCK_BYTES = 8 * 1024**2


def _predicts_items(estimator) -> bool:
    return not estimator._predicts_ratings


class BaseRecommender(BaseEstimator):
    """Shared public methods of all skseqrec recommenders (not meant to be used directly).

    A subclass defines ``fit`` (setting ``item_encoder_``, ``item_counts_`` and calling
    :meth:`_remember_training_users`) and ``_score_windows(windows, times)``: scores
    (B, n_items) of every catalogue item given left-padded windows (B, W) of item codes.
    A subclass that can score a block of items without the rest of the catalogue also
    overrides ``_iter_item_blocks`` and sets ``_scores_item_blocks = True``: ranking a
    large catalogue then never holds more than a block of scores per chunk of windows.
    Class flags: ``_predicts_ratings`` (a regressor: ``predict`` returns ratings, no
    ``predict_proba``, ``y`` required), ``_uses_times`` (the model reads the time
    column at scoring time) and ``_scores_item_blocks``.

    Examples
    --------
    Every recommender of skseqrec is one, and shares its methods:

    >>> import pandas as pd
    >>> from skseqrec.estimators import BaseRecommender, PopularityRecommender
    >>> issubclass(PopularityRecommender, BaseRecommender)
    True
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3],
    ...                   "item_id": ["a", "b", "b", "c", "b", "c"],
    ...                   "timestamp": [0, 1, 2, 3, 4, 5]})
    >>> est = PopularityRecommender().fit(X)
    >>> est.classes_.tolist(), est.n_items_
    (['a', 'b', 'c'], 3)
    >>> est.recommend(X, top_k=1)  # seen items are excluded
       user_id item_id     score  rank
    0        1       c  0.666667     1
    1        2       a  0.333333     1
    2        3       a  0.333333     1
    >>> list(est.predict(X)), est.predict_proba(X).shape
    (['b', 'b', 'b', 'b', 'b', 'b'], (6, 3))
    >>> est.score(X)  # NDCG@10 of each user's last row given the rows before it
    1.0
    """

    _doc_link_module = "skseqrec"
    _doc_link_template = doc_link_template("skseqrec.estimators")

    #: whether the model reads the time column at scoring time (HSTU does).
    _uses_times = False
    #: the model reads the time of the request (:attr:`Sequences.request_times`): its
    #: scoring windows get one more time column, the request's (NaN where unknown)
    _reads_request_time = False
    #: parameters added after models were first saved whose default is not the behaviour
    #: those models were saved with: a pickle or file without the parameter gets this
    #: value (every other missing parameter its default)
    _saved_before_param: dict = {}
    #: a regressor of ratings rather than a classifier of next items
    _predicts_ratings = False
    #: ``_iter_item_blocks`` scores blocks of items (rank never holds a whole catalogue)
    _scores_item_blocks = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        if self._predicts_ratings:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.required = True
        else:
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_class=True)
            tags.target_tags.required = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "item_encoder_")

    # ------------------------------------------------------------------ data
    def _check(self, X, y=None, *, y_range=None, require_y=False, name="X", **kwargs):
        return check_interactions(
            X,
            y,
            user_col=self.user_col,
            item_col=self.item_col,
            time_col=self.time_col,
            y_range=y_range,
            require_y=require_y,
            name=name,
            **kwargs,
        )

    def _remember_training_users(self, data, user_encoder: IdEncoder) -> None:
        """Keep each training user's latest event time (to detect leaking splits)."""
        codes = user_encoder.encode(data.users)
        last = np.full(len(user_encoder) + 1, np.iinfo(np.int64).min, dtype=np.int64)
        times = np.asarray(data.times)
        if times.dtype.kind in "iub":
            np.maximum.at(last, codes, times.astype(np.int64))
            self._train_last_time = last
        else:  # float times
            last = np.full(len(user_encoder) + 1, -np.inf)
            np.maximum.at(last, codes, times.astype(np.float64))
            self._train_last_time = last
        self._user_encoder = user_encoder

    def check_leak(self, holdout, users: IdEncoder, *, name: str = "X") -> int:
        """Warn when training saw events of an evaluated user later than the user's target.

        That happens when ``fit`` and ``score`` get rows of a row-level split (``cv=3`` or
        ``KFold``): the model learned from the future it is asked to predict. Returns the
        number of such users (0 when the model does not know the training times).

        Parameters
        ----------
        holdout : skseqrec.protocol.Holdout
        users : IdEncoder
            Ids of the users of ``holdout.history.users``.
        name : str, default="X"
        """
        last = getattr(self, "_train_last_time", None)
        if last is None or holdout.target_times is None or len(holdout) == 0:
            return 0
        codes = self._user_encoder.encode(users.decode(holdout.history.users))
        later = (codes > 0) & (last[codes] > holdout.target_times)
        count = int(later.sum())
        warn_dropped(
            f"evaluated users of {name}",
            count,
            len(holdout),
            "have training events later than their target: the split leaks future events "
            "into training (a row-level split such as cv=3 or KFold does). Use "
            "skseqrec.model_selection.LeaveLastOut, GlobalTemporalSplit or UserKFold as cv=",
            category=LeakWarning,
        )
        return count

    @property
    def classes_(self) -> np.ndarray:
        """Item ids the model can recommend, sorted: item code ``j + 1`` is ``classes_[j]``."""
        check_is_fitted(self)
        return self.item_encoder_.classes

    @property
    def n_items_(self) -> int:
        check_is_fitted(self)
        return len(self.item_encoder_)

    def encode_history(self, X, *, name="X", keep_unknown=False, empty_hint=None):
        """Validate ``X`` and build its users' sequences over the fitted catalogue.

        Parameters
        ----------
        X : DataFrame
            Interactions (any users).
        name : str, default="X"
            How messages call ``X``.
        keep_unknown : bool, default=False
            Keep items unknown to the model as code 0 instead of dropping them (counted
            in a warning).
        empty_hint : str, default=None
            What the caller needs, said when ``X`` has no row.

        Returns
        -------
        interactions : Interactions
            The validated columns.
        users : IdEncoder
            ``X``'s user ids (codes ``1..n`` in sorted order).
        sequences : Sequences
            One chronological sequence of item codes per user of ``X``.
        """
        check_is_fitted(self)
        hint = {} if empty_hint is None else {"empty_hint": empty_hint}
        data = self._check(X, name=name, **hint)
        users = IdEncoder.from_values(data.users, data.user_dtype)
        items = self.item_encoder_.encode(data.items)
        unknown = items == 0
        if keep_unknown:
            return data, users, build_sequences(users.encode(data.users), items, data.times)
        warn_dropped(
            f"rows of {name}",
            int(unknown.sum()),
            len(items),
            "have items unknown to the fitted model and are ignored",
        )
        known = ~unknown
        sequences = build_sequences(
            users.encode(data.users)[known], items[known], data.times[known]
        )
        return data, users, sequences

    # --------------------------------------------------------------- scoring
    def _score_windows(self, windows: torch.Tensor, times: torch.Tensor | None) -> torch.Tensor:
        """Scores (B, n_items) of every item given left-padded windows (B, W) of codes."""
        raise NotImplementedError

    def _model_times(self, times: np.ndarray) -> np.ndarray:
        """Times as the model reads them (models with ``_uses_times`` override)."""
        return times

    def _popularity_keys(self) -> tuple:
        """Count arrays over item codes 1..n, most significant first, that rank popularity
        (ties left by all of them go to item id order)."""
        return (self.item_counts_[1:],)

    def _fallback_scores(self) -> torch.Tensor:
        """Scores for an empty history: training popularity as ``1 - rank / n_items``.

        Rank 0 is the item with the most training events (:meth:`_popularity_keys`), ties
        broken by item id; the
        scores are exact in float32 for any catalogue below 2**24 items, so the order never
        depends on the catalogue size (a tie-breaking offset on log counts did).
        """
        # derived from item_counts_ once per fit, not per scored chunk; not saved
        cached = self.__dict__.get("_popularity_scores")
        if cached is None or cached[0] is not self.item_counts_:
            keys = [np.asarray(key) for key in self._popularity_keys()]
            counts = keys[0]
            # lexsort sorts by its last key first: item id breaks the last tie
            order = np.lexsort((np.arange(len(counts)), *(-key for key in reversed(keys))))
            rank = np.empty(len(counts), dtype=np.int64)
            rank[order] = np.arange(len(counts))
            scores = torch.as_tensor(1.0 - rank / max(len(counts), 1), dtype=torch.float32)
            cached = self._popularity_scores = (self.item_counts_, scores)
        return cached[1]

    def _inference_device(self) -> torch.device:
        return torch.device("cpu")

    def _max_len(self) -> int:
        return getattr(self, "max_len", 1)

    def _default_rows(self) -> int:
        # small on CPU (activations stay in cache; 64 rows scored 2,999 ML-1M users 4x
        # faster than 4,096), large on GPU
        return 64 if self._inference_device().type == "cpu" else 4096

    def _chunk_size(self) -> int:
        """Windows scored at a time against the whole catalogue (:meth:`_iter_scores`):
        never more than ``SCORING_CHUNK_BYTES`` of catalogue scores."""
        rows = self._default_rows()
        return max(1, min(rows, SCORING_CHUNK_BYTES // (4 * max(self.n_items_, 1))))

    def _ranking_chunks(self) -> tuple[int, int]:
        """``(windows, items)`` that :meth:`rank` scores at a time.

        The whole catalogue per chunk of :meth:`_chunk_size` windows when it fits the
        budget (or the model cannot score blocks of items); otherwise more windows and
        blocks of items that fill the budget: ``SCORING_CHUNK_BYTES`` (GPU: 4,096
        windows), on CPU ``_CPU_RANKING_ROWS`` windows and at most
        ``_CPU_RANKING_BLOCK_BYTES`` (whole rows of 1M items had allowed 16 windows a
        chunk of 64 MiB, written to memory and read back for the top-k).
        """
        n_items = max(self.n_items_, 1)
        rows = self._default_rows()
        budget = SCORING_CHUNK_BYTES
        if self._inference_device().type == "cpu":
            budget = min(budget, _CPU_RANKING_BLOCK_BYTES)
        if not self._scores_item_blocks or 4 * rows * n_items <= budget:
            return self._chunk_size(), n_items
        if self._inference_device().type == "cpu":
            rows = _CPU_RANKING_ROWS
        return rows, max(1, budget // (4 * rows))

    def _iter_item_blocks(self, windows: torch.Tensor, times: torch.Tensor | None, block: int):
        """Yield ``(start, scores)``: scores (B, m) of item codes ``start + 1 ..
        start + m`` given the windows, block after block over the catalogue.

        Blocks hold at most ``block`` items. This default yields the whole catalogue
        (:meth:`_score_windows`) at once; subclasses with ``_scores_item_blocks`` score
        block by block (and encode the windows :meth:`_default_rows` at a time: a chunk
        of :meth:`_ranking_chunks` may hold more).
        """
        yield 0, self._score_windows(windows, times)

    def _iter_windows(self, items, times, starts, ends, chunk=None, request_times=None):
        """Yield ``(rows, windows, times, empty)`` for windows ``items[start:end]``, in chunks.

        The one chunking of every scoring path (:meth:`_iter_scores` and the torch
        estimators' ``encode`` and ``score_pairs``). Windows are sorted by length so each
        chunk pads to its own longest window; ``windows`` (B, W) and ``times`` (B, W, or
        None when the model does not read times) are tensors on the inference device,
        ``rows`` indexes the windows of the chunk and ``empty`` (ndarray of bool, decided
        on the host: no device sync per chunk) marks the windows without any event.
        ``chunk`` windows at a time (default :meth:`_chunk_size`). A model that
        ``_reads_request_time`` gets ``times`` (B, W + 1): the last column is each window's
        request time from ``request_times`` (one per window, in the units of ``times``;
        None or NaN: unknown).
        """
        device = self._inference_device()
        max_len = self._max_len()
        lengths = np.minimum(ends - starts, max_len)
        order = np.argsort(lengths, kind="stable")
        chunk = self._chunk_size() if chunk is None else chunk
        model_times = self._model_times(times) if self._uses_times else None
        if self._reads_request_time:
            if request_times is None:
                request_times = np.full(len(starts), np.nan)
            request_times = self._model_times(request_times)
        for begin in range(0, len(order), chunk):
            rows = order[begin : begin + chunk]
            windows = pad_windows(items, starts[rows], ends[rows], max_len)
            window_t = torch.as_tensor(windows, device=device)
            time_t = None
            if self._uses_times:
                time_windows = pad_windows(
                    model_times, starts[rows], ends[rows], max_len, width=windows.shape[1]
                )
                if self._reads_request_time:
                    time_windows = np.concatenate([time_windows, request_times[rows, None]], axis=1)
                time_t = torch.as_tensor(time_windows, device=device)
            yield rows, window_t, time_t, lengths[rows] == 0

    def _iter_block_scores(self, windows, times, empty, block: int):
        """:meth:`_iter_item_blocks` in float32, the rows of empty windows (``empty``,
        from :meth:`_iter_windows`) scored by popularity."""
        empty_t = torch.as_tensor(empty, device=windows.device) if empty.any() else None
        fallback = None if empty_t is None else self._fallback_scores().to(windows.device)
        for start, scores in self._iter_item_blocks(windows, times, block):
            scores = scores.float()  # no copy when float32
            if empty_t is not None:
                scores[empty_t] = fallback[start : start + scores.shape[1]]
            yield start, scores

    def _iter_scores(self, items, times, starts, ends, request_times=None):
        """Yield ``(rows, scores)`` for windows ``items[start:end]``, in chunks
        (:meth:`_iter_windows`), scores of the whole catalogue. Empty windows are scored
        by popularity; ``request_times`` (one per window) as in :meth:`_iter_windows`."""
        n_items = self.n_items_
        windows = self._iter_windows(items, times, starts, ends, request_times=request_times)
        for rows, window_t, time_t, empty in windows:
            with torch.no_grad():
                ((_, scores),) = self._iter_block_scores(window_t, time_t, empty, n_items)
            yield rows, scores

    def rank(
        self,
        sequences: Sequences,
        top_k: int = 10,
        *,
        exclude_seen: bool = True,
        allowed: np.ndarray | None = None,
    ):
        """Top-``top_k`` item codes and scores given each sequence as the history.

        The one ranking path of the package: :meth:`recommend`, ``score``, the scorers,
        :func:`skseqrec.evaluate`, fit-time validation and the benchmarks call it.

        Parameters
        ----------
        sequences : Sequences
            Histories as item codes of this model (see :meth:`encode_history`); empty
            histories are scored by popularity.
        top_k : int, default=10
        exclude_seen : bool, default=True
            Remove the items of each history from its candidates.
        allowed : ndarray of bool, shape (n_items_ + 1,), default=None
            Only codes marked True are candidates.

        Returns
        -------
        codes, scores : ndarray of shape (n_sequences, min(top_k, n_items_))
            Slots with no admissible item hold code 0 and score -inf. Decode codes with
            ``item_encoder_.decode``.
        """
        check_is_fitted(self)
        starts = sequences.offsets[:-1]
        ends = sequences.offsets[1:]
        k = min(top_k, self.n_items_)
        codes = np.zeros((len(sequences), k), dtype=np.int64)
        values = np.full((len(sequences), k), -np.inf, dtype=np.float32)
        device = self._inference_device()
        allowed_t = None
        if allowed is not None:
            allowed_t = torch.as_tensor(allowed[1:], device=device)
        rows_per_chunk, block = self._ranking_chunks()
        chunks = self._iter_windows(
            sequences.items,
            sequences.times,
            starts,
            ends,
            chunk=rows_per_chunk,
            request_times=sequences.request_times,
        )
        for rows, window_t, time_t, empty in chunks:
            exclude = None
            if exclude_seen:
                exclude = torch.as_tensor(
                    pad_windows(sequences.items, starts[rows], ends[rows], np.iinfo(np.int64).max),
                    device=device,
                )
            # the running top-k of the blocks scored so far (exact once all are merged)
            best = (
                torch.full((len(rows), k), -torch.inf, device=device),
                torch.zeros((len(rows), k), dtype=torch.int64, device=device),
            )
            with torch.no_grad():
                for start, scores in self._iter_block_scores(window_t, time_t, empty, block):
                    stop = start + scores.shape[1]
                    block_allowed = None if allowed_t is None else allowed_t[start:stop]
                    mask_scores(scores, exclude, block_allowed, start=start)
                    best = topk_items(scores, k, start=start, previous=best)
            top_values, top_codes = best
            top_codes = torch.where(torch.isinf(top_values), 0, top_codes)
            codes[rows] = top_codes.cpu().numpy()
            values[rows] = top_values.cpu().numpy()
        return codes, values

    # ---------------------------------------------------------------- public
    def recommend(
        self, X, top_k: int = 10, *, exclude_seen: bool = True, items=None, users=None, at=None
    ):
        """Top-``top_k`` items for each user, given the history in ``X``.

        Parameters
        ----------
        X : DataFrame or None
            Interactions to condition on (any users, also ones unseen at fit time).
            Items unknown to the model are ignored and counted in a warning. None (with
            ``users``): no history at all.
        top_k : int, default=10
        exclude_seen : bool, default=True
            Remove items of the user's history in ``X`` from the candidates.
        items : array-like or scalar, default=None
            Restrict candidates to these item ids (unknown ids are counted and ignored);
            a single id means a list of that one id.
        users : array-like or scalar, default=None
            Only recommend to these users; a single id means a list of that one id. A
            user without rows in ``X`` (a new user; or ``X=None``) gets the most popular
            training items, counted in a warning.
        at : scalar, default=None
            When the recommendations are asked for: a number for a numeric time column, a
            datetime (``pd.Timestamp``, datetime or a string such as ``"2024-01-31"``)
            for a datetime one. A model fitted with ``gap_conditioning=True`` reads the
            time since each user's latest event in ``X`` (what a user picks after a
            month away differs from what they pick within the minute); other models
            ignore it. None: unknown. A user whose latest event is after ``at`` is read
            as asking right after it (counted in a warning).

        Returns
        -------
        DataFrame
            Columns ``[user_col, item_col, "score", "rank"]``, sorted by user then rank,
            ``top_k`` rows per user (fewer when fewer admissible items exist, warned),
            ids in the caller's dtypes.

        Raises
        ------
        ValueError
            Bad ``X``, ``top_k`` < 1, or ``X=None`` without ``users``.

        See Also
        --------
        skseqrec.recommend : the same through a Pipeline or a fitted search.
        """
        check_is_fitted(self)
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise ValueError(f"top_k must be a positive int, got {top_k!r}.")
        if X is None and users is None:
            raise ValueError(
                "recommend(None) needs users=: the users to recommend popular items to."
            )
        no_history = X is None or (users is not None and len(to_pandas(X)) == 0)
        if no_history:
            wanted = _id_array(users, np.array([], dtype=object))
            user_encoder = IdEncoder.from_values(np.asarray(wanted), getattr(wanted, "dtype", None))
            sequences = build_sequences(
                np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
            )
        else:
            _, user_encoder, sequences = self.encode_history(
                X,
                empty_hint="pass users= (and X=None) to recommend popular items to users "
                "without history",
            )
            if users is not None:
                wanted = _id_array(users, user_encoder.classes)
                try:
                    user_encoder, new_codes = user_encoder.extend(wanted)
                except TypeError:  # ids that do not sort with X's ids (e.g. str and int)
                    textual = isinstance(user_encoder.classes[0], str)
                    odd = [u for u in wanted if isinstance(u, str) != textual]
                    raise ValueError(
                        f"`users` holds ids that cannot be compared with the ids of column "
                        f"{self.user_col!r} (e.g. {(odd or list(wanted))[0]!r})."
                    ) from None
                # the extended encoder keeps the ids sorted: X's users keep their order
                sequences = dataclasses.replace(sequences, users=new_codes[sequences.users])
        if users is not None:
            keep_codes = np.unique(user_encoder.encode(wanted))
        else:
            keep_codes = np.arange(1, len(user_encoder) + 1)
        # users without a known item in X (or without rows) get popular items
        sequences = sequences.select_users(keep_codes)
        if X is not None:  # X=None asks for popular items explicitly
            warn_dropped(
                "users",
                int((sequences.lengths == 0).sum()),
                len(sequences),
                "have no history in X (no rows, or only items unknown to the model); they "
                "get the most popular items",
            )
        if at is not None and X is not None:
            sequences = self._at_request_time(sequences, at, X)
        allowed = None
        if items is not None:
            item_codes = self._encode_item_ids(items)
            allowed = np.zeros(self.n_items_ + 1, dtype=bool)
            allowed[item_codes[item_codes > 0]] = True
        codes, values = self.rank(sequences, top_k, exclude_seen=exclude_seen, allowed=allowed)
        found = codes > 0
        n_short = int((found.sum(axis=1) < top_k).sum())
        warn_dropped(
            "users",
            n_short,
            len(sequences),
            f"have fewer than top_k={top_k} admissible items and get shorter lists",
        )
        row_user = np.repeat(sequences.users, codes.shape[1]).reshape(codes.shape)
        rank = np.broadcast_to(np.arange(1, codes.shape[1] + 1), codes.shape)
        frame = pd.DataFrame(
            {
                # Series keep the fitted dtype (pandas 3 would infer ``str`` from object)
                self.user_col: _as_series(user_encoder.decode(row_user[found])),
                self.item_col: self._decode_items(codes[found]),
                "score": values[found].astype(np.float64),
                "rank": rank[found].astype(np.int64),
            }
        )
        return frame

    def _at_request_time(self, sequences: Sequences, at, X) -> Sequences:
        """``sequences`` as histories of requests at ``at`` (``recommend(at=)``)."""
        frame = to_pandas(X)
        axis = TimeAxis.of(frame[self.time_col], self.time_col)
        when = axis.to_axis(at, "at", f"{type(self).__name__}.recommend")
        if self._reads_request_time and sequences.n_events:
            latest = sequences.times[np.maximum(sequences.offsets[1:] - 1, 0)]
            warn_dropped(
                "users",
                int(((sequences.lengths > 0) & (latest > when)).sum()),
                len(sequences),
                f"have events in X after at={at!r}; their request is read as right after "
                "their latest event",
            )
        return sequences.with_request_times(when)

    def _encode_item_ids(self, items, *, require_known: bool = False) -> np.ndarray:
        """Codes of the item ids a caller passes as ``items=`` (0 for unknown ids, counted
        in a warning); a single id means a list of that one id.

        With ``require_known``, a ValueError naming one id is raised when none is known.
        """
        ids = _id_array(items, self.item_encoder_.classes)
        codes = self.item_encoder_.encode(ids)
        if require_known and not (codes > 0).any():
            example = f" (e.g. {ids[:1].tolist()[0]!r})" if len(ids) else ""
            raise ValueError(
                f"None of the {len(ids)} ids in `items` is an item known to the model{example}."
            )
        warn_dropped(
            "ids in `items`",
            int((codes == 0).sum()),
            len(codes),
            "are unknown to the model and are ignored",
        )
        return codes

    def _decode_items(self, codes: np.ndarray) -> pd.Series:
        """Item ids of codes ``1..n_items_`` as a Series in the fitted dtype."""
        # a Series keeps the fitted dtype (pandas 3 would infer ``str`` from object)
        return _as_series(self.item_encoder_.decode(codes))

    def _event_windows(self, X, name="X"):
        """For each row of X: the window of known items before it (same user).

        Each row's own time is its window's request time (``sequences.times``): the
        event happens then, so a model that reads the request time
        (``gap_conditioning``) sees the gap from the user's previous event to it."""
        data, user_encoder, sequences = self.encode_history(X, name=name, keep_unknown=True)
        known = sequences.items > 0
        warn_dropped(
            f"rows of {name}",
            int((~known).sum()),
            len(known),
            "have items unknown to the fitted model and are left out of the history of the "
            "user's later rows",
        )
        user_index = np.repeat(np.arange(len(sequences)), sequences.lengths)
        known_items = sequences.items[known]
        known_times = sequences.times[known]
        n_known = np.bincount(user_index[known], minlength=len(sequences))
        known_offsets = np.concatenate([[0], np.cumsum(n_known)])
        # known events strictly before each event of the same user
        before = np.cumsum(known) - known
        before -= np.repeat(before[sequences.offsets[:-1]], sequences.lengths)
        starts = known_offsets[user_index]
        ends = starts + before
        return data, sequences, known_items, known_times, starts, ends

    def predict(self, X):
        """Most likely item of each row's event given the same user's earlier rows in ``X``.

        The argmax of :meth:`predict_proba` (seen items are not excluded). A user's first
        event has no history and gets the most popular training item. A model that reads
        the request time (``gap_conditioning``) reads each row's own time as its request
        time: the gap from the user's previous row to this one.

        Returns
        -------
        ndarray or ExtensionArray of shape (n_rows,)
            Item ids in the fitted item dtype, aligned with the rows of ``X``.
        """
        check_is_fitted(self)
        data, sequences, items, times, starts, ends = self._event_windows(X)
        best = np.zeros(sequences.n_events, dtype=np.int64)
        windows = self._iter_scores(items, times, starts, ends, request_times=sequences.times)
        for rows, scores in windows:
            best[rows] = scores.argmax(dim=1).cpu().numpy() + 1
        out = np.empty(len(best), dtype=np.int64)
        out[sequences.rows] = best
        return self.item_encoder_.decode(out)

    @available_if(_predicts_items)
    def predict_proba(self, X):
        """Probability of every item in ``classes_`` for each row's event.

        Softmax of the model's scores given the user's earlier rows in ``X``. The result
        has ``n_rows * n_items`` floats; it is refused above ``PREDICT_PROBA_MAX_BYTES``
        (2 GiB); use :meth:`recommend` for large catalogues.

        Returns
        -------
        ndarray of shape (n_rows, n_items)
        """
        check_is_fitted(self)
        data, sequences, items, times, starts, ends = self._event_windows(X)
        size = sequences.n_events * self.n_items_ * 4
        if size > PREDICT_PROBA_MAX_BYTES:
            raise ValueError(
                f"predict_proba would return {sequences.n_events} x {self.n_items_} floats "
                f"({_format_bytes(size)} > PREDICT_PROBA_MAX_BYTES = "
                f"{_format_bytes(PREDICT_PROBA_MAX_BYTES)}); call it "
                "on fewer rows, or use recommend(top_k=...)."
            )
        proba = np.empty((sequences.n_events, self.n_items_), dtype=np.float32)
        windows = self._iter_scores(items, times, starts, ends, request_times=sequences.times)
        for rows, scores in windows:
            proba[sequences.rows[rows]] = torch.softmax(scores, dim=1).cpu().numpy()
        return proba

    def score(self, X, y=None):
        """NDCG@10 of each user's last event in ``X`` given the events before it.

        The protocol of :mod:`skseqrec.protocol`: full-catalogue ranking, items of the
        user's history excluded; users with a single event are skipped (counted in a
        warning); targets unknown to the model count as misses (``cold_targets="miss"``).
        Higher is better.

        Parameters
        ----------
        X : DataFrame
            Histories and, as each user's last row, the targets (a test fold of the
            skseqrec splitters).
        y : None
            Ignored.

        Returns
        -------
        float
        """
        holdout = frame_holdout(self, X)
        return score_holdout(self, holdout, ("ndcg",), (10,)).values["ndcg@10"]

    # ----------------------------------------------------------------- state
    def get_state(self) -> dict:
        """The fitted state as a dict of plain values, arrays, id encoders and tensors.

        What ``pickle`` and :func:`skseqrec.save` store besides the parameters; restore it
        on a fresh instance built with the same parameters with :meth:`set_state`.
        """
        return self.__getstate__()

    def set_state(self, state: dict) -> None:
        """Restore a state from :meth:`get_state` (the module is rebuilt, moved to an
        available device, and a version mismatch warns)."""
        self.__setstate__(dict(state))

    def __getstate__(self):
        # object.__getstate__ returns the live __dict__: copy before changing anything
        state = dict(super().__getstate__())
        state.pop("_popularity_scores", None)  # derived from item_counts_
        state["_skseqrec_version"] = __version__
        return state

    def __setstate__(self, state):
        version = state.pop("_skseqrec_version", None)
        if version is not None and version != __version__:
            warnings.warn(
                f"This {type(self).__name__} was saved with skseqrec {version} and is loaded "
                f"with {__version__}; results may differ.",
                VersionMismatchWarning,
                stacklevel=user_stacklevel(),
            )
        # parameters added since the pickle was written take their defaults (or the value
        # that keeps the saved behaviour, ``_saved_before_param``)
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            missing = name not in state and name not in self.__dict__
            if missing and name in self._saved_before_param:
                state[name] = self._saved_before_param[name]
            elif missing and parameter.default is not inspect.Parameter.empty:
                state[name] = parameter.default
        super().__setstate__(state)


def _format_bytes(n: int) -> str:
    """``n`` bytes in the largest binary unit that keeps it >= 1, e.g. ``'2.0 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _id_array(values, classes: np.ndarray) -> np.ndarray:
    """Ids passed by the caller (``users=``, ``items=``) as an array comparable to ``classes``.

    numpy turns a mixed list such as ``[2, "a"]`` into strings, which would make the known
    id ``2`` unknown; such lists keep each id's own type. A single id (``users=5``,
    ``items="a"``) means a list of that one id.
    """
    if np.ndim(values) == 0:
        values = [values]
    array = np.asarray(values, dtype=object if classes.dtype == object else None)
    if array.dtype.kind in "US":
        array = np.asarray(values, dtype=object)
    return array


def _as_series(values) -> pd.Series:
    """A Series that keeps ``values``' dtype, object included."""
    return pd.Series(values, dtype=getattr(values, "dtype", None))
