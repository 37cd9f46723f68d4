/*
 * rng: a small seeded pseudo-random generator (splitmix64) for everything
 * in faultline that chooses — the workload generator, the nemesis — so that
 * a run is replayable from its seed. Never rand() or time() in a core.
 * Header only; a fl_rng is a plain value owned by its user.
 */
#ifndef FL_RNG_H
#define FL_RNG_H

#include <stdint.h>

typedef struct fl_rng {
    uint64_t state;
} fl_rng;

static inline void fl_rng_seed(fl_rng *r, uint64_t seed)
{
    r->state = seed;
}

/* splitmix64's finaliser on its own: a good 64-bit hash of one word. */
static inline uint64_t fl_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t fl_rng_next(fl_rng *r)
{
    return fl_rng_mix(r->state += UINT64_C(0x9E3779B97F4A7C15));
}

/* Uniform in [0, n); n > 0. The modulo bias is negligible for small n. */
static inline uint64_t fl_rng_below(fl_rng *r, uint64_t n)
{
    return fl_rng_next(r) % n;
}

/* Uniform in [lo, hi]; lo <= hi. */
static inline int64_t fl_rng_range(fl_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)fl_rng_below(r, (uint64_t)(hi - lo) + 1);
}

#endif
