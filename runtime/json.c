/* json.c - the strict JSON parser behind json.h.
 *
 * A recursive-descent parser. Nodes and unescaped strings live in an arena
 * owned by the document; the items of an array or object are gathered on one
 * shared stack while it is parsed, then copied into the arena as one block.
 */
#include "json.h"
#include "platform/platform.h"
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NUMBER_CHARS 400

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block;

struct bt_json_doc {
    arena_block *blocks;
    bt_json root;
};

typedef struct parser {
    const char *text;   /* [len] */
    size_t len, pos;
    const char *source;
    bt_json_doc *doc;
    bt_json *stack;     /* [stack_len] items of the arrays/objects being parsed */
    size_t stack_len, stack_cap;
    int depth;
} parser;

/* ---------------------------------------------------------------- memory */

static void *arena_alloc(bt_json_doc *doc, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_block *b = doc->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        if (!(b = malloc(sizeof *b + cap))) return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = doc->blocks;
        doc->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

void bt_json_free(bt_json_doc *doc) {
    if (!doc) return;
    while (doc->blocks) {
        arena_block *next = doc->blocks->next;
        free(doc->blocks);
        doc->blocks = next;
    }
    free(doc);
}

/* ---------------------------------------------------------------- errors */

static bt_status fail_at(const parser *p, size_t pos, const char *fmt, ...) BT_PRINTF_FORMAT(3, 4);
static bt_status fail_at(const parser *p, size_t pos, const char *fmt, ...) {
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < pos && i < p->len; i++)
        if (p->text[i] == '\n') { line++; line_start = i + 1; }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bt_set_error(BT_ERR_FORMAT, "%s:%zu:%zu: %s", p->source, line, pos - line_start + 1, msg);
}

