/*
 * fault: the table of kinds, --nemesis parsing, the scheduler and the
 * driver. See fault.h. Nothing here names a kind but the table.
 */
#include "nemesis/fault.h"
#include "base/build_path.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <limits.h>

/* ---- the table -------------------------------------------------------------------- */

/*
 * The built-in kinds, one line each. The order is the scheduler's (a
 * seed draws the same faults as it always has) and the reverse of the
 * final sweep's (a node both paused and to be restarted is resumed
 * first).
 */
#define FAULT_BUILTIN(X) \
    X(fault_partition)   /* fault_partition.c */ \
    X(fault_kill)        /* fault_kill.c */ \
    X(fault_pause)       /* fault_pause.c */ \
    X(fault_packet)      /* fault_packet.c */ \
    X(fault_clock_skew)  /* fault_clock.c */ \
    X(fault_clock_strobe) /* fault_clock.c */ \
    X(fault_clock_rate)  /* fault_clock.c */ \
    X(fault_power_loss)  /* fault_power_loss.c */ \
    X(fault_bitflip)     /* fault_corrupt.c */ \
    X(fault_truncate)    /* fault_corrupt.c */ \
    X(fault_snapshot)    /* fault_corrupt.c */ \
    X(fault_election_kill) /* fault_election.c */

#define FAULT_DECLARE(k) extern const fault_kind k;
#define FAULT_ENTRY(k) &k,
FAULT_BUILTIN(FAULT_DECLARE)
static const fault_kind *const builtin_kinds[] = {FAULT_BUILTIN(FAULT_ENTRY)};

const fault_table *fault_builtin(void)
{
    static const fault_table t = {
        builtin_kinds, sizeof builtin_kinds / sizeof *builtin_kinds,
    };
    return &t;
}

const char *fault_default_list(void)
{
    return "partition,kill";
}

unsigned fault_all(const fault_table *t)
{
    return t->count >= 32 ? ~0u : (1u << t->count) - 1;
}

unsigned fault_bit(const fault_table *t, const fault_kind *kind)
{
    for (size_t k = 0; k < t->count; k++)
        if (t->kinds[k] == kind)
            return 1u << k;
    return 0;
}

int fault_check_db(const fault_table *t, unsigned mask, const target_db *db,
                   fl_error *err)
{
    for (size_t k = 0; k < t->count; k++) {
        if (!(mask & (1u << k)))
            continue;
        char who[64];
        snprintf(who, sizeof who, "--nemesis %s", t->kinds[k]->name);
        int rc = target_db_allows(db, t->kinds[k]->db_needs, who, err);
        if (rc != FL_OK)
            return rc;
    }
    return FL_OK;
}

/* Why kind cannot run against vt with db, or NULL when it can. */
static const char *unusable_because(const fault_kind *kind,
                                    const target_vtable *vt,
                                    const target_db *db)
{
    if (kind->db_env && !vt->takes_db_env)
        return "the target cannot start its database under libfaketime";
    if ((kind->db_needs & TARGET_DB_DATA) && !vt->data_dir)
        return "the target names no data directory";
    if ((kind->db_needs & TARGET_DB_ELECTION) && !vt->election)
        return "the target cannot report a node's election";
    fl_error ignored = {0};
    if (target_db_allows(db, kind->db_needs, kind->name, &ignored) != FL_OK)
        return !db || db->mode != TARGET_DB_EXISTING
                   ? "--db existing without the commands it needs"
               : kind->db_needs & TARGET_DB_DATA
                   ? "--db existing: the database's files are yours"
               : kind->db_needs & TARGET_DB_ELECTION
                   ? "--db existing: the database's processes are yours"
                   : "--db existing without the commands it needs";
    return NULL;
}

unsigned fault_usable(const fault_table *t, unsigned mask,
                      const target_vtable *vt, const target_db *db,
                      char *why, size_t size)
{
    const char *because[FAULT_MAX_KINDS] = {0};
    for (size_t k = 0; k < t->count; k++)
        if (mask & (1u << k) &&
            (because[k] = unusable_because(t->kinds[k], vt, db)))
            mask &= ~(1u << k);
    /* One clause per reason, naming its kinds: "a, b (reason); c (...)". */
    size_t len = 0;
    for (size_t k = 0; why && size && k < t->count; k++) {
        bool first = true;
        for (size_t e = 0; e < k && first; e++)
            first = because[e] != because[k];
        for (size_t e = k; because[k] && first && e < t->count; e++)
            if (because[e] == because[k] && len < size)
                len += (size_t)snprintf(why + len, size - len, "%s%s",
                                        e == k ? (len ? "; " : "") : ", ",
                                        t->kinds[e]->name);
        if (because[k] && first && len < size)
            len += (size_t)snprintf(why + len, size - len, " (%s)",
                                    because[k]);
    }
    if (why && size && !len)
        why[0] = '\0';
    return mask;
}

