#!/usr/bin/env python3
"""Writes testdata/text/austen-passages.csv: passages of Jane Austen's six
novels, labelled with the novel, for the sequence-classification examples.

Source: the Debian package r-cran-janeaustenr 1.0.0-1 (MIT; the novels
themselves are in the public domain), whose data/Rdata.rdb holds one R
character vector (the lines of the Project Gutenberg text) per novel.
Run from the repository root, with the package's files extracted:

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb /tmp/ja
    python3 scripts/austen_passages.py /tmp/ja/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb

Each novel's lines are joined into paragraphs (blank lines separate them),
cut into sentences after '.', '!' or '?' (and a closing quote; not after
Mr., Mrs. and the like), and consecutive sentences are joined into
passages of at least MIN_WORDS words (a passage that would exceed
MAX_WORDS is dropped and the next starts afresh; no passage spans two
paragraphs); from each novel PER_NOVEL passages are drawn with Python's
random.Random(SEED), then all are shuffled together.
Only the standard library is used, so the output is the same bytes on any
machine with Python 3.
"""
import csv
import random
import re
import struct
import sys
import zlib

PER_NOVEL = 400
MIN_WORDS, MAX_WORDS = 40, 80
SEED = 1
NAMES = ["emma", "mansfield_park", "northanger_abbey", "persuasion", "pride_and_prejudice", "sense_and_sensibility"]
FIRST = ["EMMA", "MANSFIELD PARK", "NORTHANGER ABBEY", "PERSUASION", "PRIDE AND PREJUDICE", "SENSE AND SENSIBILITY"]


def objects(rdb):
    """Yields each serialized object of an R lazy-load database, inflated."""
    pos = 0
    while pos < len(rdb):
        d = zlib.decompressobj()
        yield d.decompress(rdb[pos + 4:])
        pos = len(rdb) - len(d.unused_data)


def strings(blob):
    """Reads an R XDR serialization (format 3) of a character vector."""
    assert blob[:2] == b"X\n", "not an XDR serialization"
    pos = 2 + 12
    (n,) = struct.unpack(">i", blob[pos:pos + 4])
    pos += 4 + n  # native encoding name
    flags, length = struct.unpack(">ii", blob[pos:pos + 8])
    assert flags & 0xFF == 16, "not a character vector"
    pos += 8
    out = []
    for _ in range(length):
        _, n = struct.unpack(">ii", blob[pos:pos + 8])
        pos += 8
        if n < 0:
            out.append("")
            continue
        out.append(blob[pos:pos + n].decode("utf-8"))
        pos += n
    return out


ABBREVIATION = re.compile(r"\b(Mr|Mrs|Dr|St|Messrs|Col|Capt)\.$")
SENTENCE_END = re.compile(r'(?<=[.!?])["\u201d\']?\s+(?=["\u201c\']?[A-Z])')


def sentences(lines):
    paragraphs, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paragraphs.append(" ".join(cur))
            cur = []
    if cur:
        paragraphs.append(" ".join(cur))
    out = []
    for p in paragraphs:
        if p.isupper() or p.startswith("CHAPTER") or p.startswith("Chapter"):
            continue
        parts = []
        for s in SENTENCE_END.split(p):
            if parts and ABBREVIATION.search(parts[-1]):
                parts[-1] += " " + s  # "Mr. Darcy" is one sentence
            else:
                parts.append(s)
        cur = []
        for s in parts:
            cur.append(s.strip().replace("_", ""))
            words = len(" ".join(cur).split())
            if words > MAX_WORDS:
                cur = []
            elif words >= MIN_WORDS:
                out.append(" ".join(cur))
                cur = []
    return out


def main():
    rdb = open(sys.argv[1], "rb").read()
    novels = {}
    for blob in objects(rdb):
        lines = strings(blob)
        title = next(l for l in lines if l.strip()).strip().upper()
        novels[NAMES[FIRST.index(title)]] = lines
    rng = random.Random(SEED)
    rows = []
    for name in NAMES:
        rows += [(name, s) for s in rng.sample(sentences(novels[name]), PER_NOVEL)]
    rng.shuffle(rows)
    with open("testdata/text/austen-passages.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["novel", "text"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
