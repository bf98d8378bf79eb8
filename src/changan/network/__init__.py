"""畅安 road network: a directed expressway graph loaded from a documented YAML file.

The default network is Liaocheng (聊城), shipped as package data (``data/liaocheng.yaml``);
``Network.load_default()`` returns it. The file format is described in this package's
``README.md``. Most positions and segment lengths in the default data are estimated; every
record says so in its ``estimated`` flag, and every fact carries its ``source``.

Typical use::

    from changan.network import Network, vehicle_group

    net = Network.load_default()
    for ahead in net.stations_downstream(site_id, group=vehicle_group("H21"), max_m=60_000):
        print(ahead.station.name, ahead.distance_m, round(ahead.free_flow_s))
"""

from changan.network.graph import TURN_NODE_KINDS, Network
from changan.network.model import (
    LEGAL_MAX_KMH,
    Edge,
    Neighbour,
    NetworkError,
    Node,
    NodeKind,
    Road,
    Site,
    SiteKind,
    Station,
    StationAhead,
    VehicleGroup,
    vehicle_group,
)

__all__ = [
    "LEGAL_MAX_KMH",
    "TURN_NODE_KINDS",
    "Edge",
    "Neighbour",
    "Network",
    "NetworkError",
    "Node",
    "NodeKind",
    "Road",
    "Site",
    "SiteKind",
    "Station",
    "StationAhead",
    "VehicleGroup",
    "vehicle_group",
]