void fault_names(const fault_table *t, const char *sep, char *buf,
                 size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < t->count && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                k ? sep : "", t->kinds[k]->name);
}

json_t *fault_table_json(const fault_table *t)
{
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < t->count; k++) {
        const fault_kind *kind = t->kinds[k];
        if (json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
                                  "name", kind->name, "begin_f",
                                  kind->begin_f, "end_f", kind->end_f))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int fault_parse(const fault_table *t, const char *list, unsigned *mask,
                fl_error *err)
{
    *mask = 0;
    if (!list || !*list || strcmp(list, "none") == 0)
        return FL_OK;
    if (strcmp(list, "all") == 0) {
        *mask = fault_all(t);
        return FL_OK;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ","), k = 0;
        while (k < t->count && !(strlen(t->kinds[k]->name) == len &&
                                 strncmp(p, t->kinds[k]->name, len) == 0))
            k++;
        if (k == t->count) {
            char known[256];
            fault_names(t, ", ", known, sizeof known);
            return fl_error_set(err, FL_EUSAGE, "--nemesis: unknown fault "
                                "\"%.*s\" (known: %s, all, none)", (int)len, p,
                                known);
        }
        *mask |= 1u << k;
        p += len;
        if (*p == ',')
            p++;
    }
    return FL_OK;
}

/* ---- options ------------------------------------------------------------------------ */

const fault_option *fault_option_find(const fault_table *t, const char *name)
{
    for (size_t k = 0; k < t->count; k++)
        for (const fault_option *o = t->kinds[k]->options; o && o->name; o++)
            if (strcmp(o->name, name) == 0)
                return o;
    return NULL;
}

/* o's value in given (text, as typed; or a number), or its default. */
static int option_number(const fault_option *o, const json_t *given,
                         double *out, fl_error *err)
{
    const json_t *v = given ? json_object_get(given, o->name) : NULL;
    *out = o->default_value;
    if (!v)
        return FL_OK;
    char *end = NULL;
    if (json_is_number(v))
        *out = json_number_value(v);
    else if (json_is_string(v))
        *out = strtod(json_string_value(v), &end);
    if ((!json_is_number(v) && (!end || end == json_string_value(v) || *end)) ||
        !(*out >= o->min && *out <= o->max))
        return fl_error_set(err, FL_EUSAGE, "--%s: expected a number in "
                            "%g..%g", o->name, o->min, o->max);
    return FL_OK;
}

int fault_options_resolve(const fault_table *t, const json_t *given,
                          json_t **out, fl_error *err)
{
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)given, name, v)
        if (!fault_option_find(t, name))
            return fl_error_set(err, FL_EUSAGE, "no fault takes --%s", name);
    json_t *opts = json_object();
    if (!opts)
        return fl_error_set(err, FL_ENOMEM, "fault options: out of memory");
    for (size_t k = 0; k < t->count; k++)
        for (const fault_option *o = t->kinds[k]->options; o && o->name; o++) {
            double x;
            int rc = option_number(o, given, &x, err);
            if (rc == FL_OK && json_object_set_new(opts, o->name, json_real(x)))
                rc = fl_error_set(err, FL_ENOMEM, "fault options: out of memory");
            if (rc != FL_OK) {
                json_decref(opts);
                return rc;
            }
        }
    *out = opts;
    return FL_OK;
}

