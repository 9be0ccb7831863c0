"""Cluster back-ends: Ray for ingest and batch classification (training uses torchrun + DDP).

The engine itself is `spectype.parallel.map_files(..., backend="ray")`; this package keeps the
classify entry point the CLI uses."""
