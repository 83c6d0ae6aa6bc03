/* tokenizer_merge.h - the pair-merging loop shared by both BPE flavours.
 *
 * The text starts as one symbol per UTF-8 character. Every adjacent pair that
 * may merge gets a priority from the caller (SentencePiece: minus the merged
 * token's score; byte-level BPE: the merge rank); the best pair (lowest
 * priority, leftmost on ties) merges, its new neighbours are scored, and so on
 * until no pair may merge. A heap keeps this O(n log n), so long texts are fine.
 */
#ifndef BT_TOKENIZER_MERGE_H
#define BT_TOKENIZER_MERGE_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef struct bt_merge_symbol {
    uint32_t start, len;      /* text[start .. start+len); len 0: merged into its left neighbour */
    int32_t prev, next;       /* neighbours, -1 at the ends */
} bt_merge_symbol;

typedef struct bt_merge_pair {
    double priority;
    int32_t left, right;      /* symbol indices */
    uint32_t len;             /* bytes of both symbols when scored: stale if they changed */
} bt_merge_pair;

/* Working memory, reusable across calls. Start it zeroed. */
typedef struct bt_merger {
    bt_merge_symbol *symbols;  /* [n_symbols]; after a run, follow next from symbol 0 */
    size_t n_symbols, cap_symbols;
    bt_merge_pair *heap;       /* [n_heap] */
    size_t n_heap, cap_heap;
} bt_merger;

/* Whether text[0 .. len) (left symbol: its first left_len bytes) may merge,
 * and with which priority (lower merges first). */
typedef int (*bt_merge_priority_fn)(void *ctx, const char *pair, size_t left_len, size_t len,
                                    double *priority);

/* Symbols of text[0 .. len) merged as far as `priority` allows. Every byte
 * that is not part of a well-formed UTF-8 sequence is a symbol of its own (so
 * invalid text still round-trips; llama.cpp lets a lead byte swallow the
 * bytes after it instead; both agree on valid UTF-8). */
bt_status bt_merger_run(bt_merger *m, const char *text, size_t len,
                        bt_merge_priority_fn priority, void *ctx);
void bt_merger_free(bt_merger *m);

/* Bytes of the UTF-8 character that starts with `lead` (1 for stray bytes). */
size_t bt_utf8_char_len(uint8_t lead);

#endif
