"""read_table on the corpus (tests/exchange/corpus/README.md) and on generated edge cases."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exchange import readers
from exchange.readers import RawTable, ReadError, choose_delimiter, read_table

CORPUS = Path(__file__).resolve().parent / "corpus"


def _read(name: str, **kwargs) -> RawTable:
    return read_table(CORPUS / name, **kwargs)


# --------------------------------------------------------------------------- corpus: structure

# file -> (format, encoding, delimiter, header_row, source_rows, notes, columns or None)
STRUCTURE = {
    "registre_matam_cp1252.csv": (
        "csv",
        "cp1252",
        ";",
        4,
        [5, 6, 8, 9, 11, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23],
        ("title_rows_skipped", "blank_rows_skipped"),
        [
            "N°",
            "Date des faits",
            "Heure",
            "Nature des faits",
            "Quartier",
            "Commune",
            "Latitude",
            "Longitude",
            "Observations",
        ],
    ),
    "export_utf8_bom.csv": (
        "csv",
        "utf-8-sig",
        ",",
        1,
        list(range(2, 19)),
        (),
        [
            "id",
            "date",
            "heure",
            "categorie",
            "latitude",
            "longitude",
            "lieu",
            "commune",
            "description",
        ],
    ),
    "lieux_sans_gps.csv": (
        "csv",
        "utf-8",
        "\t",
        1,
        list(range(2, 17)),
        (),
        ["date", "categorie", "lieu", "prefecture", "observations"],
    ),
    "export_excel_unicode.txt": (
        "csv",
        "utf-16-le",
        "\t",
        1,
        [2, 3, 4, 5],
        (),
        ["N°", "Date", "Catégorie", "Préfecture", "Sous-préfecture", "Description"],
    ),
    "entete_fusionnee.xlsx": (
        "xlsx",
        None,
        None,
        3,
        [5, 6, 8, 9, 10, 11],
        ("other_sheets_ignored", "title_rows_skipped", "merged_header_rows", "blank_rows_skipped"),
        ["N°", "Date", "Catégorie", "Latitude", "Longitude", "Lieu", "Description"],
    ),
    "kobo_export.csv": ("csv", "utf-8", ";", 1, list(range(2, 11)), (), None),
    "kobo_export.xlsx": ("xlsx", None, None, 1, list(range(2, 11)), (), None),
    "odk_briefcase.csv": (
        "csv",
        "utf-8",
        ",",
        1,
        list(range(2, 9)),
        (),
        [
            "SubmissionDate",
            "incident-date",
            "incident-type",
            "incident-description",
            "incident-location-Latitude",
            "incident-location-Longitude",
            "incident-location-Altitude",
            "incident-location-Accuracy",
            "meta-instanceID",
            "KEY",
        ],
    ),
    "acled_guinea.csv": ("csv", "utf-8", ",", 1, list(range(2, 8)), (), None),
    "ucdp_ged.csv": ("csv", "utf-8", ",", 1, [2, 3, 4, 5], (), None),
    "incidents.geojson": (
        "geojson",
        "utf-8",
        None,
        0,
        [1, 2, 3, 4, 5, 6],
        ("multipoint_first_point", "non_point_geometry_centroid", "missing_geometry"),
        ["id", "date", "categorie", "lieu", "gravite", "description", "actif", "__lon", "__lat"],
    ),
    "incidents.gpkg": (
        "gpkg",
        None,
        None,
        0,
        [1, 2, 3, 4, 5],
        ("other_layers_ignored",),
        [
            "ref",
            "date_faits",
            "heure",
            "categorie",
            "commune",
            "victimes",
            "description",
            "__lon",
            "__lat",
        ],
    ),
    "incidents_shp.zip": (
        "shapefile",
        None,
        None,
        0,
        [1, 2, 3, 4, 5],
        ("reprojected",),
        ["ref", "date", "categorie", "commune", "__lon", "__lat"],
    ),
    "en_tete_seulement.csv": (
        "csv",
        "utf-8",
        ";",
        1,
        [],
        (),
        ["date", "categorie", "lieu", "latitude", "longitude"],
    ),
}

KOBO_COLUMNS = [
    "start",
    "end",
    "today",
    "date_incident",
    "type_incident",
    "description",
    "gps",
    "_gps_latitude",
    "_gps_longitude",
    "_gps_altitude",
    "_gps_precision",
    "__version__",
    "_id",
    "_uuid",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "_tags",
    "_index",
]


@pytest.mark.parametrize("name", sorted(STRUCTURE))
def test_corpus_file_structure(name):
    fmt, encoding, delimiter, header_row, rows, notes, columns = STRUCTURE[name]
    table = _read(name)
    assert table.format == fmt
    assert table.encoding == encoding
    assert table.delimiter == delimiter
    assert table.header_row == header_row
    assert table.source_rows.dtype == np.int64
    assert table.source_rows.tolist() == rows
    assert len(table.frame) == len(rows) == len(table)
    assert table.notes == notes
    if columns is not None:
        assert list(table.frame.columns) == columns
    assert table.geometry_lonlat == (fmt in ("geojson", "gpkg", "shapefile"))
    assert table.file_name == name
    assert table.sha256 == hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
    assert isinstance(table.frame.index, pd.RangeIndex)
    for column in table.frame.columns:
        assert table.frame[column].dtype == "str", column
        values = table.frame[column].dropna()
        assert all(isinstance(v, str) and v.strip() for v in values), column


def test_every_expected_row_is_read_and_nothing_else():
    expected = json.loads((CORPUS / "expected_rows.json").read_text(encoding="utf-8"))
    files = {p.name for p in CORPUS.iterdir()} - {
        "README.md",
        "expected_rows.json",
        ".gitattributes",
    }
    assert set(expected["files"]) == files
    codes = {"imported", "queued"}
    for name, entry in expected["files"].items():
        if "read_error" in entry:
            with pytest.raises(ReadError) as err:
                _read(name)
            assert err.value.code == entry["read_error"], name
            continue
        table = _read(name)
        assert sorted(int(r) for r in entry["rows"]) == table.source_rows.tolist(), name
        for outcome in entry["rows"].values():
            assert outcome["status"] in codes
            assert (outcome["status"] == "imported") == (outcome["reasons"] == [])
            assert outcome["status"] == "imported" or outcome["flags"] == []


# --------------------------------------------------------------------------- corpus: cell values


def _cell(table: RawTable, source_row: int, column: str):
    position = table.source_rows.tolist().index(source_row)
    return table.frame[column].iloc[position]


def test_registre_cp1252_cells():
    t = _read("registre_matam_cp1252.csv")
    assert _cell(t, 5, "Latitude") == "9,5425"  # decimal comma kept as text
    assert _cell(t, 5, "Longitude") == "-13,6640"
    assert (
        _cell(t, 6, "Observations") == "Bagarre entre voisins, un blessé léger conduit à l’hôpital"
    )
    assert _cell(t, 8, "Observations") == "Plainte de l’épouse; suivi par l’OPJ de permanence"
    assert (
        _cell(t, 9, "Observations")
        == "<img src=x onerror=alert(1)> </script><script>alert(1)</script>"
    )
    assert _cell(t, 9, "Nature des faits") == "Trouble à l'ordre public"
    assert _cell(t, 11, "Observations") == (
        "Deux individus armés sur une moto.\nLe commerçant a été dépossédé de 2 500 000 GNF."
    )
    assert (
        _cell(t, 13, "Observations") == "Fausse vente de terrain – la sœur de la victime témoigne"
    )
    assert pd.isna(_cell(t, 13, "Latitude")) and pd.isna(_cell(t, 13, "Heure"))
    assert pd.isna(_cell(t, 14, "Date des faits"))
    assert _cell(t, 19, "Latitude") == "9,53x"
    assert _cell(t, 22, "Observations") == "Deux bœufs volés dans l’enclos — « gardien absent »"
    assert _cell(t, 23, "N°") == "Total : 14 incidents"
    assert t.frame.loc[t.frame.index[-1]].drop("N°").isna().all()


def test_export_utf8_bom_cells():
    t = _read("export_utf8_bom.csv")
    assert list(t.frame.columns)[0] == "id"  # no BOM glued to the first name
    assert _cell(t, 5, "latitude") == "9°30'45\"N"
    assert _cell(t, 5, "longitude") == "13°42'30\"W"
    assert _cell(t, 3, "latitude") == "-13.7105"
    assert _cell(t, 9, "commune") == "Nzérékoré Centre"
    assert _cell(t, 15, "date") == "2026-03-12 08:30:00"
    assert pd.isna(_cell(t, 13, "longitude"))
    assert t.frame["id"].tolist().count("EXP-002") == 2


def test_lieux_sans_gps_cells():
    t = _read("lieux_sans_gps.csv")
    assert _cell(t, 2, "lieu") == "NZEREKORE"
    assert _cell(t, 15, "lieu") == "  ratoma  "  # values are not trimmed
    assert pd.isna(_cell(t, 14, "lieu"))
    assert _cell(t, 11, "categorie") == "Trouble à l'ordre public"
    assert _cell(t, 2, "observations") == "Vol de moto au grand marché, deux suspects"


def test_excel_unicode_text_cells():
    t = _read("export_excel_unicode.txt")
    assert _cell(t, 4, "Description") == 'Vol au port, "conteneur" forcé'
    assert _cell(t, 3, "Préfecture") == "Forécariah"
    assert pd.isna(_cell(t, 5, "Préfecture"))


def test_merged_header_workbook_cells():
    t = _read("entete_fusionnee.xlsx")
    assert _cell(t, 5, "N°") == "1"  # integer cell, no ".0"
    assert _cell(t, 5, "Date") == "2026-05-02"  # Excel date cell
    assert _cell(t, 6, "Date") == "2026-05-03 14:30:00"
    assert _cell(t, 11, "Date") == "2026-05-08"
    assert _cell(t, 5, "Latitude") == "9.9886"
    assert _cell(t, 5, "Longitude") == "-12.767"  # shortest repr of the float
    assert _cell(t, 9, "Date") == "06/05/2026"  # typed as text: kept as typed
    assert _cell(t, 9, "Latitude") == "9,9886"
    assert pd.isna(_cell(t, 10, "Latitude"))
    assert _cell(t, 10, "Lieu") == "Friguiagbé"
    assert _cell(t, 8, "Description") == "Trois bœufs volés"


def test_kobo_csv_and_xlsx_agree():
    csv_table, xlsx_table = _read("kobo_export.csv"), _read("kobo_export.xlsx")
    assert list(csv_table.frame.columns) == KOBO_COLUMNS == list(xlsx_table.frame.columns)
    assert _cell(csv_table, 2, "gps") == "9.5412 -13.6773 12.0 5.0"
    assert _cell(csv_table, 2, "_gps_altitude") == "12.0"
    assert _cell(xlsx_table, 2, "_gps_altitude") == "12"
    assert _cell(xlsx_table, 2, "_id") == "101"
    assert pd.isna(_cell(csv_table, 4, "gps")) and pd.isna(_cell(xlsx_table, 4, "_gps_latitude"))
    same = [c for c in KOBO_COLUMNS if c not in ("_gps_altitude", "_gps_precision")]
    pd.testing.assert_frame_equal(csv_table.frame[same], xlsx_table.frame[same])


def test_odk_cells():
    t = _read("odk_briefcase.csv")
    assert _cell(t, 2, "SubmissionDate") == "Jun 3, 2026 10:15:22 AM"
    assert _cell(t, 2, "KEY") == "uuid:2f1c7a80-0b1d-4c2e-9f3a-4b5c6d7e8f01"
    assert pd.isna(_cell(t, 8, "incident-type"))


def test_geojson_cells():
    t = _read("incidents.geojson")
    f = t.frame
    assert f["__lon"].tolist()[:3] == ["-13.7105", "-13.5511", "-9.2682"]  # MultiPoint: 1st point
    assert f["__lat"].tolist()[:3] == ["9.5149", "9.5934", "10.3714"]
    lon, lat = float(f["__lon"][3]), float(f["__lat"][3])  # polygon: a point inside it
    assert -12.775 < lon < -12.760 and 9.980 < lat < 9.995
    assert pd.isna(f["__lon"][4]) and pd.isna(f["__lat"][4])
    assert f["gravite"].tolist()[:3] == ["2", "3", "1.5"] and pd.isna(f["gravite"][3])
    assert f["actif"][5] == "true"
    assert f["description"][0] == "Vol à l'arraché devant la banque"


def test_geopackage_cells_and_layers():
    t = _read("incidents.gpkg")
    assert t.frame["date_faits"][0] == "2026-08-01"
    assert t.frame["victimes"].tolist() == ["1", "2", "0", "1", "1"]
    assert (t.frame["__lon"][0], t.frame["__lat"][0]) == ("-13.714", "9.5165")
    sectors = _read("incidents.gpkg", sheet="secteurs")
    assert sectors.frame["secteur"].tolist() == ["Kaloum-Port", "Dixinn-Université"]
    assert "non_point_geometry_centroid" in sectors.notes
    assert (
        _read("incidents.gpkg", sheet=1).frame["secteur"].tolist()
        == sectors.frame["secteur"].tolist()
    )
    with pytest.raises(ReadError) as err:
        _read("incidents.gpkg", sheet="absent")
    assert err.value.code == "no_table" and "incidents" in err.value.detail


def test_zipped_shapefile_is_reprojected():
    t = _read("incidents_shp.zip")
    lon = t.frame["__lon"].astype(float).to_numpy()
    lat = t.frame["__lat"].astype(float).to_numpy()
    np.testing.assert_allclose(lon, [-13.7105, -13.5916, -12.767, -14.2719, -14.5447], atol=1e-6)
    np.testing.assert_allclose(lat, [9.5149, 9.6604, 9.9886, 10.8999, 10.6339], atol=1e-6)
    assert t.frame["date"][0] == "2026-09-01"
    assert t.frame["commune"][3] == "Boké"  # UTF-8 .cpg honoured


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("vide.csv", "empty_file"),
        ("pas_un_csv.csv", "unknown_format"),
        ("zip_slip.zip", "zip_unsafe"),
    ],
)
def test_corpus_error_files(name, code):
    with pytest.raises(ReadError) as err:
        _read(name)
    assert err.value.code == code
    assert err.value.detail


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        (b"", "empty_file", "empty"),
        (b"  \r\n\t\n ", "empty_file", "empty"),
        (b"\xef\xbb\xbf", "empty_file", "empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "empty_file", "empty"),
        (b";;;;\r\n;;;;\r\n", "empty_file", "separators"),
        (
            bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8)),
            "unknown_format",
            "binary",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "unknown_format", ".xls"),
        (b"%PDF-1.7\n%...", "unknown_format", "PDF"),
        (
            _zip({"photo.jpg": bytes(range(256)) * 8, "notes.bin": b"\x00\x01" * 99}),
            "unknown_format",
            "neither an Excel workbook nor a Shapefile",
        ),
        (
            _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b"<x/>",
                }
            ),
            "unknown_format",
            ".ods",
        ),
        (b"PK\x03\x04" + b"\x00garbage" * 20, "bad_zip", "ZIP"),
        (_zip({"/etc/evil.shp": b"x"}), "zip_unsafe", "/etc/evil.shp"),
        (_zip({"a\\..\\..\\evil.shp": b"x"}), "zip_unsafe", "outside"),
        (_zip({"C:/evil.shp": b"x"}), "zip_unsafe", "outside"),
        (_zip({"data/incidents.shp": b"x", "data/incidents.shx": b"x"}), "unreadable", ".dbf"),
        (b'{"type": "Topology", "objects": {}}', "no_table", "keys: type, objects"),
        (b"[1, 2, 3]", "no_table", "item 1"),
        (b'{"type": "FeatureCollection", "features": 3}', "no_table", "features"),
    ],
)
def test_error_codes(data, code, fragment):
    with pytest.raises(ReadError) as err:
        read_table(data, "upload.dat")
    assert err.value.code == code
    assert fragment in err.value.detail


def test_invalid_json_uses_the_extension_as_tiebreak():
    with pytest.raises(ReadError) as err:
        read_table(b'{"type": "FeatureCollection", "features": [', "incidents.geojson")
    assert err.value.code == "unreadable" and "line 1" in err.value.detail
    # Under a .csv name the same kind of text is a CSV whose first cell starts with "[".
    table = read_table(b"[id];[date]\n1;2026-01-02\n", "export.csv")
    assert list(table.frame.columns) == ["[id]", "[date]"]


def test_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "MAX_ZIP_TOTAL", 100_000)
    bomb = _zip({"incidents.shp": b"\x00" * 300_000, "incidents.dbf": b"", "incidents.shx": b""})
    with pytest.raises(ReadError) as err:
        read_table(bomb, "bomb.zip")
    assert err.value.code == "zip_unsafe" and "unpacks to 300,000 bytes" in err.value.detail


def test_too_large(tmp_path):
    data = (CORPUS / "export_utf8_bom.csv").read_bytes()
    with pytest.raises(ReadError) as err:
        read_table(data, "x.csv", max_bytes=100)
    assert err.value.code == "too_large"
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    with pytest.raises(ReadError) as err:
        read_table(path, max_bytes=100)
    assert err.value.code == "too_large" and f"{len(data):,}" in err.value.detail


def test_missing_path_is_unreadable(tmp_path):
    with pytest.raises(ReadError) as err:
        read_table(tmp_path / "absent.csv")
    assert err.value.code == "unreadable"


def test_unterminated_quote_is_an_error_not_one_giant_cell():
    data = b'id;description\n1;"ouvert\n2;suite\n3;fin\n'
    with pytest.raises(ReadError) as err:
        read_table(data, "x.csv")
    assert err.value.code == "unreadable" and "line 2" in err.value.detail


def test_sheet_selection_in_workbooks():
    notes = _read("entete_fusionnee.xlsx", sheet="Notes")  # a single text cell: a header, no rows
    assert (notes.header_row, len(notes), notes.notes) == (1, 0, ("other_sheets_ignored",))
    assert _read("entete_fusionnee.xlsx", sheet="incidents").format == "xlsx"  # case-insensitive
    with pytest.raises(ReadError) as err:
        _read("entete_fusionnee.xlsx", sheet=5)
    assert err.value.code == "no_table" and "Incidents, Notes" in err.value.detail


def test_readerror_rejects_unknown_codes():
    with pytest.raises(ValueError):
        ReadError("oops", "no such code")


# --------------------------------------------------------------------------- inputs


def test_bytes_path_str_and_file_object_agree(tmp_path):
    path = CORPUS / "registre_matam_cp1252.csv"
    data = path.read_bytes()
    from_path = read_table(path)
    from_str = read_table(str(path))
    from_bytes = read_table(data, "registre_matam_cp1252.csv")
    from_file = read_table(io.BytesIO(data), "registre_matam_cp1252.csv")
    with path.open("rb") as handle:
        from_handle = read_table(handle)
    for other in (from_str, from_bytes, from_file, from_handle):
        pd.testing.assert_frame_equal(from_path.frame, other.frame)
        assert other.source_rows.tolist() == from_path.source_rows.tolist()
        assert (other.sha256, other.notes, other.file_name) == (
            from_path.sha256,
            from_path.notes,
            from_path.file_name,
        )
    assert read_table(data).file_name == ""
    with pytest.raises(TypeError):
        read_table(12)


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("kobo_export.csv", "kobo.xlsx"),
        ("incidents.geojson", "incidents.csv"),
        ("entete_fusionnee.xlsx", "registre.zip"),
    ],
)
def test_format_comes_from_content_and_mismatch_is_noted(name, alias):
    data = (CORPUS / name).read_bytes()
    right, wrong = read_table(data, name), read_table(data, alias)
    assert right.format == wrong.format
    assert "extension_mismatch" in wrong.notes and "extension_mismatch" not in right.notes
    assert "extension_mismatch" not in read_table(data, "no_extension").notes


# --------------------------------------------------------------------------- CSV details


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("id;lat;lon\n1;9,54;-13,67\n2;9,55;-13,68\n", ";"),
        ("id,lat,lon\n1,9.54,-13.67\n2,9.55,-13.68\n", ","),
        ("id\tlieu\n1\tKindia, centre\n2\tLabé\n", "\t"),
        ("id|lieu|note\n1|Kindia|a, b; c\n2|Labé|d\n", "|"),
        ('id,note\n1,"a; b; c"\n2,"d; e"\n', ","),
        ("Registre\nid;date;lieu\n1;02/01/2026;Kaloum, port\n", ";"),
        ("lieu\nKindia\nLabé\n", ","),
    ],
)
def test_choose_delimiter(text, delimiter):
    assert choose_delimiter(text) == delimiter


def test_no_header_row_gives_generated_names():
    t = read_table(b"1;9,54;-13,67\n2;9,55;-13,68\n", "x.csv")
    assert t.header_row == 0 and t.notes == ("no_header_row",)
    assert list(t.frame.columns) == ["column_1", "column_2", "column_3"]
    assert t.source_rows.tolist() == [1, 2]


def test_names_are_stripped_deduplicated_and_never_empty():
    t = read_table(b" date ;lieu;date;;date.1\n2026-01-01;Kaloum;x;y;z\n", "x.csv")
    assert list(t.frame.columns) == ["date", "lieu", "date.2", "column_4", "date.1"]
    assert t.notes == ("unnamed_columns", "duplicate_column_names")


def test_ragged_rows_keep_every_value():
    t = read_table(b"a;b;c\n1;2;3\n4;5\n6;7;8;9\n", "x.csv")
    assert list(t.frame.columns) == ["a", "b", "c", "column_4"]
    assert t.frame.values.tolist()[1][:2] == ["4", "5"] and pd.isna(t.frame["c"][1])
    assert t.frame["column_4"][2] == "9"
    assert {"ragged_rows", "extra_columns"} <= set(t.notes)


def test_trailing_empty_columns_from_excel_are_dropped():
    t = read_table(b"a;b;;\n1;2;;\n3;4;;\n", "x.csv")
    assert list(t.frame.columns) == ["a", "b"]
    assert t.notes == ("empty_columns_dropped",)


def test_merged_header_with_repeated_lower_names_keeps_the_group():
    text = "Date;Victime;;Auteur;\n;Nom;Âge;Nom;Âge\n2026-01-01;Camara;30;Diallo;25\n"
    t = read_table(text.encode(), "x.csv")
    assert list(t.frame.columns) == [
        "Date",
        "Victime Nom",
        "Victime Âge",
        "Auteur Nom",
        "Auteur Âge",
    ]
    assert t.notes == ("merged_header_rows",) and t.header_row == 1
    assert t.source_rows.tolist() == [3]


def test_lone_cr_line_endings_and_utf16_without_bom():
    t = read_table(b"a;b\r1;2\r3;4\r", "mac.csv")
    assert t.frame.values.tolist() == [["1", "2"], ["3", "4"]] and t.source_rows.tolist() == [2, 3]
    t16 = read_table("lieu\tdate\nLabé\t2026-01-02\n".encode("utf-16-le"), "x.txt")
    assert t16.encoding == "utf-16-le" and t16.frame["lieu"][0] == "Labé"


def test_latin1_bytes_undefined_in_cp1252_fall_back_to_latin1():
    t = read_table(b"lieu;note\nLab\xe9;\x81\n", "x.csv")
    assert t.encoding == "latin-1" and t.frame["lieu"][0] == "Labé"


@pytest.mark.parametrize(
    "name",
    [
        "registre_matam_cp1252.csv",
        "export_utf8_bom.csv",
        "lieux_sans_gps.csv",
        "kobo_export.csv",
        "odk_briefcase.csv",
        "acled_guinea.csv",
        "ucdp_ged.csv",
        "en_tete_seulement.csv",
        "export_excel_unicode.txt",
    ],
)
def test_arrow_and_csv_module_paths_agree(monkeypatch, name):
    slow = _read(name)
    monkeypatch.setattr(readers, "_ARROW_MIN_CHARS", 0)
    fast = _read(name)
    pd.testing.assert_frame_equal(slow.frame, fast.frame)
    assert fast.source_rows.tolist() == slow.source_rows.tolist()
    assert fast.notes == slow.notes


def _big_csv(n: int) -> tuple[bytes, list[int]]:
    """n rows, cp1252, ';', decimal commas, a title row, blank lines, an Excel empty row and a
    quoted line break; returns the bytes and the line number of each data row."""
    rng = np.random.default_rng(42)
    lat = np.char.replace(np.round(rng.uniform(7.3, 12.5, n), 5).astype(str), ".", ",")
    lon = np.char.replace(np.round(rng.uniform(-14.9, -7.8, n), 5).astype(str), ".", ",")
    labels = np.array(["Vol simple", "Coups et blessures", "Trouble à l'ordre public"])
    cats = labels[rng.integers(0, 3, n)]
    lines = ["Registre national;;;;;;", "N°;Date;Catégorie;Latitude;Longitude;Lieu;Note"]
    rows = []
    for i in range(n):
        if i == 1000:
            lines.append("")
        if i == 2000:
            lines.append(";;;;;;")
        note = '"deux lignes;\nfin"' if i == 3000 else ""
        lines.append(f"R{i};12/03/2026;{cats[i]};{lat[i]};{lon[i]};Nzérékoré;{note}")
        rows.append(len(lines) + (1 if i > 3000 else 0))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252"), rows


def test_big_csv_reads_every_row_with_its_line_number(monkeypatch):
    data, rows = _big_csv(200_000)

    def no_fallback(*args, **kwargs):
        raise AssertionError("a clean big file must not fall back to the csv module")

    monkeypatch.setattr(readers, "_read_csv_python", no_fallback)
    t = read_table(data, "big.csv")
    assert len(t.frame) == 200_000
    assert t.source_rows.tolist() == rows
    assert (t.encoding, t.delimiter, t.header_row) == ("cp1252", ";", 2)
    assert t.notes == ("title_rows_skipped", "blank_rows_skipped")
    assert t.frame["N°"].iloc[-1] == "R199999" and t.frame["Lieu"].iloc[0] == "Nzérékoré"
    assert t.frame["Note"].iloc[3000] == "deux lignes;\nfin" and t.frame["Note"].count() == 1
    assert t.frame["Latitude"].str.contains(",").all()
    assert all(t.frame[c].dtype == "str" for c in t.frame.columns)


def test_big_csv_with_ragged_rows_falls_back_and_keeps_everything():
    data, rows = _big_csv(30_000)
    data = data.replace(b"R29999;", b"R29999;extra;", 1)
    t = read_table(data, "big.csv")
    assert t.source_rows.tolist() == rows and len(t.frame) == 30_000
    # The shifted row keeps all its values; the 8th field it adds is empty, so no column_8.
    assert t.notes == (
        "title_rows_skipped",
        "blank_rows_skipped",
        "empty_columns_dropped",
        "ragged_rows",
    )
    assert t.frame.iloc[-1].tolist()[:3] == ["R29999", "extra", "12/03/2026"]
    assert t.frame["Note"].iloc[-1] == "Nzérékoré"


# --------------------------------------------------------------------------- JSON / vector details


def test_plain_json_list_is_a_table():
    data = json.dumps(
        [
            {"date": "2026-01-02", "lieu": "Kaloum", "n": 3, "x": 1.0},
            {"date": "2026-01-03", "extra": [1, 2], "n": None},
        ]
    ).encode()
    t = read_table(data, "records.json")
    assert t.format == "json" and not t.geometry_lonlat and t.notes == ()
    assert list(t.frame.columns) == ["date", "lieu", "n", "x", "extra"]
    assert t.frame["x"][0] == "1" and t.frame["extra"][1] == "[1, 2]" and pd.isna(t.frame["n"][1])
    assert t.source_rows.tolist() == [1, 2]


def test_geojson_with_a_projected_crs_member_is_reprojected():
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32628, always_xy=True).transform(-13.7105, 9.5149)
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32628"}},
        "features": [
            {
                "type": "Feature",
                "id": 7,
                "properties": {"lieu": "Kaloum"},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
        ],
    }
    t = read_table(json.dumps(doc).encode(), "utm.geojson")
    assert "reprojected" in t.notes
    assert (
        abs(float(t.frame["__lon"][0]) + 13.7105) < 1e-6
        and abs(float(t.frame["__lat"][0]) - 9.5149) < 1e-6
    )
    assert t.frame["id"][0] == "7"


def test_single_feature_and_invalid_geometry():
    doc = {
        "type": "Feature",
        "properties": {"__lon": "x"},
        "geometry": {"type": "Point", "coordinates": []},
    }
    t = read_table(json.dumps(doc).encode(), "f.geojson")
    assert list(t.frame.columns) == ["__lon.1", "__lon", "__lat"]
    assert pd.isna(t.frame["__lon"][0]) and "missing_geometry" in t.notes


def _workbook_bytes(fill) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    fill(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_cells_become_text():
    import datetime as dt

    def fill(wb):
        ws = wb.active
        ws.append(["id", "quand", "heure", "valeur", "ok", "vide"])
        ws.append(
            [1, dt.datetime(2026, 1, 2, 8, 30, 59, 600_000), dt.time(22, 15), 0.1 + 0.2, True, "  "]
        )
        ws.append(
            [2.0, dt.datetime(2026, 1, 3), dt.time(7, 0), 12345678901234567890.0, False, None]
        )
        ws.append(["0042", "=A2+1", None, -0.5, None, None])

    t = read_table(_workbook_bytes(fill), "cells.xlsx")
    assert t.frame.to_dict("list") == {
        "id": ["1", "2", "0042"],
        "quand": ["2026-01-02 08:31:00", "2026-01-03", "=A2+1"],
        "heure": ["22:15:00", "07:00:00", np.nan],
        "valeur": ["0.3", "1.234567890123457e+19", "-0.5"],  # as Excel stores them
        "ok": ["true", "false", np.nan],
        "vide": [np.nan, np.nan, np.nan],
    }
    assert t.notes == ("formula_without_value",)  # "vide" has a name: kept, all NaN


def test_empty_sheet_is_no_table():
    with pytest.raises(ReadError) as err:
        read_table(_workbook_bytes(lambda wb: None), "vide.xlsx")
    assert err.value.code == "no_table" and "Sheet" in err.value.detail
