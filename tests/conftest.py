"""Hypothesis profiles: "dev" (quick, the default) and "ci" (thorough; CI=true selects it)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "dev"))
