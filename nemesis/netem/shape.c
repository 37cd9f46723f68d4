/*
 * shape: netem's behaviours as a pure function of a seeded rng. See
 * shape.h.
 */
#include "nemesis/netem/shape.h"

#include <string.h>

const char *shape_params_check(const shape_params *p)
{
    const double pct[] = {p->loss, p->duplicate, p->reorder, p->corrupt};
    for (size_t i = 0; i < sizeof pct / sizeof *pct; i++)
        if (!(pct[i] >= 0 && pct[i] <= 100))
            return "a percentage is outside 0..100";
    if (!(p->delay_ms >= 0 && p->delay_ms <= 60000))
        return "delay must be 0..60000 ms";
    if (!(p->jitter_ms >= 0 && p->jitter_ms <= p->delay_ms))
        return "jitter must be 0..delay";
    if (p->reorder > 0 && p->delay_ms == 0)
        return "reorder needs a delay (as in netem)";
    if (!(p->rate_kbit >= 0))
        return "rate must be >= 0";
    return NULL;
}

void shaper_init(shaper *s, const shape_params *p, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    fl_rng_seed(&s->rng, seed);
}

/* True with probability pct percent. */
static bool chance(fl_rng *rng, double pct)
{
    if (pct <= 0)
        return false;
    return (double)fl_rng_below(rng, 1000000) < pct * 10000.0;
}

shape_decision shaper_decide(shaper *s, size_t len, uint64_t now_ns)
{
    shape_decision d = {.release_ns = now_ns};
    /* Draw every behaviour for every packet, so that one packet's fate
     * does not shift the draws of the next (a replay stays a replay). */
    bool lost = chance(&s->rng, s->p.loss);
    d.duplicate = chance(&s->rng, s->p.duplicate);
    d.corrupt = chance(&s->rng, s->p.corrupt);
    bool ahead = chance(&s->rng, s->p.reorder);
    double u = (double)fl_rng_below(&s->rng, 2000001) / 1000000.0 - 1.0;
    if (lost) {
        d.drop = true;
        d.duplicate = d.corrupt = false;
        return d;
    }
    double delay = ahead ? 0 : s->p.delay_ms + u * s->p.jitter_ms;
    if (delay > 0)
        d.release_ns += (uint64_t)(delay * 1e6);
    if (s->p.rate_kbit > 0) {
        /* bits / (kbit/s) = ms; the link sends one packet at a time. */
        uint64_t busy = (uint64_t)((double)len * 8.0 / s->p.rate_kbit * 1e6);
        if (d.release_ns < s->rate_free_ns)
            d.release_ns = s->rate_free_ns;
        s->rate_free_ns = d.release_ns + busy;
    }
    return d;
}

void shape_corrupt(unsigned char *pkt, size_t len)
{
    /* IPv4, a header that fits: byte 0's high nibble 4, IHL >= 5. */
    if (len < 20 || (pkt[0] >> 4) != 4 || (size_t)(pkt[0] & 0xf) * 4 > len)
        return;
    pkt[5] ^= 1;   /* identification's low byte */
}
