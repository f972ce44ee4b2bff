"""A test double of memray's command line, for memgate's tests only.

memray cannot be installed on the machines memgate is tested on (no PyPI),
so this package stands in for `python -m memray run` and `memray stats
--json` with the behaviour memray 1.20.0 showed in the real runs kept in
../shared/data/memray: `run` executes the script in-process and passes its
exit status through, writing the capture first; `stats` needs the capture
and writes a real stats file (tests/data/memray-fake/stats-ok.json, real
output of memray 1.20.0). Nothing here is shipped or used outside tests.
"""

import os as _os

# MEMRAY_FAKE_UID_LOG=FILE: each import (memgate's probe, `run`, `stats`)
# appends the uid it runs as, so a test can see nothing ran as root.
if _os.environ.get("MEMRAY_FAKE_UID_LOG"):
    with open(_os.environ["MEMRAY_FAKE_UID_LOG"], "a", encoding="ascii") as _f:
        _f.write(f"{_os.getuid()}\n")
