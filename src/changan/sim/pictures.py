"""Synthetic camera pictures for simulated passages (SVG), clearly marked as simulated.

A real checkpoint sends a JPEG of the vehicle; the simulator draws a schematic
frame instead: the carriageway, the vehicle, its plate in the plate's colours,
and a caption with the site, the local time and the speed.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from changan.kit.clock import LOCAL_TZ

_PLATE_COLOURS = {  # background, text
    "blue": ("#1f4fbf", "#ffffff"),
    "yellow": ("#f2c200", "#111111"),
    "green": ("#7fd18b", "#111111"),
    "yellow_green": ("#c8e06a", "#111111"),
    "white": ("#f5f5f5", "#111111"),
    "black": ("#111111", "#ffffff"),
}
_BODY = {"K33": ("#9aa5b1", 150, 90), "H11": ("#c0563b", 210, 120), "K11": ("#3b7dc0", 220, 110)}


def passage_svg(
    *,
    plate_no: str,
    plate_color: str,
    vehicle_class: str,
    site_name: str,
    pass_time: datetime,
    speed_kmh: float,
    lane_no: int,
) -> bytes:
    """A 640×360 SVG 'camera frame' of one passage."""
    bg, fg = _PLATE_COLOURS.get(plate_color, ("#dddddd", "#111111"))
    body, width, height = _BODY.get(vehicle_class, ("#9aa5b1", 160, 95))
    x = 120 + (lane_no - 1) * 200 + (180 - width) // 2
    local = pass_time.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    caption = escape(f"{site_name}  {local}  {speed_kmh:.0f} km/h  车道{lane_no}")
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">
<rect width="640" height="360" fill="#2b2f33"/>
<polygon points="60,360 260,40 380,40 580,360" fill="#44494f"/>
<line x1="320" y1="40" x2="320" y2="360" stroke="#e8e8e8" stroke-width="4" stroke-dasharray="24 18"/>
<rect x="{x}" y="{250 - height}" width="{width}" height="{height}" rx="14" fill="{body}"/>
<rect x="{x + 16}" y="{250 - height + 12}" width="{width - 32}" height="{height // 3}" rx="6" fill="#20262c"/>
<rect x="{x + width // 2 - 60}" y="{262 - height // 3}" width="120" height="34" rx="4" fill="{bg}" stroke="#ffffff"/>
<text x="{x + width // 2}" y="{285 - height // 3}" font-size="20" font-family="sans-serif" text-anchor="middle"
 fill="{fg}" font-weight="bold">{escape(plate_no)}</text>
<rect y="318" width="640" height="42" fill="#000000" fill-opacity="0.7"/>
<text x="12" y="345" font-size="16" font-family="sans-serif" fill="#ffffff">{caption}</text>
<text x="628" y="24" font-size="14" font-family="sans-serif" fill="#ffcc00" text-anchor="end">模拟图像（演示）</text>
</svg>""".encode()
