"""Rows of `checked` (ingest/checks.py) rejected against each other and
against the stored rows: duplicate_row, superseded and duplicate_id within
the file, id_owned_by_other_source and older_than_stored against the table
(docs/sources.md section 8); and every reject written to ingest_rejects.

Identifiers are canonical column names from the schema, always
double-quoted by q(); values are bound, never formatted in.
"""
from __future__ import annotations

from . import schema
from .checks import RECORDS, drop_records, has_lazy_records, present, q


def key_list(spec, alias: str) -> str:
    return ", ".join(f"{alias}.{q(k)}" for k in spec.key)


def key_match(spec, left: str, right: str) -> str:
    return " and ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in spec.key)


def _frame_text(con) -> tuple[str, str]:
    """(join, record SQL) of each picked row's input text, read from the
    registered frame's own columns by row number, as stage() records a
    rejected row: for a frame that keeps its text (the canonical CSV's)
    and leaves raw_record NULL. ('', '') for one without row numbers.
    Joined to the picked rows alone, the record is built for them only."""
    columns = [r[0] for r in con.execute(
        "select column_name from (describe incoming_frame)").fetchall()]
    if "row_number" not in columns:
        return "", ""
    record = "to_json(struct_pack(" + ", ".join(
        f"{q(c)} := cast(r.{q(c)} as varchar)" for c in columns
        if c not in schema.BOOKKEEPING) + "))"
    return ("left join incoming_frame as r on r.row_number = p.row_number ",
            f", {record} as text_record")


def _reject(con, spec, selection: str, reason: str,
            params: dict | None = None) -> None:
    """Mark rows of `checked` (row_number, detail from `selection`)."""
    key = spec.key[0]
    # the last resort: the row's parsed values (the frame neither keeps its
    # text nor builds records)
    record = "to_json(struct_pack(" + ", ".join(
        f"{q(c)} := c.{q(c)}" for c in present(con, spec)) + "))"
    con.execute(f"create or replace temp table picked as {selection}",
                params or {})
    if con.execute("select count(*) from picked").fetchall()[0][0]:
        # the frame's record of the input row when it has one (built for
        # these rows only when the frame leaves raw_record NULL), else the
        # frame's text of it: a duplicate's record read '2026-11-20
        # 08:00:00+00' and true where the file said 2026-11-20T08:00:00Z
        lazy = (f"cast({RECORDS}(s.row_number) as json), "
                if has_lazy_records(con) else "")
        join, text = _frame_text(con)
        con.execute(
            f"update checked as c set reason = '{reason}', "  # noqa: S608
            f"column_name = '{key}', value = cast(c.{q(key)} as varchar), "
            "detail = s.detail, raw_record = coalesce(c.raw_record, "
            f"s.raw_record, {lazy}{'s.text_record, ' if text else ''}"
            f"{record}) from (select p.*, f.raw_record{text} from "
            "picked as p left join frame_records as f on f.row_number = "
            f"p.row_number {join}) as s "
            "where c.row_number = s.row_number and c.reason is null")
    con.execute("drop table picked")


def duplicates(con, spec) -> None:
    """duplicate_row, superseded and duplicate_id (docs/sources.md section 8)."""
    key = key_list(spec, "c")
    distinct = con.execute(
        f"select count(*) = count(distinct ({key})) from checked as c "  # noqa: S608
        "where reason is null").fetchall()[0][0]
    if distinct:
        return
    content = ", ".join(f"c.{q(c)}" for c in present(con, spec))
    con.execute(
        f"create or replace temp table copies as select c.row_number, {key}, "  # noqa: S608
        f"hash({content}) as h, "
        f"{'c.updated_at' if 'updated_at' in present(con, spec) else 'null'}"
        " as upd, "
        f"row_number() over (partition by {key}, hash({content}) "
        "order by c.row_number) as copy_no, "
        f"min(c.row_number) over (partition by {key}, hash({content})) "
        "as first_row from checked as c where c.reason is null")
    _reject(con, spec,
            "select row_number, 'identical to row ' || first_row as detail "
            "from copies where copy_no > 1", "duplicate_row")
    keys = ", ".join(q(k) for k in spec.key)
    con.execute(
        f"create or replace temp table versions as select {keys}, "  # noqa: S608
        "count(*) as n, max(upd) as max_upd, "
        "count(*) filter (where upd = (select max(upd) from copies as i "
        f"where {key_match(spec, 'i', 'copies')})) as n_at_max "
        f"from copies where copy_no = 1 group by {keys} having count(*) > 1")
    con.execute(
        "create or replace temp table version_rows as select c.row_number, "  # noqa: S608
        "c.upd, v.max_upd, v.n_at_max from copies as c join versions as v on "
        f"{key_match(spec, 'c', 'v')} where c.copy_no = 1")
    _reject(con, spec,
            "select row_number, 'a newer copy (updated_at ' || max_upd || "
            "') is in the file' as detail from version_rows where "
            "max_upd is not null and (upd is null or upd < max_upd)",
            "superseded")
    _reject(con, spec,
            "select row_number, 'the file has other copies of this id with "
            "different values and no newer updated_at' as detail "
            "from version_rows where max_upd is null or "
            "(upd = max_upd and n_at_max > 1)", "duplicate_id")
    for name in ("copies", "versions", "version_rows"):
        con.execute(f"drop table {name}")


