"""What a browser sends when a user opens a tab or an expander, for AppTest,
which has no widget to set for either: the widget's new value with the
others' states, then the rerun."""
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1.element_tree import Block


def send(app, widget_id: str, **value):
    """Rerun `app` as if the widget `widget_id` were set to `value` (one
    keyword: string_value=, bool_value=...); no exception element."""
    states = app._tree.get_widget_states()
    states.widgets.append(WidgetState(id=widget_id, **value))
    app._run(states)
    assert not app.exception
    return app


def click_tab(app, label: str):
    """A click on the tab `label` of the page's one tab container."""
    def containers(node):
        if type(node) is Block and node.proto is not None and \
                node.proto.WhichOneof("type") == "tab_container":
            yield node
        for child in getattr(node, "children", {}).values():
            yield from containers(child)

    container, = containers(app._tree)
    return send(app, container.proto.tab_container.id, string_value=label)


def open_definitions(app):
    """A click opening every "How is ... computed?" expander (ui.definition
    draws its content only when open): the page's widget states with each
    of them open, then one rerun."""
    states = app._tree.get_widget_states()
    states.widgets.extend(
        WidgetState(id=box.proto.id, bool_value=True)
        for box in app.expander if "-definition:" in box.proto.id)
    app._run(states)
    assert not app.exception
    return app


def open_linked(view: str, **url):
    """The app opened on a link to views/<view>.py carrying these query
    parameters, with empty caches (st.cache_data: what another test's
    database left there), as a user following the link would; no exception
    element."""
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    root = Path(__file__).resolve().parents[1]
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    app.query_params.update(url)
    app.switch_page(f"views/{view}.py").run()
    assert not app.exception
    return app


def open_page(view: str, start: str, end: str):
    """The app opened on a custom period [start, end] (days as the address
    writes them), then its page views/<view>.py, as a user following a
    link would; no exception element."""
    return open_linked(view, period="custom", **{"from": start, "to": end})


def download_names(monkeypatch) -> list[str]:
    """The file names of every download button drawn from now on (the
    buttons still drawn): a list the caller reads after a run."""
    from streamlit.delta_generator import DeltaGenerator

    named = []
    real = DeltaGenerator.download_button

    def recorded(self, label, data, file_name=None, *args, **kwargs):
        named.append(file_name)
        return real(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recorded)
    return named


def offered_files(monkeypatch) -> dict:
    """Each download button drawn from now on, drawn as before: its file
    name -> its data (a function, for a file built on the click)."""
    from streamlit.delta_generator import DeltaGenerator

    files = {}
    real = DeltaGenerator.download_button

    def recorded(self, label, data, file_name=None, *args, **kwargs):
        files[file_name] = data
        return real(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recorded)
    return files
