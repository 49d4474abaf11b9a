"""Item metadata typing and encoding (skseqrec.features)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from benchmarks.data import shared_data_path  # the team's data folder (tests/conftest.py)
from skseqrec.exceptions import DataDropWarning
from skseqrec.features import EncodedItems, Field, ItemFeatures


def movies() -> pd.DataFrame:
    """Five items with every kind of column and no missing value."""
    return pd.DataFrame(
        {
            "item_id": [10, 20, 30, 40, 50],
            "genres": ["Drama|Comedy", "Drama", " Horror | |Drama", "(no genres listed)", "Comedy"],
            "studio": ["A", "B", "A", "C", "B"],
            "year": [1990, 2000, 2010, 2020, 2000],
            "score": [0.5, 1.5, 2.5, 3.5, 4.5],
            "sequel": [False, True, False, False, True],
            "rating": pd.Categorical(["PG", "R", "PG", "G", "R"]),
        }
    )


def kinds(features: ItemFeatures) -> dict:
    return {field.name: field.kind for field in features.fields_}


def field(features: ItemFeatures, name: str) -> Field:
    return next(f for f in features.fields_ if f.name == name)


def plain_types(value) -> bool:
    """Only str/int/float/bool/None/list/dict, all the way down."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_types(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


# ---------------------------------------------------------------------------- typing
def test_automatic_types_in_column_order():
    features = ItemFeatures().fit(movies())
    assert kinds(features) == {
        "genres": "multilabel",
        "studio": "categorical",
        "year": "numeric",
        "score": "numeric",
        "sequel": "categorical",
        "rating": "categorical",
    }
    assert [f.name for f in features.fields_] == list(movies().columns[1:])
    assert features.item_ids_.dtype == np.int64
    np.testing.assert_array_equal(features.item_ids_, [10, 20, 30, 40, 50])
    assert field(features, "studio").vocabulary == ("A", "B", "C")
    assert field(features, "sequel").vocabulary == (False, True)
    assert field(features, "studio").n_codes == 5


def test_explicit_types_and_unnamed_columns_warned():
    features = ItemFeatures(
        feature_types={"year": "categorical", "genres": "categorical", "score": "ignore"}
    )
    with pytest.warns(
        DataDropWarning,
        match=r"3 of 6 columns of item_features are not used as features: 3 column\(s\) "
        r"'studio', 'sequel', 'rating' not named in feature_types",
    ):
        features.fit(movies())
    assert kinds(features) == {"genres": "categorical", "year": "categorical"}
    assert field(features, "year").vocabulary == (1990, 2000, 2010, 2020)
    codes = features.encode([20, 50]).codes
    np.testing.assert_array_equal(codes["year"], [[3], [3]])
    assert field(features, "genres").vocabulary[0] == " Horror | |Drama"  # whole values


def test_explicit_kinds_need_a_matching_dtype():
    with pytest.raises(TypeError, match=r"'studio'.*cannot be numeric.*\['categorical'"):
        ItemFeatures(feature_types={"studio": "numeric"}).fit(movies())
    frame = movies().assign(when=pd.to_datetime(["2020-01-01"] * 5))
    with pytest.raises(TypeError, match=r"'when'.*datetime64.*cannot be categorical"):
        ItemFeatures(feature_types={"when": "categorical"}).fit(frame)


def test_item_col_is_never_a_feature():
    frame = movies().rename(columns={"item_id": "movie"})
    features = ItemFeatures(item_col="movie").fit(frame)
    assert "movie" not in kinds(features) and "item_id" not in kinds(features)
    with pytest.raises(ValueError, match="names the id column"):
        ItemFeatures(item_col="movie", feature_types={"movie": "categorical"}).fit(frame)


def test_object_columns_typed_by_their_values():
    frame = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "count": pd.Series([1, 2, 3], dtype=object),
            "flag": pd.Series([True, False, True], dtype=object),
        }
    )
    assert kinds(ItemFeatures().fit(frame)) == {"count": "numeric", "flag": "categorical"}


