"""Deploy a Qovery job from any CI pipeline and report the true verdict of that deployment."""

__version__ = "1.0.0"
