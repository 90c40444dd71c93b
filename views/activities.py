"""Programme records page ("Activités"): record councils, meetings, schools, visits, women's days,
trainings and stations one at a time, or import a spreadsheet of them.

Forms send what the user typed to the store, which validates it (the same rules
as file imports) and writes one undoable batch; refusals are listed field by
field in the user's language and the form keeps what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from exchange.programme import (
    CHAIR_ROLES,
    FIELD_LABELS,
    SCHOOL_LEVELS,
    STATION_KINDS,
    TRAINING_MODULES,
    ProgrammeFileError,
    Vocabulary,
    describe,
    export_programme,
    import_programme,
)
from exchange.readers import ReadError
from geo.boundaries import load_display, unit_names
from i18n import N_, Translator
from i18n.reasons import reason_text
from storage.imports import StaleVersionError
from storage.programme import InvalidRecordError, ProgrammeFilter
from storage.roles import PermissionDenied
from views.common import current_viewer, flash, get_store, md_text, show_flashes, store_counts, translator

MAX_UPLOAD_MB = 20

RECORDS = {
    "council": N_("Local security council (CLSPD)"),
    "council_meeting": N_("Council meeting"),
    "school": N_("School"),
    "outreach_officer": N_("Police-at-school officer"),
    "school_visit": N_("School visit"),
    "station": N_("Police station or post"),
    "women_visit_day": N_("Women's visitation day"),
    "instructor": N_("Instructor"),
    "training": N_("Training"),
}


@dataclass(frozen=True)
class Field:
    """One form input: the record field it fills and how it is asked."""

    name: str
    kind: str  # text, long, date, optional_date, count, optional_count, coordinate, vocab, unit, ref,
    #            optional_ref, refs
    vocabulary: Vocabulary | None = None
    parent: str | None = None


FORMS: dict[str, tuple[Field, ...]] = {
    "council": (Field("name", "text"), Field("subprefecture", "unit"), Field("neighbourhood", "optional_text"),
                Field("established_on", "optional_date"), Field("chair_role", "vocab", CHAIR_ROLES),
                Field("chair_name", "optional_text"), Field("members_total", "optional_count"),
                Field("members_women", "optional_count"), Field("members_youth", "optional_count"),
                Field("plan_adopted_on", "optional_date")),
    "council_meeting": (Field("council_id", "ref", parent="council"), Field("held_on", "date"),
                        Field("attendance", "optional_count"), Field("attendance_women", "optional_count"),
                        Field("topics", "long"), Field("decisions", "long")),
    "school": (Field("name", "text"), Field("level", "vocab", SCHOOL_LEVELS), Field("subprefecture", "unit"),
               Field("lat", "coordinate"), Field("lon", "coordinate"), Field("enrolment", "optional_count")),
    "outreach_officer": (Field("name", "text"), Field("station_id", "optional_ref", parent="station")),
    "school_visit": (Field("school_id", "ref", parent="school"), Field("officer_id", "ref", parent="outreach_officer"),
                     Field("visited_on", "date"), Field("students_reached", "count"), Field("topics", "optional_text")),
    "station": (Field("name", "text"), Field("kind", "vocab", STATION_KINDS), Field("subprefecture", "unit"),
                Field("lat", "coordinate"), Field("lon", "coordinate"), Field("contact", "optional_text")),
    "women_visit_day": (Field("station_id", "ref", parent="station"), Field("held_on", "date"),
                        Field("women_count", "count"), Field("topics", "optional_text"),
                        Field("complaints_after", "optional_count")),
    "instructor": (Field("name", "text"),),
    "training": (Field("community_name", "text"), Field("subprefecture", "unit"), Field("start_on", "date"),
                 Field("end_on", "date"), Field("module", "vocab", TRAINING_MODULES),
                 Field("officers_trained", "count"), Field("instructor_ids", "refs", parent="instructor")),
}


def _communes() -> dict[str, str]:
    names = unit_names()
    subs = load_display("subprefecture", "low").drop(columns="geometry")
    return {row.unit_id: f"{row.name} ({names.get(('prefecture', row.prefecture_id), '')})"
            for row in subs.sort_values("name").itertuples(index=False)}


def _refs(table: str) -> dict[str, pd.DataFrame]:
    return get_store().programme_refs(table)


def _ref_options(refs: dict[str, pd.DataFrame], parent: str) -> dict[int, str]:
    frame = refs.get(parent)
    if frame is None or frame.empty:
        return {}
    names = unit_names()
    out = {}
    for row in frame.itertuples(index=False):
        sub = getattr(row, "subprefecture_id", None)
        where = names.get(("subprefecture", sub), "") if isinstance(sub, str) else ""
        out[int(row.id)] = f"{row.name} ({where})" if where else str(row.name)
    return out


def _label(t: Translator, name: str) -> str:
    return t(FIELD_LABELS.get(name, name))


def _key(table: str, name: str) -> str:
    """Widget key; the form's generation changes after a save, which gives fresh (empty) widgets."""
    return f"rec_{table}_{name}_{st.session_state.get(f'rec_gen_{table}', 0)}"


