"""dptrain: diffusion-policy reinforcement learning for the Unitree H1, exported as policy packages."""

__version__ = "0.1.0"
