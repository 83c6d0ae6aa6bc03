/* tokenizer_lua.c - tokenizers for Lua (part of bitttt.core):
 *
 *   local tok = core.tokenizer_open(path [, vocab_size])
 *                 a GGUF file's vocabulary, or a llama2.c tokenizer.bin
 *                 (vocab_size: how many tokens it holds; default: all of them)
 *   tok:encode(text [, {bos=, eos=, special=}]) -> { id, ... }
 *                 bos/eos default to what the vocabulary asks for (tok:add_bos(),
 *                 tok:add_eos()); special=true turns "<|eot_id|>" etc. into their tokens
 *   tok:decode(ids [, {special=}]) -> string   control tokens shown only with special=true
 *   tok:piece(id) -> string     the bytes the token stands for
 *   tok:text(id) -> string      the token as the vocabulary spells it ("▁Hello")
 *   tok:type(id) -> "normal" | "control" | "byte" | "unknown" | "user_defined" | "unused" | "undefined"
 *   tok:vocab_size(), tok:bos(), tok:eos() (nil when none), tok:add_bos(), tok:add_eos()
 *   local s = tok:stream([{special=}])
 *   s:push(id) -> string        text completed by this token ("" while a UTF-8
 *                               character is still incomplete)
 *   s:flush() -> string         what was held back
 *   tok:free()                  idempotent; __gc does it too
 *
 * Token ids are the vocabulary's own (0-based). Errors raise bt_last_error().
 */
#include "binding.h"
#include "runtime/tokenizer.h"
#include <stdint.h>
#include <stdlib.h>

#define TOKENIZER "bitttt.tokenizer"
#define TOKEN_STREAM "bitttt.token_stream"

/* The tokenizer and the buffers its calls reuse (owned here, so a Lua error
 * half-way leaks nothing). */
typedef struct tokenizer_box {
    bt_tokenizer *tok;
    bt_token_ids ids;
    bt_text text;
} tokenizer_box;

typedef struct stream_box {
    bt_token_stream stream;
    bt_text text;
} stream_box;

static tokenizer_box *check_tokenizer(lua_State *L, int idx) {
    tokenizer_box *b = luaL_checkudata(L, idx, TOKENIZER);
    if (!b->tok) luaL_error(L, "tokenizer: used after free()");
    return b;
}

static int is_int32(lua_Number x) {
    return x >= INT32_MIN && x <= INT32_MAX && x == (lua_Number)(int32_t)x;
}

static int32_t check_token_id(lua_State *L, int idx) {
    lua_Number x = luaL_checknumber(L, idx);
    if (!is_int32(x)) luaL_argerror(L, idx, "expected an integer token id");
    return (int32_t)x;
}

/* Field `name` of the options table at idx as a flag; `dflt` when absent. */
static int option_flag(lua_State *L, int idx, const char *name, int dflt) {
    if (lua_isnoneornil(L, idx)) return dflt;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, name);
    int on = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return on;
}

static void push_text(lua_State *L, const bt_text *t) {
    lua_pushlstring(L, t->len ? t->bytes : "", t->len);
}

/* ------------------------------------------------------------ tokenizer */

/* tokenizer_open(path [, vocab_size]) -> tokenizer */
static int l_tokenizer_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_Number vocab_size = luaL_optnumber(L, 2, 0);
    if (vocab_size < 0 || !is_int32(vocab_size)) luaL_argerror(L, 2, "expected a token count");
    tokenizer_box *b = lua_newuserdata(L, sizeof *b);
    *b = (tokenizer_box){0};
    luaL_getmetatable(L, TOKENIZER);
    lua_setmetatable(L, -2);
    bt_lua_check(L, bt_tokenizer_open(&b->tok, path, (int32_t)vocab_size));
    return 1;
}

