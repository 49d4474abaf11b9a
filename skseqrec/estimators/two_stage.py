"""TwoStageRecommender: a transformer retriever, then an MLP ranker that also reads metadata."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .. import params as P
from ..data import IdEncoder, Sequences, build_sequences, to_pandas
from ..data.candidates import CandidateLists, ItemSide
from ..exceptions import DataDropWarning, InvalidParameterError
from ..features import FEATURE_TYPES, ItemFeatures
from ..protocol import warn_dropped
from ._base import BaseRecommender
from .ranker import MLPRankerEstimator

__all__ = ["TwoStageRecommender"]

#: users whose candidate lists are built and ranked at a time
USER_CHUNK = 1024
#: cold items in each training list of the ranker (all of them when there are fewer)
MAX_COLD_PER_LIST = 100
#: cold items in each of the ranker's validation lists, which are built as served (all
#: cold items) up to this many
MAX_COLD_VALIDATION = 2000
#: random items (besides ``n_random_negatives``) in each list of ``n_metadata_targets``
METADATA_LIST_ITEMS = 30


def _never(estimator) -> bool:
    return False


def _pool_block(pool: np.ndarray, histories: Sequences, n_items: int, exclude_seen: bool):
    """``pool`` (item codes) as one row per history; with ``exclude_seen`` the codes in a
    history are 0 in its row."""
    block = np.broadcast_to(pool, (len(histories), len(pool))).copy()
    if exclude_seen:
        position = np.full(n_items + 1, -1, dtype=np.int64)
        position[pool] = np.arange(len(pool))
        owner = np.repeat(np.arange(len(histories)), histories.lengths)
        where = position[histories.items]
        seen = where >= 0
        block[owner[seen], where[seen]] = 0
    return block


def _top_of_lists(scores, items, codes_out, values_out) -> None:
    """Write each list's best items (code 0 where a score is -inf) into the first rows of
    ``codes_out``/``values_out``, as many columns as they have."""
    k = codes_out.shape[1]
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top_scores = np.take_along_axis(scores, order, axis=1)
    top_codes = np.where(np.isinf(top_scores), 0, np.take_along_axis(items, order, axis=1))
    rows, width = top_codes.shape
    codes_out[:rows, :width] = top_codes
    values_out[:rows, :width] = top_scores


class TwoStageRecommender(BaseRecommender):
    """Retrieve candidates with a sequential model, re-rank them with an MLP ranker.

    A meta-estimator like :class:`~sklearn.pipeline.Pipeline`: ``retriever`` and ``ranker``
    are cloned and fitted by :meth:`fit`; their parameters are reachable as
    ``retriever__<name>`` and ``ranker__<name>`` (``set_params``, ``GridSearchCV``).

    Fitting: each user's last event in ``X`` becomes the ranker's target, the retriever is
    fitted on the events before it (so the ranker learns from candidates of targets the
    retriever never trained on, as at serving time), and the ranker learns to put each
    target first among the retriever's ``n_candidates`` candidates plus random items.

    Serving (:meth:`recommend`, ``score``, :func:`skseqrec.evaluate`): the retriever's
    top ``n_candidates`` items for each history, plus, with ``cold_items="metadata"``,
    every *cold item* (in ``item_features`` but without an event in the training data),
    ranked by the ranker. Cold items have no item vector and no retriever score; the ranker
    sees their metadata and the unknown flag, which ID dropout trained it to use.

    Parameters
    ----------
    retriever : skseqrec torch estimator, default=None
        Any estimator with ``encode``/``score_pairs``/``item_embeddings_`` (every skseqrec
        transformer). None: ``SequentialTransformerEstimator()``. Its column parameters
        are set to this estimator's.
    ranker : MLPRankerEstimator, default=None
        None: ``MLPRankerEstimator()``.
    n_candidates : int, default=200
        Items the retriever passes to the ranker per user.
    cold_items : {"metadata", "never"}, default="metadata"
        Whether items of ``item_features`` without interactions are catalogue items,
        scored from their metadata, or ignored (counted in a warning).
    item_features : DataFrame or None, default=None
        Item metadata keyed by the item column (see :class:`skseqrec.features.ItemFeatures`
        for how columns are typed). ``fit(..., item_features=)`` overrides it.
    feature_types : dict or None, default=None
        ``{column: "categorical" | "multilabel" | "numeric" | "ignore"}``; None types the
        columns automatically.
    n_metadata_targets : int, default=4
        With ``item_features``: each user's events before the ranker's target (up to this
        many) become extra training lists in which every item (the event's item and random
        catalogue items) is shown without its id part. They teach the ranker to rank from
        metadata alone (the cold path) with many more examples than one list per user;
        the retriever's knowledge of these items never reaches the ranker. 0: none.
    random_state : int, RandomState or None, default=42
        Seeds the random items of the ranker's training lists (each stage has its own
        ``random_state``).
    user_col, item_col, time_col : str, default="user_id", "item_id", "timestamp"
        Columns of ``X`` (and the item column of ``item_features``).

    Attributes
    ----------
    retriever_, ranker_ : fitted estimators
    item_features_ : ItemFeatures or None
    classes_ : ndarray
        Items the model can recommend: the training items, and with
        ``cold_items="metadata"`` the cold items of ``item_features``.
    cold_items_ : ndarray
        Items of ``classes_`` the retriever does not know, ranked from their metadata: the
        items of ``item_features`` without interactions, and items whose only events in
        ``X`` are users' last events (the ranker's targets, which the retriever does not
        train on).
    n_ranker_lists_ : int
        Training lists of the ranker: users with at least two events whose last event
        the retriever put among its candidates (or an item it does not know, a cold
        target).
    n_missed_targets_ : int
        Users left out of the ranker's training because the retriever missed their target
        (it is then never a candidate when serving either).

    Examples
    --------
    >>> from skseqrec import TwoStageRecommender, SASRecClassifierEstimator
    >>> from skseqrec import MLPRankerEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=60, n_items=30, random_state=0)
    >>> model = TwoStageRecommender(
    ...     retriever=SASRecClassifierEstimator(hidden_units=8, epochs=1),
    ...     ranker=MLPRankerEstimator(hidden_layer_sizes=(16,), epochs=1),
    ...     n_candidates=10,
    ... ).fit(X)
    >>> int(model.recommend(X, top_k=3).groupby("user_id").size().max())
    3
    """

    _param_specs = {
        "user_col": P.String(),
        "item_col": P.String(),
        "time_col": P.String(),
        "n_candidates": P.Interval(int, 1),
        "n_metadata_targets": P.Interval(int, 0),
        "cold_items": P.Options("metadata", "never"),
        "random_state": P.RandomState(),
    }

    def __init__(
        self,
        *,
        retriever=None,
        ranker=None,
        n_candidates=200,
        cold_items="metadata",
        item_features=None,
        feature_types=None,
        n_metadata_targets=4,
        random_state=42,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.retriever = retriever
        self.ranker = ranker
        self.n_candidates = n_candidates
        self.cold_items = cold_items
        self.item_features = item_features
        self.feature_types = feature_types
        self.n_metadata_targets = n_metadata_targets
        self.random_state = random_state
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does it first); raise InvalidParameterError."""
        P.validate_params(self, self._param_specs)
        owner = type(self).__name__
        retriever = self.retriever
        if retriever is not None and not all(
            callable(getattr(retriever, name, None)) for name in ("encode", "score_pairs", "rank")
        ):
            raise InvalidParameterError(
                f"{owner}: retriever must be a skseqrec torch estimator with encode(), "
                f"score_pairs() and rank() (e.g. ESASRecEstimator()), got {retriever!r}."
            )
        if self.ranker is not None and not isinstance(self.ranker, MLPRankerEstimator):
            raise InvalidParameterError(
                f"{owner}: ranker must be an MLPRankerEstimator or None, got {self.ranker!r}."
            )
        if self.item_features is not None and not hasattr(self.item_features, "columns"):
            raise InvalidParameterError(
                f"{owner}: item_features must be a DataFrame of item metadata or None, got "
                f"{type(self.item_features).__name__} ({self.item_features!r})."
            )
        types = self.feature_types
        if types is not None and not (
            isinstance(types, dict)
            and all(isinstance(k, str) and v in FEATURE_TYPES for k, v in types.items())
        ):
            raise InvalidParameterError(
                f"{owner}: feature_types must be None or a dict of column name -> one of "
                f"{list(FEATURE_TYPES)}, got {types!r}."
            )

    def _base_retriever(self):
        if self.retriever is not None:
            return self.retriever
        from .sequential_transformer import SequentialTransformerEstimator

        return SequentialTransformerEstimator()

    # --------------------------------------------------------------------- fit
    def fit(self, X, y=None, *, item_features=None):
        """Fit the retriever on all but each user's last event, then the ranker on those.

        Parameters
        ----------
        X : DataFrame
            Interactions.
        y : None
            Ignored.
        item_features : DataFrame, default=None
            Item metadata; overrides the ``item_features`` parameter.

        Returns
        -------
        self
        """
        self.check_params()
        previous = dict(self.__dict__)
        try:
            return self._fit(X, y, item_features)
        except BaseException:
            # a failed (re)fit leaves the estimator as it was, never half-fitted
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise

    def _fit(self, X, y, item_features):
        retriever = clone(self._base_retriever())
        columns = {"user_col": self.user_col, "item_col": self.item_col, "time_col": self.time_col}
        retriever.set_params(**{k: v for k, v in columns.items() if k in retriever.get_params()})
        ranker = clone(self.ranker if self.ranker is not None else MLPRankerEstimator())
        frame = to_pandas(X)
        data = self._check(frame, y)
        metadata = item_features if item_features is not None else self.item_features
        features = None
        if metadata is not None:
            features = ItemFeatures(item_col=self.item_col, feature_types=self.feature_types)
            features.fit(metadata, name="item_features")
        catalogue = self._catalogue(data, features)

        users = IdEncoder.from_values(data.users, data.user_dtype)
        sequences = build_sequences(
            users.encode(data.users), catalogue.encode(data.items), data.times
        )
        has_target = sequences.lengths >= 2
        target_positions = sequences.last()[has_target]
        if not has_target.any():
            raise ValueError(
                f"X has no user with two events ({len(sequences)} users, {len(data)} rows); the "
                "ranker learns from each user's last event after the earlier ones."
            )
        single = int((sequences.lengths < 2).sum())
        warn_dropped(
            "users", single, len(sequences), "have a single event and give no training sequence"
        )
        early = np.ones(len(frame), dtype=bool)
        early[sequences.rows[target_positions]] = False
        with warnings.catch_warnings():
            # said above for the users of X; users whose only earlier event is the one
            # before their target still train the ranker
            warnings.filterwarnings(
                "ignore", message=".*have a single event", category=DataDropWarning
            )
            retriever.fit(frame.iloc[np.flatnonzero(early)])

        self.retriever_ = retriever
        self.item_encoder_ = catalogue
        self.item_features_ = features
        self._to_retriever = np.concatenate(
            [[0], retriever.item_encoder_.encode(catalogue.classes)]
        ).astype(np.int64)
        # the metadata's items without interactions, and items whose only events are
        # last events (the ranker's targets): the retriever knows neither
        self.cold_items_ = catalogue.classes[self._to_retriever[1:] == 0]
        self._from_retriever = np.zeros(retriever.n_items_ + 1, dtype=np.int64)
        self._from_retriever[self._to_retriever] = np.arange(len(self._to_retriever))
        self._from_retriever[0] = 0
        self.item_counts_ = np.bincount(sequences.items, minlength=len(catalogue) + 1)
        item_side = self._build_item_side(features)  # lives on in the ranker's buffers

        histories = sequences.select(has_target).drop_last(1)
        targets = sequences.items[target_positions]
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        rng = np.random.default_rng(seed)
        lists, retrieved = self._training_lists(histories, targets, ranker.n_random_negatives, rng)
        # a target the retriever missed is never a candidate when serving: its list would
        # teach "the one item outside the candidates with a high score wins"
        keep = retrieved | (self._to_retriever[targets] == 0)
        n_missed = int((~keep).sum())
        if keep.sum() < 2:
            raise ValueError(
                f"The retriever found the target of only {int(keep.sum())} of {len(keep)} "
                f"users among its n_candidates={self.n_candidates} candidates: nothing to "
                "train the ranker on. Raise n_candidates or train the retriever longer."
            )
        # held-out users' lists are built again as served (every cold item in them): the
        # ranker stops early, checks that it beats the retriever and sets its cold offset
        # on them
        kept = np.flatnonzero(keep)
        n_valid = ranker.validation_size(len(kept))
        valid_lists = None
        if n_valid:
            chosen = np.sort(rng.choice(kept, size=n_valid, replace=False))
            valid_lists, _ = self._training_lists(
                histories.select(chosen),
                targets[chosen],
                ranker.n_random_negatives,
                rng,
                MAX_COLD_VALIDATION,
            )
            keep[chosen] = False
        lists = lists.select(keep)
        if features is not None and self.n_metadata_targets:
            lists = CandidateLists.concat(
                [lists, self._metadata_lists(histories, ranker.n_random_negatives, rng)]
            )
        ranker.fit(lists, item_side, valid_lists=valid_lists)
        self.ranker_ = ranker
        self.n_ranker_lists_ = len(lists) + (len(valid_lists) if valid_lists is not None else 0)
        self.n_missed_targets_ = n_missed
        self._remember_training_users(data, users)
        self.n_users_seen_ = len(users)
        self.n_dropped_users_ = single
        return self

    def _catalogue(self, data, features):
        """Items of X, plus the cold items of the metadata when they are served."""
        train_items = IdEncoder.from_values(data.items, data.item_dtype)
        if features is None:
            return train_items
        meta_ids = np.asarray(features.item_ids_)
        try:
            in_train = train_items.encode(meta_ids) > 0
        except TypeError:
            in_train = None
        if in_train is None or (
            len(meta_ids)
            and len(train_items.classes)
            and isinstance(meta_ids[0], str) != isinstance(train_items.classes[0], str)
        ):
            raise TypeError(
                f"item_features: the ids of column {self.item_col!r} (e.g. {meta_ids[0]!r}) "
                f"are not of the type of X's item ids (e.g. {train_items.classes[0]!r})."
            )
        has_metadata = np.isin(train_items.classes, meta_ids[in_train])
        warn_dropped(
            "items of X",
            int((~has_metadata).sum()),
            len(has_metadata),
            "have no row in item_features; their metadata fields are 'missing'",
        )
        cold = meta_ids[~in_train]
        if self.cold_items == "never":
            warn_dropped(
                "items of item_features",
                len(cold),
                len(meta_ids),
                "have no interaction in X and are not recommended (cold_items='never')",
            )
            return train_items
        warn_dropped(
            "items of item_features",
            len(cold),
            len(meta_ids),
            "have no interaction in X: cold items, ranked from their metadata "
            "(cold_items='metadata')",
        )
        if not len(cold):
            return train_items
        classes = np.concatenate([train_items.classes, cold])
        return IdEncoder(np.sort(classes), train_items.dtype)

    def _build_item_side(self, features) -> ItemSide:
        retriever = self.retriever_
        codes = self._to_retriever
        known = codes > 0
        vectors = np.zeros((len(codes), retriever.item_embeddings_.shape[1]), dtype=np.float32)
        vectors[known] = retriever.item_embeddings_[codes[known] - 1]
        counts = np.where(known, np.asarray(retriever.item_counts_)[codes], 0).astype(np.float64)
        popularity = (np.log1p(counts) / max(np.log1p(counts.max()), 1e-12)).astype(np.float32)
        side = ItemSide(
            vectors=vectors,
            popularity=popularity,
            unknown=~known,
            max_rank=self.n_candidates,
        )
        if features is not None:
            encoded = features.encode(self.item_encoder_.classes)
            for field in features.fields_:
                field_codes = np.asarray(encoded.codes[field.name], dtype=np.int64)
                padded = np.zeros((len(codes), field_codes.shape[1]), dtype=np.int64)
                padded[1:] = field_codes
                side.metadata_codes.append(padded)
                side.metadata_sizes.append(int(field.n_codes))
                values = encoded.values.get(field.name)
                if values is not None:
                    values = np.concatenate([[0.0], np.asarray(values, dtype=np.float32)])
                    values = values.astype(np.float32)
                side.metadata_values.append(values)
        return side

    # --------------------------------------------------------------- candidates
    def _retriever_sequences(self, histories: Sequences) -> Sequences:
        """The histories in the retriever's codes (cold items left out)."""
        mapped = self._to_retriever[histories.items]
        kept = histories.filter_events(mapped > 0)
        return dataclasses.replace(kept, items=self._to_retriever[kept.items], weights=None)

    def _retrieve(self, histories: Sequences, *, exclude_seen=True, allowed=None, top_k=0):
        """The retriever's candidates (catalogue codes), scores, ranks and user vectors:
        ``max(n_candidates, top_k)`` of them."""
        retriever_histories = self._retriever_sequences(histories)
        retriever_allowed = None
        if allowed is not None:
            retriever_allowed = np.zeros(self.retriever_.n_items_ + 1, dtype=bool)
            retriever_allowed[self._to_retriever[allowed]] = True
            retriever_allowed[0] = False
        codes, scores = self.retriever_.rank(
            retriever_histories,
            max(self.n_candidates, top_k),
            exclude_seen=exclude_seen,
            allowed=retriever_allowed,
        )
        found = codes > 0
        ranks = np.where(found, np.arange(1, codes.shape[1] + 1)[None, :], 0)
        items = self._from_retriever[codes]
        scores = np.where(found, scores, 0.0).astype(np.float32)
        vectors = self.retriever_.encode(retriever_histories)
        return retriever_histories, items, scores, ranks.astype(np.int64), vectors

    def _extra_scores(self, retriever_histories, items: np.ndarray) -> np.ndarray:
        """The retriever's scores of extra catalogue items (0 for items it does not know)."""
        codes = self._to_retriever[items]
        if not (codes > 0).any():
            return np.zeros(items.shape, dtype=np.float32)
        scores = self.retriever_.score_pairs(retriever_histories, codes)
        return np.where(codes > 0, scores, 0.0).astype(np.float32)

    def _training_lists(self, histories, targets, n_random, rng, max_cold=None):
        """Lists as served: the retriever's candidates, the target (when missed), random
        items, and the cold items (all of them, or ``max_cold`` drawn per list; default
        ``MAX_COLD_PER_LIST``).

        Returns the lists and whether each target was among the retriever's candidates.
        """
        retriever_histories, items, scores, ranks, vectors = self._retrieve(histories)
        hit = items == targets[:, None]
        missed = ~hit.any(axis=1)
        n_items = len(self.item_encoder_)
        extra = rng.integers(1, n_items + 1, size=(len(targets), n_random + 1))
        extra[:, 0] = np.where(missed, targets, 0)
        # random items that are the target or already candidates say nothing: left out
        duplicate = (extra[:, 1:, None] == items[:, None, :]).any(-1)
        duplicate |= extra[:, 1:] == targets[:, None]
        extra[:, 1:][duplicate] = 0
        # served lists hold every cold item beside the candidates: so do the training lists
        # (otherwise an item without an id part looks as likely as a retrieved one)
        cold = np.flatnonzero(self._to_retriever == 0)[1:]
        max_cold = MAX_COLD_PER_LIST if max_cold is None else max_cold
        if len(cold) > max_cold:
            cold = rng.choice(cold, size=(len(targets), max_cold))
        else:
            cold = np.broadcast_to(cold, (len(targets), len(cold)))
        if cold.size:
            cold = np.where(cold == targets[:, None], 0, cold)
            extra = np.concatenate([extra, cold], axis=1)
        extra_scores = self._extra_scores(retriever_histories, extra)
        all_items = np.concatenate([items, extra], axis=1)
        positives = np.where(missed, items.shape[1], np.argmax(hit, axis=1))
        lists = CandidateLists(
            user_vectors=vectors,
            items=all_items,
            scores=np.concatenate([scores, extra_scores], axis=1),
            ranks=np.concatenate([ranks, np.zeros_like(extra)], axis=1),
            positives=positives.astype(np.int64),
        )
        return lists, ~missed

    def _metadata_lists(self, histories: Sequences, n_random: int, rng) -> CandidateLists:
        """Lists that teach the cold path: earlier events of each user as targets, every
        item (the target and random catalogue items) shown without its id part.

        The retriever trained on these events, but nothing of what it learned about the
        items reaches the ranker here (only the vector of the history before each).
        """
        lengths = histories.lengths
        per_user = np.minimum(self.n_metadata_targets, np.maximum(lengths - 1, 0))
        owner = np.repeat(np.arange(len(histories)), per_user)
        back = np.arange(per_user.sum()) - np.repeat(np.cumsum(per_user) - per_user, per_user)
        positions = histories.offsets[1:][owner] - 1 - back  # the last, then earlier events
        if not len(positions):
            return CandidateLists(
                np.zeros((0, self.retriever_.item_embeddings_.shape[1]), np.float32),
                *(np.zeros((0, 1), t) for t in (np.int64, np.float32, np.int64)),
                np.zeros(0, np.int64),
                np.zeros((0, 1), bool),
            )
        prefixes = self._windows(
            histories.items, histories.times, histories.offsets[:-1][owner], positions
        )
        vectors = self.retriever_.encode(self._retriever_sequences(prefixes))
        targets = histories.items[positions]
        n_items = len(self.item_encoder_)
        width = max(n_random, 1) + METADATA_LIST_ITEMS
        items = rng.integers(1, n_items + 1, size=(len(targets), width + 1))
        items[:, 0] = targets
        items[:, 1:][items[:, 1:] == targets[:, None]] = 0
        shape = items.shape
        return CandidateLists(
            vectors,
            items,
            np.zeros(shape, np.float32),
            np.zeros(shape, np.int64),
            np.zeros(len(targets), np.int64),
            np.ones(shape, dtype=bool),
        )

    def candidate_lists(
        self, histories: Sequences, *, exclude_seen=True, allowed=None, top_k: int = 0
    ):
        """The lists the ranker scores for these histories (catalogue codes).

        The retriever's top ``max(n_candidates, top_k)`` (seen items excluded when asked),
        then, with
        ``cold_items="metadata"``, the cold items (admissible ones; seen ones left out when
        asked).

        Parameters
        ----------
        histories : Sequences
            Histories in this model's item codes (:meth:`encode_history`).
        exclude_seen : bool, default=True
        allowed : ndarray of bool, shape (n_items_ + 1,), default=None
        top_k : int, default=0
            Retrieve at least this many candidates.

        Returns
        -------
        CandidateLists
        """
        check_is_fitted(self)
        retriever_histories, items, scores, ranks, vectors = self._retrieve(
            histories, exclude_seen=exclude_seen, allowed=allowed, top_k=top_k
        )
        cold = self.item_encoder_.encode(self.cold_items_)
        if allowed is not None:
            cold = cold[allowed[cold]]
        if len(cold):
            block = _pool_block(cold, histories, len(self.item_encoder_), exclude_seen)
            items = np.concatenate([items, block], axis=1)
            scores = np.concatenate([scores, np.zeros(block.shape, np.float32)], axis=1)
            ranks = np.concatenate([ranks, np.zeros(block.shape, np.int64)], axis=1)
        return CandidateLists(vectors, items, scores, ranks)

    # ----------------------------------------------------------------- ranking
    def rank(self, sequences, top_k: int = 10, *, exclude_seen: bool = True, allowed=None):
        """Top-``top_k`` item codes and ranker scores for each history.

        The ranker orders the candidate lists of :meth:`candidate_lists`; see
        :meth:`BaseRecommender.rank` for the arguments and the result.
        """
        check_is_fitted(self)
        k = min(top_k, self.n_items_)
        codes = np.zeros((len(sequences), k), dtype=np.int64)
        values = np.full((len(sequences), k), -np.inf, dtype=np.float32)
        for begin in range(0, len(sequences), USER_CHUNK):
            part = sequences.select(np.arange(begin, min(begin + USER_CHUNK, len(sequences))))
            lists = self.candidate_lists(
                part, exclude_seen=exclude_seen, allowed=allowed, top_k=top_k
            )
            scores = self.ranker_.decision_function(lists)
            _top_of_lists(scores, lists.items, codes[begin:], values[begin:])
        return codes, values

    def rank_from_metadata(
        self, sequences, top_k: int = 10, *, exclude_seen: bool = True, allowed=None
    ):
        """The cold-start view: every admissible item ranked as if none had interactions.

        The ranker scores each catalogue item from the user's vector, the item's metadata
        and nothing that comes from the item's id (no item vector, retriever score, rank
        or popularity), which is how it sees a cold item. Costs one MLP pass per (user,
        item) pair; use ``allowed`` to restrict large catalogues.

        Parameters and result as :meth:`rank`.
        """
        check_is_fitted(self)
        n_items = len(self.item_encoder_)
        pool = np.arange(1, n_items + 1)
        if allowed is not None:
            pool = pool[np.asarray(allowed, dtype=bool)[1:]]
        k = min(top_k, n_items)
        codes = np.zeros((len(sequences), k), dtype=np.int64)
        values = np.full((len(sequences), k), -np.inf, dtype=np.float32)
        chunk = max(1, 2**22 // max(len(pool), 1))
        for begin in range(0, len(sequences), chunk):
            part = sequences.select(np.arange(begin, min(begin + chunk, len(sequences))))
            vectors = self.retriever_.encode(self._retriever_sequences(part))
            items = _pool_block(pool, part, n_items, exclude_seen)
            zeros = np.zeros(items.shape, dtype=np.float32)
            lists = CandidateLists(vectors, items, zeros, zeros.astype(np.int64))
            scores = self.ranker_.decision_function(lists, mask_ids=True)
            _top_of_lists(scores, items, codes[begin:], values[begin:])
        return codes, values

    def predict(self, X):
        """Most likely item of each row's event given the same user's earlier rows in ``X``.

        The ranker's first choice (seen items not excluded) after the retriever's latest
        ``max_len`` events before the row; each row's own time is its request time.

        Returns
        -------
        ndarray of item ids, one per row of ``X``.
        """
        check_is_fitted(self)
        data, sequences, items, times, starts, ends = self._event_windows(X)
        windows = self._windows(items, times, starts, ends).with_request_times(sequences.times)
        codes, _ = self.rank(windows, 1, exclude_seen=False)
        out = np.empty(sequences.n_events, dtype=np.int64)
        out[sequences.rows] = codes[:, 0]
        return self.item_encoder_.decode(out)

    def _windows(self, items, times, starts, ends) -> Sequences:
        """``items[start:end]`` (the last ``max_len`` of them) as one sequence each."""
        max_len = getattr(self.retriever_, "max_len", 50)
        starts = np.maximum(starts, ends - max_len)
        lengths = ends - starts
        index = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        positions = np.arange(lengths.sum()) + index
        return Sequences(
            users=np.arange(len(starts), dtype=np.int64),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            items=items[positions],
            times=times[positions],
            rows=positions,
        )

    @available_if(_never)
    def predict_proba(self, X):  # pragma: no cover - never available
        """Not available: the ranker scores candidates, not the whole catalogue."""

    def _score_windows(self, windows, times):  # pragma: no cover - rank() is overridden
        raise NotImplementedError("TwoStageRecommender ranks through rank().")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "ranker_")
