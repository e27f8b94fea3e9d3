"""A deflate bomb for the XLSX tests: a small zip whose sheet unpacks to
hundreds of megabytes, as a hostile upload would be."""
import struct
import zlib
from pathlib import Path

MIB = 1 << 20


def deflate_bomb(path: Path, mib: int = 600,
                 member: str = "xl/worksheets/sheet1.xml") -> Path:
    """A zip holding `member`: `mib` MiB of spaces, deflated (about 3 MB).

    One MiB is compressed once and its bytes repeated: after a full flush
    the compressor starts afresh, so every MiB deflates to the same block
    (compressing all 600 MiB took about a second per test). The sizes and
    CRC are the real ones, so the file unpacks to exactly that."""
    chunk = b" " * MIB
    deflating = zlib.compressobj(1, zlib.DEFLATED, -15)
    block = deflating.compress(chunk) + deflating.flush(zlib.Z_FULL_FLUSH)
    again = deflating.compress(chunk) + deflating.flush(zlib.Z_FULL_FLUSH)
    assert again == block, "a full flush should make each MiB's block alike"
    data = block * mib + deflating.flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    size, name = mib * MIB, member.encode()
    # version 2.0, no flags, deflate, 1980-01-01 00:00; sizes below 4 GiB
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(data), size)
    local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name
    central = (b"PK\x01\x02" + struct.pack("<H", 20) + fields
               + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, 0) + name)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central),
                                      len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path
