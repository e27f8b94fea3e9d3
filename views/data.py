"""Data: load a file (dry-run preview, then commit), the load history, a
load's rejects, and freshness per source and table."""
import json
from pathlib import Path, PurePath

import pandas as pd
import streamlit as st

import ingest
from changeboard import asof, auth, config, db, signin, ui
from ingest import mapping as mappings
from ingest import rejects, uploads

SOURCE_LABELS = {
    "csv": "Canonical CSV (one file per table, named after it)",
    "servicenow": "ServiceNow change_request export",
    "servicenow-incidents": "ServiceNow incident export",
    "jira": "Jira Service Management export",
    "mapping": "Any export, described by a mapping (shipped or your TOML)",
}
FROM_NAME = "(from the file name)"
OWN_MAPPING = "(upload my own mapping TOML)"
API_LABELS = {"servicenow": "ServiceNow", "jira": "Jira"}
SYNC_COLUMNS = ["source", "status", "finished_at", "records_read",
                "rows_loaded", "rows_rejected", "watermark_at",
                "last_success_at", "error", "endpoint", "sync_id", "pages",
                "batches", "started_at", "cursor_at"]


def _sync_label(source: str, endpoint: str) -> str:
    """`ServiceNow incident`, `Jira fix versions`: what a sync reads."""
    label = API_LABELS.get(source, source)
    if "/api/now/table/" in endpoint:
        return f"{label} {endpoint.rsplit('/', 1)[-1]}"
    if endpoint.endswith("/versions"):
        return f"{label} fix versions"
    return label


status, _, _ = ui.page("Data", period=False, filters=False, needs_data=False)
ui.page_dates("none: every load recorded, whatever its date")
st.caption("Load an export, see what would change before committing, and "
           "check how fresh each source is. Every load is one batch; a "
           "failed or rejected row is kept with its reason.")
user = signin.current()
if not user.signed_in:
    st.caption("Single-user mode: no sign-in is configured, so this app "
               "serves this machine only and loads are recorded as "
               f"{ui.plain(user.actor)}.")


def _mapping_label(name: str) -> str:
    """A shipped mapping as the list shows it: its name and, if its file
    has one, its description."""
    if name == OWN_MAPPING:
        return name
    described = mappings.description(mappings.shipped()[name])
    return f"{name}: {described}" if described else name


upload = mapping = None
shipped = OWN_MAPPING
if user.can(auth.LOAD) and asof.chosen() is not None:
    # a load writes the live data, whatever snapshot is shown: from a
    # historical view it went in under a "read-only" banner (and the
    # publish could prune the very snapshot in view)
    st.header("Load a file")
    st.info("This is a historical view: a load writes the live data. Pick "
            "*Live data* under **As of** in the sidebar to load a file.")
elif user.can(auth.LOAD):
    st.header("Load a file")
    limit = st.get_option("server.maxUploadSize")
    upload = st.file_uploader(
        # a .csv.gz as exports ship (the UCI incident log), read as the
        # command line reads it
        "File", type=["csv", "txt", "xlsx", "gz"], key="data_upload",
        help=f"At most {limit:,} MB a file (CHANGEBOARD_MAX_UPLOAD_MB); a "
        "gzipped CSV (.csv.gz) is read decompressed; a larger export loads "
        "on the server with `changeboard load`.")
    left, right = st.columns(2)
    source = left.selectbox("Source", list(ingest.SOURCES),
                            key="data_source",
                            format_func=lambda s: SOURCE_LABELS.get(s, s))
    # the table a canonical CSV fills; every other source names its own
    # (a mapping's [source] table, a ServiceNow or Jira export's changes),
    # where the box showed all the same, '(from the file name)'
    table = right.selectbox("Table", [FROM_NAME, *ingest.TABLES],
                            key="data_table") if source == "csv" \
        else FROM_NAME
    if source == "mapping":
        # a shipped mapping (ingest/mappings/) by name, or an uploaded one
        shipped = st.selectbox(
            "Mapping", [OWN_MAPPING, *mappings.shipped()],
            key="data_shipped_mapping", format_func=_mapping_label,
            help="The mappings that come with Changeboard read the public "
            "data sets they are named after (docs/sources.md); for another "
            "file shape, upload a mapping TOML of your own.")
    # a TOML only for a source that reads one (the canonical CSV's source
    # read none, and one uploaded beside it was ignored without a word)
    takes = ingest.SOURCES[source]
    if shipped == OWN_MAPPING and (takes.mapping or takes.overrides):
        mapping = st.file_uploader(
            "Mapping or overrides TOML (optional; required for a mapping "
            "source without a shipped mapping)",
            type=["toml"], key="data_mapping")
    # loading your own data replaces the generated sample, unless kept
    replace = status is not None and bool(status["is_sample"]) and \
        st.checkbox(
            "Replace the generated sample data with this load", value=True,
            key="data_replace_sample",
            help="Unticked, the sample's rows stay beside yours and every "
            "number mixes both.")
