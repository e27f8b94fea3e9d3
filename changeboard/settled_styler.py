"""A pandas Styler whose styles are computed once, when it is made.

Streamlit's st.dataframe recomputes a Styler on every rerun: pandas'
`_compute` (every style function, then a lookup per styled cell) and
`_translate` (a dict per cell), then a regular-expression pass over those
cells for their display values. For the Environments impact matrix (51 rows
x 150 columns) that is 0.3-0.6 s of each rerun, for styles that only change
with the grid. A settled Styler is computed once (`settle`), is then kept
per content of its grid by the page and shared by every rerun and session,
and answers Streamlit from what it settled.

Only for frames whose cells are already their own text (no `format()`): the
display values Streamlit sends are then the values themselves, so the kept
translation holds the styles and not pandas' per-cell body, and Streamlit
sends `data.astype(str)` as the display values, what it would have sent.
Never change a settled Styler (no `.map`/`.apply` after `settle`): it is
shared. It stays a plain Styler (Streamlit recognises a Styler by its exact
type), with its own `_compute` and `_translate`.
"""
from __future__ import annotations

from pandas.io.formats.style import Styler

# the translation Streamlit asks for (pandas_styler_utils.marshall_styler)
_STREAMLIT_TRANSLATION = ((False, False), {})


def settle(styler: Styler) -> Styler:
    """`styler` with its style functions run once and the translation
    Streamlit reads kept: the table and cell styles (CSS), without the
    per-cell body. Any other translation (to_html) is made as before, from
    the computed styles."""
    compute, translate = styler._compute, styler._translate
    compute()
    settled = {k: v for k, v in translate(False, False).items()
               if k != "body"}

    def computed():
        return styler  # its ctx is what settle computed

    def translated(*args, **kwargs):
        if (args, kwargs) == _STREAMLIT_TRANSLATION:
            return settled
        return translate(*args, **kwargs)

    styler._compute = computed
    styler._translate = translated
    return styler
