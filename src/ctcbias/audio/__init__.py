"""ctcbias.audio."""
