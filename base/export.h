/* export.h - BT_API marks what libbitttt exports. The library is compiled
 * with -fvisibility=hidden, so everything else (kernels, readers, the Lua
 * binding's helpers) stays inside it; only functions declared with BT_API are
 * visible to programs and to the Lua module shim (bin/bitttt/core.so).
 *
 * ELF (Linux, BSD): default visibility.
 * Windows: __declspec(dllexport) while building bitttt.dll (the build defines
 * BT_BUILDING_DLL), __declspec(dllimport) for programs that link the DLL, nothing
 * for programs that link the static libbitttt.a / bitttt.lib (they define BT_STATIC). */
#ifndef BT_EXPORT_H
#define BT_EXPORT_H

#if defined(_WIN32)
#if defined(BT_BUILDING_DLL)
#define BT_API __declspec(dllexport)
#elif defined(BT_STATIC)
#define BT_API
#else
#define BT_API __declspec(dllimport)
#endif
#else
#define BT_API __attribute__((visibility("default")))
#endif

#endif
