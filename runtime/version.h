/* version.h - library and C API version. The API version changes whenever a
 * public declaration changes incompatibly; the soname follows BT_API_VERSION. */
#ifndef BT_VERSION_H
#define BT_VERSION_H
#define BT_VERSION_STRING "0.1.0"
#define BT_API_VERSION 1
#endif
