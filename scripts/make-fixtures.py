#!/usr/bin/python3
"""Makes the .torrent fixtures in test/fixtures/torrents with Debian's python3-libtorrent.

Run with Debian's interpreter (the one that has the libtorrent module):

    /usr/bin/python3 scripts/make-fixtures.py

It writes v1 single-file, v1 multi-file, hybrid (v1 + v2) and v2-only torrents of small,
deterministic content, and expected.json with the hashes libtorrent computes for each:
`original` for the file as made, `site` for its info dictionary after OpenTracker's upload
rewrite (private=1, source=SOURCE), so the tests can prove our hashes equal libtorrent's.
The content itself is not kept (the torrents describe it; nothing downloads it).
"""
import hashlib
import json
import os
import shutil
import tempfile

import libtorrent as lt

SOURCE = "OpenTracker-fixtures"
CREATION_DATE = 1764028800  # 2025-11-25T00:00:00Z, fixed so the files are reproducible
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torrents")


def content(seed: str, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def write_tree(base: str, files: dict) -> None:
    for rel, size in files.items():
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content(rel, size))


def make(work: str, top: str, files: dict, piece_size: int, flags: int, comment: str) -> bytes:
    write_tree(work, files)
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(work, top))
    ct = lt.create_torrent(fs, piece_size, flags)
    ct.set_creator("libtorrent fixture maker")
    ct.set_comment(comment)
    lt.set_piece_hashes(ct, work)
    entry = ct.generate()
    entry[b"creation date"] = CREATION_DATE
    return lt.bencode(entry)


def hashes_of(data: bytes) -> dict:
    ti = lt.torrent_info(lt.bdecode(data))
    ih = ti.info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else None
    v2 = str(ih.v2) if ih.has_v2() else None
    return {"v1": v1, "v2": v2, "files": ti.num_files(), "size": ti.total_size()}


def site_rewrite(data: bytes) -> bytes:
    torrent = lt.bdecode(data)
    torrent[b"info"][b"private"] = 1
    torrent[b"info"][b"source"] = SOURCE.encode()
    return lt.bencode(torrent)


def main() -> None:
    os.makedirs(ROOT, exist_ok=True)
    specs = [
        ("v1-single", "single.bin", {"single.bin": 100_000}, 16384, lt.create_torrent.v1_only),
        ("v1-multi", "multi", {"multi/a.txt": 40_000, "multi/sub/b.bin": 70_000, "multi/sub/c": 5}, 16384, lt.create_torrent.v1_only),
        ("hybrid", "hybrid", {"hybrid/big.bin": 50_000, "hybrid/small.txt": 3_000, "hybrid/z/tail.bin": 20_000}, 16384, 0),
        ("v2-only", "v2", {"v2/one.bin": 40_000, "v2/two.bin": 9_000}, 16384, lt.create_torrent.v2_only),
    ]
    expected = {"source": SOURCE}
    for name, top, files, piece, flags in specs:
        work = tempfile.mkdtemp(prefix="otfix-")
        try:
            data = make(work, top, files, piece, flags, f"OpenTracker test fixture {name}")
        finally:
            shutil.rmtree(work)
        with open(os.path.join(ROOT, f"{name}.torrent"), "wb") as f:
            f.write(data)
        expected[name] = {
            "original": hashes_of(data),
            "site": hashes_of(site_rewrite(data)),
            "files": [[rel, size] for rel, size in sorted(files.items())],
        }
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(specs)} torrents and expected.json to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