def test_free_text_column_is_warned_and_skipped():
    n = 150
    frame = pd.DataFrame(
        {"item_id": np.arange(n), "title": [f"Movie {i}" for i in range(n)], "year": np.arange(n)}
    )
    with pytest.warns(DataDropWarning) as record:
        features = ItemFeatures().fit(frame)
    (message,) = [str(w.message) for w in record]
    assert "1 of 2 columns" in message and "'title' looks like free text or an id" in message
    assert "150 distinct values in 150" in message
    assert "feature_types={'title': 'categorical', ...}" in message
    assert kinds(features) == {"year": "numeric"}
    # named explicitly, the same column is used without a warning
    explicit = ItemFeatures(feature_types={"title": "categorical", "year": "numeric"}).fit(frame)
    assert field(explicit, "title").n_codes == n + 2
    # 100 distinct values or at most half distinct: a plain category
    few = pd.DataFrame({"item_id": np.arange(n), "tag": [f"t{i % 100}" for i in range(n)]})
    assert kinds(ItemFeatures().fit(few)) == {"tag": "categorical"}


def test_unsupported_dtype_is_warned_and_skipped():
    frame = movies().assign(added=pd.to_datetime(["2020-01-01"] * 5))
    with pytest.warns(
        DataDropWarning, match=r"1 of 7 columns.*'added' \(unsupported dtype datetime64"
    ):
        features = ItemFeatures().fit(frame)
    assert "added" not in kinds(features)


def test_no_usable_column_is_an_error():
    frame = pd.DataFrame({"item_id": [1, 2], "when": pd.to_datetime(["2020", "2021"])})
    with pytest.raises(ValueError, match=r"no usable feature column.*'when' \(unsupported dtype"):
        ItemFeatures().fit(frame)


# ---------------------------------------------------------------------------- encoding
def test_multilabel_layout_padding_and_missing():
    frame = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "e"],
            "genres": [
                "Drama|Comedy",
                "Drama",
                " Horror | |Drama|Drama",
                None,
                "(no genres listed)",
            ],
        }
    )
    with pytest.warns(DataDropWarning, match=r"1 of 5 rows.*'genres' 1 row\(s\)"):
        features = ItemFeatures().fit(frame)
    genres = field(features, "genres")
    assert genres.kind == "multilabel" and genres.width == 2
    assert genres.vocabulary == ("(no genres listed)", "Comedy", "Drama", "Horror")
    assert genres.n_codes == 6
    encoded = features.encode(["a", "b", "c", "d", "e", "unknown"])
    np.testing.assert_array_equal(
        encoded.codes["genres"],
        [[4, 3], [4, 0], [5, 4], [1, 0], [2, 0], [1, 0]],
    )
    assert encoded.codes["genres"].dtype == np.int64
    assert encoded.values == {} and encoded.n_without_metadata == 1


def test_numeric_buckets_and_standardised_values():
    x = np.arange(100, dtype=float)
    frame = pd.DataFrame({"item_id": np.arange(100), "x": x, "same": 7, "skewed": (x >= 70) * 1.0})
    features = ItemFeatures(n_buckets=4).fit(frame)
    x_field = field(features, "x")
    assert x_field.edges == (25.0, 50.0, 75.0) and x_field.n_codes == 6
    encoded = features.encode(np.arange(100))
    np.testing.assert_array_equal(np.bincount(encoded.codes["x"].ravel()), [0, 0, 25, 25, 25, 25])
    np.testing.assert_allclose(encoded.values["x"], (x - x.mean()) / x.std(), rtol=1e-6)
    assert encoded.values["x"].dtype == np.float32
    # a constant column: one bucket, std 1, value 0
    same = field(features, "same")
    assert same.edges == () and same.n_codes == 3 and same.std == 1.0
    np.testing.assert_array_equal(encoded.codes["same"].ravel(), 2)
    np.testing.assert_array_equal(encoded.values["same"], 0.0)
    # duplicate quantiles collapse: 70 zeros and 30 ones give two buckets, not four
    skewed = field(features, "skewed")
    assert skewed.edges == (1.0,) and skewed.n_codes == 4
    np.testing.assert_array_equal(np.bincount(encoded.codes["skewed"].ravel()), [0, 0, 70, 30])


def test_at_most_n_buckets_and_every_bucket_used():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"item_id": np.arange(500), "x": rng.lognormal(size=500).round(1)})
    for n_buckets in (1, 3, 10):
        features = ItemFeatures(n_buckets=n_buckets).fit(frame)
        n_codes = field(features, "x").n_codes
        assert n_codes <= n_buckets + 2
        codes = features.encode(np.arange(500)).codes["x"].ravel()
        assert set(codes) == set(range(2, n_codes))


