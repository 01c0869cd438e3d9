"""ctcbias.model."""
