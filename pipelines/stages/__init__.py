"""The pipeline's stages, one file each; every one is a small class with one entry point,
`apply(df, ctx)` (pipelines/stage.py, docs/adding-a-stage.md)."""