def test_missing_values_get_code_one_and_one_warning():
    frame = pd.DataFrame(
        {
            "item_id": [1, 2, 3, 4, 5],
            "studio": ["A", None, "B", " ", "A"],
            "year": [1990.0, np.nan, 2000.0, 2010.0, np.nan],
            "sequel": pd.array([True, False, None, True, False], dtype="boolean"),
        }
    )
    with pytest.warns(DataDropWarning) as record:
        features = ItemFeatures().fit(frame)
    (message,) = [str(w.message) for w in record]
    assert message == (
        "4 of 5 rows of item_features have missing feature values, encoded as 1 (missing): "
        "'studio' 2 row(s), 'year' 2 row(s), 'sequel' 1 row(s)."
    )
    encoded = features.encode([1, 2, 3, 4, 5])
    np.testing.assert_array_equal(encoded.codes["studio"].ravel(), [2, 1, 3, 1, 2])
    np.testing.assert_array_equal(encoded.codes["year"].ravel()[[1, 4]], 1)
    np.testing.assert_array_equal(encoded.values["year"][[1, 4]], 0.0)
    np.testing.assert_array_equal(encoded.codes["sequel"].ravel(), [3, 2, 1, 3, 2])


def test_unseen_values_and_labels_get_code_one():
    features = ItemFeatures().fit(movies())
    studio, genres, year = (field(features, n) for n in ("studio", "genres", "year"))
    np.testing.assert_array_equal(studio.encode(["B", "Z", None]).ravel(), [3, 1, 1])
    np.testing.assert_array_equal(
        genres.encode(["Drama|Western|Musical", "Western", "Comedy"]),
        [[4, 1], [1, 0], [3, 0]],
    )
    np.testing.assert_array_equal(year.encode([1900, 3000, np.nan]).ravel(), [2, 5, 1])
    np.testing.assert_allclose(year.standardise([2000, np.nan]), [(2000 - year.mean) / year.std, 0])


def test_ids_without_metadata_are_counted_not_warned():
    features = ItemFeatures().fit(movies())  # warnings are errors in this suite
    encoded = features.encode(pd.Series([50, 7, 10, 8]))
    assert isinstance(encoded, EncodedItems)
    assert encoded.n_without_metadata == 2
    for name, codes in encoded.codes.items():
        assert codes.shape[0] == 4, name
        np.testing.assert_array_equal(codes[[1, 3], 0], 1)
        np.testing.assert_array_equal(codes[[1, 3], 1:], 0)
    np.testing.assert_array_equal(encoded.values["score"][[1, 3]], 0.0)
    np.testing.assert_array_equal(
        encoded.values["score"][[0, 2]], features.encode([50, 10]).values["score"]
    )
    empty = features.encode([])
    assert empty.codes["genres"].shape == (0, 2) and empty.n_without_metadata == 0


def test_string_ids_are_looked_up():
    frame = movies().assign(item_id=["m1", "m2", "m3", "m4", "m5"])
    features = ItemFeatures().fit(frame)
    assert features.item_ids_.dtype == object
    by_list = features.encode(["m3", "nope", "m1"])
    by_array = features.encode(np.array(["m3", "nope", "m1"]))
    np.testing.assert_array_equal(by_list.codes["studio"].ravel(), [2, 1, 2])
    np.testing.assert_array_equal(by_array.codes["genres"], by_list.codes["genres"])
    assert by_list.n_without_metadata == 1


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "frame, error, match",
    [
        ([[1, "a"]], TypeError, "must be a pandas .*DataFrame of item metadata.*got list"),
        (pd.DataFrame({"id": [1], "c": ["a"]}), ValueError, r"no column 'item_id' \(item_col\)"),
        (pd.DataFrame({"item_id": [], "c": []}), ValueError, r"empty \(0 rows\)"),
        (
            pd.DataFrame({"item_id": [1, None, np.nan, 4], "c": list("abcd")}),
            ValueError,
            r"'item_id' .* 2 missing id\(s\) .* out of 4 rows",
        ),
        (
            pd.DataFrame({"item_id": [1, 3, 2, 3], "c": list("abcd")}),
            ValueError,
            r"'item_id' .* 1 duplicated id\(s\) in 2 of 4 rows \(e.g. 3, 2 times\)",
        ),
        (
            pd.DataFrame({"item_id": [1.5, 2.0], "c": list("ab")}),
            TypeError,
            r"'item_id'.*non-integer floats \(e.g. 1.5, 1 rows\)",
        ),
        (
            pd.DataFrame({"item_id": pd.Series([1, "b"], dtype=object), "c": list("ab")}),
            TypeError,
            r"'item_id' .* mixes value types: int in 1 row\(s\) \(e.g. 1\), str in 1 row",
        ),
        (
            pd.DataFrame(
                {"item_id": [1, 2, 3, 4], "c": pd.Series(["a", 5, None, "b"], dtype=object)}
            ),
            TypeError,
            r"Column 'c' .* mixes value types: str in 2 row\(s\) \(e.g. 'a'\), int in 1 row\(s\) "
            r"\(e.g. 5\), out of 4 rows \(1 missing\)",
        ),
        (
            pd.DataFrame({"item_id": [1, 2, 3], "x": [1.0, np.inf, -np.inf]}),
            ValueError,
            r"Column 'x' .* 2 infinite value\(s\) \(e.g. inf\) out of 3 rows",
        ),
        (
            pd.DataFrame([[1, "a", "b"]], columns=["item_id", "c", "c"]),
            ValueError,
            "more than one column named 'c'",
        ),
    ],
)
def test_fit_errors_name_column_value_and_count(frame, error, match):
    with pytest.raises(error, match=match):
        ItemFeatures().fit(frame)