else:
    st.info(f"You can read the load history below; loading data needs the "
            f"data admin role (you are {ui.plain(user.role_label)}).")


def _load(*, dry_run: bool) -> ingest.Loaded:
    """The upload read and loaded in a child process with memory and CPU
    limits (ingest/uploads.py), from a private directory removed after;
    only for a user whose role may load, checked again here on the server
    (whatever the page showed), and recorded as the batch's author."""
    refused = signin.refusal(auth.LOAD)
    if refused is not None:
        return ingest.Loaded("", "", None, status="failed", error=refused)
    with uploads.workdir() as folder:
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        options = None
        if shipped != OWN_MAPPING:
            options = {"mapping": str(mappings.shipped()[shipped])}
        elif mapping is not None:
            # its own folder, under its own name: an error names the file
            # uploaded ('mapping mapping-x.toml' named one never given)
            (folder / "mapping").mkdir()
            toml = folder / "mapping" / Path(mapping.name).name
            toml.write_bytes(mapping.getvalue())
            options = {"mapping": str(toml)}
        return uploads.load(
            source, path, config.DB_PATH,
            table=None if table == FROM_NAME else table, options=options,
            file_name=f"{UPLOADED_AS}{path.name}", dry_run=dry_run,
            # an upload cannot write another source's rows
            source_prefix=rejects.UPLOADED, replace_sample=replace,
            loaded_by=signin.current().actor)


# an upload's file name as its batch records it (the load history tells an
# upload from a file loaded by path); the page names the file as picked
UPLOADED_AS = "upload/"


def _named(said: str) -> str:
    """A load's words about the file picked, naming it as the page does
    ('changes.csv', as in 'Dry run of changes.csv'): the loader's own named
    it 'upload/changes.csv' and the adapter's 'changes.csv'."""
    return said.replace(UPLOADED_AS, "")


# the load history's columns, what each load did first
HISTORY_COLUMNS = ["batch_id", "file_name", "table_name", "status",
                   "rows_read", "rows_loaded", "rows_rejected", "warnings",
                   "loaded_by", "finished_at", "rows_new", "rows_updated",
                   "rows_unchanged", "rows_deleted", "rows_merged", "source",
                   "started_at", "error", "file_sha256"]


def _warnings(text) -> list[str]:
    """A batch's warnings: the JSON list the loader records, else the JSON
    value as one warning (a JSON string: the list's `for` read it a
    character at a time)."""
    try:
        said = json.loads(text)
    except ValueError:
        return [text]
    return [str(w) for w in said] if isinstance(said, list) else [str(said)]


def _show(result: ingest.Loaded) -> None:
    if result.status == "failed":
        st.error(ui.plain(_named(result.error)))
        if not result.rows_rejected:
            return
        # every row rejected: its warnings (a way out among them) and why,
        # row by row, below
    elif result.status == "unchanged":
        st.info(f"This file was already loaded as batch "
                f"{result.already_loaded}: nothing would change.")
        return
    else:
        _counted(result)
    for warning in result.warnings:
        st.warning(ui.plain(_named(warning)))
    if result.rows_rejected:
        _rejected(result)


def _counted(result: ingest.Loaded) -> None:
    """A load's counts, a card each: the input rows a mapping merged into
    another of their id or left out as older versions too, when there are
    any, so that the cards add up to Read (BPIC 2014's 11,877 merged rows
    were in a warning alone: a real-data walkthrough)."""
    merged = result.rows_merged - result.rows_superseded
    # two rows of four at most: eight cards in a row cut '29,139' to '29,…'
    # at 1280 pixels; what became of the rows read, then of those loaded
    for counts in ([("Read", result.rows_read), ("Loaded", result.rows_loaded),
                    ("Rejected", result.rows_rejected),
                    *([("Merged", merged)] if merged else []),
                    *([("Superseded", result.rows_superseded)]
                      if result.rows_superseded else [])],
                   [("New", result.rows_new), ("Updated", result.rows_updated),
                    ("Unchanged", result.rows_unchanged),
                    ("Deleted", result.rows_deleted)]):
        for card, (label, value) in zip(st.columns(4), counts,
                                        strict=False):  # 3 or 4 cards
            card.metric(label, f"{value:,}")


