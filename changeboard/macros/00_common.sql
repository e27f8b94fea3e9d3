-- SQL macros: filters, windows, local time and as-of shared by every query.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- keep(filter, value): true when the optional list filter is NULL (= all) or
-- holds value.
create or replace macro keep(filter_list, value) as
cast(filter_list as varchar[]) is null
or list_contains(cast(filter_list as varchar[]), value);

-- local_midnight(day, tz): the instant a local date starts in an IANA zone.
-- A midnight the clocks pass twice (they go back an hour through it, as in
-- Atlantic/Azores or America/Havana) is its first pass, as the loader takes
-- a repeated wall-clock time (docs/data-model.md): timezone() gives the
-- second, which started the day an hour late and gave the day before 25 h.
create or replace macro local_midnight(day, tz) as
case
    when
        timezone(
            tz, timezone(tz, cast(cast(day as date) as timestamp))
            - interval 1 hour
        )
        = cast(cast(day as date) as timestamp)
        then
            timezone(tz, cast(cast(day as date) as timestamp))
            - interval 1 hour
    else timezone(tz, cast(cast(day as date) as timestamp))
end;

-- local_timestamp(ts, tz): timezone(tz, ts), the wall-clock time of the
-- instant ts in the IANA zone tz. In 'UTC' (the default reporting zone) it
-- is read off the instant's microseconds: the same value, without a
-- calendar lookup per row (about five times faster).
create or replace macro local_timestamp(p_ts, p_tz) as
case
    when cast(p_tz as varchar) = 'UTC' then make_timestamp(epoch_us(p_ts))
    else timezone(p_tz, p_ts)
end;

-- loaded_as_of(): the finished_at of the last succeeded load (NULL before
-- any), the as_of a metric's rows carry (docs/metrics.md C10).
create or replace macro loaded_as_of() as
(select max(finished_at) from ingest_batches where status = 'succeeded');

-- resolved_as_of(as_of): the given instant, else the last succeeded load,
-- else now (docs/metrics.md C10).
create or replace macro resolved_as_of(as_of) as
coalesce(cast(as_of as timestamptz), loaded_as_of(), current_timestamp);