def _widget(t: Translator, table: str, f: Field, refs: dict[str, pd.DataFrame]) -> object:
    key = _key(table, f.name)
    label = _label(t, f.name)
    if f.kind in ("text", "optional_text"):
        return st.text_input(label + ("" if f.kind == "optional_text" else " *"), key=key)
    if f.kind == "long":
        return st.text_area(label, key=key, height=80)
    if f.kind == "date":
        return st.date_input(label + " *", value=date.today(), key=key, format="DD/MM/YYYY")
    if f.kind == "optional_date":
        return st.date_input(label, value=None, key=key, format="DD/MM/YYYY")
    if f.kind in ("count", "optional_count"):
        return st.number_input(label + (" *" if f.kind == "count" else ""), min_value=0, step=1,
                               value=None, key=key)
    if f.kind == "coordinate":
        return st.number_input(label, value=None, format="%.6f", key=key,
                               help=t("Decimal degrees (GPS). Leave empty if unknown."))
    if f.kind == "vocab":
        labels = f.vocabulary.labels
        return st.selectbox(label, [None, *labels], key=key,
                            format_func=lambda c: "–" if c is None else t(labels[c]))
    if f.kind == "unit":
        communes = _communes()
        return st.selectbox(label + " *", [None, *communes], key=key,
                            format_func=lambda k: "–" if k is None else communes[k])
    options = _ref_options(refs, f.parent)
    if f.kind in ("ref", "optional_ref"):
        return st.selectbox(label + (" *" if f.kind == "ref" else ""), [None, *options], key=key,
                            format_func=lambda k: "–" if k is None else options[k])
    return st.multiselect(label, list(options), key=key, format_func=lambda k: options[k])


def _values(table: str, raw: dict[str, object]) -> dict[str, object]:
    """What the store validates: empty inputs left out, units as ids, whole numbers as ints."""
    values: dict[str, object] = {}
    for name, value in raw.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, float) and name not in ("lat", "lon"):
            value = int(value)
        values[name] = value
    if table == "council":
        values["unit_level"] = "neighbourhood" if values.get("neighbourhood") else "subprefecture"
        if "subprefecture" in values:
            values["unit_id"] = values["subprefecture"]
    return values


