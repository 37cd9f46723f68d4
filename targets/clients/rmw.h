/*
 * rmw: an add to a set, emulated by read-modify-write, for targets whose
 * database has no set type but has compare-and-set on a whole value. The
 * set is a JSON array of integers under one key; an add is a loop of two
 * steps, each sent by the target's own client:
 *
 *   READ  the set (absent: empty);
 *   CAS   replace it, if it is still `current`, by `next` (current with
 *         the element appended; current NULL: create it if absent).
 *
 * A refused CAS (another add came first) retries from the set as it is
 * now. The decisions, apart from the network, live here so that every
 * such target decides alike and tests can drive them with made-up
 * answers:
 *
 *   ok    a CAS was acknowledged, or the element is already in the set
 *         (sets only grow and elements are unique, so only an attempt of
 *         ours can have put it there);
 *   fail  a definite refusal, a key holding something other than a set,
 *         or giving up, while nothing of ours can have taken effect;
 *   info  the same after an attempt whose outcome is unknown.
 *
 * Use: rmw_add_init; repeatedly rmw_add_next says what to send (READ, CAS
 * with *next, or DONE) and the client passes the outcome to
 * rmw_add_read_answer / rmw_add_cas_answer / rmw_add_cas_refused; when the
 * client's own bound runs out, rmw_add_give_up. Then `result` is the
 * add's outcome (owned by the state until moved out; rmw_add_clear frees
 * what is left). raftkv's client (targets/clients/raftkv.h) is one user.
 */
#ifndef FL_TARGET_RMW_H
#define FL_TARGET_RMW_H

#include <stdbool.h>
#include <jansson.h>

#include "harness/target.h"

typedef enum rmw_action {
    RMW_READ,
    RMW_CAS,
    RMW_DONE,
} rmw_action;

typedef struct rmw_add {
    json_int_t element;
    json_t *current;     /* the set as last seen (owned); NULL: absent */
    bool known;          /* current reflects an answer, not a guess */
    bool uncertain;      /* an attempt may have taken effect unseen */
    bool wait;           /* the last step failed without deciding anything
                            (no leader yet): pause before the next */
    bool done;
    target_result result;
} rmw_add;

/* The set `current` (NULL: absent) with `element` appended, in *next (new
 * reference). Returns 0 (next built), 1 (already there: next NULL), -1
 * (current is not an array of integers), -2 (out of memory). */
int rmw_set_with(const json_t *current, json_int_t element, json_t **next);

void rmw_add_init(rmw_add *st, json_int_t element);

/* What to send next. RMW_CAS: replace st->current (NULL: absent) by *next
 * (a new reference the caller frees); otherwise *next is NULL. */
rmw_action rmw_add_next(rmw_add *st, json_t **next);

/* The outcome of the READ: ok with the set as value (null: absent), or a
 * fail / info. *r's contents pass to st. */
void rmw_add_read_answer(rmw_add *st, target_result *r);

/* The outcome of the CAS, other than a refusal because the set was not
 * current (that is rmw_add_cas_refused). *r's contents pass to st. */
void rmw_add_cas_answer(rmw_add *st, target_result *r);

/* The CAS was refused because the set was not st->current: another add
 * came first. now_known: the refusal says what the set is now (`now`,
 * borrowed; NULL: absent); otherwise it is read again. */
void rmw_add_cas_refused(rmw_add *st, bool now_known, const json_t *now);

/* End the add on a local problem (out of memory): fail, or info if an
 * earlier attempt may have taken effect. */
void rmw_add_abandon(rmw_add *st, const char *why);

/* The client's bound ran out: decide now. */
void rmw_add_give_up(rmw_add *st);

void rmw_add_clear(rmw_add *st);

#endif
