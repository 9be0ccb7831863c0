"""Accuracy on real spectra: held-out and cross-release, against baselines fitted in the same run."""
