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

Streamlit also turns the Styler's frame and its display values into Arrow
bytes on every rerun: for the matrix, 50 rows under a two-level header of
150 columns, pandas' per-column lookups through both MultiIndexes made that
about 60 ms of each 0.16-0.30 s warm rerun. Those bytes are made once per
settled Styler (`_arrow_bytes`, wrapped around Streamlit's converter for
these frames alone: every other frame is converted as before).
"""
from __future__ import annotations

import threading
import weakref
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
    _keep_arrow(styler, kept)
    return styler


# --- the Arrow bytes of settled Stylers, made once ------------------------

# id(frame) -> [weak reference to the frame, its Arrow bytes or None]: a
# settled Styler's data and display values (each checked to be that very
# frame: an id is reused once its object is gone)
_FRAMES: dict[int, list] = {}
# id(kept translation) -> weak reference to the display values' frame
_DISPLAY: dict[int, weakref.ref] = {}
_installed = threading.Lock()


def _keep_arrow(styler: Styler, kept: dict) -> None:
    """Register the settled Styler's frames, forgotten when it goes."""
    _install()
    # what Streamlit's _use_display_values makes of a translation with no
    # per-cell body: every cell as its text
    display = styler.data.astype(str)
    styler.changeboard_display = display  # lives as long as the Styler
    ids = (id(styler.data), id(display))
    for frame in (styler.data, display):
        _FRAMES[id(frame)] = [weakref.ref(frame), None]
    _DISPLAY[id(kept)] = weakref.ref(display)
    weakref.finalize(styler, _forget, ids, id(kept))


def _forget(ids: tuple[int, int], kept_id: int) -> None:
    for frame_id in ids:
        _FRAMES.pop(frame_id, None)
    _DISPLAY.pop(kept_id, None)


def _install() -> None:
    """Wrap Streamlit's display values and Arrow conversion (once)."""
    with _installed:
        from streamlit import dataframe_util
        from streamlit.elements.lib import pandas_styler_utils
        if getattr(dataframe_util.convert_pandas_df_to_arrow_bytes,
                   "changeboard_kept", False):
            return
        convert = dataframe_util.convert_pandas_df_to_arrow_bytes
        use_display_values = pandas_styler_utils._use_display_values

        def arrow_bytes(df, **kwargs):
            entry = _FRAMES.get(id(df))
            if entry is None or entry[0]() is not df or kwargs:
                return convert(df, **kwargs)
            if entry[1] is None:
                entry[1] = convert(df)
            return entry[1]

        def display_values(df, styles):
            found = _DISPLAY.get(id(styles))
            display = found() if found is not None else None
            if display is None or display.shape != df.shape:
                return use_display_values(df, styles)
            return display

        arrow_bytes.changeboard_kept = True
        dataframe_util.convert_pandas_df_to_arrow_bytes = arrow_bytes
        pandas_styler_utils._use_display_values = display_values
