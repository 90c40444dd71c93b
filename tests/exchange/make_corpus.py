"""Regenerate the binary files of the import corpus (tests/exchange/corpus/), byte for byte.

    .venv/bin/python tests/exchange/make_corpus.py          # write the files
    .venv/bin/python tests/exchange/make_corpus.py --check  # fail if a committed file differs

The text files of the corpus (CSV, GeoJSON, README, expected_rows.json) are written by hand; this
script makes the ones that need a library or exact bytes: XLSX workbooks, a GeoPackage, a zipped
Shapefile, a UTF-16 "Unicode text" export, a PNG posing as a CSV and a zip-slip archive. Output is
deterministic: fixed timestamps inside the ZIP containers and the GeoPackage/DBF headers, fixed
content, no randomness except a seeded generator for the PNG pixels.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parent / "corpus"
FIXED_TIME = (2026, 1, 15, 12, 0, 0)
FIXED_ISO = "2026-01-15T12:00:00Z"
SEED = 2026


def _rezip(data: bytes, patch: dict[str, callable] | None = None) -> bytes:
    """The same archive with fixed entry timestamps (and optional content patches)."""
    patch = patch or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename in patch:
                content = patch[info.filename](content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content, compresslevel=9)
    return out.getvalue()


def _fixed_core_xml(content: bytes) -> bytes:
    text = content.decode("utf-8")
    text = re.sub(
        r"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)", rf"\g<1>{FIXED_ISO}\g<2>", text
    )
    text = re.sub(
        r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{FIXED_ISO}\g<2>", text
    )
    return text.encode("utf-8")


def _save_workbook(wb) -> bytes:
    wb.properties.creator = "Proximité corpus"
    wb.properties.created = dt.datetime(*FIXED_TIME)
    wb.properties.modified = dt.datetime(*FIXED_TIME)
    buf = io.BytesIO()
    wb.save(buf)
    return _rezip(buf.getvalue(), {"docProps/core.xml": _fixed_core_xml})


def entete_fusionnee_xlsx() -> bytes:
    """Kindia register: title row, blank row, header merged over rows 3-4, dates, an empty row."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Incidents"
    ws["A1"] = "Registre des incidents - Commissariat central de Kindia"
    ws.merge_cells("A1:G1")
    for col, name in zip(
        "ABCDFG", ["N°", "Date", "Catégorie", "Localisation", "Lieu", "Description"], strict=True
    ):
        ws[f"{col}3"] = name
    ws.merge_cells("D3:E3")  # "Localisation" over Latitude / Longitude
    for col in "ABCFG":
        ws.merge_cells(f"{col}3:{col}4")  # single-level columns span both header rows
    ws["D4"], ws["E4"] = "Latitude", "Longitude"
    rows = {
        5: [
            1,
            dt.datetime(2026, 5, 2),
            "Vol simple",
            9.9886,
            -12.767,
            "Kindia centre",
            "Vol de téléphone au marché",
        ],
        6: [
            2,
            dt.datetime(2026, 5, 3, 14, 30),
            "Coups et blessures",
            9.9921,
            -12.7702,
            "Kindia centre",
            "Rixe à la gare voiturière",
        ],
        # row 7 left empty on purpose
        8: [
            3,
            dt.datetime(2026, 5, 5),
            "Vol de bétail",
            10.0412,
            -12.8123,
            "Kindia",
            "Trois bœufs volés",
        ],
        9: [
            4,
            "06/05/2026",
            "Escroquerie",
            "9,9886",
            "-12,767",
            "Kindia centre",
            "Date et coordonnées saisies comme du texte",
        ],
        10: [
            5,
            dt.datetime(2026, 5, 7),
            "Conflit foncier",
            None,
            None,
            "Friguiagbé",
            "Sans coordonnées : placé par le nom",
        ],
        11: [
            6,
            dt.date(2026, 5, 8),
            "Viol",
            9.9886,
            -12.767,
            "Kindia centre",
            "Victime orientée vers l'hôpital",
        ],
    }
    for r, values in rows.items():
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, dt.datetime):
                cell.number_format = (
                    "dd/mm/yyyy hh:mm" if value.hour or value.minute else "dd/mm/yyyy"
                )
            elif isinstance(value, dt.date):
                cell.number_format = "dd/mm/yyyy"
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Saisie : brigadier-chef Camara. Ne pas modifier les en-têtes."
    return _save_workbook(wb)


