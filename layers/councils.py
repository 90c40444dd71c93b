"""Council coverage: every sub-prefecture coloured by the state of its local security council (CLSPD).

Planners look for gaps, so every unit the view passes is drawn, and a unit
absent from the status frame is "none": light grey with a dashed outline, set
apart from the sequential yellow-green-blue of the three council states (set
up, active, plan adopted: darker means further along). Council names come
from users and are escaped before they enter the GeoJSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import folium
import geopandas as gpd
import shapely

from i18n import N_, Translator
from layers.base import LayerSpec, SymbolLegend, as_date, esc, require_columns

#: Council states, worst to best (``geo.indicators.council_status`` uses the same order and names).
STATUSES: tuple[str, ...] = ("none", "set_up", "active", "plan_adopted")
STATUS_LABELS: dict[str, str] = {"none": N_("No council"), "set_up": N_("Council set up"),
                                 "active": N_("Active council"), "plan_adopted": N_("Local security plan adopted")}
#: ColorBrewer YlGnBu for the three council states; a neutral grey for the gaps.
STATUS_COLORS: dict[str, str] = {"none": "#e0e0e0", "set_up": "#a1dab4", "active": "#41b6c4",
                                 "plan_adopted": "#225ea8"}
_STYLES: dict[str, dict[str, object]] = {
    status: {"fillColor": color, "fillOpacity": 0.75, "color": "#5a5a5a", "weight": 0.7}
    for status, color in STATUS_COLORS.items()
}
_STYLES["none"] = {"fillColor": STATUS_COLORS["none"], "fillOpacity": 0.6, "color": "#6e6e6e", "weight": 1.2,
                   "dashArray": "4 3"}
_STATUS_COLUMNS = ["subprefecture_id", "status", "council_names", "members_total", "members_women",
                   "members_youth", "women_share", "youth_share", "last_meeting", "meetings"]
_FIELDS = ["name", "status_label", "council_names", "members", "women", "youth", "meetings", "last_meeting"]
_ALIASES = [N_("Sub-prefecture"), N_("Council status"), N_("Councils"), N_("Members"), N_("Women"), N_("Youth"),
            N_("Meetings"), N_("Last meeting")]


def _rounded(geoms: np.ndarray, decimals: int = 5) -> np.ndarray:
    """Coordinates to ~1 m: a smaller page, and shared borders stay shared."""
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _status_frame(status: pd.DataFrame | None) -> pd.DataFrame:
    """The status frame checked (known states, one row per unit), with every column the tooltip reads."""
    if status is None or len(status) == 0:
        return pd.DataFrame(columns=_STATUS_COLUMNS)
    require_columns(status, ["subprefecture_id", "status"], "council status")
    unknown = sorted(set(status["status"].astype(str)) - set(STATUSES[1:]))
    if unknown:
        raise ValueError(f"unknown council status {', '.join(unknown)}; expected one of {', '.join(STATUSES[1:])}")
    duplicated = status["subprefecture_id"][status["subprefecture_id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"council status must have one row per sub-prefecture; repeated: "
                         f"{', '.join(map(str, duplicated.unique()[:5]))}")
    return status.reindex(columns=_STATUS_COLUMNS)


def _count_share(count: object, share: object, t: Translator) -> str:
    """``12 (40 %)``; a dash when the count is unknown, the share left out when it is."""
    if count is None or pd.isna(count):
        return "–"
    if share is None or pd.isna(share):
        return t.n(int(count))
    return f"{t.n(int(count))} ({t.pct(float(share))})"


def _tooltips(frame: pd.DataFrame, t: Translator) -> dict[str, list[str]]:
    """Escaped tooltip text per unit (formatting calls are per value: numbers and dates are localised)."""
    labels = {s: esc(t(STATUS_LABELS[s])) for s in STATUSES}
    meetings = frame["meetings"]
    return {
        "name": frame["name"].map(esc).tolist(),
        "status_label": frame["status"].map(labels).tolist(),
        "council_names": frame["council_names"].map(esc).tolist(),
        "members": [esc(t.n(int(v))) if pd.notna(v) else "–" for v in frame["members_total"]],
        "women": [esc(_count_share(c, s, t)) for c, s in zip(frame["members_women"], frame["women_share"],
                                                            strict=True)],
        "youth": [esc(_count_share(c, s, t)) for c, s in zip(frame["members_youth"], frame["youth_share"],
                                                            strict=True)],
        "meetings": [esc(t.n(int(v))) if pd.notna(v) else "–" for v in meetings],
        "last_meeting": [esc(t.d(d)) if (d := as_date(v)) is not None else
                         (esc(t("no meeting recorded")) if s != "none" else "–")
                         for v, s in zip(frame["last_meeting"], frame["status"], strict=True)],
    }


def build(units: gpd.GeoDataFrame, status: pd.DataFrame | None, *, t: Translator,
          active_within_days: int | None = None) -> folium.FeatureGroup:
    """Every unit of ``units`` (``unit_id``, ``name``, geometry in EPSG:4326) coloured by its council status.

    ``status`` is ``geo.indicators.council_status``'s frame (one row per sub-prefecture with a
    council); units missing from it have no council. ``active_within_days``, when given, is
    explained in the legend ("active" means a meeting within that many days).
    """
    group = folium.FeatureGroup(name=t("Council coverage"))
    if units is None or len(units) == 0:
        return group
    require_columns(units, ["unit_id", "name"], "units")
    table = _status_frame(status)
    frame = pd.DataFrame({"unit_id": units["unit_id"].astype(str).to_numpy(), "name": units["name"].to_numpy()})
    frame = frame.merge(table.assign(subprefecture_id=table["subprefecture_id"].astype(str)),
                        left_on="unit_id", right_on="subprefecture_id", how="left", validate="one_to_one")
    frame["status"] = frame["status"].fillna("none").astype(str)

    props = _tooltips(frame, t)
    data = gpd.GeoDataFrame({"status": frame["status"].to_numpy(), **props},
                            geometry=_rounded(units.geometry.to_numpy()), crs=units.crs)
    folium.GeoJson(
        data.to_geo_dict(drop_id=False),
        name=t("Council coverage"),
        style_function=lambda f: _STYLES[f["properties"]["status"]],
        highlight_function=lambda f: {"weight": 2.5, "color": "#1f1f1f"},
        tooltip=folium.GeoJsonTooltip(fields=_FIELDS, aliases=[esc(t(a)) for a in _ALIASES], sticky=True),
    ).add_to(group)

    counts = frame["status"].value_counts()
    entries = [(STATUS_COLORS[s], f"{t(STATUS_LABELS[s])} ({t.n(int(counts.get(s, 0)))})")
               for s in reversed(STATUSES)]
    notes = [t("Active: met within the last {days} days.", days=t.n(active_within_days))] \
        if active_within_days is not None else []
    group.add_child(SymbolLegend(t("Council coverage (sub-prefectures)"), entries, notes=notes, position="bottomleft"))
    return group


SPEC = LayerSpec(key="councils", title=N_("Council coverage"), build=build)
