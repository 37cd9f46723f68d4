/*
 * shape: what the packet shaper (faultline-netem, nemesis/netem/main.c)
 * does to each packet — netem's behaviours computed by a pure, seeded
 * function, so that the decisions can be tested without a network.
 *
 * Why a shaper of our own: the local cluster's kernel has no sch_netem
 * (nor sch_prio), so tc netem cannot be used there. The packet fault
 * instead steers a node's packets to chosen destinations into an NFQUEUE
 * (iptables, mangle POSTROUTING) and this program holds, drops,
 * duplicates or damages each one before giving the kernel its verdict.
 * The behaviours follow netem's (tc-netem(8)):
 *
 *   delay D jitter J   held D +- J ms (uniform), so jitter reorders
 *   loss P             dropped with probability P %
 *   duplicate P        sent twice with probability P %
 *   reorder P          sent at once, ahead of the delayed ones, with
 *                      probability P % (needs a delay, as in netem)
 *   corrupt P          one bit of the IP header's identification field
 *                      flipped with probability P %: the receiver's
 *                      header checksum rejects it, which is what netem's
 *                      corrupt amounts to once checksums are checked
 *   rate R             at most R kbit/s: each packet leaves no earlier
 *                      than the previous one plus its own length at R
 *
 * Times are nanoseconds on the caller's clock (CLOCK_MONOTONIC in the
 * shaper).
 */
#ifndef FL_NETEM_SHAPE_H
#define FL_NETEM_SHAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

/* The behaviours, as netem's parameters. Zero: off. */
typedef struct shape_params {
    double delay_ms, jitter_ms;
    double loss, duplicate, reorder, corrupt;  /* percent, 0..100 */
    double rate_kbit;
} shape_params;

/* Whether p is something netem would accept: percentages in 0..100,
 * non-negative times, jitter no larger than the delay, a reorder only with
 * a delay. NULL if so, else a static message naming the parameter. */
const char *shape_params_check(const shape_params *p);

/* The shaper's state across packets: its rng and where the rate limit
 * leaves the next packet. */
typedef struct shaper {
    shape_params p;
    fl_rng rng;
    uint64_t rate_free_ns;   /* the link is busy until then */
} shaper;

void shaper_init(shaper *s, const shape_params *p, uint64_t seed);

/* What becomes of one packet. */
typedef struct shape_decision {
    bool drop;
    bool duplicate;          /* send a copy too (at the same time) */
    bool corrupt;            /* flip the bit (shape_corrupt) */
    uint64_t release_ns;     /* when to let it go (>= now) */
} shape_decision;

/* Decide the fate of a packet of len bytes that arrived at now_ns. */
shape_decision shaper_decide(shaper *s, size_t len, uint64_t now_ns);

/* Flip the lowest bit of the IPv4 identification field of pkt (len
 * bytes), breaking its header checksum. Nothing if pkt is not a whole
 * IPv4 header. */
void shape_corrupt(unsigned char *pkt, size_t len);

#endif