/* tok:encode(text [, {bos=, eos=, special=}]) -> { ids } */
static int l_encode(lua_State *L) {
    tokenizer_box *b = check_tokenizer(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    unsigned flags = 0;
    if (option_flag(L, 3, "bos", bt_tokenizer_add_bos(b->tok))) flags |= BT_ENCODE_BOS;
    if (option_flag(L, 3, "eos", bt_tokenizer_add_eos(b->tok))) flags |= BT_ENCODE_EOS;
    if (option_flag(L, 3, "special", 0)) flags |= BT_ENCODE_SPECIAL;
    bt_lua_check(L, bt_tokenizer_encode(b->tok, &b->ids, text, len, flags));
    if (b->ids.n > INT32_MAX) return luaL_error(L, "tokenizer: %f ids are too many for a Lua table", (double)b->ids.n);
    lua_createtable(L, (int)b->ids.n, 0);
    for (size_t i = 0; i < b->ids.n; i++) {
        lua_pushnumber(L, b->ids.ids[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

/* The Lua array at idx into b->ids. */
static void read_ids(lua_State *L, tokenizer_box *b, int idx) {
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t n = lua_objlen(L, idx);
    if (n > b->ids.cap) {
        int32_t *p = realloc(b->ids.ids, n * sizeof *p);
        if (!p) luaL_error(L, "tokenizer: out of memory for %f ids", (double)n);
        b->ids.ids = p;
        b->ids.cap = n;
    }
    b->ids.n = 0;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, idx, (int)i + 1);
        lua_Number x = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || !is_int32(x)) luaL_error(L, "decode: ids[%d] is not an integer token id", (int)i + 1);
        b->ids.ids[b->ids.n++] = (int32_t)x;
        lua_pop(L, 1);
    }
}

/* tok:decode(ids [, {special=}]) -> string */
static int l_decode(lua_State *L) {
    tokenizer_box *b = check_tokenizer(L, 1);
    read_ids(L, b, 2);
    bt_lua_check(L, bt_tokenizer_decode(b->tok, &b->text, b->ids.ids, b->ids.n, option_flag(L, 3, "special", 0)));
    push_text(L, &b->text);
    return 1;
}

static int l_piece(lua_State *L) {
    tokenizer_box *b = check_tokenizer(L, 1);
    size_t len;
    const char *piece = bt_tokenizer_piece(b->tok, check_token_id(L, 2), &len);
    lua_pushlstring(L, piece, len);
    return 1;
}

static int l_text(lua_State *L) {
    tokenizer_box *b = check_tokenizer(L, 1);
    size_t len;
    const char *text = bt_tokenizer_token_text(b->tok, check_token_id(L, 2), &len);
    lua_pushlstring(L, text, len);
    return 1;
}

static int l_score(lua_State *L) {
    tokenizer_box *b = check_tokenizer(L, 1);
    lua_pushnumber(L, bt_tokenizer_token_score(b->tok, check_token_id(L, 2)));
    return 1;
}

static int l_type(lua_State *L) {
    static const char *const names[] = {"undefined", "normal", "unknown", "control", "user_defined", "unused", "byte"};
    tokenizer_box *b = check_tokenizer(L, 1);
    lua_pushstring(L, names[bt_tokenizer_token_type(b->tok, check_token_id(L, 2))]);
    return 1;
}

static int l_vocab_size(lua_State *L) {
    lua_pushnumber(L, bt_tokenizer_vocab_size(check_tokenizer(L, 1)->tok));
    return 1;
}

static void push_id_or_nil(lua_State *L, int32_t id) {
    if (id < 0) lua_pushnil(L);
    else lua_pushnumber(L, id);
}

static int l_bos(lua_State *L) { push_id_or_nil(L, bt_tokenizer_bos(check_tokenizer(L, 1)->tok)); return 1; }
static int l_eos(lua_State *L) { push_id_or_nil(L, bt_tokenizer_eos(check_tokenizer(L, 1)->tok)); return 1; }
static int l_add_bos(lua_State *L) { lua_pushboolean(L, bt_tokenizer_add_bos(check_tokenizer(L, 1)->tok)); return 1; }
static int l_add_eos(lua_State *L) { lua_pushboolean(L, bt_tokenizer_add_eos(check_tokenizer(L, 1)->tok)); return 1; }

static int l_free(lua_State *L) {
    tokenizer_box *b = luaL_checkudata(L, 1, TOKENIZER);
    bt_tokenizer_free(b->tok);
    bt_token_ids_free(&b->ids);
    bt_text_free(&b->text);
    b->tok = NULL;
    return 0;
}

static int l_tostring(lua_State *L) {
    tokenizer_box *b = luaL_checkudata(L, 1, TOKENIZER);
    if (!b->tok) lua_pushstring(L, "tokenizer (freed)");
    else lua_pushfstring(L, "tokenizer %s, %d tokens",
                         bt_tokenizer_kind_of(b->tok) == BT_TOKENIZER_SPM ? "sentencepiece-bpe" : "byte-level-bpe",
                         (int)bt_tokenizer_vocab_size(b->tok));
    return 1;
}

/* ------------------------------------------------------------ streaming decoder */

/* tok:stream([{special=}]) -> stream; the stream keeps its tokenizer alive. */
static int l_stream(lua_State *L) {
    tokenizer_box *b = check_tokenizer(L, 1);
    int special = option_flag(L, 2, "special", 0);
    stream_box *s = lua_newuserdata(L, sizeof *s);
    *s = (stream_box){0};
    bt_token_stream_init(&s->stream, b->tok, special);
    luaL_getmetatable(L, TOKEN_STREAM);
    lua_setmetatable(L, -2);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    lua_setfenv(L, -2);
    return 1;
}

/* The stream at idx, after checking that its tokenizer was not freed. */
static stream_box *check_stream(lua_State *L, int idx) {
    stream_box *s = luaL_checkudata(L, idx, TOKEN_STREAM);
    lua_getfenv(L, idx);
    lua_rawgeti(L, -1, 1);
    tokenizer_box *b = lua_touserdata(L, -1);
    if (!b || !b->tok) luaL_error(L, "token stream: its tokenizer was freed");
    lua_pop(L, 2);
    return s;
}

static int l_stream_push(lua_State *L) {
    stream_box *s = check_stream(L, 1);
    bt_lua_check(L, bt_token_stream_push(&s->stream, &s->text, check_token_id(L, 2)));
    push_text(L, &s->text);
    return 1;
}

static int l_stream_flush(lua_State *L) {
    stream_box *s = check_stream(L, 1);
    bt_lua_check(L, bt_token_stream_flush(&s->stream, &s->text));
    push_text(L, &s->text);
    return 1;
}

static int l_stream_gc(lua_State *L) {
    stream_box *s = luaL_checkudata(L, 1, TOKEN_STREAM);
    bt_text_free(&s->text);
    return 0;
}

/* ------------------------------------------------------------ registration */

/* A metatable named `name` with `methods` as __index and `gc` as __gc. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc) {
    luaL_newmetatable(L, name);
    lua_newtable(L);
    bt_lua_set_functions(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
}

void bt_lua_open_tokenizer(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"encode", l_encode}, {"decode", l_decode}, {"piece", l_piece}, {"text", l_text}, {"score", l_score}, {"type", l_type},
        {"vocab_size", l_vocab_size}, {"bos", l_bos}, {"eos", l_eos}, {"add_bos", l_add_bos},
        {"add_eos", l_add_eos}, {"stream", l_stream}, {"free", l_free}, {NULL, NULL}};
    static const luaL_Reg stream_methods[] = {{"push", l_stream_push}, {"flush", l_stream_flush}, {NULL, NULL}};
    new_class(L, TOKENIZER, methods, l_free);
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    new_class(L, TOKEN_STREAM, stream_methods, l_stream_gc);
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"tokenizer_open", l_tokenizer_open}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