# before the source name of a file uploaded on the Data page (views/data.py,
# ingest.load_path's source_prefix): an upload cannot write, replace or
# delete another source's rows
UPLOADED = "upload:"


def prefix_hint(source: str) -> str:
    """Where the loading source sets an id_prefix, so both sources' rows
    can load: every source's rows were told a mapping file's [source]
    id_prefix, which a ServiceNow export sets in its overrides file and
    canonical CSV nowhere (a data administrator's walkthrough)."""
    from ingest import sources

    if source == "csv":
        return ("canonical CSV takes no id_prefix: prefix the ids in the "
                "file, or give the other source one, so both can load")
    found = sources.SOURCES.get(source)
    if found is not None and found.overrides:
        return ("give one source an id_prefix (this one: id_prefix in its "
                "--overrides file) so both can load")
    return ("give one source an id_prefix (mapping file [source] "
            "id_prefix) so both can load")


def against_stored(con, spec, source, sha256: str | None = None,
                   ignored_loader: str | None = None) -> None:
    """id_owned_by_other_source, older_than_stored. A stored row this very
    file wrote (a batch of the same sha256, source and table) is no newer
    copy: the file read again (with a corrected mapping) replaces it, its
    updated_at moved or not. Nor is a stored row that `ignored_loader`
    loaded (the sample's, for a load that was to replace them) in the way."""
    table = q(spec.name)
    match = key_match(spec, "c", "t")
    ignored = ("coalesce(t.ingested_batch_id, -1) not in (select batch_id "
               "from ingest_batches where loaded_by = $ignored)")
    # the same export loaded from the command line and uploaded on the Data
    # page (its source is UPLOADED + the name): an id_prefix would load
    # every row twice, so the detail says where the rows can be updated
    _reject(con, spec,
            f"select c.row_number, 'owned by source ''' || t.source || "  # noqa: S608
            "''' (batch ' || coalesce(t.ingested_batch_id, 0) || '); ' || "
            "case when $source = $uploaded || t.source then 'loaded from "
            "the command line: a Data page upload cannot change them; load "
            "this file with `changeboard load` to update them' "
            "when t.source = $uploaded || $source then 'uploaded on the "
            "Data page: the command line cannot change them; upload this "
            "file there to update them' "
            "else $prefix_hint end as detail "
            f"from checked as c join {table} as t "
            f"on {match} where c.reason is null and t.source <> $source "
            f"and {ignored}", "id_owned_by_other_source",
            {"source": source, "ignored": ignored_loader,
             "uploaded": UPLOADED, "prefix_hint": prefix_hint(source)})
    if "updated_at" in present(con, spec):
        _reject(con, spec,
                "select c.row_number, 'stored copy (batch ' || "  # noqa: S608
                "coalesce(t.ingested_batch_id, 0) || ') has updated_at ' || "
                f"t.updated_at as detail from checked as c join {table} as t "
                f"on {match} where c.reason is null and t.source = $source "
                "and t.updated_at > c.updated_at and coalesce("
                "t.ingested_batch_id, -1) not in (select batch_id from "
                "ingest_batches where source = $source and entity = $table "
                f"and file_sha256 = $sha256) and {ignored}",
                "older_than_stored",
                {"source": source, "table": spec.name, "sha256": sha256,
                 "ignored": ignored_loader})


# the reasons of the loader's own checks of a row's values (checks._checks);
# an adapter's rejects (merge_conflict, ...) give their value as the file
# wrote it themselves (frames.reject)
CHECKED = ("missing_required", "unmapped_code", "bad_timestamp",
           "bad_number", "bad_boolean", "bad_interval")


def as_written(con, spec, written: dict) -> None:
    """Rows of `checked` rejected by a value check show the value as the
    file wrote it, from their raw record (frames.Batch.written: the cells a
    column was read from), not the adapter's text of it (UTC ISO, a code,
    a prefixed id); so does a bad_interval's start in its detail."""
    if not written:
        return
    params: dict = {}

    def cell(column: str) -> str:
        cells = []
        for pointer in written[column]:
            name = f"p{len(params)}"
            params[name] = pointer
            text = f"json_extract_string(raw_record, ${name})"
            cells.append(f"case when trim({text}) <> '' then {text} end")
        return f"coalesce({', '.join(cells)})"

    for column in written:
        if column not in spec.columns:
            continue
        params.clear()
        sql = (f"update checked set value = coalesce({cell(column)}, value) "  # noqa: S608
               "where reason in $reasons and column_name = $column and "
               "raw_record is not null")
        con.execute(sql, params | {"reasons": list(CHECKED),
                                   "column": column})
    interval = schema.INTERVALS.get(spec.name)
    if interval and interval[0] in written:
        params.clear()
        start = cell(interval[0])
        sql = (f"update checked set detail = '{interval[1]} is not after "  # noqa: S608
               f"{interval[0]} ' || trim({start}) where reason = "
               f"'bad_interval' and raw_record is not null and {start} is "
               "not null")
        con.execute(sql, dict(params))


def write(con, batch_id) -> None:
    """The rejected rows of `checked` into ingest_rejects; the records
    function (checks.lazy_records) is no longer needed."""
    drop_records(con)
    con.execute(
        "insert into ingest_rejects (batch_id, row_number, column_name, "
        "value, reason, detail, raw_record) select $batch, row_number, "
        "column_name, value, reason, detail, raw_record from checked "
        "where reason is not null order by row_number", {"batch": batch_id})