def _rejected(result: ingest.Loaded) -> None:
    """A load's rejects by reason and the first of them."""
    st.caption("Rejected rows by reason: " + ui.plain(", ".join(
        f"{reason} {n:,}" for reason, n in result.reasons)))
    st.caption(("The reject" if len(result.rejects) == 1 else
                f"First {ui.many(len(result.rejects), 'reject')}")
               + " (row 1 = header):")
    ui.table(result.rejects, "preview_rejects")


def _upload_key() -> tuple:
    """What the preview depends on: the files and the choices."""
    def ident(file):
        return None if file is None else (
            getattr(file, "file_id", None), file.name, file.size)
    return (ident(upload), ident(mapping), shipped, source, table,
            replace)


def _commit() -> None:
    """The Commit button's callback: it runs before the page reruns, so the
    page (and the banner) then show the committed batch."""
    key, preview, _ = st.session_state["data_preview"]
    st.session_state["data_preview"] = (key, preview, _load(dry_run=False))


if upload is None:
    st.session_state.pop("data_preview", None)
else:
    key = _upload_key()
    cached = st.session_state.get("data_preview")
    if cached is None or cached[0][:-1] != key[:-1] or (
            cached[2] is None and cached[0] != key):
        # once per upload, not on every rerun (after a commit, the sample
        # choice it was made with no longer matters)
        cached = (key, _load(dry_run=True), None)
        st.session_state["data_preview"] = cached
    _, preview, committed = cached
    if committed is not None:
        if committed.status == "succeeded":
            st.success(
                f"Loaded {ui.plain(upload.name)} as batch "
                f"{committed.batch_id}: "
                f"{ui.many(committed.rows_loaded, 'row')}, "
                f"{committed.rows_rejected:,} rejected, "
                f"{committed.rows_deleted:,} deleted"
                + (f"; the sample's "
                   f"{ui.many(committed.sample_rows_removed, 'row')} "
                   f"{'was' if committed.sample_rows_removed == 1 else 'were'}"
                   " removed" if committed.sample_rows_removed else "")
                + ".")
        _show(committed)
    else:
        st.markdown(f"**Dry run of** {ui.plain(upload.name)} (nothing "
                    "written yet)")
        if preview.sample_rows_removed:
            st.caption(f"Committing removes the generated sample's "
                       f"{ui.many(preview.sample_rows_removed, 'row')} "
                       "first.")
        _show(preview)
        confirmed = True
        if preview.status == "dry_run" and preview.rows_deleted:
            st.warning(ui.plain(
                f"This is a snapshot load of source {preview.source}: "
                f"committing it deletes {preview.rows_deleted:,} stored "
                f"{preview.table} "
                + ("row of that source that is" if preview.rows_deleted == 1
                   else "rows of that source that are") + " not in the file."))
            st.caption(("The row" if len(preview.deleted) == 1 else
                        f"The first {ui.many(len(preview.deleted), 'row')}")
                       + " it deletes:")
            ui.table(preview.deleted, "preview_deleted")
            confirmed = st.checkbox(
                "Delete this row" if preview.rows_deleted == 1 else
                f"Delete these {preview.rows_deleted:,} rows", value=False,
                key="data_confirm_delete")
        if preview.status == "dry_run" and not preview.rows_read and \
                not preview.rows_deleted:
            # a header alone (a broken export job): committed, it recorded
            # a succeeded batch of 0 rows, and the source read as loaded now
            st.info("The file has a header and no data rows: there is "
                    "nothing to load. Check the export that wrote it.")
        elif preview.status == "dry_run":
            st.button("Commit this load", key="data_commit", type="primary",
                      disabled=not confirmed, on_click=_commit)

if db.version(config.DB_PATH) is None:
    st.warning(f"No database at `{config.DB_PATH}` yet: the first load "
               "creates it, or build the sample with "
               "`changeboard sample`.")
    st.stop()

st.header("Freshness")
freshness = ui.query("data_freshness")
# the last load's status beside its own time, apart from the last good
# load's: "Last loaded at 04:14:08" beside "Failed" read as a load that
# failed at 04:14 (an auditor's walkthrough: it failed at 04:14:47)
ui.table(freshness, "data_freshness", labels={
    "last_loaded_at": "Last succeeded at", "last_status": "Last load",
    "last_load_at": "Last load at"})
dangling = ui.query("dangling_references")
st.caption("References to rows not loaded (kept, counted here):")
if dangling.empty:
    st.caption("No references set yet.")
