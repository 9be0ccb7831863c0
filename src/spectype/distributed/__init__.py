"""Cluster back-ends: Ray for ingest and batch classification (training uses torchrun + DDP)."""
