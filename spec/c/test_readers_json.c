/* test_readers_json.c - the strict JSON parser: values of every kind, escapes
 * and surrogate pairs, integer exactness, errors with their line:column, the
 * nesting limit, and random damage to a valid document (never a crash). */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/json.h"
#include <stdlib.h>
#include <string.h>

static bt_status parse(bt_json_doc **doc, const char *text) {
    return bt_json_parse(doc, text, strlen(text), "t.json");
}

BT_TEST(readers_json_values) {
    const char *text =
        "{\"null\": null, \"t\": true, \"f\": false,\n"
        " \"ints\": [0, -0, 123, -9223372036854775808, 9223372036854775807, 9223372036854775808],\n"
        " \"floats\": [1.5, 1e3, -2.5E-3, 1e308, 10000.0],\n"
        " \"s\": \"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000end\", \"raw\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\n"
        " \"nested\": {\"a\": [[], {}, [1, [2, [3]]]]}, \"\": \"empty key\", \"dup\": 1, \"dup\": 2}";
    bt_json_doc *doc;
    BT_CHECK(parse(&doc, text) == BT_OK, "%s", bt_last_error());
    const bt_json *root = bt_json_root(doc);
    BT_CHECK(root->type == BT_JSON_OBJECT && root->count == 11, "root");
    BT_CHECK(bt_json_get(root, "null")->type == BT_JSON_NULL, "null");
    BT_CHECK(bt_json_get(root, "t")->boolean == 1 && bt_json_get(root, "f")->type == BT_JSON_BOOL &&
             bt_json_get(root, "f")->boolean == 0, "bools");
    const bt_json *ints = bt_json_get(root, "ints");
    BT_CHECK(ints->type == BT_JSON_ARRAY && ints->count == 6, "ints");
    BT_CHECK(ints->items[2].is_integer && ints->items[2].integer == 123 && ints->items[2].number == 123.0, "123");
    BT_CHECK(ints->items[3].is_integer && ints->items[3].integer == INT64_MIN, "INT64_MIN exact");
    BT_CHECK(ints->items[4].is_integer && ints->items[4].integer == INT64_MAX, "INT64_MAX exact");
    BT_CHECK(!ints->items[5].is_integer && ints->items[5].number == 9223372036854775808.0, "2^63 is not an int64");
    const bt_json *floats = bt_json_get(root, "floats");
    BT_CHECK(!floats->items[0].is_integer && floats->items[0].number == 1.5, "1.5");
    BT_CHECK(floats->items[1].is_integer && floats->items[1].integer == 1000, "1e3 is integral");
    BT_CHECK(floats->items[2].number == -2.5e-3 && floats->items[3].number == 1e308, "exponents");
    BT_CHECK(floats->items[4].is_integer && floats->items[4].integer == 10000, "10000.0");
    const bt_json *s = bt_json_get(root, "s");
    static const char unescaped[] = "q\"b\\s/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\0end";
    BT_CHECK(s->type == BT_JSON_STRING && s->length == sizeof unescaped - 1 && memcmp(s->string, unescaped, s->length) == 0 &&
             s->string[s->length] == 0, "escapes (length %zu)", s->length);
    BT_CHECK(strcmp(bt_json_get(root, "raw")->string, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0, "raw UTF-8");
    const bt_json *a = bt_json_get(bt_json_get(root, "nested"), "a");
    BT_CHECK(a && a->count == 3 && a->items[0].type == BT_JSON_ARRAY && a->items[0].count == 0 &&
             a->items[1].type == BT_JSON_OBJECT && a->items[2].items[1].items[1].items[0].integer == 3, "nesting");
    BT_CHECK(strcmp(bt_json_get(root, "")->string, "empty key") == 0, "empty key");
    BT_CHECK(bt_json_get(root, "dup")->integer == 1 && root->items[10].integer == 2, "duplicate keys: first wins in get");
    BT_CHECK(!bt_json_get(root, "missing") && !bt_json_get(a, "x"), "absent");
    bt_json_free(doc);
}

BT_TEST(readers_json_errors_with_position) {
    static const struct { const char *text, *where, *what; } cases[] = {
        {"", "t.json:1:1:", "expected a value, found end of input"},
        {"  \n  ", "t.json:2:3:", "end of input"},
        {"{\"a\" 1}", "t.json:1:6:", "expected ':'"},
        {"[1,]", "t.json:1:4:", "expected a value, found ']'"},
        {"[1 2]", "t.json:1:4:", "expected ',' or ']'"},
        {"{\"a\":1,}", "t.json:1:8:", "expected a string key"},
        {"{\"a\":1 \"b\":2}", "t.json:1:8:", "expected ',' or '}'"},
        {"{\n  \"a\": tru\n}", "t.json:2:8:", "expected a value"},
        {"01", "t.json:1:1:", "leading zeros"},
        {"-", "t.json:1:2:", "expected a digit"},
        {"1.", "t.json:1:3:", "after the decimal point"},
        {"1e+", "t.json:1:4:", "in the exponent"},
        {".5", "t.json:1:1:", "expected a value"},
        {"1e999", "t.json:1:1:", "out of the range"},
        {"\"abc", "t.json:1:1:", "unterminated string"},
        {"[\"a\tb\"]", "t.json:1:4:", "control character 0x09"},
        {"\"\\x\"", "t.json:1:2:", "invalid escape"},
        {"\"\\u12G4\"", "t.json:1:2:", "4 hex digits"},
        {"\"\\ud800\"", "t.json:1:2:", "not followed by a low surrogate"},
        {"\"\\ud800\\u0041\"", "t.json:1:2:", "not followed by a low surrogate"},
        {"\"\\udc00\"", "t.json:1:2:", "lone low surrogate"},
        {"\"\xff\"", "t.json:1:2:", "invalid UTF-8"},
        {"\"a\xc0\xaf\"", "t.json:1:3:", "invalid UTF-8"},          /* overlong '/' */
        {"\"\xed\xa0\x80\"", "t.json:1:2:", "invalid UTF-8"},       /* an encoded surrogate */
        {"\"\xf4\x90\x80\x80\"", "t.json:1:2:", "invalid UTF-8"},   /* above U+10FFFF */
        {"\"\xe2\x82\"", "t.json:1:2:", "invalid UTF-8"},           /* cut short */
        {"[] x", "t.json:1:4:", "expected end of input"},
        {"nul", "t.json:1:1:", "expected a value, found 'n'"},
        {"{\"a\":{\"b\":[1,2,{\"c\":}]}}", "t.json:1:21:", "expected a value, found '}'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_json_doc *doc = NULL;
        bt_status st = parse(&doc, cases[i].text);
        BT_CHECK(st == BT_ERR_FORMAT && strstr(bt_last_error(), cases[i].where) && strstr(bt_last_error(), cases[i].what),
                 "case %zu: wanted '%s %s', got: %s", i, cases[i].where, cases[i].what, st ? bt_last_error() : "ok");
        BT_CHECK(doc == NULL, "no document on error");
    }
}

BT_TEST(readers_json_depth_limit) {
    char text[2 * 1000 + 1];
    for (int depth = BT_JSON_MAX_DEPTH; depth <= BT_JSON_MAX_DEPTH + 1; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        bt_json_doc *doc;
        bt_status st = bt_json_parse(&doc, text, 2 * (size_t)depth, "deep.json");
        if (depth == BT_JSON_MAX_DEPTH) {
            BT_CHECK(st == BT_OK, "%s", bt_last_error());
            bt_json_free(doc);
        } else {
            BT_CHECK(st == BT_ERR_FORMAT && strstr(bt_last_error(), "nesting deeper"), "depth %d: %s", depth, bt_last_error());
        }
    }
    memset(text, '{', 1000);   /* a deep bomb of another kind: fails fast, no stack overflow */
    bt_json_doc *doc;
    BT_CHECK(bt_json_parse(&doc, text, 1000, "deep.json") == BT_ERR_FORMAT, "object bomb");
    memset(text, '[', 2000);
    BT_CHECK(bt_json_parse(&doc, text, 2000, "deep.json") == BT_ERR_FORMAT && strstr(bt_last_error(), "nesting deeper"),
             "array bomb");
}

BT_TEST(readers_json_random_damage) {
    const char *valid = "{\"architectures\": [\"TTTForCausalLM\"], \"hidden_size\": 192, \"eps\": 1e-06,\n"
                        " \"name\": \"caf\\u00e9 \\ud83d\\ude00\", \"list\": [1, -2.5, true, false, null, {\"k\": []}]}";
    size_t n = strlen(valid);
    char *text = malloc(n);
    uint64_t seed = bt_test_seed();
    static const char interesting[] = "{}[]\",:\\ue0-.+ \n\x80\xff";
    for (int k = 0; k < 20000; k++) {
        memcpy(text, valid, n);
        size_t len = k % 5 == 0 ? bt_readers_rand(&seed) % n : n;   /* truncate, or damage some bytes */
        for (int flips = (int)(bt_readers_rand(&seed) % 3); k % 5 && flips >= 0; flips--)
            text[bt_readers_rand(&seed) % n] = interesting[bt_readers_rand(&seed) % (sizeof interesting - 1)];
        bt_json_doc *doc = NULL;
        bt_status st = bt_json_parse(&doc, text, len, "damaged.json");
        BT_CHECK(st == BT_OK || (st == BT_ERR_FORMAT && strncmp(bt_last_error(), "damaged.json:", 13) == 0),
                 "case %d: %s", k, bt_last_error());
        bt_json_free(doc);
    }
    free(text);
}
