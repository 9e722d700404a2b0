#!/usr/bin/env python3
"""vssgen: gives an NTFS volume image one volume shadow copy, so the disk
image tests can read a snapshot without Windows. Test-only.

usage: vssgen.py OLD NEW OUT [--time FILETIME]

OLD and NEW are volume images of the same size (NEW is the volume as it is
now, OLD as it was when the snapshot was taken). OUT is NEW with, written
into its free tail, what Windows' software provider keeps: the VSS volume
header at 0x1e00, a catalog (one type-2 and one type-3 entry), a store
header with its store information, a block list mapping every 16 KiB block
that differs from OLD to a copy of OLD's block, and a store bitmap marking
the store's own blocks unused at snapshot time. Read through libvshadow,
the store is byte for byte OLD.

Layout after the libyal format documentation ("Volume Shadow Snapshot (VSS)
format", libvshadow/documentation), checked against the Debian 12 library
(20190323): only the checks it makes are met, nothing more is claimed. One
store; fewer than 508 changed blocks (one block-list block)."""
import argparse
import struct
import sys
import uuid

BLOCK = 0x4000
VSS_ID = uuid.UUID("3808876b-c176-4e48-b7ae-04046e6cc752").bytes_le
STORE_CONTEXT = 0x0042000D  # persistent, client-accessible, no auto release, differential, auto-recover


def block_header(rtype, rel, cur, nxt, extra=b""):
    h = VSS_ID + struct.pack("<IIQQQ", 1, rtype, rel, cur, nxt) + extra
    return h + bytes(128 - len(h))


def build(old, cur, created, host="WS-FIN-07.corp.example.com"):
    size = len(cur)
    nblocks = size // BLOCK
    diff = [b for b in range(nblocks) if old[b * BLOCK:(b + 1) * BLOCK] != cur[b * BLOCK:(b + 1) * BLOCK]]
    if 0 not in diff:  # the header at 0x1e00 changes block 0
        diff.insert(0, 0)
    if len(diff) > (BLOCK - 128) // 32:
        sys.exit("vssgen: %d blocks differ, more than one block list holds" % len(diff))
    # The store's own blocks (catalog, header, list, bitmap, data) at the end,
    # before the last block (the backup boot sector).
    first = nblocks - 1 - 4 - len(diff)
    area = list(range(first, nblocks - 1))
    for b in area:
        if old[b * BLOCK:(b + 1) * BLOCK] != bytes(BLOCK) or b in diff:
            sys.exit("vssgen: block %d of the free tail is in use: make the volumes larger" % b)
    cat, hdr, lst, bmp = (b * BLOCK for b in area[:4])
    data = area[4:]
    descs = []
    for i, b in enumerate(diff):
        d = data[i] * BLOCK
        cur[d:d + BLOCK] = old[b * BLOCK:(b + 1) * BLOCK]
        descs.append(struct.pack("<QQQII", b * BLOCK, d - hdr, d, 0, 0))
    vh = VSS_ID + struct.pack("<IIQQQQQ", 1, 1, 0x1E00, 0x1E00, 0, cat, 0)
    vh += uuid.uuid4().bytes_le + uuid.uuid4().bytes_le
    cur[0x1E00:0x2000] = vh + bytes(512 - len(vh))
    store_id = uuid.uuid4()
    e2 = struct.pack("<QQ", 2, size) + store_id.bytes_le + struct.pack("<QQQ", 1, 0x40, created)
    e3 = struct.pack("<QQ", 3, lst) + store_id.bytes_le + struct.pack("<QQQQQQ", hdr, 0, bmp, 0, 0, 0)
    c = block_header(2, 0, cat, 0) + e2 + bytes(128 - len(e2)) + e3 + bytes(128 - len(e3))
    cur[cat:cat + BLOCK] = c + bytes(BLOCK - len(c))
    shadow_id, set_id = uuid.uuid4(), uuid.uuid4()
    m = host.encode("utf-16-le")
    info = uuid.uuid4().bytes_le + shadow_id.bytes_le + set_id.bytes_le
    info += struct.pack("<IIII", 0, 0, STORE_CONTEXT, 0)
    info += struct.pack("<H", len(m)) + m + struct.pack("<H", len(m)) + m
    h = block_header(4, 0, hdr, 0, struct.pack("<Q", len(info))) + info
    cur[hdr:hdr + BLOCK] = h + bytes(BLOCK - len(h))
    bl = block_header(3, lst - hdr, lst, 0) + b"".join(descs)
    cur[lst:lst + BLOCK] = bl + bytes(BLOCK - len(bl))
    bits = bytearray(BLOCK - 128)
    for b in area:  # unused when the snapshot was taken: they read as zeros in it
        bits[b // 8] |= 1 << (b % 8)
    cur[bmp:bmp + BLOCK] = block_header(6, bmp - hdr, bmp, 0) + bits
    return store_id, len(diff)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("out")
    ap.add_argument("--time", type=int, default=133595832000000000, help="FILETIME the copy was taken")
    a = ap.parse_args(argv)
    old = bytearray(open(a.old, "rb").read())
    cur = bytearray(open(a.new, "rb").read())
    if len(old) != len(cur) or len(cur) % BLOCK:
        sys.exit("vssgen: OLD and NEW must be the same size, a multiple of 16 KiB")
    store, n = build(old, cur, a.time)
    with open(a.out, "wb") as f:
        f.write(cur)
    print("store {%s}: %d block(s) kept" % (store, n))


if __name__ == "__main__":
    main(sys.argv[1:])
