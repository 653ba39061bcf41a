"""memportal's memory service: the only package that imports mem0.

Reads live in ``selectors``, writes in ``services``; both take the acting membership
(derived from ``request.user`` or an app key by the ``tenancy`` helpers) and build the
mem0 scope themselves. Nothing outside this package can name a mem0 ``user_id``.
"""

import os
from pathlib import Path

# mem0 reads these when it is imported: telemetry off, and its folder ours (it writes a
# config.json there even with telemetry off). Set here as well as in settings so that no
# import order can leave them unset.
os.environ["MEM0_TELEMETRY"] = "False"
if not os.environ.get("MEM0_DIR"):
    os.environ["MEM0_DIR"] = str(Path(__file__).resolve().parents[2] / ".data" / "mem0")
