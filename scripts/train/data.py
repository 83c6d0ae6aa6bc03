"""data.py - the training corpus: English text from Debian packages, one domain
per source (models/README.md lists each with its package and licence):

  fortunes    the cookies of `fortunes` and `fortunes-min` (BSD), one document each
  man-pages   the Linux man-pages of `manpages` and `manpages-dev`, rendered by mandoc
  perl-doc    Perl's manual (`perl-doc`, Artistic or GPL), rendered by pod2text,
              without the licence texts perlgpl and perlartistic
  jargon      the Jargon File 4.4.7 (`jargon-text`, public domain)
  bible       the King James Bible (`bible-kjv-text`, public domain), one document
              per chapter: the HELD-OUT DOMAIN, never trained on

None of the texts in /usr/share/common-licenses is in the corpus (the README's
outside check reads them). Long texts are cut at blank lines into documents of
at most CHUNK_CHARS characters. The split is deterministic: the held-out domain
entirely, and in the others 1 source in HELDOUT_EVERY by a hash of its name (a
man page's chunks stay together), so every run and machine gets the same split.
"""
import gzip
import hashlib
import os
import re
import subprocess

FORTUNE_DIR = "/usr/share/games/fortunes"
SKIPPED_FORTUNE_FILES = {"art", "ascii-art"}   # ASCII art, not prose
PERL_POD_DIR = "/usr/share/perl/5.36/pod"
SKIPPED_PODS = {"perlgpl.pod", "perlartistic.pod"}   # licence texts
JARGON = "/usr/share/doc/jargon-text/jargon.txt.gz"
HELDOUT_DOMAIN = "bible"
HELDOUT_EVERY = 20
CHUNK_CHARS = 4000


class Doc:
    def __init__(self, domain, source, text):
        self.domain, self.source, self.text = domain, source, text


def need(path, package):
    if not os.path.exists(path):
        raise SystemExit(f"data.py: {path} is missing: install {package} (scripts/train/setup.sh)")


def chunks(text, limit=CHUNK_CHARS):
    """text cut at blank lines into pieces of at most limit characters (a longer
    paragraph is cut at its last line break before the limit)."""
    out, cur = [], ""
    for para in re.split(r"\n\s*\n", text.strip()):
        while len(para) > limit:
            cut = para.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            out.append(para[:cut])
            para = para[cut:].lstrip("\n")
        if cur and len(cur) + 2 + len(para) > limit:
            out.append(cur)
            cur = ""
        cur = cur + "\n\n" + para if cur else para
    if cur:
        out.append(cur)
    return [c for c in out if len(c) >= 8]


def run_text(cmd):
    return subprocess.run(cmd, check=True, capture_output=True).stdout.decode("utf-8", "replace")


def fortunes():
    names = sorted(n for n in os.listdir(FORTUNE_DIR) if "." not in n and n not in SKIPPED_FORTUNE_FILES
                   and os.path.isfile(os.path.join(FORTUNE_DIR, n))) if os.path.isdir(FORTUNE_DIR) else []
    if not names:
        raise SystemExit(f"data.py: no fortune files in {FORTUNE_DIR}: install fortunes (scripts/train/setup.sh)")
    for name in names:
        with open(os.path.join(FORTUNE_DIR, name), encoding="utf-8", errors="replace") as f:
            for cookie in f.read().split("\n%\n"):
                cookie = cookie.strip("\n%").rstrip()
                if len(cookie) >= 8:
                    yield Doc("fortunes", cookie, cookie)   # a cookie is its own source


def package_files(package, pattern):
    listing = run_text(["dpkg-query", "-L", package]).split("\n")
    return sorted(p for p in listing if re.search(pattern, p) and os.path.isfile(p) and not os.path.islink(p))


def man_pages():
    pages = package_files("manpages", r"/man/man\d/.*\.gz$") + package_files("manpages-dev", r"/man/man\d/.*\.gz$")
    if not pages:
        raise SystemExit("data.py: no man pages: install manpages manpages-dev mandoc (scripts/train/setup.sh)")
    for page in pages:
        text = run_text(["mandoc", "-T", "utf8", "-O", "width=78", page])
        text = re.sub(r".\x08", "", text)   # overstrike (bold, underline)
        for c in chunks(text):
            yield Doc("man-pages", os.path.basename(page), c)


def perl_docs():
    need(PERL_POD_DIR, "perl-doc")
    for name in sorted(os.listdir(PERL_POD_DIR)):
        if name.endswith(".pod") and name not in SKIPPED_PODS:
            text = run_text(["pod2text", "-w", "78", os.path.join(PERL_POD_DIR, name)])
            for c in chunks(text):
                yield Doc("perl-doc", name, c)


def jargon():
    need(JARGON, "jargon-text")
    with gzip.open(JARGON, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    for i, c in enumerate(chunks(text)):
        lines = [ln for ln in c.split("\n") if ln.strip()]
        if sum(map(len, lines)) / max(1, len(lines)) >= 30:   # skips the index's lists of words
            yield Doc("jargon", f"jargon-{i // 10}", c)   # ten consecutive chunks share a source


def bible_chapters():
    """One document per chapter: 'Book C:V text' lines from the bible program, as
    'C:V text' lines under a 'Book C' heading."""
    verses = run_text(["bible", "-f", "-l", "0", "Gen1:1-Rev22:21"])
    chapters = {}
    for line in verses.split("\n"):
        m = re.match(r"(\d?[A-Za-z]+)(\d+):(\d+) (.*)", line)
        if m:
            key = f"{m.group(1)} {m.group(2)}"
            chapters.setdefault(key, [f"{key}\n"]).append(f"{m.group(2)}:{m.group(3)} {m.group(4)}")
    if not chapters:
        raise SystemExit("data.py: the bible program printed no verses: install bible-kjv (scripts/train/setup.sh)")
    for key, lines in chapters.items():
        yield Doc("bible", key, "\n".join(lines))


def read_documents():
    """Every document of every domain, deduplicated by text, in a fixed order."""
    seen, docs = set(), []
    for source in (fortunes, man_pages, perl_docs, jargon, bible_chapters):
        for d in source():
            if d.text not in seen:
                seen.add(d.text)
                docs.append(d)
    return docs


def is_heldout(doc):
    if doc.domain == HELDOUT_DOMAIN:
        return True
    return int(hashlib.sha1(doc.source.encode("utf-8")).hexdigest(), 16) % HELDOUT_EVERY == 0


def split_documents(docs):
    """(train, heldout) lists of Doc, order kept."""
    return [d for d in docs if not is_heldout(d)], [d for d in docs if is_heldout(d)]
