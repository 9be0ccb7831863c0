"""One batch engine: run a task on many files in worker processes or Ray tasks.

`map_files(task, files, backend="local"|"ray")` is what the catalogue scan, pack building and
classify share; see mapping.py for the task protocol.
"""

from .mapping import BACKENDS, Failed, map_files, run_chunk

__all__ = ["BACKENDS", "Failed", "map_files", "run_chunk"]
