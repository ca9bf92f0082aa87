"""Shared test settings: hypothesis without deadlines (the machine is shared and noisy)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")
