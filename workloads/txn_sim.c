/*
 * txn_sim.c — a tiny multi-version database with a known isolation level,
 * driven by random clients; see txn_sim.h.
 *
 * Each key keeps its committed versions with their commit times: a list
 * key its elements (each one's commit time; a snapshot is a prefix), a
 * register key its successive values. Snapshots are commit times.
 */
#include "workloads/txn_sim.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <string.h>

typedef struct ivec {
    int64_t *v;
    size_t n, cap;
} ivec;

static int ivec_push(ivec *a, int64_t x)
{
    if (a->n == a->cap) {
        size_t c = a->cap ? a->cap * 2 : 8;
        int64_t *p = fl_realloc(a->v, c * sizeof *p);
        if (p == NULL)
            return FL_ENOMEM;
        a->v = p;
        a->cap = c;
    }
    a->v[a->n++] = x;
    return FL_OK;
}

typedef struct skey {
    ivec val, ts;          /* committed versions and their commit times */
    int64_t next;          /* the next value to write */
    size_t writes;
    size_t locker;         /* read committed: the client holding its write
                              lock, plus one; 0: none */
} skey;

typedef struct smop {
    bool write, done;
    int64_t key, v;
    json_t *read;          /* what it read (owned), when done */
} smop;

typedef struct client {
    bool busy, executed;
    int64_t process;
    smop *m;
    size_t n, step;
    int64_t snapshot;
} client;

typedef struct sim {
    const txn_sim_options *o;
    fl_rng rng;
    history *h;
    skey *keys;
    size_t nkeys, kcap;
    int64_t *slot;         /* the keys in use */
    int64_t clock;
    client *c;
} sim;

static int new_key(sim *s, int64_t *out)
{
    if (s->nkeys == s->kcap) {
        size_t c = s->kcap ? s->kcap * 2 : 16;
        skey *p = fl_realloc(s->keys, c * sizeof *p);
        if (p == NULL)
            return FL_ENOMEM;
        s->keys = p;
        s->kcap = c;
    }
    s->keys[s->nkeys] = (skey){.next = 1};
    *out = (int64_t)s->nkeys++;
    return FL_OK;
}

static json_t *mop_json(const sim *s, const smop *m, bool with_read)
{
    const char *f = m->write ? (s->o->list_append ? "append" : "w") : "r";
    json_t *v = m->write ? json_integer(m->v)
              : with_read && m->read ? json_incref(m->read) : json_null();
    return json_pack("[s, I, o]", f, (json_int_t)m->key, v);
}

static int record(sim *s, const client *c, history_type type, bool reads,
                  fl_error *err)
{
    json_t *v = json_array();
    for (size_t i = 0; v && i < c->n; i++)
        if (json_array_append_new(v, mop_json(s, &c->m[i], reads)) != 0) {
            json_decref(v);
            v = NULL;
        }
    if (v == NULL)
        return fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    history_input in = {.index = HISTORY_AUTO_INDEX, .time = HISTORY_NO_TIME,
                        .process = c->process, .type = type, .f = "txn",
                        .value = v};
    int rc = history_append(s->h, &in, err);
    json_decref(v);
    return rc;
}

/* What mop i of c reads now: the committed state as of `asof` (a commit
 * time), then c's own earlier writes of the key. */
static json_t *read_value(sim *s, const client *c, size_t i, int64_t asof)
{
    const skey *k = &s->keys[c->m[i].key];
    size_t n = k->val.n;
    while (n > 0 && k->ts.v[n - 1] > asof)
        n--;
    if (s->o->list_append) {
        json_t *l = json_array();
        for (size_t j = 0; j < n; j++)
            json_array_append_new(l, json_integer(k->val.v[j]));
        for (size_t j = 0; j < i; j++)
            if (c->m[j].write && c->m[j].key == c->m[i].key)
                json_array_append_new(l, json_integer(c->m[j].v));
        return l;
    }
    json_t *v = n > 0 ? json_integer(k->val.v[n - 1]) : json_null();
    for (size_t j = 0; j < i; j++)
        if (c->m[j].write && c->m[j].key == c->m[i].key) {
            json_decref(v);
            v = json_integer(c->m[j].v);
        }
    return v;
}

static int apply(sim *s, client *c)
{
    s->clock++;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->m[i].write)
            continue;
        skey *k = &s->keys[c->m[i].key];
        bool last = true;
        for (size_t j = i + 1; j < c->n && !s->o->list_append; j++)
            last &= !(c->m[j].write && c->m[j].key == c->m[i].key);
        if (last && (ivec_push(&k->val, c->m[i].v) ||
                     ivec_push(&k->ts, s->clock)))
            return FL_ENOMEM;
    }
    return FL_OK;
}

/* First committer wins: a key c wrote was committed after its snapshot. */
static bool conflicts(const sim *s, const client *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const skey *k = &s->keys[c->m[i].key];
        if (c->m[i].write && k->ts.n > 0 && k->ts.v[k->ts.n - 1] > c->snapshot)
            return true;
    }
    return false;
}

static void clear_txn(sim *s, client *c)
{
    for (size_t i = 0; s && i < c->n; i++)
        if (c->m[i].write && s->keys[c->m[i].key].locker == (size_t)(c - s->c) + 1)
            s->keys[c->m[i].key].locker = 0;
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->m[i].read);
    c->n = 0;
    c->busy = false;
}

