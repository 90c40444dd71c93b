"""Names of analysis classes shown in maps, tables and PDFs alike, marked for translation once.

Message ids only (``N_``): the caller translates with its own ``Translator``.
Colours sit next to the names so that a hot spot looks the same on the screen
and on paper (ColorBrewer's diverging red-blue, ordered in lightness so the
classes stay apart when printed in black and white).
"""

from __future__ import annotations

from i18n import N_

#: Gi* confidence bins as ArcGIS's Gi_Bin: 3/2/1 hot at 99/95/90 %, -1/-2/-3 cold, 0 not significant.
GI_BIN_LABELS: dict[int, str] = {
    3: N_("Hot spot, 99 % confidence"),
    2: N_("Hot spot, 95 % confidence"),
    1: N_("Hot spot, 90 % confidence"),
    0: N_("Not significant"),
    -1: N_("Cold spot, 90 % confidence"),
    -2: N_("Cold spot, 95 % confidence"),
    -3: N_("Cold spot, 99 % confidence"),
}
GI_BIN_COLORS: dict[int, str] = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f7f7f7",
                                 -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}

#: Short confidence words for table cells.
GI_BIN_SHORT: dict[int, str] = {3: N_("hot 99 %"), 2: N_("hot 95 %"), 1: N_("hot 90 %"), 0: N_("not significant"),
                                -1: N_("cold 90 %"), -2: N_("cold 95 %"), -3: N_("cold 99 %")}

#: Emerging-hotspot categories (the names of geo.emerging.CATEGORIES).
EMERGING_LABELS: dict[str, str] = {
    "no pattern": N_("No pattern"),
    "new hot spot": N_("New hot spot"),
    "consecutive hot spot": N_("Consecutive hot spot"),
    "intensifying hot spot": N_("Intensifying hot spot"),
    "persistent hot spot": N_("Persistent hot spot"),
    "diminishing hot spot": N_("Diminishing hot spot"),
    "sporadic hot spot": N_("Sporadic hot spot"),
    "oscillating hot spot": N_("Oscillating hot spot"),
    "historical hot spot": N_("Historical hot spot"),
    "new cold spot": N_("New cold spot"),
    "consecutive cold spot": N_("Consecutive cold spot"),
    "intensifying cold spot": N_("Intensifying cold spot"),
    "persistent cold spot": N_("Persistent cold spot"),
    "diminishing cold spot": N_("Diminishing cold spot"),
    "sporadic cold spot": N_("Sporadic cold spot"),
    "oscillating cold spot": N_("Oscillating cold spot"),
    "historical cold spot": N_("Historical cold spot"),
}
EMERGING_COLORS: dict[str, str] = {
    "new hot spot": "#fb9a99", "consecutive hot spot": "#fdbf6f", "intensifying hot spot": "#e31a1c",
    "persistent hot spot": "#b15928", "diminishing hot spot": "#cab2d6", "sporadic hot spot": "#ff7f00",
    "oscillating hot spot": "#6a3d9a", "historical hot spot": "#999999",
    "new cold spot": "#a6cee3", "consecutive cold spot": "#b2df8a", "intensifying cold spot": "#1f78b4",
    "persistent cold spot": "#33a02c", "diminishing cold spot": "#c7e9c0", "sporadic cold spot": "#80cdc1",
    "oscillating cold spot": "#01665e", "historical cold spot": "#bdbdbd",
}
#: What each category means, for the page's explanations.
EMERGING_HELP: dict[str, str] = {
    "new hot spot": N_("Hot in the last period only, never before."),
    "consecutive hot spot": N_("Hot in an unbroken run of the last periods, not before."),
    "intensifying hot spot": N_("Hot in at least 90 % of the periods, getting hotter."),
    "persistent hot spot": N_("Hot in at least 90 % of the periods, without a trend."),
    "diminishing hot spot": N_("Hot in at least 90 % of the periods, cooling down."),
    "sporadic hot spot": N_("Hot now and on and off before."),
    "oscillating hot spot": N_("Hot now, significantly cold in some earlier period."),
    "historical hot spot": N_("Hot in at least 90 % of the periods, but not in the last one."),
}
