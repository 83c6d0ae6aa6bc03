/* embedded_lua.h - the Lua sources of lua/bitttt compiled into libbitttt
 * (build/gen/lua_modules.c, written by scripts/embed-lua.lua). */
#ifndef BT_CAPI_EMBEDDED_LUA_H
#define BT_CAPI_EMBEDDED_LUA_H
#include <stddef.h>

typedef struct bt_embedded_module {
    const char *name;        /* "bitttt.models.llama" */
    const char *chunkname;   /* "@bitttt/models/llama.lua": what error messages and tracebacks show */
    const char *source;
    size_t len;
} bt_embedded_module;

/* Ends with an entry whose name is NULL. */
extern const bt_embedded_module bt_embedded_modules[];

#endif
