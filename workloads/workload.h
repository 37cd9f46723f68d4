/*
 * workload: the runner's view of a workload — a named generator of client
 * operations over integer keys 0, 1, 2, ... that the runner reads back at
 * the end — and the checkers that judge its histories. The runner does
 * not know which workload it drives; the run's analysis
 * (harness/run_store.h) asks the workload, by name, which checkers to run.
 * The registry is workload.c, one entry per workload:
 *
 *   register  read / write / cas on independent keys; checker
 *             "linearizable", model cas-register, key by key.
 *             workloads/register.h
 *   set       unique adds, one set per key; checker "set": the final reads
 *             are checked for lost and unexpected elements.
 *             workloads/set.h
 *   list-append, rw-register
 *             transactions (f "txn", no key; the value is a list of
 *             micro-ops) over rolling integer keys; checker "elle".
 *             workloads/txn.h
 *
 * Not thread safe: the runner serialises workload_next(). Owned by the
 * caller (workload_free).
 */
#ifndef FL_WORKLOAD_H
#define FL_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "checkers/checker.h"

typedef struct workload_options {
    uint64_t seed;
    int active_keys;   /* keys in use at a time; 0: the workload's default
                          for `concurrency` client threads */
    int concurrency;
} workload_options;

/* One operation to invoke: f is a static string; key and value are owned
 * by the op (workload_op_clear). A transaction has no key (NULL). */
typedef struct workload_op {
    const char *f;
    json_t *key;
    json_t *value;
} workload_op;

typedef struct workload workload;

/* Names of the workloads, NULL-terminated. */
const char *const *workload_names(void);

/* Whether name is one of them. */
bool workload_known(const char *name);

/* The operations (workload_op.f) the workload named issues, final reads
 * included (NULL terminated, static), or NULL for an unknown name: what a
 * target must support to run it. */
const char *const *workload_operations(const char *name);

/* A checker that judges a workload's histories: its name in the checker
 * registry, and the options the workload fixes (the model); the one who
 * runs it adds the budgets (time limit, shrinking). */
typedef struct workload_checker {
    const char *checker;
    checker_options options;
} workload_checker;

/* The checkers of workload `name`, in the order to run them: *out (static)
 * has *n entries. FL_EUSAGE naming the known workloads if none is called
 * name. */
int workload_checkers(const char *name, const workload_checker **out,
                      size_t *n, fl_error *err);

/* FL_EUSAGE (unknown name, bad options), FL_ENOMEM. */
int workload_new(const char *name, const workload_options *opt,
                 workload **out, fl_error *err);
void workload_free(workload *w);
const char *workload_name(const workload *w);

/* The next operation; FL_ENOMEM only. */
int workload_next(workload *w, workload_op *out, fl_error *err);
void workload_op_clear(workload_op *op);

/* Keys handed out so far are 0 .. workload_keys_used() - 1: the runner's
 * final phase reads each, with workload_final_read. */
int64_t workload_keys_used(const workload *w);

/* The final read of key k: "read" of k (value null), or for a
 * transactional workload a txn reading k alone. FL_ENOMEM only. */
int workload_final_read(const workload *w, int64_t k, workload_op *out,
                        fl_error *err);

#endif
