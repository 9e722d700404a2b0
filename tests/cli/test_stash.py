#!/usr/bin/env python3
"""Stored payloads end to end (issue 11 point 4, T1027.011): `wh-cimgen
stash` writes a repository whose class default holds base64 of a PE this
test builds, an instance holding a PowerShell loader and the same PE as a
uint8 array, and a class default holding a benign certificate. `wmihunt
hunt --format jsonl` must report the PE (WH-CIM-030, class and property
named, size and sha256 equal to what Python computed from its own bytes),
the script (WH-CIM-031), and nothing above info for the certificate. Then
the real repositories of ../shared/corpus: no stash finding above low.

usage: test_stash.py WMIHUNT WH_CIMGEN SCRATCH CORPUS"""
import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, finish  # noqa: E402

SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
STASH_RULES = ("WH-CIM-030", "WH-CIM-031", "WH-CIM-032")


def noise(n, seed):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed, i)).digest()
        i += 1
    return out[:n]


def make_pe(n=1536):
    """DOS header and stub, PE header (x64 DLL, 4 sections), noise."""
    b = bytearray(noise(n, b"pe"))
    b[0:0x40] = bytes(0x40)
    b[0:4] = b"MZ\x90\x00"  # e_cblp 0x90, as linkers write it: base64 "TVqQ"
    struct.pack_into("<I", b, 0x3C, 0x80)
    msg = b"This program cannot be run in DOS mode."
    b[0x4E:0x4E + len(msg)] = msg
    b[0x80:0x80 + 24 + 0xF0] = bytes(24 + 0xF0)
    b[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<HH", b, 0x84, 0x8664, 4)
    struct.pack_into("<HH", b, 0x94, 0xF0, 0x2022)
    struct.pack_into("<H", b, 0x98, 0x20B)
    struct.pack_into("<H", b, 0x98 + 68, 2)
    return bytes(b)


def tlv(tag, v):
    n = len(v)
    if n < 0x80:
        hdr = bytes([tag, n])
    elif n < 0x100:
        hdr = bytes([tag, 0x81, n])
    else:
        hdr = bytes([tag, 0x82, n >> 8, n & 0xFF])
    return hdr + v


def make_cert():
    """The shape of an X.509 certificate (DER): what lib/stash checks."""
    oid = bytes.fromhex("06092a864886f70d01010b")
    tbs = tlv(0xA0, bytes.fromhex("020102")) + tlv(0x02, bytes([0x11]) + noise(15, b"serial"))
    tbs += tlv(0x30, oid + b"\x05\x00") + tlv(0x04, noise(500, b"names-and-key"))
    return tlv(0x30, tlv(0x30, tbs) + tlv(0x30, oid + b"\x05\x00") + tlv(0x03, b"\x00" + noise(256, b"sig")))


def hunt(wm, path, *extra):
    p = subprocess.run([wm, "hunt", "--no-progress", "-v", "--format", "jsonl"] + list(extra) + [path],
                       capture_output=True, text=True)
    recs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    return p.returncode, recs, p.stderr


def scan_note(err):
    for line in err.splitlines():
        if "stored-payload scan:" in line:
            return line.split("stored-payload scan:", 1)[1].strip()
    return None


def main():
    wm, gen, scratch, corpus = sys.argv[1:5]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    pe, cert = make_pe(), make_cert()
    pe_sha, cert_sha = hashlib.sha256(pe).hexdigest(), hashlib.sha256(cert).hexdigest()
    check(base64.b64encode(pe).startswith(b"TVqQ"), "the PE's base64 starts TVqQ")
    check(base64.b64encode(cert).startswith(b"MII"), "the certificate's base64 starts MII")
    pf, cf = os.path.join(scratch, "payload.dll"), os.path.join(scratch, "vendor.cer")
    with open(pf, "wb") as f:
        f.write(pe)
    with open(cf, "wb") as f:
        f.write(cert)
    repo = os.path.join(scratch, "Repository")
    p = subprocess.run([gen, "stash", repo, pf, cf], capture_output=True, text=True)
    check(p.returncode == 0, "wh-cimgen stash wrote the repository (%s)" % p.stderr.strip())

    tl = os.path.join(scratch, "timeline.jsonl")
    rc, recs, err = hunt(wm, repo, "--timeline", tl)
    check(rc == 1, "hunt exits 1: cases at high (got %d; %s)" % (rc, err.strip()[-300:]))
    finds = [r for r in recs if r.get("artifact") == "hunt.finding"]
    note = scan_note(err)
    check(note is not None and "hit(s)" in note, "the scan says what it classified: %s" % note)

    def stash(rule, needle):
        return [f for f in finds if f.get("rule") == rule and needle in (f.get("evidence") or "")]

    default = stash("WH-CIM-030", "root\\cimv2:Win32_PerfCacheData.Data (class default)")
    check(len(default) == 1, "WH-CIM-030 on the class default Win32_PerfCacheData.Data (%d)" % len(default))
    if default:
        ev = default[0]["evidence"]
        check("base64-pe, %d bytes, sha256 %s" % (len(pe), pe_sha) in ev,
              "its size and sha256 are the PE's (%d, %s): %s" % (len(pe), pe_sha, ev))
        check(default[0]["severity"] == "high", "WH-CIM-030 is high")
        check("T1027.011" in default[0]["attack"], "WH-CIM-030 names T1027.011")
    raw = stash("WH-CIM-030", "Win32_UpdateCfg.Blob (Win32_UpdateCfg.Name=\"cfg\")")
    check(len(raw) == 1 and "pe, %d bytes, sha256 %s" % (len(pe), pe_sha) in raw[0]["evidence"],
          "WH-CIM-030 on the instance's uint8[] Blob, same size and sha256: %s" % [f["evidence"] for f in raw])
    code = stash("WH-CIM-031", "Win32_UpdateCfg.Code (Win32_UpdateCfg.Name=\"cfg\"): script")
    check(len(code) == 1 and code[0]["severity"] == "high", "WH-CIM-031 on the instance's Code")
    certs = [f for f in finds if "Vendor_SigningCert" in (f.get("evidence") or "") and SEV[f["severity"]] > 0]
    check(not certs, "nothing above info for the certificate: %s" % [f["rule"] for f in certs])
    # The certificate was looked at and recognised, not missed.
    with open(tl) as f:
        rows = [json.loads(x) for x in f if x.strip()]
    kg = [r for r in rows if r.get("artifact") == "cim.stored_payload" and "Vendor_SigningCert" in r["message"]]
    check(len(kg) == 1 and "base64-certificate" in kg[0]["message"] and "(known-good)" in kg[0]["message"]
          and cert_sha in kg[0]["message"], "the certificate is a known-good stored value: %s" % kg)
    check(all(r["timestamp_desc"] in ("class_defined (default)", "instance_written") for r in rows
              if r.get("artifact") == "cim.stored_payload"), "stored-payload times are labelled")

    # Real repositories: clean, or holding only the KillProcess consumer.
    real = [os.path.join(corpus, "cim", "DFIRArtifactMuseum", d)
            for d in sorted(os.listdir(os.path.join(corpus, "cim", "DFIRArtifactMuseum")))] \
        if os.path.isdir(os.path.join(corpus, "cim", "DFIRArtifactMuseum")) else []
    fox = os.path.join(corpus, "cim", "fox-it_dissect.cim")
    if os.path.isdir(fox):
        real.append(fox)
    if not real:
        print("corpus absent (%s): real repositories not checked" % corpus)
    for d in real:
        rc, recs, err = hunt(wm, d)
        over = [f for f in recs if f.get("artifact") == "hunt.finding" and f.get("rule") in STASH_RULES
                and SEV[f["severity"]] > SEV["low"]]
        check(not over, "%s: no stash finding above low: %s" % (d, [f.get("evidence") for f in over][:3]))
        n = scan_note(err)
        check(n is not None, "%s: scanned (%s)" % (d, n))
        print("%s: %s" % (os.path.basename(d), n))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
