/* json.h - a small strict JSON parser (RFC 8259) for safetensors headers and
 * Hugging Face config.json files.
 *
 * bt_json_parse() builds a read-only tree owned by a bt_json_doc. Strings are
 * unescaped to UTF-8 (\uXXXX surrogate pairs included; lone surrogates and
 * invalid UTF-8 are errors). Numbers keep their double value and, when the value
 * is integral and fits, an exact int64. Nesting deeper than BT_JSON_MAX_DEPTH is
 * an error. Errors are BT_ERR_FORMAT with "source:line:column: what was expected,
 * what was found".
 */
#ifndef BT_JSON_H
#define BT_JSON_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

#define BT_JSON_MAX_DEPTH 64

typedef enum bt_json_type {
    BT_JSON_NULL, BT_JSON_BOOL, BT_JSON_NUMBER, BT_JSON_STRING, BT_JSON_ARRAY, BT_JSON_OBJECT
} bt_json_type;

typedef struct bt_json bt_json;
struct bt_json {
    bt_json_type type;
    const char *key;        /* member name when this value sits in an object, else NULL (NUL-terminated) */
    size_t key_len;
    int boolean;            /* BT_JSON_BOOL */
    double number;          /* BT_JSON_NUMBER */
    int is_integer;         /* BT_JSON_NUMBER: integral and within int64; then `integer` is exact */
    int64_t integer;
    const char *string;     /* BT_JSON_STRING: UTF-8, NUL-terminated (may also hold \u0000) */
    size_t length;          /* bytes in string */
    size_t count;           /* BT_JSON_ARRAY / BT_JSON_OBJECT: number of items */
    const bt_json *items;   /* [count] elements, or members (with key) in document order */
};

typedef struct bt_json_doc bt_json_doc;

/* Parses text [len] (it need not be NUL-terminated); source names it in errors. */
bt_status bt_json_parse(bt_json_doc **out, const char *text, size_t len, const char *source);
bt_status bt_json_parse_file(bt_json_doc **out, const char *path);
void bt_json_free(bt_json_doc *doc);   /* NULL is fine */
const bt_json *bt_json_root(const bt_json_doc *doc);

/* The first member named key (NULL if absent or obj is not an object). */
const bt_json *bt_json_get(const bt_json *obj, const char *key);

#endif
