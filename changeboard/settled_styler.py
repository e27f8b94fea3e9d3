"""A pandas Styler whose styles are settled once, when it is made.

Streamlit's st.dataframe recomputes a Styler on every rerun: pandas'
`_compute` (every style function, then a lookup per styled cell through the
index), `_translate` (a dict per cell), then a regular-expression pass over
those cells for their display values. For the Environments impact matrix (51
rows x 150 columns) that is 0.3-0.6 s of each rerun, and again as much to
build it, for styles that only change with the grid.

`settled(data, css)` takes the CSS of every cell as an array (vectorised by
the caller) and makes a Styler whose styles (`ctx`) and the translation
Streamlit reads (the table styles, and the cell styles grouped by identical
CSS, cells in row-major order as pandas lists them) are set once, without
pandas' per-cell lookups and body. The page keeps it per content of its grid
and every rerun and session shares it.

Only for frames whose cells are already their own text (no `format()`): the
display values Streamlit sends are then the values themselves, so the kept
translation holds the styles and not pandas' per-cell body, and Streamlit
sends `data.astype(str)` as the display values, what it would have sent.
Never change a settled Styler (no `.map`/`.apply`): it is shared. It stays a
plain Styler (Streamlit recognises a Styler by its exact type), with its own
`_compute` and `_translate`; any other rendering (to_html) is pandas' own,
from the settled styles. tests/test_page_environments.py checks that
Streamlit gets what a plain Styler styled cell by cell gives it.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler
from pandas.io.formats.style_render import maybe_convert_css_to_tuples

# the translation Streamlit asks for (pandas_styler_utils.marshall_styler)
_STREAMLIT_TRANSLATION = ((False, False), {})


def settled(data: pd.DataFrame, css: np.ndarray, *, uuid: str) -> Styler:
    """A Styler of `data` whose cell (r, c) has the CSS text css[r, c]
    ("" for none), settled (see the module's text)."""
    if css.shape != data.shape:
        raise ValueError(f"settled: css is {css.shape}, data {data.shape}")
    # the styles as a style function too, for a copy that computes its own
    # (pandas' to_html renders a copy)
    styler = Styler(data, uuid=uuid).apply(lambda _: css, axis=None)
    by_style: defaultdict[tuple, list[str]] = defaultdict(list)
    parsed: dict[str, list] = {}
    for (r, c), text in np.ndenumerate(css):  # row-major, as pandas lists
        if not text:
            continue
        if text not in parsed:
            parsed[text] = maybe_convert_css_to_tuples(text)
        if parsed[text]:
            styler.ctx[(r, c)] = list(parsed[text])
            by_style[tuple(parsed[text])].append(f"row{r}_col{c}")
    translate = styler._translate
    kept = {"uuid": styler.uuid, "table_styles": [], "caption": None,
            "cellstyle": [{"props": list(props), "selectors": selectors}
                          for props, selectors in by_style.items()]}

    def computed():
        return styler  # its ctx is what was settled

    def translated(*args, **kwargs):
        if (args, kwargs) == _STREAMLIT_TRANSLATION:
            return kept
        return translate(*args, **kwargs)

    styler._compute = computed
    styler._translate = translated
    return styler
