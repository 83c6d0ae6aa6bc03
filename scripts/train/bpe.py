"""bpe.py - a byte-level BPE tokenizer (GPT-2 style), trained here and stored in
the GGUF as tokenizer.ggml.model "gpt2", pre "gpt2", which our runtime's
runtime/tokenizer_bpe.c encodes with the same pre-tokenizer regex and merges.

Ids: 0 is <|endoftext|> (BOS and EOS, a control token), 1..256 are the 256
bytes (in byte order, written as GPT-2's printable stand-ins), then one token
per merge, in merge order.
"""
import collections
import heapq
import json

import regex

# Hugging Face's GPT-2 ByteLevel split, as runtime/tokenizer_bpe.c's GPT2_PATTERN.
GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
SPECIAL = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's map of each byte to a printable character."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


BYTE_CHARS = bytes_to_unicode()


def words_of(text):
    """The pre-tokenized words of text, each as its byte stand-in string."""
    return ["".join(BYTE_CHARS[b] for b in w.encode("utf-8")) for w in GPT2_PATTERN.findall(text)]


def train(texts, vocab_size):
    """Learns vocab_size - 257 merges from texts; returns a Tokenizer."""
    counts = collections.Counter()
    for t in texts:
        counts.update(words_of(t))
    words = [list(w) for w in counts]
    freq = [counts[w] for w in counts]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)   # pair -> indexes of words holding it
    for i, syms in enumerate(words):
        for a, b in zip(syms, syms[1:]):
            pair_count[a, b] += freq[i]
            where[a, b].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < vocab_size - 257 and heap:
        c, pair = heapq.heappop(heap)
        if -c != pair_count.get(pair, 0):
            if pair_count.get(pair, 0) > 0:
                heapq.heappush(heap, (-pair_count[pair], pair))
            continue
        if -c < 2:
            break
        merges.append(pair)
        merged = pair[0] + pair[1]
        touched = set()
        for i in sorted(where.pop(pair, ())):
            syms, f = words[i], freq[i]
            for a, b in zip(syms, syms[1:]):
                pair_count[a, b] -= f
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == pair[0] and syms[j + 1] == pair[1]:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            words[i] = out
            for a, b in zip(out, out[1:]):
                pair_count[a, b] += f
                where[a, b].add(i)
                touched.add((a, b))
        pair_count.pop(pair, None)
        for p in touched:
            if pair_count[p] > 0:
                heapq.heappush(heap, (-pair_count[p], p))
    return Tokenizer(merges)


class Tokenizer:
    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.tokens = [SPECIAL] + [BYTE_CHARS[b] for b in range(256)] + [a + b for a, b in self.merges]
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.rank = {m: r for r, m in enumerate(self.merges)}
        self.bos = self.eos = 0
        self.cache = {}

    def encode_word(self, word):
        ids = self.cache.get(word)
        if ids is not None:
            return ids
        syms = list(word)
        while len(syms) > 1:
            best = min(range(len(syms) - 1), key=lambda j: self.rank.get((syms[j], syms[j + 1]), 1 << 30))
            if (syms[best], syms[best + 1]) not in self.rank:
                break
            syms[best:best + 2] = [syms[best] + syms[best + 1]]
        ids = [self.ids[s] for s in syms]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        out = []
        for w in words_of(text):
            out.extend(self.encode_word(w))
        return out

    def decode(self, ids):
        inverse = {c: b for b, c in BYTE_CHARS.items()}
        data = bytearray()
        for i in ids:
            if i != self.eos:
                data.extend(inverse[c] for c in self.tokens[i])
        return data.decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"merges": [list(m) for m in self.merges]}, f)

    @staticmethod
    def load(path):
        with open(path) as f:
            return Tokenizer(json.load(f)["merges"])
