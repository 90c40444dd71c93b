"""Review page ("À vérifier"): rows an import set aside, with their reasons; correct and re-submit, or discard."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from exchange.columns import ColumnMapping
from exchange.incidents import ImportPlan
from exchange.readers import RawTable
from exchange.service import plan_file
from i18n import Translator
from i18n.reasons import reason_text
from storage import StaleVersionError, Store
from storage.roles import PermissionDenied
from views.common import current_viewer, flash, get_store, md_text, show_flashes, store_counts, translator


def _reasons(t: Translator, codes: list[str]) -> str:
    return " ; ".join(reason_text(t, c) for c in codes)


def resubmit(store: Store, item: pd.Series, values: dict[str, str | None], mapping: ColumnMapping, *,
             today: date) -> ImportPlan:
    """Re-validate one corrected row exactly as its import would have; returns the plan."""
    frame = pd.DataFrame([values], dtype=object)
    raw = RawTable(frame=frame, source_rows=np.array([item["source_row"] or 0], dtype=np.int64),
                   file_name="review", sha256="", format="review", encoding=None, delimiter=None, header_row=0,
                   geometry_lonlat="__lon" in frame.columns and "__lat" in frame.columns, notes=())
    return plan_file(store, raw, mapping, today=today)


def _editor(t: Translator, item: pd.Series, mapping: ColumnMapping) -> None:
    store = get_store()
    st.markdown(t("Row {row} of batch {batch}", row=item["source_row"], batch=item["batch_id"]))
    st.error(_reasons(t, item["reasons"]))
    with st.form(f"review_{item['id']}_{item['version']}"):
        values = {}
        cols = st.columns(2)
        for i, (name, value) in enumerate(item["data"].items()):
            values[name] = cols[i % 2].text_input(md_text(name), value="" if value is None else str(value),
                                                  key=f"review_field_{item['id']}_{i}") or None
        resend, discard = st.columns(2)
        send = resend.form_submit_button(t("Re-submit the corrected row"), type="primary")
        drop = discard.form_submit_button(t("Discard this row"))
    try:
        if send:
            plan = resubmit(store, item, values, mapping, today=date.today())
            if len(plan.records):
                store.resolve_review_item(int(item["id"]), version=int(item["version"]), table="incident",
                                          record=plan.records, user=current_viewer())
                store_counts.clear()
                flash("success", t("Row imported."))
                st.rerun()
            else:
                store.update_review_item(int(item["id"]), version=int(item["version"]), data=values,
                                         reasons=plan.review["reasons"].iloc[0], user=current_viewer())
                st.warning(t("Still not accepted: {reasons}", reasons=_reasons(t, plan.review["reasons"].iloc[0])))
        elif drop:
            store.resolve_review_item(int(item["id"]), version=int(item["version"]), status="discarded",
                                      user=current_viewer())
            flash("info", t("Row discarded."))
            st.rerun()
    except PermissionDenied:
        st.error(t("Your role may not change the review queue."))
    except StaleVersionError:
        st.error(t("Someone else changed this row in the meantime. Your text is kept below; reload the "
                   "row to see their change before saving again."))
        st.json(values)


def render() -> None:
    t = translator()
    st.title(t("Rows to review"))
    show_flashes()
    store = get_store()
    items = store.review_items(kind="incidents")
    if items.empty:
        st.success(t("Nothing to review: every imported row was accepted or has been dealt with."))
        return
    batches = store.batches("incidents").set_index("id")
    overview = pd.DataFrame({
        t("Batch"): items["batch_id"],
        t("File"): items["batch_id"].map(batches["file_name"]),
        t("Row"): items["source_row"],
        t("Reasons"): [_reasons(t, r) for r in items["reasons"]],
    })
    st.dataframe(overview, hide_index=True, width="stretch")
    choice = st.selectbox(t("Row to correct"), items.index,
                          format_func=lambda i: t("Batch {batch}, row {row}", batch=items.at[i, "batch_id"],
                                                  row=items.at[i, "source_row"]))
    item = items.loc[choice]
    mapping_json = batches.at[item["batch_id"], "mapping"]
    if not isinstance(mapping_json, str):
        st.error(t("The mapping of this batch was not recorded; re-import the file instead."))
        return
    _editor(t, item, ColumnMapping.from_json(mapping_json))
