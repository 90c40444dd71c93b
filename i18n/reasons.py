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
    # neighbourhoods (exchange.neighbourhoods, geo.neighbourhoods): features dropped, flags, file errors
    "not_a_polygon": N_("not a polygon (point or line)"),
    "polygon_degenerate": N_("polygon without area, even after repair (its points lie on a line)"),
    "drawn_not_closed": N_("the outline is not closed: finish the shape on its first point"),
    "name_missing": N_("no name"),
    "name_too_long": N_("name longer than 200 characters"),
    "neighbourhood_outside_guinea": N_("outside Guinea: it overlaps no sub-prefecture"),
    "neighbourhood_exists": N_("a neighbourhood of this name already exists in this commune"),
    "geometry_repaired": N_("invalid polygon repaired (self-intersecting outline or overlapping parts)"),
    "other_parts_ignored": N_("points or lines inside the feature were ignored"),
    "straddles_communes": N_("straddles communes: a large part lies outside the commune it joins"),
    "partly_outside_guinea": N_("partly outside Guinea"),
    "merged_same_name": N_("features with the same name in the same commune were merged into one neighbourhood"),
    "not_a_polygon_layer": N_("the layer holds no polygons: neighbourhoods need Polygon or MultiPolygon features"),
    "no_neighbourhoods_kept": N_("no usable neighbourhood in the file"),
    "no_name_column": N_("no column holds the neighbourhood names (name, nom, quartier, district, secteur…)"),
    "kml_unsafe": N_("KML file refused: it declares a DOCTYPE or entities, which KML never needs"),
    # programme records (exchange.programme): form entries and imported rows
    "value_missing": N_("required value missing"),
    "text_too_long": N_("text too long"),
    "count_unparseable": N_("not a number"),
    "count_not_integer": N_("not a whole number"),
    "count_negative": N_("negative number"),
    "count_too_large": N_("number too large"),
    "women_above_total": N_("more women than the total"),
    "youth_above_total": N_("more young people than the total"),
    "end_before_start": N_("end date before the start date"),
    "plan_before_established": N_("plan adopted before the council was set up"),
    "outside_unit": N_("point outside its declared unit (beyond the tolerance for approximate borders)"),
    "unit_unknown": N_("administrative unit not found (by id or name)"),
    "unit_ambiguous": N_("unit name is ambiguous: add the prefecture or give the unit id"),
    "unit_mismatch": N_("the units given do not fit together (e.g. a commune outside the prefecture given)"),
    "council_unit_level": N_("a council covers a commune, sub-prefecture or neighbourhood, not a prefecture or region"),
    "station_kind_unknown": N_("unknown type of station (commissariat, police post or gendarmerie brigade)"),
    "school_level_unknown": N_("unknown school level (primary, junior secondary or high school)"),
    "chair_role_unknown": N_("unknown chair (mayor, district president, neighbourhood leader or sub-prefect)"),
    "module_unknown": N_("unknown training module"),
    "unit_level_unknown": N_("unknown level of unit (commune/sub-prefecture or neighbourhood)"),
    "council_unknown": N_("council not found (by id or name)"),
    "council_ambiguous": N_("several councils match this name: give the id or the commune"),
    "school_unknown": N_("school not found (by id or name)"),
    "school_ambiguous": N_("several schools match this name: give the id or the commune"),
    "station_unknown": N_("police station not found (by id or name)"),
    "station_ambiguous": N_("several police stations match this name: give the id or the commune"),
    "officer_unknown": N_("officer not found (by id or name)"),
    "officer_ambiguous": N_("several officers match this name: give the id"),
    "instructor_unknown": N_("instructor not found (by id or name)"),
    "instructor_ambiguous": N_("several instructors match this name: give the id"),
    "duplicate_record": N_("already recorded (same name in the same unit, or same day at the same place)"),
    "programme_columns_missing": N_("required columns are missing from the file"),
}


def reason_text(t: Translator, code: str) -> str:
    """Sentence for ``code`` in ``t``'s language (unknown codes shown as they are)."""
    message = MESSAGES.get(code)
    return t(message) if message else code