def test_feature_types_errors():
    with pytest.raises(ValueError, match=r"absent from item_features: \['colour'\]"):
        ItemFeatures(feature_types={"colour": "categorical"}).fit(movies())
    with pytest.raises(
        ValueError,
        match=r"feature_types\['studio'\] must be one of \['categorical', 'multilabel', "
        r"'numeric', 'ignore'\], got 'text'",
    ):
        ItemFeatures(feature_types={"studio": "text"}).fit(movies())
    with pytest.raises(ValueError, match="feature_types must be None or a dict"):
        ItemFeatures(feature_types=["studio"]).fit(movies())
    with pytest.raises(ValueError, match=r"n_buckets must be in \[1, inf\], got 0"):
        ItemFeatures(n_buckets=0).fit(movies())


def test_not_fitted():
    with pytest.raises(NotFittedError):
        ItemFeatures().encode([1])
    with pytest.raises(NotFittedError):
        ItemFeatures().to_dict()


def test_encode_rejects_ids_of_the_other_type():
    features = ItemFeatures().fit(movies())
    with pytest.raises(TypeError, match=r"items holds str ids \(e.g. '10'\).* numeric \(e.g. 10\)"):
        features.encode(["10", "20"])
    with pytest.raises(ValueError, match="one-dimensional"):
        features.encode([[10, 20]])


def test_failed_fit_keeps_the_fitted_state():
    features = ItemFeatures().fit(movies())
    before = features.encode([10, 20]).codes["genres"]
    with pytest.raises(ValueError):
        features.fit(pd.DataFrame({"item_id": [1, 1], "c": ["a", "b"]}))
    np.testing.assert_array_equal(features.encode([10, 20]).codes["genres"], before)


def test_sklearn_parameters():
    features = ItemFeatures(n_buckets=3, feature_types={"year": "numeric"})
    assert clone(features).get_params() == features.get_params()
    assert not hasattr(features, "fields_")  # __init__ only stores


def test_polars_frames_are_accepted():
    pl = pytest.importorskip("polars")
    frame = movies().drop(columns="rating")
    polars_frame = pl.DataFrame({c: frame[c].tolist() for c in frame.columns})
    for given in (polars_frame, polars_frame.lazy()):
        assert kinds(ItemFeatures().fit(given))["genres"] == "multilabel"


# ---------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("ids", [[10, 20, 30, 40, 50], ["m1", "m2", "m3", "m4", "m5"]])
def test_to_dict_round_trip_through_json(ids):
    frame = movies().assign(item_id=ids)
    frame.loc[1, "year"] = np.nan
    with pytest.warns(DataDropWarning, match="'year' 1 row"):
        features = ItemFeatures(n_buckets=3).fit(frame)
    state = features.to_dict()
    assert plain_types(state)
    rebuilt = ItemFeatures.from_dict(json.loads(json.dumps(state)))
    assert rebuilt.fields_ == features.fields_
    assert rebuilt.get_params() == features.get_params()
    assert rebuilt.item_ids_.dtype == features.item_ids_.dtype
    np.testing.assert_array_equal(rebuilt.item_ids_, features.item_ids_)
    query = [*ids[::-1], "nope" if isinstance(ids[0], str) else -1]
    expected, got = features.encode(query), rebuilt.encode(query)
    assert got.n_without_metadata == expected.n_without_metadata == 1
    for name in expected.codes:
        np.testing.assert_array_equal(got.codes[name], expected.codes[name])
    for name in expected.values:
        np.testing.assert_array_equal(got.values[name], expected.values[name])
    assert rebuilt.to_dict() == state


