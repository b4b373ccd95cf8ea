"""The pipeline's stages; each is a small class with one entry point, `apply(df)`."""