/* What sits at pos, for "found ..." in messages. */
static const char *found(const parser *p, size_t pos, char buf[16]) {
    if (pos >= p->len) return "end of input";
    unsigned char c = (unsigned char)p->text[pos];
    if (c >= 0x20 && c < 0x7f) snprintf(buf, 16, "'%c'", c);
    else snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static bt_status nomem(const parser *p) {
    return bt_set_error(BT_ERR_NOMEM, "%s: out of memory parsing JSON", p->source);
}

/* ---------------------------------------------------------------- scanning */

static void skip_space(parser *p) {
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int at(const parser *p, char c) { return p->pos < p->len && p->text[p->pos] == c; }
static int digit_at(const parser *p) { return p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9'; }

static bt_status parse_value(parser *p, bt_json *out);

/* ---------------------------------------------------------------- strings */

static int hex4(const char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *dst, uint32_t cp) {
    if (cp < 0x80) { dst[0] = (char)cp; return 1; }
    if (cp < 0x800) { dst[0] = (char)(0xc0 | cp >> 6); dst[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        dst[0] = (char)(0xe0 | cp >> 12); dst[1] = (char)(0x80 | (cp >> 6 & 0x3f)); dst[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | cp >> 18); dst[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    dst[2] = (char)(0x80 | (cp >> 6 & 0x3f)); dst[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at s [n] (lead byte >= 0x80), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (len == 0 || s[0] > 0xf4 || n < len) return 0;
    uint32_t cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* An escape after the backslash at p->pos - 1; appends its UTF-8 to dst. */
static bt_status unescape(parser *p, char *dst, size_t *dst_len) {
    size_t esc = p->pos - 1;
    if (p->pos >= p->len) return fail_at(p, esc, "unterminated escape at end of input");
    char c = p->text[p->pos++];
    static const char plain_in[] = "\"\\/bfnrt", plain_out[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(plain_in, c) : NULL;
    if (hit) { dst[(*dst_len)++] = plain_out[hit - plain_in]; return BT_OK; }
    if (c != 'u') return fail_at(p, esc, "invalid escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
    uint32_t cp, low;
    if (p->len - p->pos < 4 || !hex4(p->text + p->pos, &cp)) return fail_at(p, esc, "expected 4 hex digits after '\\u'");
    p->pos += 4;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail_at(p, esc, "lone low surrogate \\u%04x", cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (p->len - p->pos < 6 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u' ||
            !hex4(p->text + p->pos + 2, &low) || low < 0xdc00 || low > 0xdfff)
            return fail_at(p, esc, "high surrogate \\u%04x not followed by a low surrogate", cp);
        p->pos += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    *dst_len += put_utf8(dst + *dst_len, cp);
    return BT_OK;
}

/* A string at p->pos (the opening quote), unescaped into the arena. */
static bt_status parse_string(parser *p, const char **out, size_t *out_len) {
    size_t open = p->pos++, end = p->pos;
    while (end < p->len && p->text[end] != '"') end += p->text[end] == '\\' ? 2 : 1;
    if (end >= p->len) return fail_at(p, open, "unterminated string");
    char *dst = arena_alloc(p->doc, end - p->pos + 1);   /* unescaping never grows a string */
    if (!dst) return nomem(p);
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c < 0x20) return fail_at(p, p->pos, "control character 0x%02x in a string (it must be escaped)", c);
        if (c == '\\') {
            p->pos++;
            bt_status st = unescape(p, dst, &n);
            if (st != BT_OK) return st;
        } else if (c >= 0x80) {
            size_t k = utf8_sequence((const unsigned char *)p->text + p->pos, end - p->pos);
            if (!k) return fail_at(p, p->pos, "invalid UTF-8 in a string");
            memcpy(dst + n, p->text + p->pos, k);
            n += k;
            p->pos += k;
        } else {
            dst[n++] = (char)c;
            p->pos++;
        }
    }
    dst[n] = 0;
    p->pos = end + 1;
    *out = dst;
    *out_len = n;
    return BT_OK;
}

/* ---------------------------------------------------------------- numbers */

static bt_status skip_digits(parser *p, const char *after) {
    char buf[16];
    if (!digit_at(p)) return fail_at(p, p->pos, "expected a digit %s, found %s", after, found(p, p->pos, buf));
    while (digit_at(p)) p->pos++;
    return BT_OK;
}

/* strtod on a copy of the literal, with '.' replaced by the locale's decimal point. */
static double locale_independent_strtod(const char *s, size_t n) {
    char buf[MAX_NUMBER_CHARS + 1];
    char point = localeconv()->decimal_point[0];
    for (size_t i = 0; i < n; i++) buf[i] = s[i] == '.' ? point : s[i];
    buf[n] = 0;
    return strtod(buf, NULL);
}

static bt_status parse_number(parser *p, bt_json *out) {
    size_t start = p->pos;
    int negative = at(p, '-'), plain_integer = 1;
    if (negative) p->pos++;
    bt_status st = BT_OK;
    if (at(p, '0')) {
        p->pos++;
        if (digit_at(p)) return fail_at(p, start, "leading zeros are not allowed in numbers");
    } else if ((st = skip_digits(p, "in a number")) != BT_OK) return st;
    if (at(p, '.')) {
        p->pos++;
        plain_integer = 0;
        if ((st = skip_digits(p, "after the decimal point")) != BT_OK) return st;
    }
    if (at(p, 'e') || at(p, 'E')) {
        p->pos++;
        plain_integer = 0;
        if (at(p, '+') || at(p, '-')) p->pos++;
        if ((st = skip_digits(p, "in the exponent")) != BT_OK) return st;
    }
    size_t n = p->pos - start;
    if (n > MAX_NUMBER_CHARS) return fail_at(p, start, "number longer than %d characters", MAX_NUMBER_CHARS);
    out->type = BT_JSON_NUMBER;
    uint64_t magnitude = 0;
    int overflow = 0;
    for (size_t i = start + negative; plain_integer && i < p->pos; i++)
        overflow |= __builtin_mul_overflow(magnitude, (uint64_t)10, &magnitude) ||
                    __builtin_add_overflow(magnitude, (uint64_t)(p->text[i] - '0'), &magnitude);
    if (plain_integer && !overflow && magnitude <= (uint64_t)INT64_MAX + negative) {
        out->integer = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
        out->is_integer = 1;
        out->number = (double)out->integer;
        return BT_OK;
    }
    out->number = locale_independent_strtod(p->text + start, n);
    if (isinf(out->number)) return fail_at(p, start, "number out of the range of a double");
    if (out->number == floor(out->number) && fabs(out->number) < 9223372036854775808.0) {
        out->integer = (int64_t)out->number;
        out->is_integer = 1;
    }
    return BT_OK;
}

/* ---------------------------------------------------------------- containers */

static bt_status push_item(parser *p, const bt_json *item) {
    if (p->stack_len == p->stack_cap) {
        size_t cap = p->stack_cap ? p->stack_cap * 2 : 64;
        bt_json *stack = realloc(p->stack, cap * sizeof *stack);
        if (!stack) return nomem(p);
        p->stack = stack;
        p->stack_cap = cap;
    }
    p->stack[p->stack_len++] = *item;
    return BT_OK;
}

/* Moves the items pushed since `first` into the arena as out's items. */
static bt_status close_container(parser *p, size_t first, bt_json *out) {
    out->count = p->stack_len - first;
    if (out->count) {
        bt_json *items = arena_alloc(p->doc, out->count * sizeof *items);
        if (!items) return nomem(p);
        memcpy(items, p->stack + first, out->count * sizeof *items);
        out->items = items;
    }
    p->stack_len = first;
    p->depth--;
    return BT_OK;
}

static bt_status open_container(parser *p, bt_json *out, bt_json_type type) {
    if (++p->depth > BT_JSON_MAX_DEPTH) return fail_at(p, p->pos, "nesting deeper than %d levels", BT_JSON_MAX_DEPTH);
    out->type = type;
    p->pos++;
    skip_space(p);
    return BT_OK;
}

static bt_status parse_array(parser *p, bt_json *out) {
    size_t first = p->stack_len;
    char buf[16];
    bt_status st = open_container(p, out, BT_JSON_ARRAY);
    if (st != BT_OK || at(p, ']')) { p->pos++; return st == BT_OK ? close_container(p, first, out) : st; }
    for (;;) {
        bt_json item = {0};
        if ((st = parse_value(p, &item)) != BT_OK || (st = push_item(p, &item)) != BT_OK) return st;
        skip_space(p);
        if (at(p, ']')) break;
        if (!at(p, ',')) return fail_at(p, p->pos, "expected ',' or ']' in an array, found %s", found(p, p->pos, buf));
        p->pos++;
    }
    p->pos++;
    return close_container(p, first, out);
}

static bt_status parse_object(parser *p, bt_json *out) {
    size_t first = p->stack_len;
    char buf[16];
    bt_status st = open_container(p, out, BT_JSON_OBJECT);
    if (st != BT_OK || at(p, '}')) { p->pos++; return st == BT_OK ? close_container(p, first, out) : st; }
    for (;;) {
        bt_json member = {0};
        skip_space(p);
        if (!at(p, '"')) return fail_at(p, p->pos, "expected a string key in an object, found %s", found(p, p->pos, buf));
        if ((st = parse_string(p, &member.key, &member.key_len)) != BT_OK) return st;
        skip_space(p);
        if (!at(p, ':')) return fail_at(p, p->pos, "expected ':' after an object key, found %s", found(p, p->pos, buf));
        p->pos++;
        if ((st = parse_value(p, &member)) != BT_OK || (st = push_item(p, &member)) != BT_OK) return st;
        skip_space(p);
        if (at(p, '}')) break;
        if (!at(p, ',')) return fail_at(p, p->pos, "expected ',' or '}' in an object, found %s", found(p, p->pos, buf));
        p->pos++;
    }
    p->pos++;
    return close_container(p, first, out);
}

/* ---------------------------------------------------------------- values */

static int take_word(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) return 0;
    p->pos += n;
    return 1;
}

/* Parses one value into out, keeping out->key. */
static bt_status parse_value(parser *p, bt_json *out) {
    char buf[16];
    skip_space(p);
    if (p->pos >= p->len) return fail_at(p, p->pos, "expected a value, found end of input");
    char c = p->text[p->pos];
    if (c == '{') return parse_object(p, out);
    if (c == '[') return parse_array(p, out);
    if (c == '"') {
        out->type = BT_JSON_STRING;
        return parse_string(p, &out->string, &out->length);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, out);
    if (take_word(p, "true") || take_word(p, "false")) {
        out->type = BT_JSON_BOOL;
        out->boolean = c == 't';
        return BT_OK;
    }
    if (take_word(p, "null")) {
        out->type = BT_JSON_NULL;
        return BT_OK;
    }
    return fail_at(p, p->pos, "expected a value, found %s", found(p, p->pos, buf));
}

bt_status bt_json_parse(bt_json_doc **out, const char *text, size_t len, const char *source) {
    *out = NULL;
    parser p = {.text = text, .len = len, .source = source, .doc = calloc(1, sizeof(bt_json_doc))};
    if (!p.doc) return nomem(&p);
    char buf[16];
    bt_status st = parse_value(&p, &p.doc->root);
    skip_space(&p);
    if (st == BT_OK && p.pos < p.len)
        st = fail_at(&p, p.pos, "expected end of input after the value, found %s", found(&p, p.pos, buf));
    free(p.stack);
    if (st != BT_OK) {
        bt_json_free(p.doc);
        return st;
    }
    *out = p.doc;
    return BT_OK;
}

bt_status bt_json_parse_file(bt_json_doc **out, const char *path) {
    bt_mapped_file f;
    *out = NULL;
    bt_status st = bt_map_file(&f, path);
    if (st != BT_OK) return st;
    st = bt_json_parse(out, (const char *)f.data, f.size, path);
    bt_unmap_file(&f);
    return st;
}

const bt_json *bt_json_root(const bt_json_doc *doc) { return &doc->root; }

const bt_json *bt_json_get(const bt_json *obj, const char *key) {
    if (!obj || obj->type != BT_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->count; i++)
        if (obj->items[i].key_len == n && memcmp(obj->items[i].key, key, n) == 0) return &obj->items[i];
    return NULL;
}
