"""ctcbias.train: base model training (CPU, CUDA, DDP), augmentation, targets.

Importing this package needs only torch, numpy, sentencepiece and soundfile.
"""
