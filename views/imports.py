"""Import page ("Importer"): upload, confirm the columns, check, import, undo."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from exchange.columns import FIELDS, ColumnMapping, detect_mapping
from exchange.readers import RawTable, ReadError, read_table
from exchange.service import KIND, plan_file
from i18n import N_, Translator
from i18n.reasons import reason_text
from storage.roles import PermissionDenied
from views.common import current_viewer, flash, get_store, show_flashes, store_counts, translator

FIELD_LABELS = {
    "source_id": N_("Report id"), "date": N_("Date"), "time": N_("Time"), "category": N_("Category"),
    "latitude": N_("Latitude"), "longitude": N_("Longitude"), "geopoint": N_("GPS point (Kobo/ODK)"),
    "place": N_("Place"), "neighbourhood": N_("Neighbourhood"), "commune": N_("Commune / sub-prefecture"),
    "prefecture": N_("Prefecture"), "region": N_("Region"), "description": N_("Description"),
    "severity": N_("Severity"),
}
UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "geojson", "json", "gpkg", "zip"]
MAX_UPLOAD_MB = 100
_RAW = "import_raw"  # session copy of the uploaded table: uploads may hold sensitive reports, never a shared cache


def _read(t: Translator, upload) -> RawTable | None:
    data = upload.getvalue()
    cached = st.session_state.get(_RAW)
    if cached is not None and cached[0] == (upload.name, len(data)):
        return cached[1]
    try:
        raw = read_table(data, upload.name, max_bytes=MAX_UPLOAD_MB * 1_000_000)
    except ReadError as exc:
        st.error(t("Cannot import {file}: {reason}", file=upload.name, reason=reason_text(t, exc.code))
                 + f" ({exc.detail})")
        return None
    st.session_state[_RAW] = ((upload.name, len(data)), raw)
    return raw


def _mapping_editor(t: Translator, raw: RawTable) -> ColumnMapping:
    store = get_store()
    detected = detect_mapping(list(raw.frame.columns), raw.frame.head(50))
    saved = store.mappings(KIND)
    base = detected
    if saved:
        name = st.selectbox(t("Saved column mapping"), ["", *saved], key=f"saved_{raw.sha256[:12]}",
                            format_func=lambda n: n or t("(detected from the headers)"))
        if name:
            base = ColumnMapping.from_json(saved[name])
    columns = ["", *raw.frame.columns]
    chosen: dict[str, str] = {}
    cols = st.columns(3)
    for i, field in enumerate(FIELDS):
        current = base.fields.get(field, "")
        pick = cols[i % 3].selectbox(t(FIELD_LABELS[field]), columns,
                                     index=columns.index(current) if current in columns else 0,
                                     key=f"map_{raw.sha256[:12]}_{field}",
                                     format_func=lambda c: c or "—")
        if pick:
            chosen[field] = pick
    mapping = ColumnMapping(fields=chosen, flavour=base.flavour,
                            confidence={f: base.confidence.get(f, 1.0) for f in chosen})
    with st.form(f"save_{raw.sha256[:12]}", border=False):
        left, right = st.columns([3, 1])
        name = left.text_input(t("Save this mapping as"), placeholder=t("e.g. Registre commissariat Matam"))
        if right.form_submit_button(t("Save mapping")) and name.strip():
            store.save_mapping(KIND, name.strip(), mapping.to_json())
            st.success(t("Mapping “{name}” saved.", name=name.strip()))
    return mapping


def _summary(t: Translator, summary: dict) -> None:
    cols = st.columns(3)
    cols[0].metric(t("Rows read"), t.n(summary["rows"]))
    cols[1].metric(t("Ready to import"), t.n(summary["imported"]))
    cols[2].metric(t("Sent to review"), t.n(summary["queued"]))
    details = [(reason_text(t, code), t.n(n)) for code, n in summary["queued_by_reason"].items()]
    details += [(reason_text(t, code), t.n(n)) for code, n in summary["flags"].items()]
    if details:
        st.dataframe(pd.DataFrame(details, columns=[t("Reason"), t("Rows")]), hide_index=True,
                     width="stretch")


def _history(t: Translator) -> None:
    store = get_store()
    batches = store.batches(KIND)
    st.subheader(t("Import history"))
    if batches.empty:
        st.caption(t("No import yet."))
        return
    table = pd.DataFrame({
        t("Batch"): batches["id"], t("File"): batches["file_name"], t("By"): batches["created_by"].fillna("–"),
        t("When"): [t.d(pd.Timestamp(v).to_pydatetime(), "short") for v in batches["created_at"]],
        t("Imported"): batches["n_imported"], t("Sent to review"): batches["n_queued"],
        t("Undone"): [t.d(v, "short") if v is not None and v == v else "" for v in batches["undone_at"]],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    open_ids = batches.loc[batches["undone_at"].isna(), "id"].tolist()
    if open_ids:
        left, right = st.columns([2, 1])
        batch = left.selectbox(t("Batch to undo"), open_ids, key="undo_batch")
        if right.button(t("Undo this import"), type="secondary"):
            try:
                removed = store.undo_batch(int(batch), user=current_viewer())
            except PermissionDenied:
                st.error(t("Your role may not undo this import."))
                return
            store_counts.clear()
            flash("success", t("Batch {batch} undone: {n} records removed.", batch=batch, n=t.n(removed)))
            st.rerun()


def render() -> None:
    t = translator()
    st.title(t("Import incidents"))
    show_flashes()
    st.markdown(t("CSV (any separator, UTF-8 or Latin-1), Excel, GeoJSON, GeoPackage, zipped Shapefile, "
                  "KoboToolbox and ODK exports, ACLED/UCDP tables. Rows with problems are kept aside for "
                  "correction, never lost."))
    upload = st.file_uploader(t("File to import"), type=UPLOAD_TYPES, key="import_upload")
    if upload is not None:
        raw = _read(t, upload)
        if raw is not None:
            st.caption(t("Format: {format} · encoding: {encoding} · separator: {sep} · header on row {row} · "
                         "{n} rows", format=raw.format, encoding=raw.encoding or "–",
                         sep=repr(raw.delimiter) if raw.delimiter else "–", row=raw.header_row, n=t.n(len(raw))))
            st.dataframe(raw.frame.head(20), width="stretch")
            st.subheader(t("Columns"))
            mapping = _mapping_editor(t, raw)
            missing = mapping.missing_required()
            if missing:
                st.warning(t("Choose a column for: {fields}", fields=", ".join(
                    t(FIELD_LABELS.get(f, f)) if f in FIELD_LABELS else f for f in missing)))
            else:
                plan = plan_file(get_store(), raw, mapping, today=date.today())
                st.subheader(t("Check"))
                _summary(t, plan.summary())
                if st.button(t("Import {n} rows", n=t.n(plan.n_rows)), type="primary"):
                    batch = get_store().import_records(
                        "incident", plan.records, plan.review, kind=KIND, file_name=raw.file_name,
                        file_sha256=raw.sha256, file_format=raw.format, mapping=mapping.to_json(),
                        user=current_viewer())
                    store_counts.clear()
                    st.session_state.pop(_RAW, None)
                    st.success(t("Imported as batch {batch}: {imported} incidents, {queued} rows to review.",
                                 batch=batch, imported=t.n(len(plan.records)), queued=t.n(len(plan.review))))
    _history(t)
