/* tokenizer_merge.c - the pair-merging loop of BPE (see tokenizer_merge.h). */
#include "tokenizer_merge.h"
#include <stdlib.h>

size_t bt_utf8_char_len(uint8_t lead) {
    if (lead < 0xC0) return 1;   /* ASCII, or a stray continuation byte */
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    return 4;
}

static int grow(void **items, size_t *cap, size_t need, size_t item_size) {
    if (need <= *cap) return 1;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*items, cap2 * item_size);
    if (!p) return 0;
    *items = p;
    *cap = cap2;
    return 1;
}

/* a merges before b: lower priority, then the leftmost. */
static int pair_before(const bt_merge_pair *a, const bt_merge_pair *b) {
    return a->priority < b->priority || (a->priority == b->priority && a->left < b->left);
}

static void heap_push(bt_merger *m, bt_merge_pair p) {
    size_t i = m->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pair_before(&p, &m->heap[parent])) break;
        m->heap[i] = m->heap[parent];
        i = parent;
    }
    m->heap[i] = p;
}

static bt_merge_pair heap_pop(bt_merger *m) {
    bt_merge_pair top = m->heap[0];
    bt_merge_pair last = m->heap[--m->n_heap];
    size_t i = 0, n = m->n_heap;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && pair_before(&m->heap[child + 1], &m->heap[child])) child++;
        if (!pair_before(&m->heap[child], &last)) break;
        m->heap[i] = m->heap[child];
        i = child;
    }
    if (n) m->heap[i] = last;
    return top;
}

static bt_status consider_pair(bt_merger *m, const char *text, int32_t left, int32_t right,
                               bt_merge_priority_fn priority, void *ctx) {
    if (left < 0 || right < 0) return BT_OK;
    const bt_merge_symbol *l = &m->symbols[left], *r = &m->symbols[right];
    double prio;
    if (!priority(ctx, text + l->start, l->len, (size_t)l->len + r->len, &prio)) return BT_OK;
    if (!grow((void **)&m->heap, &m->cap_heap, m->n_heap + 1, sizeof *m->heap))
        return bt_set_error(BT_ERR_NOMEM, "tokenizer: out of memory for %zu merge candidates", m->n_heap + 1);
    heap_push(m, (bt_merge_pair){prio, left, right, l->len + r->len});
    return BT_OK;
}

/* Bytes of the character at text[0 .. len): what its lead byte announces if
 * that many continuation bytes follow, else 1 (a byte of invalid UTF-8). */
static size_t character_at(const char *text, size_t len) {
    size_t n = bt_utf8_char_len((uint8_t)text[0]);
    if (n > len) return 1;
    for (size_t i = 1; i < n; i++)
        if (((uint8_t)text[i] & 0xC0) != 0x80) return 1;
    return n;
}

static bt_status split_characters(bt_merger *m, const char *text, size_t len) {
    m->n_symbols = 0;
    if (len > INT32_MAX) return bt_set_error(BT_ERR_ARG, "tokenizer: text of %zu bytes is too long to encode at once", len);
    for (size_t at = 0; at < len;) {
        size_t n = character_at(text + at, len - at);
        if (!grow((void **)&m->symbols, &m->cap_symbols, m->n_symbols + 1, sizeof *m->symbols))
            return bt_set_error(BT_ERR_NOMEM, "tokenizer: out of memory for %zu symbols", m->n_symbols + 1);
        int32_t i = (int32_t)m->n_symbols++;
        at += n;
        m->symbols[i] = (bt_merge_symbol){(uint32_t)(at - n), (uint32_t)n, i - 1, at < len ? i + 1 : -1};
    }
    return BT_OK;
}

bt_status bt_merger_run(bt_merger *m, const char *text, size_t len,
                        bt_merge_priority_fn priority, void *ctx) {
    bt_status st = split_characters(m, text, len);
    m->n_heap = 0;
    for (size_t i = 1; st == BT_OK && i < m->n_symbols; i++)
        st = consider_pair(m, text, (int32_t)i - 1, (int32_t)i, priority, ctx);
    while (st == BT_OK && m->n_heap > 0) {
        bt_merge_pair p = heap_pop(m);
        bt_merge_symbol *l = &m->symbols[p.left], *r = &m->symbols[p.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != p.len) continue;   /* stale */
        l->len += r->len;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0) m->symbols[r->next].prev = p.left;
        st = consider_pair(m, text, l->prev, p.left, priority, ctx);
        if (st == BT_OK) st = consider_pair(m, text, p.left, l->next, priority, ctx);
    }
    return st;
}

void bt_merger_free(bt_merger *m) {
    free(m->symbols);
    free(m->heap);
    *m = (bt_merger){0};
}
