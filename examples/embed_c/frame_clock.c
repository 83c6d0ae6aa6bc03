/* frame_clock.c - frame_clock.h on POSIX systems and on Windows. */
#include "frame_clock.h"

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

double now_seconds(void) {
    static double tick;   /* seconds per counter tick */
    LARGE_INTEGER t;
    if (tick == 0) { QueryPerformanceFrequency(&t); tick = 1.0 / (double)t.QuadPart; }
    QueryPerformanceCounter(&t);
    return (double)t.QuadPart * tick;
}

void sleep_until(double t) {
    double left = t - now_seconds();
    if (left > 0) Sleep((DWORD)(left * 1000));   /* ms; a game would use a waitable timer */
}

#else
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <time.h>

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void sleep_until(double t) {
    double left = t - now_seconds();
    if (left <= 0) return;
    struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
    nanosleep(&ts, NULL);
}
#endif
