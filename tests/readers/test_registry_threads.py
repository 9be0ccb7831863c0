"""The reader and model registries fill once, whole, even when threads race to first use.

Before the fix the `_loaded` flag was set before the imports ran, so a second thread could look
formats up in a half-filled table ("no reader"). Run in a fresh interpreter: in this one the
registries are already full.
"""

import subprocess
import sys

SCRIPT = """
import threading
from spectype.io import registry
from spectype.models import registry as models

seen = []
barrier = threading.Barrier(8)

def use():
    barrier.wait()
    seen.append((len(registry.list_readers()), len(models.list_models())))

threads = [threading.Thread(target=use) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
full = (len(registry.list_readers()), len(models.list_models()))
assert full[0] >= 8 and full[1] >= 5, full
assert seen == [full] * 8, (seen, full)
print("ok", full)
"""


def test_registries_fill_whole_under_concurrent_first_use():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("ok")
