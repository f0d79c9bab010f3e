#!/usr/bin/env python3
"""Builds the must-fail corpus (must-fail/*/) from the golden segments.

Each case is a directory holding one segment that a reader must refuse
with the error named in EXPECT (a line: the SL_* code name and a word of
the message).  Damage that keeps checksums valid is made by recomputing
them, so the checks behind the checksums are exercised too.
Run from tests/log/golden: python3 make_must_fail.py
"""
import os
import shutil

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def varint(buf, pos):
    v = shift = 0
    while True:
        b = buf[pos]; pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, pos

def put_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80); v >>= 7
    out.append(v)
    return bytes(out)

def parse_header(seg, off):
    """Returns the field offsets of the record header at off."""
    p = off + 3
    f = {'kind': seg[off + 2]}
    for name in ('payload_len', 'raw_len', 'first_seq', 'n_commits', 'n_events'):
        f[name + '@'] = p
        f[name], p = varint(seg, p)
    f['time_first@'] = p; p += 8
    f['span'], p = varint(seg, p)
    f['prev_crc@'] = p; f['chain_out@'] = p + 4; f['crc@'] = p + 8
    f['len'] = p + 12 - off
    return f

def fix_crc(seg, off):
    f = parse_header(seg, off)
    crc = crc32c(bytes(seg[off:f['crc@']]))
    if f['kind'] == 2:
        crc = crc32c(bytes(seg[off + f['len']:off + f['len'] + f['payload_len']]), crc)
    seg[f['crc@']:f['crc@'] + 4] = crc.to_bytes(4, 'little')

def fix_raw(seg, off):
    """Recomputes a raw record's commit crc (chain_out), then its header crc."""
    f = parse_header(seg, off)
    p = f['time_first@']
    t0 = int.from_bytes(seg[p:p + 8], 'little')
    prev = seg[f['prev_crc@']:f['prev_crc@'] + 4]
    payload = bytes(seg[off + f['len']:off + f['len'] + f['payload_len']])
    data = (bytes(prev) + f['first_seq'].to_bytes(8, 'little') + f['n_events'].to_bytes(4, 'little')
            + t0.to_bytes(8, 'little') + (t0 + f['span']).to_bytes(8, 'little') + payload)
    seg[f['chain_out@']:f['chain_out@'] + 4] = crc32c(data).to_bytes(4, 'little')
    fix_crc(seg, off)

def case(name, src, expect, mutate):
    seg = bytearray(open(src + '/00000000000000000001.seg', 'rb').read())
    mutate(seg)
    d = 'must-fail/' + name
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    open(d + '/00000000000000000001.seg', 'wb').write(seg)
    open(d + '/EXPECT', 'w').write(expect + '\n')

def flip(off, bit=1):
    def m(seg):
        seg[off] ^= bit
    return m

def newer_version(seg):
    seg[8:12] = (2).to_bytes(4, 'little')
    seg[60:64] = crc32c(bytes(seg[0:60])).to_bytes(4, 'little')

def second_record(seg):
    f = parse_header(seg, 64)
    return 64 + f['len'] + f['payload_len']

def chain_broken(seg):
    off = second_record(seg)
    f = parse_header(seg, off)
    p = f['prev_crc@']
    seg[p] ^= 0x55
    fix_raw(seg, off)

def seq_skipped(seg):
    off = second_record(seg)
    f = parse_header(seg, off)
    old = seg[f['first_seq@']]
    assert old < 0x7F
    seg[f['first_seq@']] = old + 1
    fix_raw(seg, off)

def packed_garbage(seg):
    f = parse_header(seg, 64)
    start = 64 + f['len'] + 8
    for i in range(start, start + 32):
        seg[i] ^= 0xA5
    fix_crc(seg, 64)

def raw_len_huge(seg):
    f = parse_header(seg, 64)
    p = f['raw_len@']
    size = len(put_varint(f['raw_len']))
    seg[p:p + size] = put_varint(0x7FFFFFF0)[:size] if size >= 5 else seg[p:p + size]
    if size < 5:
        # widen: rebuild the header with the huge raw length
        hdr = seg[64:64 + f['len']]
        rest = seg[64 + f['len']:]
        new = bytearray(hdr[:3]) + put_varint(f['payload_len']) + put_varint(0x7FFFFFF0)
        q = f['raw_len@'] - 64 + size
        new += hdr[q:]
        seg[64:] = new + rest
    fix_crc(seg, 64)

def time_backwards(seg):
    off = second_record(seg)
    f = parse_header(seg, off)
    p = f['time_first@']
    t = int.from_bytes(seg[p:p + 8], 'little') - 10_000_000
    seg[p:p + 8] = t.to_bytes(8, 'little')
    fix_raw(seg, off)

case('bad-segment-magic', 'v1-raw', 'SL_ECORRUPT magic', flip(0))
case('newer-version', 'v1-raw', 'SL_EVERSION newer', newer_version)
case('segment-header-crc', 'v1-raw', 'SL_ECORRUPT checksum', flip(33))
case('record-crc', 'v1-raw', 'SL_ECORRUPT checksum', flip(64 + 20))
case('raw-payload', 'v1-raw', 'SL_ECORRUPT checksum', flip(64 + 60))
case('chain-broken', 'v1-raw', 'SL_ECORRUPT chain', chain_broken)
case('sequence-skipped', 'v1-raw', 'SL_ECORRUPT sequence', seq_skipped)
case('time-backwards', 'v1-raw', 'SL_ECORRUPT time', time_backwards)
case('packed-garbage', 'v1-packed', 'SL_ECORRUPT decode', packed_garbage)
case('packed-raw-len-huge', 'v1-packed', 'SL_ECORRUPT range', raw_len_huge)