def _entry(t: Translator, table: str) -> None:
    refs = _refs(table)
    missing = [f.parent for f in FORMS[table] if f.kind == "ref" and not _ref_options(refs, f.parent)]  # required
    if missing:
        st.info(t("Record a {parent} first: this form needs one (demo records cannot be used).",
                  parent=t(RECORDS[missing[0]]).lower()))
    with st.form(f"rec_form_{table}", clear_on_submit=False):
        cols = st.columns(2)
        raw = {}
        for i, f in enumerate(FORMS[table]):
            with cols[i % 2]:
                raw[f.name] = _widget(t, table, f, refs)
        submitted = st.form_submit_button(t("Save"), type="primary")
    if not submitted:
        return
    try:
        get_store().add_record(table, _values(table, raw), created_by=current_viewer().name, user=current_viewer())
    except PermissionDenied:
        st.error(t("Not saved: your role may not record this here."))
        return
    except InvalidRecordError as exc:
        st.error(t("Not saved. Please correct:"))
        for problem in exc.problems.itertuples(index=False):
            st.markdown("- " + md_text(t("{field}: {reason}", field=_label(t, problem.field),
                                        reason=reason_text(t, problem.code))))
        return
    store_counts.clear()
    flash("success", t("{record} saved.", record=t(RECORDS[table])))
    generation = f"rec_gen_{table}"
    st.session_state[generation] = st.session_state.get(generation, 0) + 1
    st.rerun()




def _import(t: Translator, table: str) -> None:
    with st.expander(t("Import a spreadsheet of these records (CSV or XLSX)")):
        st.caption(t("French or English column headers are recognised. Valid rows are saved as one batch that can "
                     "be undone; the others wait in the review queue with their reasons."))
        upload = st.file_uploader(t("File"), type=["csv", "txt", "xlsx"], key=f"rec_file_{table}")
        if upload is None or not st.button(t("Import"), key=f"rec_import_{table}"):
            return
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_MB * 1_000_000:
            st.error(t("{file} is larger than {n} MB.", file=upload.name, n=MAX_UPLOAD_MB))
            return
        try:
            outcome = import_programme(get_store(), table, data, upload.name, created_by=current_viewer().name,
                                       user=current_viewer())
        except (ReadError, ProgrammeFileError) as exc:
            code = getattr(exc, "code", "unreadable")
            st.error(t("Cannot import {file}: {reason}", file=upload.name, reason=reason_text(t, code)))
            return
        store_counts.clear()
        st.success(t("{n} records imported from {file}; {q} rows sent to review.", n=outcome.imported,
                     file=upload.name, q=outcome.queued))
        for line in describe(outcome.problems, t, file_name=upload.name)[:50]:
            st.caption("– " + line)


def _recent(t: Translator, table: str) -> None:
    frames = get_store().programme_frames(ProgrammeFilter(include_demo=False))
    frame = frames.get(table, pd.DataFrame())
    st.subheader(t("Recorded (real records)"))
    if frame.empty:
        st.caption(t("None yet."))
        return
    st.dataframe(_readable(t, table, frame.tail(200)), hide_index=True, width="stretch")
    _edit(t, table, frame.tail(200))
    cols = st.columns(2)
    for col, fmt in zip(cols, ("csv", "xlsx"), strict=True):
        col.download_button(t("Download ({fmt})", fmt=fmt.upper()), export_programme(frames, table, fmt),
                            file_name=f"proximite-{table}.{fmt}", key=f"rec_dl_{table}_{fmt}")


#: Fields that can be corrected in place, per record type (references and places: record anew).
EDITABLE = {
    "council": ("name", "chair_name", "members_total", "members_women", "members_youth", "established_on",
                "plan_adopted_on"),
    "council_meeting": ("held_on", "attendance", "attendance_women", "topics", "decisions"),
    "school": ("name", "enrolment"),
    "outreach_officer": ("name",),
    "school_visit": ("visited_on", "students_reached", "topics"),
    "station": ("name", "contact"),
    "women_visit_day": ("held_on", "women_count", "topics", "complaints_after"),
    "instructor": ("name",),
    "training": ("community_name", "start_on", "end_on", "officers_trained"),
}
_DATES = {"established_on", "plan_adopted_on", "held_on", "visited_on", "start_on", "end_on"}


