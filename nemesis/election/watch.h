/*
 * watch: the pure core of faultline-election (nemesis/election/main.c),
 * the election-kill fault's agent on a node: what a node's status says
 * of its election, and what the agent does about it. No I/O.
 */
#ifndef FL_ELECTION_WATCH_H
#define FL_ELECTION_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum watch_role {
    WATCH_FOLLOWER = 0,
    WATCH_CANDIDATE = 1,   /* any other role word */
    WATCH_LEADER = 2,
} watch_role;

/* Parse an HTTP response (headers and body, len bytes, need not be
 * terminated) whose JSON body has "term": N and "role": "WORD". Returns
 * false (outputs untouched) unless the status is 200 and both are there. */
bool watch_parse_status(const char *resp, size_t len, long long *term,
                        watch_role *role);

/* The agent's memory between polls. */
typedef struct watch_state {
    long long seen;          /* highest term seen; -1 before the first */
    double leader_since;     /* when it was first seen leading; -1: not */
    double period_s;         /* a leader is killed after leading this long */
    uint32_t chance_bp;      /* a voter is killed with chance_bp / 10000 */
} watch_state;

void watch_init(watch_state *w, double now, double period_s, double pct);

/* One poll's verdict: kill and restart the node now? A follower whose
 * term rose (it voted, or heard of a newer term) is, with the chance
 * (draw: uniform in [0, 10000)); a leader is once it has led for the
 * period (so that clients get a leader, and elections keep coming). */
bool watch_step(watch_state *w, double now, long long term, watch_role role,
                uint32_t draw, bool *as_leader);

#endif