static int start(sim *s, client *c, fl_error *err)
{
    const txn_sim_options *o = s->o;
    c->n = 1 + fl_rng_below(&s->rng, o->max_mops);
    for (size_t i = 0; i < c->n; i++) {
        size_t at = fl_rng_below(&s->rng, o->keys);
        smop *m = &c->m[i];
        *m = (smop){.write = fl_rng_below(&s->rng, 2) == 0, .key = s->slot[at]};
        if (!m->write)
            continue;
        skey *k = &s->keys[m->key];
        m->v = k->next++;
        if (o->key_writes && ++k->writes >= o->key_writes &&
            new_key(s, &s->slot[at]) != FL_OK)
            return fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    }
    c->busy = true;
    c->executed = false;
    c->step = 0;
    c->snapshot = s->clock;
    return record(s, c, HISTORY_INVOKE, false, err);
}

/* Complete c: ok, or info (then as a new process). */
static int finish(sim *s, client *c, bool committed, fl_error *err)
{
    bool info = committed && fl_rng_next(&s->rng) % 1000000 <
                                 (uint64_t)(s->o->info_rate * 1000000);
    int rc = record(s, c, !committed ? HISTORY_FAIL : info ? HISTORY_INFO
                                                           : HISTORY_OK,
                    committed && !info, err);
    if (info)
        c->process += (int64_t)s->o->processes;
    clear_txn(s, c);
    return rc;
}

static int step(sim *s, client *c, fl_error *err)
{
    txn_sim_level lv = s->o->level;
    if (lv == TXN_SIM_SERIAL) {
        if (c->executed)
            return finish(s, c, true, err);
        for (size_t i = 0; i < c->n; i++)
            if (!c->m[i].write)
                c->m[i].read = read_value(s, c, i, INT64_MAX);
        c->executed = true;
        return apply(s, c) == FL_OK ? FL_OK
               : fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    }
    if (c->step < c->n) {
        size_t i = c->step++;
        skey *k = &s->keys[c->m[i].key];
        size_t me = (size_t)(c - s->c) + 1;
        if (lv == TXN_SIM_READ_COMMITTED && c->m[i].write) {
            if (k->locker != 0 && k->locker != me) /* no-wait: abort */
                return finish(s, c, false, err);
            k->locker = me;
        }
        if (!c->m[i].write)
            c->m[i].read = read_value(s, c, i, lv == TXN_SIM_SNAPSHOT
                                                   ? c->snapshot : INT64_MAX);
        return FL_OK;
    }
    if (lv == TXN_SIM_SNAPSHOT && conflicts(s, c))
        return finish(s, c, false, err);
    if (apply(s, c) != FL_OK)
        return fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    return finish(s, c, true, err);
}

static int final_read(sim *s, fl_error *err)
{
    client c = {.process = INT64_C(1) << 40};
    c.m = fl_calloc(s->nkeys + 1, sizeof *c.m);
    if (c.m == NULL)
        return fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    c.n = s->nkeys;
    for (size_t i = 0; i < c.n; i++)
        c.m[i] = (smop){.key = (int64_t)i};
    int rc = record(s, &c, HISTORY_INVOKE, false, err);
    for (size_t i = 0; i < c.n; i++)
        c.m[i].read = read_value(s, &c, i, INT64_MAX);
    if (rc == FL_OK)
        rc = record(s, &c, HISTORY_OK, true, err);
    clear_txn(NULL, &c);
    fl_free(c.m);
    return rc;
}

static void sim_free(sim *s)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        fl_free(s->keys[i].val.v);
        fl_free(s->keys[i].ts.v);
    }
    fl_free(s->keys);
    fl_free(s->slot);
    for (size_t i = 0; s->c && i < s->o->processes; i++) {
        clear_txn(NULL, &s->c[i]);
        fl_free(s->c[i].m);
    }
    fl_free(s->c);
}

static int run(sim *s, fl_error *err)
{
    const txn_sim_options *o = s->o;
    for (size_t i = 0; i < o->keys; i++)
        if (new_key(s, &s->slot[i]) != FL_OK)
            return fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    for (size_t i = 0; i < o->processes; i++) {
        s->c[i].process = (int64_t)i;
        s->c[i].m = fl_calloc(o->max_mops, sizeof *s->c[i].m);
        if (s->c[i].m == NULL)
            return fl_error_set(err, FL_ENOMEM, "txn_sim: out of memory");
    }
    size_t invoked = 0, busy = 0;
    int rc = FL_OK;
    while (rc == FL_OK && (invoked < o->txns || busy > 0)) {
        client *c = &s->c[fl_rng_below(&s->rng, o->processes)];
        if (c->busy) {
            rc = step(s, c, err);
            busy -= !c->busy;
        } else if (invoked < o->txns) {
            rc = start(s, c, err);
            invoked++;
            busy++;
        }
    }
    return rc == FL_OK && o->final_read ? final_read(s, err) : rc;
}

int txn_sim_generate(const txn_sim_options *o, history **out, fl_error *err)
{
    *out = NULL;
    if (o->txns == 0 || o->processes == 0 || o->keys == 0 || o->max_mops == 0)
        return fl_error_set(err, FL_EUSAGE, "txn_sim: txns, processes, keys "
                            "and max_mops must be at least 1");
    sim s = {.o = o};
    fl_rng_seed(&s.rng, o->seed);
    s.h = history_new();
    s.slot = fl_calloc(o->keys, sizeof *s.slot);
    s.c = fl_calloc(o->processes, sizeof *s.c);
    int rc = s.h && s.slot && s.c ? run(&s, err)
                                  : fl_error_set(err, FL_ENOMEM,
                                                 "txn_sim: out of memory");
    sim_free(&s);
    if (rc != FL_OK) {
        history_free(s.h);
        return rc;
    }
    *out = s.h;
    return FL_OK;
}
