/*
 * workload: the registry of workloads — each one's generator and the
 * checkers that judge it. See workload.h.
 */
#include "workloads/workload.h"

#include <stdlib.h>
#include <string.h>

#include "checkers/lin_model.h"
#include "workloads/register.h"
#include "workloads/set.h"
#include "workloads/txn.h"

#define WORKLOAD_MAX_CHECKERS 4

/* One workload: how to make its generator, how to drive it, and what
 * judges it. `gen` is the generator the kind's own functions made. */
typedef struct workload_kind {
    const char *name;
    int (*make)(uint64_t seed, int active_keys, void **gen, fl_error *err);
    /* Fill f, key and value; a NULL key or value means out of memory. */
    void (*next)(void *gen, workload_op *out);
    int64_t (*keys_used)(const void *gen);
    void (*free)(void *gen);
    workload_checker checkers[WORKLOAD_MAX_CHECKERS]; /* to the first NULL */
    const char *const *operations;   /* final reads included */
    /* A transaction per op (no key); its final read of key k. NULL: the
     * op is keyed and the final read is "read" of the key. */
    json_t *(*final_read)(int64_t k);
} workload_kind;

struct workload {
    const workload_kind *kind;
    void *gen;
};

/* ---- register: read / write / cas, judged linearizable and SC --------------------------- */

static int register_make(uint64_t seed, int active_keys, void **gen,
                         fl_error *err)
{
    wl_register_options ro;
    wl_register_options_init(&ro);
    ro.seed = seed;
    ro.active_keys = active_keys;
    wl_register *g = NULL;
    int rc = wl_register_new(&ro, &g, err);
    *gen = g;
    return rc;
}

static void register_next(void *gen, workload_op *out)
{
    wl_op op;
    wl_register_next(gen, &op);
    out->f = wl_f_name(op.f);
    out->key = json_integer(op.key);
    out->value = wl_op_invoke_value(&op);
}

static int64_t register_keys_used(const void *gen)
{
    return wl_register_keys_used(gen);
}

static void register_free(void *gen)
{
    wl_register_free(gen);
}

/* ---- set: unique adds, judged by the set checker -------------------------------------- */

static int set_make(uint64_t seed, int active_keys, void **gen, fl_error *err)
{
    wl_set_options so;
    wl_set_options_init(&so);
    so.seed = seed;
    so.active_keys = active_keys;
    wl_set *g = NULL;
    int rc = wl_set_new(&so, &g, err);
    *gen = g;
    return rc;
}

static void set_next(void *gen, workload_op *out)
{
    int64_t key, element;
    wl_set_next(gen, &key, &element);
    out->f = "add";
    out->key = json_integer(key);
    out->value = json_integer(element);
}

static int64_t set_keys_used(const void *gen)
{
    return wl_set_keys_used(gen);
}

static void set_free(void *gen)
{
    wl_set_free(gen);
}

/* ---- list-append and rw-register: transactions, judged by elle ------------------- */

static int txn_make(uint64_t seed, int active_keys, bool list_append,
                    void **gen, fl_error *err)
{
    wl_txn_options to;
    wl_txn_options_init(&to);
    to.seed = seed;
    to.active_keys = active_keys;
    to.list_append = list_append;
    wl_txn *g = NULL;
    int rc = wl_txn_new(&to, &g, err);
    *gen = g;
    return rc;
}

static int list_append_make(uint64_t seed, int active_keys, void **gen,
                            fl_error *err)
{
    return txn_make(seed, active_keys, true, gen, err);
}

static int rw_register_make(uint64_t seed, int active_keys, void **gen,
                            fl_error *err)
{
    return txn_make(seed, active_keys, false, gen, err);
}

static void txn_next(void *gen, workload_op *out)
{
    out->f = "txn";
    out->key = NULL;
    out->value = wl_txn_next(gen);
}

static int64_t txn_keys_used(const void *gen)
{
    return wl_txn_keys_used(gen);
}

static void txn_free(void *gen)
{
    wl_txn_free(gen);
}

/* ---- The registry ----------------------------------------------------------------- */

