/*
 * clock: the one monotonic clock faultline measures durations and
 * deadlines with (never the wall clock, which steps), and a sleep to match.
 * Header only.
 */
#ifndef FL_CLOCK_H
#define FL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC, from an arbitrary origin. */
static inline int64_t fl_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The same clock in seconds. */
static inline double fl_clock_mono_s(void)
{
    return (double)fl_clock_mono_ns() / 1e9;
}

/* Sleep for s seconds; s <= 0 returns at once. */
static inline void fl_sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

#endif
