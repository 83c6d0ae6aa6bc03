"""data.py - the training corpus: the English fortune cookies that Debian's
`fortunes` and `fortunes-min` packages ship (BSD licence, see
/usr/share/doc/fortunes/copyright), one document per cookie.

Documents are split deterministically into train and held-out sets by a hash of
their text, so every run (and every machine) gets the same split.
"""
import hashlib
import os

FORTUNE_DIR = "/usr/share/games/fortunes"
# ASCII-art collections are not prose; everything else in the directory is English text.
SKIPPED_FILES = {"art", "ascii-art"}
HELDOUT_EVERY = 20   # about 1 document in HELDOUT_EVERY is held out


def fortune_files(directory=FORTUNE_DIR):
    names = sorted(n for n in os.listdir(directory)
                   if "." not in n and n not in SKIPPED_FILES and os.path.isfile(os.path.join(directory, n)))
    if not names:
        raise SystemExit(f"no fortune files in {directory}: run scripts/train/setup.sh")
    return [os.path.join(directory, n) for n in names]


def read_documents(directory=FORTUNE_DIR):
    """Every cookie (text between lines holding only '%'), stripped, deduplicated, in file order."""
    seen, docs = set(), []
    for path in fortune_files(directory):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for doc in text.split("\n%\n"):
            doc = doc.strip("\n%").rstrip()
            if len(doc) >= 8 and doc not in seen:
                seen.add(doc)
                docs.append(doc)
    return docs


def is_heldout(doc):
    return int(hashlib.sha1(doc.encode("utf-8")).hexdigest(), 16) % HELDOUT_EVERY == 0


def split_documents(docs):
    """(train, heldout) lists, order kept."""
    train = [d for d in docs if not is_heldout(d)]
    heldout = [d for d in docs if is_heldout(d)]
    return train, heldout