static const char *const register_ops[] = {"read", "write", "cas", NULL};
static const char *const set_ops[] = {"add", "read", NULL};
static const char *const txn_ops[] = {"txn", NULL};

static const workload_kind kinds[] = {
    {"register", register_make, register_next, register_keys_used,
     register_free,
     {{"linearizable", {.model = &lin_model_cas_register}},
      /* and which guarantee broke: SC's verdict, and the anomaly */
      {"sequential", {.model = &lin_model_cas_register,
                      .consistency = CHECKER_CONSISTENCY_SEQUENTIAL}}},
     register_ops, NULL},
    {"set", set_make, set_next, set_keys_used, set_free, {{"set", {0}}},
     set_ops, NULL},
    {"list-append", list_append_make, txn_next, txn_keys_used, txn_free,
     {{"elle", {0}}}, txn_ops, wl_txn_read},
    {"rw-register", rw_register_make, txn_next, txn_keys_used, txn_free,
     {{"elle", {0}}}, txn_ops, wl_txn_read},
};
#define NKINDS (sizeof kinds / sizeof *kinds)

static const workload_kind *find(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

static int unknown(const char *name, fl_error *err)
{
    char known[256] = "";
    for (size_t i = 0; i < NKINDS; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                 i ? ", " : "", kinds[i].name);
    return fl_error_set(err, FL_EUSAGE, "unknown workload \"%s\" (known: %s)",
                        name, known);
}

const char *const *workload_names(void)
{
    static const char *names[NKINDS + 1];
    for (size_t i = 0; i < NKINDS; i++)
        names[i] = kinds[i].name;
    return names;
}

bool workload_known(const char *name)
{
    return find(name) != NULL;
}

int workload_checkers(const char *name, const workload_checker **out,
                      size_t *n, fl_error *err)
{
    const workload_kind *k = find(name);
    *out = NULL;
    *n = 0;
    if (k == NULL)
        return unknown(name, err);
    while (*n < WORKLOAD_MAX_CHECKERS && k->checkers[*n].checker != NULL)
        (*n)++;
    *out = k->checkers;
    return FL_OK;
}

const char *const *workload_operations(const char *name)
{
    const workload_kind *k = find(name);
    return k ? k->operations : NULL;
}

int workload_new(const char *name, const workload_options *opt,
                 workload **out, fl_error *err)
{
    *out = NULL;
    const workload_kind *k = find(name);
    if (k == NULL)
        return unknown(name, err);
    workload *w = calloc(1, sizeof *w);
    if (!w)
        return fl_error_set(err, FL_ENOMEM, "workload: out of memory");
    int keys = opt->active_keys > 0 ? opt->active_keys
                                    : wl_register_keys_for(opt->concurrency);
    w->kind = k;
    int rc = k->make(opt->seed, keys, &w->gen, err);
    if (rc != FL_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return FL_OK;
}

void workload_free(workload *w)
{
    if (!w)
        return;
    w->kind->free(w->gen);
    free(w);
}

const char *workload_name(const workload *w)
{
    return w->kind->name;
}

int workload_next(workload *w, workload_op *out, fl_error *err)
{
    w->kind->next(w->gen, out);
    if ((!out->key && !w->kind->final_read) || !out->value) {
        workload_op_clear(out);
        return fl_error_set(err, FL_ENOMEM, "workload: out of memory");
    }
    return FL_OK;
}

void workload_op_clear(workload_op *op)
{
    json_decref(op->key);
    json_decref(op->value);
    op->key = op->value = NULL;
}

int64_t workload_keys_used(const workload *w)
{
    return w->kind->keys_used(w->gen);
}

int workload_final_read(const workload *w, int64_t k, workload_op *out,
                        fl_error *err)
{
    bool txn = w->kind->final_read != NULL;
    out->f = txn ? "txn" : "read";
    out->key = txn ? NULL : json_integer(k);
    out->value = txn ? w->kind->final_read(k) : json_null();
    if ((!txn && !out->key) || !out->value) {
        workload_op_clear(out);
        return fl_error_set(err, FL_ENOMEM, "workload: out of memory");
    }
    return FL_OK;
}
