/* attributes.h - compiler attributes used across layers.
 *
 * BT_PRINTF_FORMAT(fmt, args): checks printf-style calls. MinGW's `printf` format
 * means the Microsoft dialect (no %zu, %lld warnings); the runtime formats with
 * the C99 dialect, which MinGW's gcc calls gnu_printf. Other compilers: nothing. */
#ifndef BT_ATTRIBUTES_H
#define BT_ATTRIBUTES_H

#if defined(__MINGW32__)
#define BT_PRINTF_FORMAT(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__) || defined(__clang__)
#define BT_PRINTF_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BT_PRINTF_FORMAT(fmt, args)
#endif

#endif
