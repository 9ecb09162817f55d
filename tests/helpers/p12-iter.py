#!/usr/bin/env python3
"""Rewrite iteration counts in a PKCS#12 file, for tests/cli/import.bats.

usage: p12-iter.py IN OUT PASSWORD WHAT COUNT

WHAT is "mac" (the MAC's iterations), "certs" (the PBKDF2 or PBE of the
encrypted certificate bag) or "key" (that of the shrouded key bag). The
DER is re-encoded with the new lengths and the MAC is computed again (RFC
7292 appendix B; for "mac" only up to a million iterations) so that the
file is intact and only the count is hostile: building such a file with
openssl itself would take as long as reading it.
"""
import hashlib
import hmac
import sys

OID_DATA = bytes.fromhex("2a864886f70d010701")
OID_ENCRYPTED = bytes.fromhex("2a864886f70d010706")
OID_SHROUDED = bytes.fromhex("2a864886f70d010c0a0102")
OID_PBES2 = bytes.fromhex("2a864886f70d01050d")
OID_PBKDF2 = bytes.fromhex("2a864886f70d01050c")
HASHES = {bytes.fromhex("2b0e03021a"): "sha1",
          bytes.fromhex("608648016503040201"): "sha256",
          bytes.fromhex("608648016503040202"): "sha384",
          bytes.fromhex("608648016503040203"): "sha512"}


def parse(der):
    """One TLV: [tag, value] where value is a list of TLVs if constructed."""
    tag, n = der[0], der[1]
    i = 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(der[2:2 + k], "big")
        i += k
    body = der[i:i + n]
    if tag & 0x20:
        kids, j = [], 0
        while j < len(body):
            kid, used = parse(body[j:])
            kids.append(kid)
            j += used
        return [tag, kids], i + n
    return [tag, body], i + n


def encode(node):
    tag, value = node
    body = b"".join(encode(k) for k in value) if isinstance(value, list) else value
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def integer(count):
    return [0x02, count.to_bytes((count.bit_length() + 8) // 8, "big")]


def at(node, *path):
    """The node at PATH (child indexes) below NODE."""
    for i in path:
        node = node[1][i]
    return node


def set_pbe_iter(alg, count):
    """ALG is an AlgorithmIdentifier of PBES2/PBKDF2 or a PBEParameter PBE."""
    params = at(alg, 1)
    if at(alg, 0)[1] == OID_PBES2:
        assert at(params, 0, 0)[1] == OID_PBKDF2
        at(params, 0, 1)[1][1] = integer(count)
    else:
        params[1][1] = integer(count)


def p12kdf(name, password, salt, ident, iters, n):
    u, v = hashlib.new(name).digest_size, hashlib.new(name).block_size
    pw = password.encode("utf-16-be") + b"\0\0"

    def fill(data):
        size = v * ((len(data) + v - 1) // v)
        return (data * (size // len(data) + 1))[:size] if data else b""
    i = bytearray(fill(salt) + fill(pw))
    out = b""
    while len(out) < n:
        a = hashlib.new(name, bytes([ident]) * v + bytes(i)).digest()
        for _ in range(iters - 1):
            a = hashlib.new(name, a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for j in range(0, len(i), v):
            block = (int.from_bytes(i[j:j + v], "big") + b + 1) % (1 << (8 * v))
            i[j:j + v] = block.to_bytes(v, "big")
    return out[:n]


def main():
    src, dst, password, what, count = sys.argv[1:6]
    count = int(count)
    with open(src, "rb") as f:
        pfx, _ = parse(f.read())
    content = at(pfx, 1, 1, 0)            # authSafe [0] OCTET STRING
    safes, _ = parse(content[1])
    for ci in safes[1]:
        oid = at(ci, 0)[1]
        if what == "certs" and oid == OID_ENCRYPTED:
            set_pbe_iter(at(ci, 1, 0, 1, 1), count)
        if what == "key" and oid == OID_DATA:
            octets = at(ci, 1, 0)
            bags, _ = parse(octets[1])
            for bag in bags[1]:
                if at(bag, 0)[1] == OID_SHROUDED:
                    set_pbe_iter(at(bag, 1, 0, 0), count)
            octets[1] = encode(bags)
    content[1] = encode(safes)
    mac = at(pfx, 2)
    if what == "mac":
        mac[1][2] = integer(count)
    if what != "mac" or count <= 1000000:
        name = HASHES[at(mac, 0, 0, 0)[1]]
        iters = int.from_bytes(at(mac, 2)[1], "big") if len(mac[1]) > 2 else 1
        key = p12kdf(name, password, at(mac, 1)[1], 3, iters, hashlib.new(name).digest_size)
        at(mac, 0, 1)[1] = hmac.new(key, content[1], name).digest()
    with open(dst, "wb") as f:
        f.write(encode(pfx))


main()