double fault_option_value(const fault_action *a, const char *name)
{
    const json_t *v = a->options ? json_object_get(a->options, name) : NULL;
    if (json_is_number(v))
        return json_number_value(v);
    for (const fault_option *o = a->kind ? a->kind->options : NULL;
         o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->default_value;
    return 0;
}

void fault_options_help(const fault_table *t, FILE *out)
{
    for (size_t k = 0; k < t->count; k++)
        for (const fault_option *o = t->kinds[k]->options; o && o->name; o++) {
            char opt[64];
            snprintf(opt, sizeof opt, "--%s %s", o->name, o->arg);
            fprintf(out, "  %-22s %s (default %g)\n", opt, o->help,
                    o->default_value);
        }
}

const char *fault_db_env(const fault_table *t, unsigned mask)
{
    for (size_t k = 0; k < t->count; k++)
        if ((mask & (1u << k)) && t->kinds[k]->db_env)
            return t->kinds[k]->db_env;
    return NULL;
}

const char *fault_action_f(const fault_action *a)
{
    if (!a->kind)
        return "noop";
    return a->begin ? a->kind->begin_f : a->kind->end_f;
}

/* ---- helpers for kinds ------------------------------------------------------------------ */

void fault_plan_minority(fl_rng *rng, size_t n, long leader,
                         const fault_action *in_force, size_t nforce,
                         fault_action *out)
{
    (void)in_force;
    (void)nforce;
    size_t perm[FAULT_MAX_NODES];
    size_t max = n > 2 ? (n - 1) / 2 : 1;
    if (leader >= 0 && fl_rng_below(rng, 2) == 0) {
        out->nodes[(size_t)leader < n ? (size_t)leader
                                      : (size_t)fl_rng_below(rng, n)] = true;
        return;
    }
    size_t count = (size_t)fl_rng_range(rng, 1, (int64_t)max);
    nem_shuffle(perm, n, rng);
    for (size_t i = 0; i < count; i++)
        out->nodes[perm[i]] = true;
}

bool fault_in_force_on(const fault_action *in_force, size_t nforce,
                       unsigned mask, size_t i)
{
    for (size_t f = 0; f < nforce; f++)
        if (in_force[f].kind && (in_force[f].kind->acts_on & mask) &&
            in_force[f].nodes[i])
            return true;
    return false;
}

json_t *fault_nodes_json(const fault_action *a, size_t n,
                         const char *const *names)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (a->nodes[i] && json_array_append_new(arr, json_string(names[i]))) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

/* ---- the scheduler ------------------------------------------------------------------------ */

/* Jepsen's stagger: uniform in [0, 2 * interval), in thousandths. */
static double stagger(const fault_plan *p, fl_rng *rng)
{
    return 2 * p->interval_s * (double)fl_rng_below(rng, 1000) / 1000.0;
}

/* Put kind k into the cycle of the kinds it shares an acts_on bit with,
 * merging the cycles it joins (sharing is transitive: a kind that acts on
 * both the process and the clock would join those two cycles). */
static void join_cycle(fault_plan *p, size_t k)
{
    unsigned on = p->table->kinds[k]->acts_on, kinds = 1u << k;
    size_t kept = 0;
    for (size_t c = 0; c < p->ncycles; c++) {
        if (on & p->cycles[c].acts_on) {
            on |= p->cycles[c].acts_on;
            kinds |= p->cycles[c].kinds;
        } else {
            p->cycles[kept++] = p->cycles[c];
        }
    }
    p->cycles[kept++] = (fault_cycle){.kinds = kinds, .acts_on = on,
                                      .in_force = -1};
    p->ncycles = kept;
}

void fault_plan_init(fault_plan *p, const fault_table *t, unsigned enabled,
                     size_t n, double interval_s, fl_rng *rng)
{
    memset(p, 0, sizeof *p);
    p->table = t;
    p->enabled = enabled;
    p->n = n;
    p->interval_s = interval_s > 0 ? interval_s : 0;
    for (size_t k = 0; k < t->count; k++)
        if (enabled & (1u << k))
            join_cycle(p, k);
    /* In the order of each cycle's first kind, whatever the merging did:
     * the same kinds always draw the same schedule from a seed. */
    for (size_t c = 1; c < p->ncycles; c++)
        for (size_t d = c; d > 0 && (p->cycles[d].kinds & -p->cycles[d].kinds) <
                                    (p->cycles[d - 1].kinds &
                                     -p->cycles[d - 1].kinds); d--) {
            fault_cycle tmp = p->cycles[d];
            p->cycles[d] = p->cycles[d - 1];
            p->cycles[d - 1] = tmp;
        }
    for (size_t c = 0; c < p->ncycles; c++)
        p->cycles[c].due = stagger(p, rng);
}

bool fault_plan_idle(const fault_plan *p)
{
    for (size_t c = 0; c < p->ncycles; c++)
        if (p->cycles[c].in_force >= 0)
            return false;
    return true;
}

size_t fault_plan_in_force(const fault_plan *p, fault_action *out)
{
    size_t count = 0;
    for (size_t k = 0; k < p->table->count; k++)
        if (p->in_force[k].kind)
            out[count++] = p->in_force[k];
    return count;
}

/* The cycle whose action is due first (the lowest on a tie), or -1. */
static long next_cycle(const fault_plan *p)
{
    long best = -1;
    if (p->n == 0)
        return -1;
    for (size_t c = 0; c < p->ncycles; c++)
        if (best < 0 || p->cycles[c].due < p->cycles[best].due)
            best = (long)c;
    return best;
}

double fault_plan_due(const fault_plan *p)
{
    long c = next_cycle(p);
    return c < 0 ? -1 : p->cycles[c].due;
}

bool fault_plan_next_begins(const fault_plan *p)
{
    long c = next_cycle(p);
    return c >= 0 && p->cycles[c].in_force < 0;
}

/* The end of table kind k's fault in force, which is then no longer. */
static void end_kind(fault_plan *p, size_t k, fault_action *out)
{
    *out = p->in_force[k];
    out->begin = false;
    memset(&p->in_force[k], 0, sizeof p->in_force[k]);
    for (size_t c = 0; c < p->ncycles; c++)
        if (p->cycles[c].in_force == (long)k)
            p->cycles[c].in_force = -1;
}

void fault_plan_heal(fault_plan *p, fault_action *out)
{
    memset(out, 0, sizeof *out);
    for (size_t k = p->table->count; k-- > 0;)
        if (p->in_force[k].kind) {
            end_kind(p, k, out);
            return;
        }
}

void fault_plan_next(fault_plan *p, fl_rng *rng, long leader,
                     fault_action *out)
{
    memset(out, 0, sizeof *out);
    long c = next_cycle(p);
    if (c < 0)
        return;
    fault_cycle *cy = &p->cycles[c];
    if (cy->in_force >= 0) {
        end_kind(p, (size_t)cy->in_force, out);
    } else {
        size_t choices[FAULT_MAX_KINDS], nc = 0;
        for (size_t k = 0; k < p->table->count; k++)
            if (cy->kinds & (1u << k))
                choices[nc++] = k;
        size_t k = choices[nc > 1 ? fl_rng_below(rng, nc) : 0];
        fault_action now[FAULT_MAX_KINDS];
        size_t nforce = fault_plan_in_force(p, now);
        out->kind = p->table->kinds[k];
        out->begin = true;
        out->options = p->options;
        out->kind->plan(rng, p->n, leader, now, nforce, out);
        p->in_force[k] = *out;
        cy->in_force = (long)k;
    }
    cy->due += stagger(p, rng);
}

void fault_plan_sweep(const fault_plan *p, size_t k, fault_action *out)
{
    memset(out, 0, sizeof *out);
    out->kind = p->table->kinds[k];
    out->options = p->options;
    for (size_t i = 0; i < p->n; i++)
        out->nodes[i] = true;
}

/* ---- carrying actions out ------------------------------------------------------------------ */

/* What the nodes' hooks noted of one action (fault_note_did). */
struct fault_did {
    pthread_mutex_t lock;
    json_t *notes;               /* {NODE: note}; NULL until the first */
};

static void did_init(struct fault_did *d)
{
    pthread_mutex_init(&d->lock, NULL);
    d->notes = NULL;
}

/* The notes (the caller's reference, or NULL), d emptied and destroyed. */
static json_t *did_take(struct fault_did *d)
{
    json_t *notes = d->notes;
    d->notes = NULL;
    pthread_mutex_destroy(&d->lock);
    return notes;
}

void fault_note_did(const fault_env *env, size_t node, json_t *note)
{
    if (!note)
        return;
    struct fault_did *d = env->did;
    if (!d || !env->names || node >= env->n) {
        json_decref(note);
        return;
    }
    pthread_mutex_lock(&d->lock);
    if (!d->notes)
        d->notes = json_object();
    if (!d->notes || json_object_set_new(d->notes, env->names[node], note))
        json_decref(note);
    pthread_mutex_unlock(&d->lock);
}

/* The completion's value: v, and notes (borrowed, may be NULL) as "did".
 * New reference; NULL on OOM (v NULL too). */
static json_t *value_with_did(json_t *v, json_t *notes)
{
    if (!notes || json_object_size(notes) == 0)
        return json_incref(v);
    json_t *out = json_is_object(v) ? json_deep_copy(v)
                                    : json_pack("{s:O?}", "nodes", v);
    if (out && json_object_set(out, "did", notes)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

typedef int (*node_fn)(void *ctx, size_t node, fl_error *err);

/* fn on every node: all at once over the remote, in turn without one
 * (tests); every node attempted, the first failure (lowest node) kept. */
static int each_node(const fault_env *env, node_fn fn, void *ctx,
                     fl_error *err)
{
    if (env->r)
        return remote_each(env->r, fn, ctx, err);
    int first = FL_OK;
    for (size_t i = 0; i < env->n; i++) {
        fl_error e = {0};
        int rc = fn(ctx, i, &e);
        if (rc != FL_OK && first == FL_OK) {
            first = rc;
            *err = e;
        }
    }
    return first;
}

/* An action carried out on a thread of its own (a bounded driver). */
struct fault_job {
    fault_env env;               /* the driver's, did pointing at did */
    struct fault_did did;
    fault_action a;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    bool node_done[FAULT_MAX_NODES];
    int rc;
    fl_error err;
};

typedef struct apply_job {
    const fault_env *env;
    const fault_action *a;
    fault_job *track;            /* NULL, or where each node's end goes */
} apply_job;

static int apply_node(void *ctx, size_t node, fl_error *err)
{
    apply_job *j = ctx;
    if (!j->a->nodes[node])
        return FL_OK;
    int rc = (j->a->begin ? j->a->kind->apply
                          : j->a->kind->heal)(j->env, j->a, node, err);
    if (j->track) {
        pthread_mutex_lock(&j->track->lock);
        j->track->node_done[node] = true;
        pthread_mutex_unlock(&j->track->lock);
    }
    return rc;
}

static int apply_tracked(const fault_env *env, const fault_action *a,
                         fault_job *track, fl_error *err)
{
    if (!a->kind)
        return FL_OK;
    apply_job j = {.env = env, .a = a, .track = track};
    return each_node(env, apply_node, &j, err);
}

int fault_apply(const fault_env *env, const fault_action *a, fl_error *err)
{
    return apply_tracked(env, a, NULL, err);
}

/* fault_apply, with what the nodes noted into *notes (the caller's;
 * NULL when none). */
static int apply_noting(const fault_env *env, const fault_action *a,
                        json_t **notes, fl_error *err)
{
    struct fault_did did;
    did_init(&did);
    fault_env noting = *env;
    noting.did = &did;
    int rc = fault_apply(&noting, a, err);
    *notes = did_take(&did);
    return rc;
}

/* ---- bounded actions ------------------------------------------------------------------------ */

static void *job_main(void *arg)
{
    fault_job *j = arg;
    fl_error e = {0};
    int rc = apply_tracked(&j->env, &j->a, j, &e);
    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->err = e;
    j->done = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

static void job_free(fault_job *j)
{
    pthread_join(j->thread, NULL);
    json_decref(did_take(&j->did));
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
    free(j);
}

void fault_driver_bound(fault_driver *d, double bound_s)
{
    d->bound_s = bound_s > 0 ? bound_s : 0;
}

void fault_driver_finish(fault_driver *d)
{
    for (size_t i = 0; i < d->nstragglers; i++)
        job_free(d->stragglers[i]);
    d->nstragglers = 0;
}

/* "n2, n3": a's nodes whose apply has not ended. Under j->lock. */
static void undone_nodes(const fault_job *j, size_t n,
                         const char *const *names, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        if (j->a.nodes[i] && !j->node_done[i])
            len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                    len ? ", " : "", names[i]);
}

/* Apply a on a thread of its own and wait at most the bound; what the
 * nodes noted into *notes (the caller's; NULL when none or given up). */
static int apply_bounded(fault_driver *d, const fault_action *a,
                         json_t **notes, fl_error *err)
{
    if (d->nstragglers == FAULT_MAX_STRAGGLERS) /* never unbounded in count */
        fault_driver_finish(d);
    fault_job *j = calloc(1, sizeof *j);
    if (!j)
        return fl_error_set(err, FL_ENOMEM, "nemesis: out of memory");
    j->env = *d->env;
    j->env.did = &j->did;
    did_init(&j->did);
    j->a = *a;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->lock, NULL);
    if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->cond);
        did_take(&j->did);
        free(j);
        return apply_noting(d->env, a, notes, err);
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    double whole = (double)until.tv_nsec / 1e9 + d->bound_s;
    until.tv_sec += (time_t)whole;
    until.tv_nsec = (long)((whole - (double)(time_t)whole) * 1e9);
    pthread_mutex_lock(&j->lock);
    while (!j->done &&
           pthread_cond_timedwait(&j->cond, &j->lock, &until) == 0)
        ;
    bool done = j->done;
    int rc = j->rc;
    char late[256];
    if (done)
        *err = j->err;
    else
        undone_nodes(j, d->env->n, d->env->names, late, sizeof late);
    pthread_mutex_unlock(&j->lock);
    if (done) {    /* every note was made before done was set */
        pthread_mutex_lock(&j->did.lock);
        *notes = j->did.notes;
        j->did.notes = NULL;
        pthread_mutex_unlock(&j->did.lock);
        job_free(j);
        return rc;
    }
    d->stragglers[d->nstragglers++] = j;
    return fl_error_set(err, FAULT_ETIMEOUT, "%s not done within %g s on %s "
                        "(left to finish; the schedule goes on)",
                        fault_action_f(a), d->bound_s, late);
}

/* ---- rest, prepare, teardown ---------------------------------------------------------- */

char *fault_rest_cmd(const fault_table *t, const fault_env *env, size_t node,
                     const char *target_rest)
{
    /* Each part in a subshell, so that a part's own exit ends only it; the
     * kinds' statuses are gathered, not short-circuited: every part runs. */
    char *s = NULL;
    if (asprintf(&s, "fl_rest=0; ( %s\n)", target_rest) < 0)
        return NULL;
    for (size_t k = 0; s && k < t->count; k++) {
        if (!t->kinds[k]->rest)
            continue;
        char *part = t->kinds[k]->rest(env, node), *next = NULL;
        if (!part || asprintf(&next, "%s; ( %s\n) || fl_rest=1", s, part) < 0)
            next = NULL;
        free(part);
        free(s);
        s = next;
    }
    char *all = NULL;
    if (s && asprintf(&all, "%s; [ $fl_rest = 0 ]", s) < 0)
        all = NULL;
    free(s);
    return all;
}

json_t *fault_rest_found(const fault_table *t, const char *out)
{
    json_t *found = json_object();
    for (size_t k = 0; found && out && k < t->count; k++) {
        size_t len = strlen(t->kinds[k]->name);
        for (const char *p = out; *p; p += strcspn(p, "\n"), p += *p != 0) {
            if (strncmp(p, t->kinds[k]->name, len) != 0 || p[len] != '=')
                continue;
            long n = strtol(p + len + 1, NULL, 10);
            if (n > 0 && json_object_set_new(found, t->kinds[k]->name,
                                             json_integer(n)) != 0) {
                json_decref(found);
                return NULL;
            }
            break;
        }
    }
    return found;
}

typedef int (*hook_fn)(const fault_env *env, size_t node, fl_error *err);

typedef struct hook_job {
    const fault_env *env;
    hook_fn hook;
} hook_job;

static int hook_node(void *ctx, size_t node, fl_error *err)
{
    hook_job *j = ctx;
    return j->hook(j->env, node, err);
}

int fault_prepare_all(const fault_table *t, unsigned mask,
                      const fault_env *env, fl_error *err)
{
    for (size_t k = 0; k < t->count; k++) {
        if (!(mask & (1u << k)) || !t->kinds[k]->prepare)
            continue;
        hook_job j = {.env = env, .hook = t->kinds[k]->prepare};
        int rc = each_node(env, hook_node, &j, err);
        if (rc != FL_OK) {
            fl_error_wrap(err, "preparing --nemesis %s", t->kinds[k]->name);
            return rc;
        }
    }
    return FL_OK;
}

int fault_teardown_all(const fault_table *t, unsigned mask,
                       const fault_env *env, fl_error *err)
{
    int first = FL_OK;
    for (size_t k = t->count; k-- > 0;) {
        if (!(mask & (1u << k)) || !t->kinds[k]->teardown)
            continue;
        hook_job j = {.env = env, .hook = t->kinds[k]->teardown};
        fl_error e = {0};
        int rc = each_node(env, hook_node, &j, &e);
        if (rc != FL_OK && first == FL_OK) {
            fl_error_wrap(&e, "tearing down --nemesis %s", t->kinds[k]->name);
            first = rc;
            *err = e;
        }
    }
    return first;
}

void fault_driver_init(fault_driver *d, const fault_table *t,
                       unsigned enabled, uint64_t seed, double interval_s,
                       const fault_env *env, fault_note_fn note,
                       void *note_ctx)
{
    memset(d, 0, sizeof *d);
    fl_rng_seed(&d->rng, seed);
    fault_plan_init(&d->plan, t, enabled, env->n, interval_s, &d->rng);
    d->plan.options = env->options;
    d->env = env;
    d->note = note;
    d->note_ctx = note_ctx;
}

int fault_driver_do(fault_driver *d, const fault_action *a, fl_error *err)
{
    if (!a->kind)
        return FL_OK;
    json_t *v = a->kind->describe(a, d->env->n, d->env->names);
    fault_event ev = {.action = a, .f = fault_action_f(a), .value = v};
    d->note(d->note_ctx, &ev);
    fl_error e = {0};
    json_t *notes = NULL;
    int rc = d->bound_s > 0 ? apply_bounded(d, a, &notes, &e)
                            : apply_noting(d->env, a, &notes, &e);
    json_t *done = value_with_did(v, notes);
    ev.done = true;
    ev.rc = rc;
    ev.error = rc != FL_OK ? e.msg : NULL;
    ev.value = done ? done : v;
    d->note(d->note_ctx, &ev);
    json_decref(done);
    json_decref(notes);
    json_decref(v);
    if (rc != FL_OK) {
        d->failed |= fault_bit(d->plan.table, a->kind);
        *err = e;
    }
    return rc;
}

int fault_driver_step(fault_driver *d, long leader, fl_error *err)
{
    fault_action a;
    fault_plan_next(&d->plan, &d->rng, leader, &a);
    return fault_driver_do(d, &a, err);
}

int fault_driver_heal_all(fault_driver *d, fl_error *err)
{
    fault_action a;
    fl_error e = {0};
    /* What was given up on ends first: a late kill must not land after
     * the restart that heals it. */
    fault_driver_finish(d);
    /* The final heal is not a schedule to keep: each of its actions runs
     * to its end (bounded by the remote's time-outs). */
    double bound = d->bound_s;
    d->bound_s = 0;
    /* Every fault in force, the last in table order first (resume
     * before restart, as the sweeps below); a failure shows in
     * d->failed. */
    for (fault_plan_heal(&d->plan, &a); a.kind; fault_plan_heal(&d->plan, &a))
        fault_driver_do(d, &a, &e);
    int rc = FL_OK;
    for (size_t k = d->plan.table->count; k-- > 0;) {
        if (!(d->failed & (1u << k)))
            continue;
        fault_plan_sweep(&d->plan, k, &a);
        int rc2 = fault_driver_do(d, &a, &e);
        if (rc2 != FL_OK && rc == FL_OK)
            rc = fl_error_set(err, rc2, "final heal (%s) failed; see "
                              "faultline.log", fault_action_f(&a));
    }
    d->bound_s = bound;
    return rc;
}

/* ---- helpers for kinds -------------------------------------------------------------- */

const char *fault_node_dir(const fault_env *env)
{
    return env->node_dir ? env->node_dir : TARGET_DEFAULT_NODE_DIR;
}

char *fault_node_path(const fault_env *env, size_t node)
{
    char *d = NULL;
    if (asprintf(&d, "%s/%s", fault_node_dir(env), env->names[node]) < 0)
        return NULL;
    return d;
}

int fault_install_tool(remote *r, const char *node_dir, size_t node,
                       const char *tool, fl_error *err)
{
    char local[PATH_MAX], path[4096], *cmd = NULL;
    if (fl_build_path(tool, local, sizeof local) != 0)
        return fl_error_set(err, FL_EIO, "no %s build next to faultline "
                            "(run `make`)", tool);
    const char *name = remote_name(r, node);
    if (asprintf(&cmd, "mkdir -p %s/%s", node_dir, name) < 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    int rc = remote_run(r, node, cmd, 10000, err);
    free(cmd);
    snprintf(path, sizeof path, "%s/%s/%s.new", node_dir, name, tool);
    if (rc == FL_OK)
        rc = remote_upload(r, node, local, path, 0755, 30000, err);
    if (rc == FL_OK && asprintf(&cmd, "mv -f %s %s/%s/%s", path, node_dir,
                                name, tool) < 0)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK) {
        rc = remote_run(r, node, cmd, 10000, err);
        free(cmd);
    }
    return rc;
}
