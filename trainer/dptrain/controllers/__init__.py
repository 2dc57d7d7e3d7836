"""Hand-written controllers for the simulated H1: behaviour policies for offline datasets and baselines."""

from .stand import StandController, StandGains, run_episode

__all__ = ["StandController", "StandGains", "run_episode"]
