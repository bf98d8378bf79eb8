"""路网示意图: the network drawn with ECharts on a lon/lat value grid (no map tiles, works offline).

Roads are polylines, enforcement stations labelled markers, gantry sites small dots; the site of each
open alert is highlighted in red with the plate as label. Positions in the default network are
estimated, so the page shows :data:`ESTIMATED_CAPTION` under the chart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ESTIMATED_CAPTION = "位置为估算（示意图），非实测坐标"
MEASURED_CAPTION = "路网示意图（坐标来自路网数据文件）"
ALERT_SERIES = "预警车辆"
_MAX_PLATES_PER_SITE = 3


@dataclass(frozen=True, slots=True)
class AlertMark:
    plate_no: str
    site_id: str


def _points(geojson: Mapping[str, Any], layer: str) -> dict[str, tuple[str, list[float], bool]]:
    """id → (name, [lon, lat], estimated) of the Point features of one layer (features without geometry skipped)."""
    out: dict[str, tuple[str, list[float], bool]] = {}
    for feature in geojson.get("features", []):
        props, geometry = feature.get("properties") or {}, feature.get("geometry")
        if props.get("layer") != layer or not geometry or geometry.get("type") != "Point":
            continue
        lon, lat = geometry["coordinates"][:2]
        out[str(props.get("id"))] = (
            str(props.get("name") or props.get("id")),
            [float(lon), float(lat)],
            bool(props.get("estimated", True)),
        )
    return out


def _roads(geojson: Mapping[str, Any]) -> list[tuple[str, list[list[float]], bool]]:
    roads: list[tuple[str, list[list[float]], bool]] = []
    for feature in geojson.get("features", []):
        props, geometry = feature.get("properties") or {}, feature.get("geometry")
        if props.get("layer", "road") != "road" or not geometry or geometry.get("type") != "LineString":
            continue
        coords = [[float(c[0]), float(c[1])] for c in geometry["coordinates"]]
        label = str(props.get("code") or "") + " " + str(props.get("name") or "")
        roads.append((label.strip(), coords, bool(props.get("estimated", True))))
    return roads


def short_name(name: str) -> str:
    """A station's map label: its name without a parenthesised remark (the tooltip keeps the full name)."""
    return name.split("（", 1)[0].split("(", 1)[0].strip() or name


def is_estimated(geojson: Mapping[str, Any]) -> bool:
    """True when any feature's position is estimated (or unmarked)."""
    return any(bool((f.get("properties") or {}).get("estimated", True)) for f in geojson.get("features", []))


def caption(geojson: Mapping[str, Any]) -> str:
    return ESTIMATED_CAPTION if is_estimated(geojson) else MEASURED_CAPTION


def alert_series(geojson: Mapping[str, Any], alerts: Iterable[AlertMark]) -> dict[str, Any]:
    """The red highlight series: one marker per site with open alerts, labelled with the plates."""
    sites = _points(geojson, "site")
    plates: dict[str, list[str]] = defaultdict(list)
    for mark in alerts:
        if mark.site_id in sites and mark.plate_no not in plates[mark.site_id]:
            plates[mark.site_id].append(mark.plate_no)
    data = []
    for site_id, found in plates.items():
        name, position, _ = sites[site_id]
        label = " / ".join(found[:_MAX_PLATES_PER_SITE])
        if len(found) > _MAX_PLATES_PER_SITE:
            label += f" 等{len(found)}辆"
        data.append({"name": label, "value": position, "site": name})
    return {
        "type": "effectScatter",
        "name": ALERT_SERIES,
        "data": data,
        "symbolSize": 16,
        "z": 10,
        "itemStyle": {"color": "#d32f2f"},
        "rippleEffect": {"scale": 3, "brushType": "stroke"},
        "label": {
            "show": True,
            "position": "top",
            "formatter": "{b}",
            "color": "#b71c1c",
            "fontWeight": "bold",
            "backgroundColor": "rgba(255,255,255,0.85)",
            "padding": [2, 4],
            "borderRadius": 3,
        },
    }


def _bounds(values: Iterable[list[float]]) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for lon, lat in values:
        xs.append(lon)
        ys.append(lat)
    if not xs:
        return 0.0, 1.0, 0.0, 1.0
    pad_x = max((max(xs) - min(xs)) * 0.06, 0.01)
    pad_y = max((max(ys) - min(ys)) * 0.06, 0.01)
    return min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y


def schematic_options(geojson: Mapping[str, Any], alerts: Iterable[AlertMark] = ()) -> dict[str, Any]:
    """ECharts options for the schematic of ``geojson`` (``Network.to_geojson()``) with ``alerts`` highlighted."""
    nodes, stations, sites = _points(geojson, "node"), _points(geojson, "station"), _points(geojson, "site")
    roads = _roads(geojson)
    everything = [p for _, p, _ in nodes.values()] + [c for _, coords, _ in roads for c in coords]
    x_min, x_max, y_min, y_max = _bounds(everything)
    hidden = {"show": False}
    series: list[dict[str, Any]] = [
        {
            "type": "line",
            "name": name or "道路",
            "data": coords,
            "showSymbol": False,
            "z": 1,
            "lineStyle": {"width": 4, "color": "#90a4ae", "type": "solid"},
            "emphasis": {"disabled": True},
            "tooltip": {"show": bool(name)},
        }
        for name, coords, _ in roads
    ]
    series += [
        {
            "type": "scatter",
            "name": "路网节点",
            "symbolSize": 5,
            "z": 2,
            "itemStyle": {"color": "#b0bec5"},
            "data": [{"name": name, "value": pos} for name, pos, _ in nodes.values()],
        },
        {
            "type": "scatter",
            "name": "卡口",
            "symbolSize": 4,
            "z": 3,
            "itemStyle": {"color": "#37474f"},
            "data": [{"name": name, "value": pos} for name, pos, _ in sites.values()],
        },
        {
            "type": "scatter",
            "name": "执法站",
            "symbol": "roundRect",
            "symbolSize": 12,
            "z": 5,
            "itemStyle": {"color": "#1565c0", "borderColor": "#fff", "borderWidth": 1},
            "label": {
                "show": True,
                "position": "right",
                "formatter": "{b}",
                "fontSize": 11,
                "color": "#0d47a1",
            },
            "labelLayout": {"hideOverlap": True},
            "data": [
                {"name": name, "value": pos, "label": {"formatter": short_name(name)}}
                for name, pos, _ in stations.values()
            ],
        },
        alert_series(geojson, alerts),
    ]
    return {
        "animation": False,
        "grid": {"left": 16, "right": 120, "top": 24, "bottom": 36},
        "tooltip": {"trigger": "item", "formatter": "{a}：{b}"},
        "legend": {"bottom": 0, "data": ["执法站", "卡口", "路网节点", ALERT_SERIES]},
        "xAxis": {
            "type": "value",
            "min": x_min,
            "max": x_max,
            "axisLine": hidden,
            "axisTick": hidden,
            "axisLabel": hidden,
            "splitLine": hidden,
        },
        "yAxis": {
            "type": "value",
            "min": y_min,
            "max": y_max,
            "axisLine": hidden,
            "axisTick": hidden,
            "axisLabel": hidden,
            "splitLine": hidden,
        },
        "series": series,
    }