def _plain(value: object) -> object:
    """A cell as the store takes it: no NaN/NaT, dates as dates, whole numbers as ints."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _edit(t: Translator, table: str, frame: pd.DataFrame) -> None:
    """Correct recorded rows in a grid; each changed row is saved with its version (no silent overwrite)."""
    columns = [c for c in EDITABLE[table] if c in frame.columns]
    with st.expander(t("Correct recorded rows")):
        original = frame[["id", "version", *columns]].reset_index(drop=True)
        for column in columns:
            if column in _DATES:
                original[column] = pd.to_datetime(original[column]).dt.date
        config = {c: (st.column_config.DateColumn(_label(t, c), format="DD/MM/YYYY") if c in _DATES
                      else st.column_config.Column(_label(t, c))) for c in columns}
        config["id"] = st.column_config.NumberColumn("#", disabled=True)
        edited = st.data_editor(original.drop(columns="version"), key=f"rec_edit_{table}", hide_index=True,
                                column_config=config, num_rows="fixed", width="stretch")
        if not st.button(t("Save the corrections"), key=f"rec_edit_save_{table}"):
            return
        saved, store, viewer = 0, get_store(), current_viewer()
        for i in range(len(original)):
            changes = {c: _plain(edited.at[i, c]) for c in columns
                       if _plain(edited.at[i, c]) != _plain(original.at[i, c])}
            if not changes:
                continue
            record_id, version = int(original.at[i, "id"]), int(original.at[i, "version"])
            try:
                store.update_record(table, record_id, changes, version=version, user=viewer)
            except InvalidRecordError as exc:
                for problem in exc.problems.itertuples(index=False):
                    st.error(t("Row #{id}: {field}: {reason}", id=record_id, field=_label(t, problem.field),
                               reason=reason_text(t, problem.code)))
            except StaleVersionError:
                st.error(t("Row #{id} was changed by someone else meanwhile: nothing saved for it. Reload the "
                           "page to see their version.", id=record_id))
            except PermissionDenied:
                st.error(t("Row #{id}: your role may not change this record.", id=record_id))
            else:
                saved += 1
        if saved:
            store_counts.clear()
            flash("success", t("{n} rows corrected.", n=saved))
            st.rerun()


#: Reference columns shown by the referenced record's name.
_REF_NAMES = {"council_id": "council", "school_id": "school", "officer_id": "outreach_officer",
              "station_id": "station"}


def _readable(t: Translator, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Recorded rows as a person reads them: names instead of ids, dates by the language, no bookkeeping."""
    refs = _refs(table)
    names = unit_names()
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in ("id", "is_demo", "batch_id", "version", "created_at", "region_id", "h3_r7", "h3_r8", "h3_r9"):
            continue
        values = frame[column]
        if column in _REF_NAMES:
            parent = refs.get(_REF_NAMES[column])
            lookup = dict(zip(parent["id"], parent["name"], strict=True)) if parent is not None else {}
            values = values.map(lambda v, lookup=lookup: lookup.get(v, "–") if pd.notna(v) else "–")
        elif column in ("prefecture_id", "subprefecture_id"):
            level = column.removesuffix("_id")
            values = values.map(lambda v, level=level: names.get((level, v), v) if isinstance(v, str) else "–")
        elif isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values) or (
                len(values) and isinstance(values.dropna().iloc[0] if values.notna().any() else None, date)):
            values = values.map(lambda v: t.d(pd.Timestamp(v).date()) if pd.notna(v) else "–")
        else:
            values = values.map(lambda v: "–" if v is None or (isinstance(v, float) and pd.isna(v)) else v)
        out[_label(t, column)] = values
    return out


def render() -> None:
    t = translator()
    st.title(t("Programme activities"))
    show_flashes()
    st.caption(t("Record what the programme does: councils and their meetings, school visits, women's visitation "
                 "days, trainings. Fields marked * are required."))
    table = st.selectbox(t("What do you want to record?"), list(RECORDS), key="rec_table",
                         format_func=lambda k: t(RECORDS[k]))
    _entry(t, table)
    _import(t, table)
    _recent(t, table)
