"""Where an estimator's notebook (HTML) repr links to: its page in the API reference."""

DOCS_ROOT = "https://skseqrec.readthedocs.io/en/latest/"


def doc_link_template(module: str) -> str:
    """scikit-learn's ``_doc_link_template`` for estimators documented under ``module``:
    the page autosummary writes for each of them (``generated/<module>.<name>.html``)."""
    return f"{DOCS_ROOT}generated/{module}.{{estimator_name}}.html"
