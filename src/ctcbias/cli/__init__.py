"""ctcbias.cli."""
