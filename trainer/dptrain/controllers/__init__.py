"""Hand-written controllers for the simulated H1: behaviour policies for offline datasets and baselines."""

from .stand import StandController, StandGains, run_episode
from .walk import WalkController, WalkGains

__all__ = ["StandController", "StandGains", "WalkController", "WalkGains", "run_episode"]
