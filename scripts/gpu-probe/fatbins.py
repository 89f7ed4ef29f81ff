#!/usr/bin/env python3
"""CUDA fat binaries inside a shared library (e.g. ND4J's libnd4jcuda.so): which GPU architectures it has code for.

  fatbins.py list LIB.so              counts of SASS (elf) and PTX entries per architecture
  fatbins.py extract LIB.so DIR [N]   writes the N smallest containers and a median-sized one to DIR/*.fatbin

Reads the ELF section .nv_fatbin; each container: magic 0xBA55ED50, version, header size, entries size; each entry:
kind (1 PTX, 2 ELF), header size, payload size, architecture at offset 28. The Java twin is FatbinScanner.
"""
import collections
import struct
import sys

MAGIC = 0xBA55ED50


def nv_fatbin(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        sys.exit(f'{path}: not a 64-bit ELF file')
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3A)
    def section(i):
        return struct.unpack_from('<IIQQQQ', data, shoff + i * shentsize)
    strtab = section(shstrndx)
    for i in range(shnum):
        name_off, _, _, _, off, size = section(i)
        start = strtab[4] + name_off
        name = data[start:data.index(b'\0', start)].decode()
        if name == '.nv_fatbin':
            return data[off:off + size]
    sys.exit(f'{path}: no .nv_fatbin section (no CUDA device code)')


def containers(sec):
    pos = 0
    while pos + 16 <= len(sec):
        magic, version, hsize, size = struct.unpack_from('<IHHQ', sec, pos)
        if magic != MAGIC:
            pos += 8
            continue
        yield pos, hsize + size
        pos += hsize + size
        pos += (8 - pos % 8) % 8


def entries(sec, pos, length):
    p, end = pos + 16, pos + length
    while p < end:
        kind, _, ehsize, psize = struct.unpack_from('<HHIQ', sec, p)
        arch, = struct.unpack_from('<I', sec, p + 28)
        yield {1: 'ptx', 2: 'sass'}.get(kind, str(kind)), arch, psize
        p += ehsize + psize


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('list', 'extract'):
        sys.exit(__doc__)
    sec = nv_fatbin(sys.argv[2])
    conts = list(containers(sec))
    if sys.argv[1] == 'list':
        count, size = collections.Counter(), collections.Counter()
        for pos, length in conts:
            for kind, arch, psize in entries(sec, pos, length):
                count[kind, arch] += 1
                size[kind, arch] += psize
        print(f'{len(conts)} fat binaries in .nv_fatbin ({len(sec)} bytes)')
        for key in sorted(count):
            print(f'{key[0]:4} sm_{key[1]}: {count[key]} entries, {size[key] / 2**20:.0f} MiB')
        if not any(kind == 'ptx' for kind, _ in count):
            print('no PTX: runs only on GPUs whose major compute capability matches a SASS entry')
    else:
        out, n = sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 3
        by_size = sorted(conts, key=lambda c: c[1])
        for i, (pos, length) in enumerate(by_size[:n] + [by_size[len(by_size) // 2]]):
            with open(f'{out}/nd4j-{i}-{length}.fatbin', 'wb') as f:
                f.write(sec[pos:pos + length])
        print(f'wrote {n + 1} of {len(conts)} containers to {out}')


if __name__ == '__main__':
    main()
