/* export.h - BT_API marks what libbitttt.so exports. The library is compiled
 * with -fvisibility=hidden, so everything else (kernels, readers, the Lua
 * binding's helpers) stays inside it; only functions declared with BT_API are
 * visible to programs and to the Lua module shim (bin/bitttt/core.so).
 *
 * ELF (Linux, BSD): default visibility. Windows (not built yet): this is the
 * spot for __declspec(dllexport) while building the DLL (define BT_BUILDING_DLL)
 * and __declspec(dllimport) for its users. */
#ifndef BT_EXPORT_H
#define BT_EXPORT_H

#if defined(_WIN32)
#define BT_API   /* Windows: dllexport / dllimport, to come */
#else
#define BT_API __attribute__((visibility("default")))
#endif

#endif
