"""Build the vendored boundary files from the geoBoundaries sources.

Run once by a maintainer (``proximite boundaries build SOURCE``); the app only
reads the result. The three levels are made one nested coverage: prefectures
are rebuilt as the union of their sub-prefectures (each assigned by largest
overlap with the source ADM2) and regions as the union of their prefectures.
The source ADM2 and ADM3 files disagree by about 18 km² over 246,000 km²;
building upward from ADM3 means a point found in a sub-prefecture is always in
that sub-prefecture's prefecture and region, so counts roll up exactly.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geo.names import normalize, slug, strip_accents

#: Equal-area CRS for overlaps and areas (Africa Albers Equal Area Conic).
EQUAL_AREA = "ESRI:102022"

#: Coverage-simplification tolerances (degrees) of the display variants.
#: ``low`` suits the whole country (zoom <= 7), ``medium`` a region, ``high`` a prefecture.
DETAIL_TOLERANCE = {"low": 0.01, "medium": 0.003, "high": 0.0008}

#: Where the coast meets the land borders: the mainland's westernmost vertex
#: (Guinea-Bissau side) and the Great Scarcies mouth (Sierra Leone side).
COAST_ENDS = ((-14.9256, 11.0534), (-13.3076, 9.0375))

ADM2 = "geoBoundaries-GIN-ADM2_simplified.geojson"
ADM3 = "geoBoundaries-GIN-ADM3_simplified.geojson"


@dataclass(frozen=True)
class BuildReport:
    """Figures a maintainer checks after a build."""

    regions: int
    prefectures: int
    subprefectures: int
    min_overlap_share: float
    adm2_difference_km2: float


def verify_checksums(folder: Path) -> None:
    """Refuse to build from files that differ from the ones recorded in SHA256SUMS."""
    sums = folder / "SHA256SUMS"
    if not sums.exists():
        return
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        name = name.lstrip("*")
        actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if actual != digest:
            raise ValueError(f"{name}: checksum {actual} does not match SHA256SUMS ({digest})")


def _assign_prefectures(adm3: gpd.GeoDataFrame, adm2: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each ADM3 unit's ISO prefecture code by largest overlap, and that overlap's share."""
    a3 = adm3.geometry.to_crs(EQUAL_AREA).values
    a2 = adm2.geometry.to_crs(EQUAL_AREA).values
    left, right = shapely.STRtree(a2).query(a3, predicate="intersects")
    overlap = shapely.area(shapely.intersection(a3[left], a2[right]))
    pairs = pd.DataFrame({"child": left, "parent": right, "area": overlap})
    best = pairs.sort_values("area").groupby("child").tail(1).set_index("child").sort_index()
    if len(best) != len(adm3):
        raise ValueError("some sub-prefectures overlap no prefecture")
    share = best["area"].to_numpy() / shapely.area(a3)
    return adm2["ISO Code"].to_numpy()[best["parent"].to_numpy()], share