def kobo_export_xlsx() -> bytes:
    """The rows of kobo_export.csv as KoboToolbox writes them to XLSX (numbers as numbers)."""
    from openpyxl import Workbook

    with open(CORPUS / "kobo_export.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header, data = rows[0], rows[1:]
    numeric = {
        "_gps_latitude",
        "_gps_longitude",
        "_gps_altitude",
        "_gps_precision",
        "_id",
        "_index",
    }
    wb = Workbook()
    ws = wb.active
    ws.title = "Signalement des incidents"
    ws.append(header)
    for row in data:
        out = []
        for name, value in zip(header, row, strict=True):
            if value == "":
                out.append(None)
            elif name in numeric:
                number = float(value)
                out.append(int(number) if name in ("_id", "_index") else number)
            else:
                out.append(value)
        ws.append(out)
    return _save_workbook(wb)


def _incident_points():
    import geopandas as gpd
    from shapely.geometry import Point

    records = [
        (
            "GPKG-001",
            dt.date(2026, 8, 1),
            "22:10",
            "Vol simple",
            "Kaloum",
            1,
            "Vol de portefeuille au port",
            -13.7140,
            9.5165,
        ),
        (
            "GPKG-002",
            dt.date(2026, 8, 2),
            "06:45",
            "Coups et blessures",
            "Dixinn",
            2,
            "Rixe à l'université",
            -13.6773,
            9.5412,
        ),
        (
            "GPKG-003",
            dt.date(2026, 8, 3),
            "13:00",
            "Conflit foncier",
            "Coyah",
            0,
            "Bornage contesté",
            -13.3852,
            9.7342,
        ),
        (
            "GPKG-004",
            dt.date(2026, 8, 4),
            "17:20",
            "Vol à main armée",
            "Mamou",
            1,
            "Attaque d'un minibus",
            -12.1218,
            10.3923,
        ),
        (
            "GPKG-005",
            dt.date(2027, 2, 1),
            "10:00",
            "Vol simple",
            "Boké",
            1,
            "Date dans le futur",
            -14.2719,
            10.8999,
        ),
    ]
    frame = gpd.GeoDataFrame(
        {
            "ref": [r[0] for r in records],
            "date_faits": [r[1] for r in records],
            "heure": [r[2] for r in records],
            "categorie": [r[3] for r in records],
            "commune": [r[4] for r in records],
            "victimes": [r[5] for r in records],
            "description": [r[6] for r in records],
        },
        geometry=[Point(r[7], r[8]) for r in records],
        crs="EPSG:4326",
    )
    frame["date_faits"] = _dates(frame["date_faits"])
    return frame


def _dates(values):
    """A column GDAL writes as a DATE field (Arrow date32), not DateTime or String."""
    import pandas as pd
    import pyarrow as pa

    return pd.array(list(values), dtype=pd.ArrowDtype(pa.date32()))


def incidents_gpkg() -> bytes:
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import box

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-15T12:00:00.000Z"})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "incidents.gpkg")
            pyogrio.write_dataframe(
                _incident_points(), path, layer="incidents", driver="GPKG", use_arrow=True
            )
            sectors = gpd.GeoDataFrame(
                {"secteur": ["Kaloum-Port", "Dixinn-Université"]},
                geometry=[box(-13.72, 9.50, -13.70, 9.52), box(-13.69, 9.53, -13.66, 9.55)],
                crs="EPSG:4326",
            )
            pyogrio.write_dataframe(sectors, path, layer="secteurs", driver="GPKG")
            return path.read_bytes()
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def incidents_shp_zip() -> bytes:
    """Points in UTM zone 28N (EPSG:32628), as a field office's GIS would export them."""
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import Point

    records = [
        ("SHP-001", dt.date(2026, 9, 1), "Vol simple", "Kaloum", -13.7105, 9.5149),
        ("SHP-002", dt.date(2026, 9, 2), "Coups et blessures", "Ratoma", -13.5916, 9.6604),
        ("SHP-003", dt.date(2026, 9, 3), "Violence conjugale", "Kindia", -12.767, 9.9886),
        ("SHP-004", dt.date(2026, 9, 4), "Vol de bétail", "Boké", -14.2719, 10.8999),
        ("SHP-005", dt.date(2026, 9, 5), "Trouble à l'ordre public", "Kamsar", -14.5447, 10.6339),
    ]
    frame = gpd.GeoDataFrame(
        {
            "ref": [r[0] for r in records],
            "date": [r[1] for r in records],
            "categorie": [r[2] for r in records],
            "commune": [r[3] for r in records],
        },
        geometry=[Point(r[4], r[5]) for r in records],
        crs="EPSG:4326",
    ).to_crs("EPSG:32628")
    frame["date"] = _dates(frame["date"])
    with tempfile.TemporaryDirectory() as tmp:
        pyogrio.write_dataframe(
            frame,
            Path(tmp, "incidents_utm28.shp"),
            driver="ESRI Shapefile",
            encoding="UTF-8",
            use_arrow=True,
            layer_options={"DBF_DATE_LAST_UPDATE": "2026-01-15"},
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                entry = zipfile.ZipInfo(f"incidents/incidents_utm28{suffix}", date_time=FIXED_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, Path(tmp, f"incidents_utm28{suffix}").read_bytes())
        return out.getvalue()


def export_excel_unicode_txt() -> bytes:
    """Excel's "Texte Unicode (*.txt)": UTF-16 LE with BOM, tab-separated, CRLF."""
    rows = [
        ["N°", "Date", "Catégorie", "Préfecture", "Sous-préfecture", "Description"],
        ["1", "05/08/2026", "Vol simple", "Dubréka", "Tanéné", "Vol de récolte"],
        [
            "2",
            "06/08/2026",
            "Coups et blessures",
            "Forécariah",
            "Forécariah Centre",
            "Bagarre au marché",
        ],
        ["3", "07/08/2026", "Vol simple", "Boké", "Kamsar", 'Vol au port, "conteneur" forcé'],
        [
            "4",
            "08/08/2026",
            "Escroquerie",
            "",
            "Tanéné",
            "Sans préfecture : Tanéné de Dubréka ou de Boké ?",
        ],
    ]
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
    return "\ufeff".encode("utf-16-le") + buf.getvalue().encode("utf-16-le")


def png_posing_as_csv() -> bytes:
    """A real 4x4 PNG (seeded pixels) saved under a .csv name."""
    rng = np.random.default_rng(SEED)
    pixels = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def zip_slip() -> bytes:
    """A "shapefile" archive whose entries climb out of the extraction folder."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for suffix in (".shp", ".shx", ".dbf"):
            entry = zipfile.ZipInfo(f"../evil{suffix}", date_time=FIXED_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, b"not a shapefile, and it should never be written anywhere\n")
    return out.getvalue()


BUILDERS = {
    "entete_fusionnee.xlsx": entete_fusionnee_xlsx,
    "kobo_export.xlsx": kobo_export_xlsx,
    "incidents.gpkg": incidents_gpkg,
    "incidents_shp.zip": incidents_shp_zip,
    "export_excel_unicode.txt": export_excel_unicode_txt,
    "pas_un_csv.csv": png_posing_as_csv,
    "zip_slip.zip": zip_slip,
}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, build in BUILDERS.items():
        data = build()
        path = CORPUS / name
        if check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.write_bytes(data)
            print(f"wrote {path.relative_to(CORPUS.parent.parent.parent)} ({len(data)} bytes)")
    if stale:
        print("out of date (run tests/exchange/make_corpus.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
