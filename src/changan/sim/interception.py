"""The interception model the dispatch planner is judged by.

Officers of a staffed station need a time to get in position, drawn from a
lognormal distribution (by default median 4 minutes, 90th percentile 8
minutes); a vehicle is stopped if it reaches the station after they are in
position.
"""

from __future__ import annotations

import math
import random

from changan.sim.scenario import InterceptionSpec

Z90 = 1.2815515655446004  # the standard normal's 90th percentile


def lognormal_params(spec: InterceptionSpec) -> tuple[float, float]:
    """(mu, sigma) of the position time's logarithm."""
    mu = math.log(spec.position_median_s)
    return mu, (math.log(spec.position_p90_s) - mu) / Z90


def position_time_s(spec: InterceptionSpec, rng: random.Random) -> float:
    mu, sigma = lognormal_params(spec)
    return rng.lognormvariate(mu, sigma)


def stopped(lead_time_s: float, position_s: float) -> bool:
    """Whether a vehicle arriving ``lead_time_s`` after the instruction is stopped."""
    return lead_time_s >= position_s


def stop_probability(spec: InterceptionSpec, lead_time_s: float) -> float:
    """P(officers are in position within ``lead_time_s``): the lognormal CDF."""
    if lead_time_s <= 0:
        return 0.0
    mu, sigma = lognormal_params(spec)
    return 0.5 * (1 + math.erf((math.log(lead_time_s) - mu) / (sigma * math.sqrt(2))))
