"""Hostile and unlucky inputs: bombs, drips, wrong kinds of file, reaching configuration."""