else:
    # a share reads as a percentage (100%), not as the fraction 1; the
    # tables' names whole (sized by the first rows, "environment_bookings"
    # was cut to "environment_booking")
    ui.table(dangling, "dangling_references", column_config={
        "dangling_share": st.column_config.NumberColumn(
            "Dangling share", format="percent"),
        **{column: st.column_config.TextColumn(ui.human(column), width=(
            ui.text_width([*dangling[column], ui.human(column)], 80, 260)))
           for column in ("table_name", "referenced_table")}})
    if int(dangling["n_dangling"].sum()):
        # the ids themselves: counts alone did not say what to load
        st.caption("The ids they name that no loaded row has, most named "
                   "first:")
        ui.table(ui.part("dangling_ids"), "dangling_ids")

st.header("API syncs")
syncs = ui.query("api_syncs")
if syncs.empty:
    st.caption("No API sync has run. `changeboard sync servicenow` and "
               "`changeboard sync jira` keep the data current; the README "
               "shows how to run them on a schedule.")
else:
    for sync in syncs.loc[syncs["status"] != "succeeded"].itertuples():
        what = ("is still running or was interrupted"
                if sync.status == "running" else "failed")
        why = f": {sync.error}" if isinstance(sync.error, str) else ""
        # the server's words and the endpoint are shown as plain text
        since = (ui.instant(sync.resumes_from_at)
                 if pd.notna(sync.resumes_from_at) else "the beginning")
        st.warning(ui.plain(
            f"The last {_sync_label(sync.source, sync.endpoint)} sync "
            f"{what}{why}. What it committed is kept; the next sync resumes "
            f"from {since}."))
    ui.table(syncs[SYNC_COLUMNS], "api_syncs")

st.header("Load history")
batches = ui.query("ingest_batches")
if batches.empty:
    st.caption("Nothing loaded yet.")
    st.stop()
# a file by its name: a path as given to the load ends, where two exports
# differ, past the column's width (the downloads keep the whole path)
# the source as wide as its longest code: sized by its heading, "Source"
# cut "servicenow" to "servicen"
# what a load did first, beside the file (at 1440 px the grid showed the
# batch to its start time, the rows read, loaded and rejected off to the
# right); its warnings, a JSON list in the query's row, read in words below
warned = {b: _warnings(w) for b, w in zip(batches["batch_id"],
                                          batches["warnings"], strict=True)
          if isinstance(w, str) and w}
ui.table(batches.assign(file_name=[
    PurePath(f).name if isinstance(f, str) and f else f
    for f in batches["file_name"]], warnings=[
        ui.many(len(warned[b]), "warning") if b in warned else None
        for b in batches["batch_id"]])[HISTORY_COLUMNS],
    "ingest_batches", download=batches,
    column_config={"source": st.column_config.TextColumn(
        "Source", width=ui.text_width([*batches["source"], "Source"], 60,
                                      200)),
        # the file by its content, as `sha256sum` prints it: an auditor
        # traced a load to its file by hand (a walkthrough)
        "file_sha256": st.column_config.TextColumn("File SHA-256")})
# a batch by its id, file and table, as the history lists it ('3' alone
# named nothing a user could find: a walkthrough)
named = {b: f"{b} · {PurePath(f).name} ({t})" if isinstance(f, str) and f
         else str(b) for b, f, t in zip(batches["batch_id"],
                                        batches["file_name"],
                                        batches["table_name"], strict=True)}
if warned:
    shown = st.selectbox("Warnings of batch", list(warned),
                         format_func=named.get, key="data_warning_batch")
    st.markdown("\n".join(f"- {ui.plain(w)}" for w in warned[shown]))
with_rejects = batches.loc[batches["rows_rejected"].fillna(0) > 0, "batch_id"]
if with_rejects.empty:
    st.caption("No load has rejected rows.")
else:
    batch_id = st.selectbox("Rejected rows of batch", list(with_rejects),
                            format_func=named.get, key="data_reject_batch")
    ui.table(ui.query("ingest_rejects", batch_id=int(batch_id)),
             f"rejects_batch_{batch_id}")
# the rows a snapshot-mode load deleted, each with its key and the row as
# it was: the count alone named none once the file before was pruned (an
# auditor's walkthrough)
with_deletions = batches.loc[batches["rows_deleted"].fillna(0) > 0,
                             "batch_id"]
if not with_deletions.empty:
    batch_id = st.selectbox("Deleted rows of batch", list(with_deletions),
                            format_func=named.get, key="data_deleted_batch")
    ui.table(ui.query("ingest_deletions", batch_id=int(batch_id)),
             f"deletions_batch_{batch_id}")