def _state():
    return ItemFeatures().fit(movies()).to_dict()


def _set(path, value):
    def change(state):
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return state

    return change


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda s: [s], "state must be a dict"),
        (lambda s: {k: v for k, v in s.items() if k != "codes"}, "state keys must be"),
        (_set(["version"], 99), "version must be 1"),
        (_set(["params", "n_buckets"], -1), "n_buckets must be in"),
        (_set(["params", "feature_types"], {"year": "text"}), "must be one of"),
        (_set(["item_ids"], [10, 20, 30, 40, 40]), "item_ids must be unique"),
        (_set(["item_ids"], [10, 20, 30, 40, 50.5]), "item_ids do not fit int64"),
        (_set(["item_ids_dtype"], "datetime64[ns]"), "item_ids_dtype must name"),
        (_set(["item_ids_dtype"], "no-such-dtype"), "item_ids_dtype must name"),
        (_set(["fields", 0, "kind"], "text"), "kind must be one of"),
        (_set(["fields", 0, "n_codes"], 99), "n_codes must be"),
        (_set(["fields", 0, "colour"], 1), "unexpected keyword"),
        (
            _set(["fields", 0, "vocabulary"], ["a", "a", "b", "c"]),
            "vocabulary values must be unique",
        ),
        (_set(["fields", 2, "edges"], [2010.0, 2000.0]), "edges must increase"),
        (_set(["fields", 2, "std"], 0.0), "std must be positive"),
        (_set(["codes", "studio"], [[2], [3]]), "codes of field 'studio' must be a list of 5 rows"),
        (_set(["codes", "studio"], [[2], [3], [2], [4], [9]]), r"must lie in \[0, 5\)"),
        (_set(["codes", "studio"], [[2], [3], [2], [4], [2.5]]), "5 lists of 1 ints"),
        (_set(["codes", "genres", 0], [0, 3]), "padding"),
        (_set(["values", "year"], [0.0] * 4), "values of field 'year' must be a list of 5"),
        (_set(["values", "year"], [0.0, 0.0, 0.0, 0.0, "x"]), "must be a list of 5 numbers"),
    ],
)
def test_from_dict_rejects_malformed_states(change, match):
    with pytest.raises(ValueError, match=match):
        ItemFeatures.from_dict(change(_state()))


def test_field_checks_itself():
    with pytest.raises(ValueError, match=r"n_codes must be 4 for 1 edges"):
        Field("x", "numeric", n_codes=5, edges=(1.0,))
    with pytest.raises(ValueError, match="separator must be a non-empty string"):
        Field("g", "multilabel", n_codes=3, vocabulary=("a",))
    with pytest.raises(TypeError, match="is categorical, not numeric"):
        Field("c", "categorical", n_codes=2).standardise([1.0])


# ---------------------------------------------------------------------------- real data
def test_movielens_items():
    path = shared_data_path("ml-latest-small")
    if path is None or not (path / "items.csv.gz").exists():
        pytest.skip("../shared/data/ml-latest-small/items.csv.gz is not present")
    items = pd.read_csv(path / "items.csv.gz")
    with pytest.warns(DataDropWarning) as record:
        features = ItemFeatures().fit(items)
    messages = " ".join(str(w.message) for w in record)
    assert "'title' looks like free text or an id" in messages
    assert f"{int(items['year'].isna().sum())} row(s)" in messages
    assert kinds(features) == {"genres": "multilabel", "year": "numeric"}
    genres = field(features, "genres")
    assert "(no genres listed)" in genres.vocabulary and "Drama" in genres.vocabulary
    assert field(features, "year").n_codes == 12  # ten buckets
    encoded = features.encode(items["item_id"])
    assert encoded.n_without_metadata == 0
    n_labels = items["genres"].str.count(r"\|") + 1
    np.testing.assert_array_equal((encoded.codes["genres"] > 0).sum(axis=1), n_labels)
    np.testing.assert_array_equal(encoded.codes["year"].ravel() == 1, items["year"].isna())
