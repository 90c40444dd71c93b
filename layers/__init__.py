"""Map layers: one module per layer, each exposing ``SPEC`` with the same ``build(data, *, t, ...)``.

Layers import folium but never Streamlit; they receive data already filtered
for the user and return ``folium.FeatureGroup`` objects the map page composes.
"""

from __future__ import annotations

from layers import (
    basemap,
    blackspots,
    boundaries,
    councils,
    density,
    emerging,
    hotspots,
    incidents,
    neighbourhoods,
    priorities,
    schools,
    stations,
    trainings,
    women_days,
)
from layers.base import LayerSpec

REGISTRY: dict[str, LayerSpec] = {spec.key: spec for spec in (
    basemap.SPEC, boundaries.SPEC, incidents.SPEC, hotspots.SPEC, emerging.SPEC, density.SPEC, blackspots.SPEC,
    councils.SPEC, schools.SPEC, women_days.SPEC, trainings.SPEC, stations.SPEC, neighbourhoods.SPEC, priorities.SPEC)}
