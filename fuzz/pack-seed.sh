#!/usr/bin/env bash
# Packs a repository folder (made by tests/gen/wh-cimgen) into one input
# of fuzz_cim: five u32 lengths, then MAPPING1-3.MAP, INDEX.BTR, OBJECTS.DATA.
# usage: fuzz/pack-seed.sh REPO_DIR OUT_FILE
set -euo pipefail
python3 - "$1" "$2" <<'PY'
import os, struct, sys
d, out = sys.argv[1], sys.argv[2]
files = {f.upper(): os.path.join(d, f) for f in os.listdir(d)}
parts = [open(files[n], "rb").read() if n in files else b""
         for n in ("MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP", "INDEX.BTR", "OBJECTS.DATA")]
with open(out, "wb") as f:
    f.write(b"".join(struct.pack("<I", len(p)) for p in parts) + b"".join(parts))
PY
