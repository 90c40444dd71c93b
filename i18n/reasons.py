"""User-facing explanations of the stable codes that imports and readers report.

Codes travel through the code base (and into the review queue); only here do
they become sentences, in the user's language.
"""

from __future__ import annotations

from i18n import N_, Translator

MESSAGES: dict[str, str] = {
    # row reasons (review queue)
    "coord_missing": N_("no coordinates"),
    "coord_unparseable": N_("coordinates not understood"),
    "coord_out_of_range": N_("coordinates out of range (latitude −90..90, longitude −180..180)"),
    "coord_hemisphere_mismatch": N_("hemisphere letter does not fit the axis (e.g. E on a latitude)"),
    "outside_guinea": N_("point outside Guinea"),
    "no_location": N_("neither coordinates nor place name"),
    "place_not_found": N_("place name not found in the gazetteer"),
    "place_ambiguous": N_("place name is ambiguous: add the prefecture or the commune"),
    "date_missing": N_("no date"),
    "date_unparseable": N_("date not understood"),
    "date_impossible": N_("impossible date (e.g. 31 February)"),
    "date_future": N_("date in the future"),
    "date_too_old": N_("date before 1950"),
    "category_missing": N_("no category"),
    "category_unknown": N_("category not in the taxonomy"),
    "duplicate_source_id": N_("duplicate: this id was already imported or appears twice"),
    "duplicate_suspect": N_("suspected duplicate: same category, place and time as another report"),
    # flags on imported rows
    "swapped_coordinates": N_("latitude and longitude were swapped (corrected)"),
    "geocoded_by_name": N_("placed by name (unit centroid, not an exact point)"),
    "dms_coordinates": N_("coordinates in degrees-minutes-seconds (converted)"),
    # file-level errors
    "empty_file": N_("the file is empty"),
    "unknown_format": N_("unknown format: not CSV, XLSX, GeoJSON, GeoPackage or zipped Shapefile"),
    "unreadable": N_("the file cannot be read"),
    "bad_zip": N_("damaged ZIP archive"),
    "zip_unsafe": N_("unsafe ZIP archive (paths outside the archive or too large once unpacked)"),
    "no_table": N_("no table found in the file"),
    "too_large": N_("the file is too large"),
    "mapping_unknown": N_("unknown saved column mapping"),
    "mapping_columns_absent": N_("the saved mapping names columns that this file does not have"),
    "mapping_incomplete": N_("required columns are missing (date, category, and coordinates or a place)"),
    # road networks (exchange.roads): lines dropped, file-level errors, notes
    "geometry_missing": N_("no geometry"),
    "not_a_line": N_("not a line (point or polygon)"),
    "geometry_empty": N_("empty geometry"),
    "geometry_invalid": N_("invalid geometry (too few points or coordinates that are not numbers)"),
    "zero_length": N_("line of zero length"),
    "road_outside_guinea": N_("road outside Guinea"),
    "not_a_line_layer": N_("the layer holds no lines: a road network needs LineString or MultiLineString features"),
    "no_roads_kept": N_("no usable road in the file"),
    "reprojected": N_("coordinates were converted to longitude/latitude (EPSG:4326)"),
    "crs_missing_assumed_wgs84": N_("the file has no coordinate system: longitude/latitude assumed"),
    "other_layers_ignored": N_("the file has other layers, which were not read"),
    "clipped_to_guinea": N_("roads crossing the border were cut at Guinea's limit"),
}


def reason_text(t: Translator, code: str) -> str:
    """Sentence for ``code`` in ``t``'s language (unknown codes shown as they are)."""
    message = MESSAGES.get(code)
    return t(message) if message else code