def _subprefecture_names(adm3: gpd.GeoDataFrame, prefs: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """Official display names: "X Ctre" becomes "<accented prefecture> Centre", then curated overrides."""
    accented = dict(zip(prefs["prefecture_ascii"].map(normalize), prefs["prefecture"], strict=True))
    names = []
    for source in adm3["shapeName"]:
        name = source
        if source.endswith(" Ctre"):
            town = source[: -len(" Ctre")]
            name = f"{accented.get(normalize(town), town)} Centre"
        names.append(name)
    out = pd.DataFrame({"source_name": adm3["shapeName"], "prefecture_id": adm3["prefecture_id"], "name": names})
    out["aliases"] = ""
    for row in overrides.itertuples(index=False):
        hit = (out["source_name"] == row.source_name) & (out["prefecture_id"] == row.prefecture_iso)
        if hit.sum() != 1:
            raise ValueError(f"names.csv: {row.source_name!r} in {row.prefecture_iso} matches {hit.sum()} units")
        out.loc[hit, "name"] = row.name
        out.loc[hit, "aliases"] = "" if pd.isna(row.aliases) else row.aliases
    return out


def _dissolve(geoms: np.ndarray, keys: np.ndarray) -> dict[str, shapely.Geometry]:
    """Union of a coverage's polygons per key, edge-exact (coverage union keeps shared borders)."""
    return {k: shapely.coverage_union_all(geoms[keys == k]) for k in pd.unique(keys)}


def _coast(country: shapely.Geometry) -> shapely.Geometry:
    """Coastline: the mainland ring's western arc between the two border points, plus all islands."""
    parts = sorted(shapely.get_parts(country), key=lambda g: -g.area)
    ring = np.asarray(parts[0].exterior.coords)[:-1]
    ends = [int(np.argmin(np.hypot(*(ring - np.asarray(p)).T))) for p in COAST_ENDS]
    a, b = sorted(ends)
    inner = ring[a : b + 1]
    outer = np.vstack([ring[b:], ring[: a + 1]])
    arc = inner if inner[:, 0].mean() < outer[:, 0].mean() else outer
    islands = [p.exterior for p in parts[1:]]
    return shapely.multilinestrings([shapely.linestrings(arc), *islands])


def build(source: Path, population: Path, out: Path) -> BuildReport:
    """Read the sources, build all levels and display variants, write them under ``out``."""
    verify_checksums(source)
    adm2 = gpd.read_file(source / ADM2)
    adm3 = gpd.read_file(source / ADM3)
    prefs = pd.read_csv(source / "prefectures.csv")
    pop = pd.read_csv(population / "prefectures_rgph2014.csv")
    here = Path(__file__).resolve().parent.parent / "data" / "boundaries"
    overrides = pd.read_csv(here / "names.csv")
    pref_aliases = pd.read_csv(here / "prefecture_aliases.csv").set_index("iso_code")["aliases"]

    adm3 = adm3.copy()
    adm3["prefecture_id"], share = _assign_prefectures(adm3, adm2)
    named = _subprefecture_names(adm3, prefs, overrides)
    region_of = dict(zip(prefs["iso_code"], prefs["region_iso_code"], strict=True))

    sub = gpd.GeoDataFrame(
        {
            "unit_id": [f"{p}-{slug(strip_accents(n))}"
                        for p, n in zip(named["prefecture_id"], named["name"], strict=True)],
            "level": "subprefecture",
            "name": named["name"],
            "source_name": named["source_name"],
            "aliases": named["aliases"],
            "parent_id": named["prefecture_id"],
            "prefecture_id": named["prefecture_id"],
            "region_id": named["prefecture_id"].map(region_of),
            "source_id": adm3["shapeID"],
        },
        geometry=adm3.geometry.values,
        crs="EPSG:4326",
    )
    if sub["unit_id"].duplicated().any():
        raise ValueError(f"duplicate sub-prefecture ids: {sub.loc[sub['unit_id'].duplicated(), 'unit_id'].tolist()}")

    pref_geom = _dissolve(sub.geometry.values, sub["prefecture_id"].to_numpy())
    pop = pop.set_index("iso_code")
    pref = gpd.GeoDataFrame(
        {
            "unit_id": prefs["iso_code"],
            "level": "prefecture",
            "name": prefs["prefecture"],
            "source_name": prefs["prefecture_ascii"],
            "aliases": prefs["iso_code"].map(pref_aliases).fillna(""),
            "parent_id": prefs["region_iso_code"],
            "prefecture_id": prefs["iso_code"],
            "region_id": prefs["region_iso_code"],
            "source_id": prefs["iso_code"],
            "population_2014": prefs["iso_code"].map(pop["population_2014"]),
            "census_result": prefs["iso_code"].map(pop["census_result"]),
        },
        geometry=[pref_geom[k] for k in prefs["iso_code"]],
        crs="EPSG:4326",
    )
    regions = prefs.drop_duplicates("region_iso_code")
    reg_geom = _dissolve(pref.geometry.values, pref["region_id"].to_numpy())
    reg_pop = pref.groupby("region_id")["population_2014"].sum()
    reg_flag = pref.groupby("region_id")["census_result"].agg(lambda s: s.iloc[0] if s.nunique() == 1 else "mixed")
    reg = gpd.GeoDataFrame(
        {
            "unit_id": regions["region_iso_code"],
            "level": "region",
            "name": regions["region"],
            "source_name": regions["region_ascii"],
            "aliases": "",
            "parent_id": None,
            "prefecture_id": None,
            "region_id": regions["region_iso_code"],
            "source_id": regions["region_iso_code"],
            "population_2014": regions["region_iso_code"].map(reg_pop),
            "census_result": regions["region_iso_code"].map(reg_flag),
        },
        geometry=[reg_geom[k] for k in regions["region_iso_code"]],
        crs="EPSG:4326",
    )
    units = pd.concat([reg, pref, sub], ignore_index=True)
    units["name_ascii"] = units["name"].map(strip_accents)
    units["area_km2"] = units.geometry.to_crs(EQUAL_AREA).area.to_numpy() / 1e6
    label = shapely.point_on_surface(units.geometry.values)
    units["label_lon"], units["label_lat"] = shapely.get_x(label), shapely.get_y(label)
    units = gpd.GeoDataFrame(units, geometry="geometry", crs="EPSG:4326")

    display = []
    for detail, tol in DETAIL_TOLERANCE.items():
        simple = shapely.coverage_simplify(sub.geometry.values, tol)
        by_pref = _dissolve(simple, sub["prefecture_id"].to_numpy())
        pref_simple = np.array([by_pref[k] for k in pref["unit_id"]], dtype=object)
        by_reg = _dissolve(pref_simple, pref["region_id"].to_numpy())
        reg_simple = np.array([by_reg[k] for k in reg["unit_id"]], dtype=object)
        for level, ids, geoms in (
            ("region", reg["unit_id"], reg_simple),
            ("prefecture", pref["unit_id"], pref_simple),
            ("subprefecture", sub["unit_id"], simple),
        ):
            display.append(gpd.GeoDataFrame({"unit_id": ids.to_numpy(), "level": level, "detail": detail},
                                            geometry=list(geoms), crs="EPSG:4326"))
    display_gdf = pd.concat(display, ignore_index=True)

    country = shapely.coverage_union_all(reg.geometry.values)
    outline = gpd.GeoDataFrame({"kind": ["country", "coast"]}, geometry=[country, _coast(country)], crs="EPSG:4326")

    out.mkdir(parents=True, exist_ok=True)
    units.to_parquet(out / "units.parquet", index=False, compression="zstd")
    display_gdf.to_parquet(out / "display.parquet", index=False, compression="zstd")
    outline.to_parquet(out / "outline.parquet", index=False, compression="zstd")
    shutil.copyfile(population / "prefectures_rgph2014.csv", out / "population_rgph2014.csv")
    shutil.copyfile(source / "SHA256SUMS", out / "SOURCE_SHA256SUMS")

    diff = shapely.symmetric_difference(
        gpd.GeoSeries([shapely.union_all(adm2.geometry.values)], crs=4326).to_crs(EQUAL_AREA).iloc[0],
        gpd.GeoSeries([country], crs=4326).to_crs(EQUAL_AREA).iloc[0],
    )
    return BuildReport(len(reg), len(pref), len(sub), float(share.min()), float(diff.area / 1e6))
