/*
 * elle.c — transactions from the history, version orders, and the
 * anomalies that need no cycle (G1a, G1b, internal, garbage, duplicate,
 * incompatible order). See elle.h; the graph is elle_graph.c.
 *
 * One pass reads every txn's micro-ops into flat arrays (list reads'
 * elements into one array of integers); a hash table maps each written
 * (key, value) to its writer. A key's version order is its longest
 * committed read; every other read is compared with it as a prefix, so
 * the whole inference is linear in the elements read.
 */
#include "checkers/elle_internal.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <stdlib.h>
#include <string.h>

static const char *const model_names[ELLE_N_MODELS] = {
    "strict-serializable", "serializable", "snapshot-isolation",
    "repeatable-read", "read-committed", "read-uncommitted",
};

static const char *const anomaly_names[ELLE_N_ANOMALIES] = {
    "G0", "G1a", "G1b", "G1c", "G-single", "G2-item", "G0-realtime",
    "G1c-realtime", "G-single-realtime", "G2-item-realtime", "internal",
    "garbage", "duplicate", "incompatible-order",
};

const char *elle_model_name(elle_model m)
{
    return m < ELLE_N_MODELS ? model_names[m] : "?";
}

int elle_model_parse(const char *s, elle_model *out)
{
    for (int m = 0; m < ELLE_N_MODELS; m++)
        if (strcmp(s, model_names[m]) == 0) {
            *out = (elle_model)m;
            return 0;
        }
    return -1;
}

const char *elle_anomaly_name(elle_anomaly a)
{
    return a < ELLE_N_ANOMALIES ? anomaly_names[a] : "?";
}

/* Adya's levels: PL-1 (read uncommitted) forbids G0; PL-2 (read
 * committed) G1 too; PL-2.99 (repeatable read) G2-item too; snapshot
 * isolation forbids G0, G1 and G-single but allows G2-item (write skew);
 * serializability (PL-3) forbids all of them; strict serializability
 * forbids the real-time cycles as well. A read no execution can explain
 * (garbage, internal, duplicate, incompatible) rules out every model. */
bool elle_rules_out(elle_anomaly a, elle_model m)
{
    switch (a) {
    case ELLE_G0: return true;
    case ELLE_G1A: case ELLE_G1B: case ELLE_G1C:
        return m <= ELLE_READ_COMMITTED;
    case ELLE_G_SINGLE: return m <= ELLE_REPEATABLE_READ;
    case ELLE_G2_ITEM:
        return m <= ELLE_SERIALIZABLE || m == ELLE_REPEATABLE_READ;
    case ELLE_G0_RT: case ELLE_G1C_RT: case ELLE_G_SINGLE_RT:
    case ELLE_G2_ITEM_RT:
        return m == ELLE_STRICT_SERIALIZABLE;
    default: return true;
    }
}

bool elle_valid(const elle_result *r, elle_model m)
{
    for (int a = 0; a < ELLE_N_ANOMALIES; a++)
        if (r->sum.count[a] > 0 && elle_rules_out((elle_anomaly)a, m))
            return false;
    return true;
}

const elle_summary *elle_result_summary(const elle_result *r)
{
    return &r->sum;
}

void elle_result_free(elle_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nfound; i++) {
        fl_free(r->found[i].txns);
        fl_free(r->found[i].types);
    }
    fl_free(r->found);
    fl_free(r->txns);
    fl_free(r->mops);
    fl_free(r->reads);
    fl_free(r->writes);
    fl_free(r->wtab);
    fl_free(r->node_txn);
    for (size_t k = 0; r->own_keys && k < r->nkeys; k++)
        json_decref((json_t *)r->keys[k].name);
    fl_free(r->keys);
    fl_free(r->lines);
    history_free(r->mini);
    fl_free(r);
}

int elle_found(elle_result *r, elle_anomaly kind, const uint32_t *txns,
               const uint8_t *types, uint32_t n, uint32_t mop, int64_t value,
               uint32_t other, uint32_t other_mop)
{
    if (r->sum.count[kind]++ >= ELLE_KEEP)
        return FL_OK;
    elle_finding *p = fl_realloc(r->found, (r->nfound + 1) * sizeof *p);
    if (p == NULL)
        return FL_ENOMEM;
    r->found = p;
    elle_finding *f = &p[r->nfound];
    *f = (elle_finding){.kind = kind, .n = n, .mop = mop, .value = value,
                        .other = other, .other_mop = other_mop};
    f->txns = fl_malloc((n ? n : 1) * sizeof *f->txns);
    f->types = types ? fl_malloc(n ? n : 1) : NULL;
    if (f->txns == NULL || (types && f->types == NULL)) {
        fl_free(f->txns);
        fl_free(f->types);
        return FL_ENOMEM;
    }
    memcpy(f->txns, txns, n * sizeof *txns);
    if (types)
        memcpy(f->types, types, n);
    r->nfound++;
    return FL_OK;
}

/* ---- Growing arrays --------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return FL_OK;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *q = fl_realloc(*p, ncap * size);
    if (q == NULL)
        return FL_ENOMEM;
    *p = q;
    *cap = ncap;
    return FL_OK;
}

/* ---- Keys: integers or strings, interned in order of appearance ----------- */

typedef struct key_table {
    uint32_t *slot;        /* key ids, ELLE_NONE empty */
    size_t cap;
    size_t kcap;
} key_table;

static uint64_t key_hash(const json_t *k)
{
    if (json_is_integer(k))
        return fl_rng_mix((uint64_t)json_integer_value(k));
    uint64_t x = UINT64_C(1469598103934665603);
    const char *s = json_string_value(k);
    for (size_t i = 0, n = json_string_length(k); i < n; i++)
        x = (x ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return fl_rng_mix(x ^ 0x5bd1e995);
}

static bool key_same(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) != json_is_integer(b))
        return false;
    return json_is_integer(a) ? json_integer_value(a) == json_integer_value(b)
                              : json_equal(a, b);
}

static int key_rehash(elle_result *r, key_table *t, size_t cap)
{
    uint32_t *s = fl_malloc(cap * sizeof *s);
    if (s == NULL)
        return FL_ENOMEM;
    memset(s, 0xff, cap * sizeof *s);
    for (uint32_t k = 0; k < r->nkeys; k++) {
        size_t i = key_hash(r->keys[k].name) & (cap - 1);
        while (s[i] != ELLE_NONE)
            i = (i + 1) & (cap - 1);
        s[i] = k;
    }
    fl_free(t->slot);
    t->slot = s;
    t->cap = cap;
    return FL_OK;
}

static int key_intern(elle_result *r, key_table *t, const json_t *k,
                      uint32_t *out)
{
    if ((r->nkeys + 1) * 2 > t->cap &&
        key_rehash(r, t, t->cap ? t->cap * 2 : 1024) != FL_OK)
        return FL_ENOMEM;
    size_t i = key_hash(k) & (t->cap - 1);
    for (; t->slot[i] != ELLE_NONE; i = (i + 1) & (t->cap - 1))
        if (key_same(r->keys[t->slot[i]].name, k)) {
            *out = t->slot[i];
            return FL_OK;
        }
    if (grow((void **)&r->keys, &t->kcap, r->nkeys + 1, sizeof *r->keys))
        return FL_ENOMEM;
    r->keys[r->nkeys] = (elle_key){.name = k, .order_txn = ELLE_NONE,
                                   .order_mop = ELLE_NONE};
    t->slot[i] = (uint32_t)r->nkeys;
    *out = (uint32_t)r->nkeys++;
    return FL_OK;
}

/* ---- Writes: (key, value) -> writer ------------------------------------------ */

static uint64_t write_hash(uint32_t key, int64_t v)
{
    return fl_rng_mix((uint64_t)v * UINT64_C(0x9E3779B97F4A7C15) ^ key);
}

elle_write *elle_write_find(const elle_result *r, uint32_t key, int64_t v)
{
    if (r->wcap == 0)
        return NULL;
    for (size_t i = write_hash(key, v) & (r->wcap - 1);
         r->wtab[i] != ELLE_NONE; i = (i + 1) & (r->wcap - 1)) {
        elle_write *w = &r->writes[r->wtab[i]];
        if (w->key == key && w->v == v)
            return w;
    }
    return NULL;
}

/* Index every write; a (key, value) written twice is a duplicate. */
static int index_writes(elle_result *r)
{
    size_t cap = 1024;
    while (cap < r->nwrites * 2)
        cap *= 2;
    r->wtab = fl_malloc(cap * sizeof *r->wtab);
    if (r->wtab == NULL)
        return FL_ENOMEM;
    memset(r->wtab, 0xff, cap * sizeof *r->wtab);
    r->wcap = cap;
    for (uint32_t w = 0; w < r->nwrites; w++) {
        const elle_write *e = &r->writes[w];
        size_t i = write_hash(e->key, e->v) & (cap - 1);
        for (; r->wtab[i] != ELLE_NONE; i = (i + 1) & (cap - 1)) {
            const elle_write *o = &r->writes[r->wtab[i]];
            if (o->key == e->key && o->v == e->v)
                break;
        }
        if (r->wtab[i] == ELLE_NONE) {
            r->wtab[i] = w;
        } else {
            const elle_write *o = &r->writes[r->wtab[i]];
            uint32_t t[2] = {o->txn, e->txn};
            if (elle_found(r, ELLE_DUPLICATE, t, NULL, 2, e->mop, e->v,
                           o->txn, o->mop) != FL_OK)
                return FL_ENOMEM;
        }
    }
    return FL_OK;
}

/* ---- Reading the history ------------------------------------------------------ */

typedef struct reader {
    elle_result *r;
    key_table keys;
    size_t txcap, mcap, rcap, wcap;
    bool list_append, decided;
} reader;

static int shape_error(fl_error *err, const history_event *e, size_t j,
                       const char *what)
{
    return fl_error_set(err, FL_EDATA, "event %lld: field value[%zu]: %s",
                        (long long)e->index, j, what);
}

static int mop_f(const json_t *m, uint8_t *f)
{
    const char *s = json_string_value(json_array_get(m, 0));
    if (s == NULL)
        return -1;
    if (strcmp(s, "append") == 0)
        *f = M_APPEND;
    else if (strcmp(s, "w") == 0)
        *f = M_WRITE;
    else if (strcmp(s, "r") == 0)
        *f = M_READ;
    else
        return -1;
    return 0;
}

/* The kind of history, from the first micro-op that tells. */
static int decide_kind(reader *rd, const history_event *e, const json_t *v,
                       fl_error *err)
{
    for (size_t j = 0; j < json_array_size(v); j++) {
        const json_t *m = json_array_get(v, j);
        uint8_t f;
        if (!json_is_array(m) || json_array_size(m) != 3 || mop_f(m, &f))
            continue;
        const json_t *x = json_array_get(m, 2);
        int la = f == M_APPEND || (f == M_READ && json_is_array(x)) ? 1
               : f == M_WRITE || (f == M_READ && json_is_integer(x)) ? 0
                                                                     : -1;
        if (la < 0)
            continue;
        if (rd->decided && rd->list_append != (la == 1))
            return shape_error(err, e, j, "a list-append micro-op in a "
                               "rw-register history, or the reverse");
        rd->decided = true;
        rd->list_append = la == 1;
    }
    return FL_OK;
}

static int parse_read(reader *rd, elle_mop *m, const json_t *x,
                      const history_event *e, size_t j, fl_error *err)
{
    elle_result *r = rd->r;
    if (json_is_null(x)) {
        m->nil = true;
        return FL_OK;
    }
    if (!rd->list_append) {
        if (!json_is_integer(x))
            return shape_error(err, e, j, "a register read must be an "
                               "integer or null");
        m->v = json_integer_value(x);
        return FL_OK;
    }
    if (!json_is_array(x))
        return shape_error(err, e, j, "a list read must be a list of "
                           "integers or null");
    size_t n = json_array_size(x);
    if (grow((void **)&r->reads, &rd->rcap, r->nreads + n, sizeof *r->reads))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    m->r0 = (uint32_t)r->nreads;
    m->rn = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        const json_t *y = json_array_get(x, i);
        if (!json_is_integer(y))
            return shape_error(err, e, j, "a list read must be a list of "
                               "integers or null");
        r->reads[r->nreads++] = json_integer_value(y);
    }
    return FL_OK;
}

static int parse_mop(reader *rd, const json_t *m, bool with_reads,
                     const history_event *e, size_t j, fl_error *err)
{
    elle_result *r = rd->r;
    uint8_t f;
    if (!json_is_array(m) || json_array_size(m) != 3 || mop_f(m, &f))
        return shape_error(err, e, j, "expected [\"append\"|\"w\"|\"r\", "
                           "key, value]");
    const json_t *k = json_array_get(m, 1), *x = json_array_get(m, 2);
    if (!json_is_integer(k) && !json_is_string(k))
        return shape_error(err, e, j, "a key must be an integer or a string");
    if ((f == M_APPEND && !rd->list_append) ||
        (f == M_WRITE && rd->list_append))
        return shape_error(err, e, j, "a list-append micro-op in a "
                           "rw-register history, or the reverse");
    if (grow((void **)&r->mops, &rd->mcap, r->nmop + 1, sizeof *r->mops))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    elle_mop *mo = &r->mops[r->nmop];
    *mo = (elle_mop){.f = f, .nil = true};
    if (key_intern(r, &rd->keys, k, &mo->key) != FL_OK)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if (f != M_READ) {
        if (!json_is_integer(x))
            return shape_error(err, e, j, "a written value must be an "
                               "integer");
        mo->v = json_integer_value(x);
        mo->nil = false;
    } else if (with_reads) {
        mo->nil = false;
        int rc = parse_read(rd, mo, x, e, j, err);
        if (rc != FL_OK)
            return rc;
    }
    r->nmop++;
    return FL_OK;
}

static int add_txn(reader *rd, const history *h, size_t pos, fl_error *err)
{
    elle_result *r = rd->r;
    const history_event *ev = history_events(h), *inv = &ev[pos];
    const history_event *done = inv->pair != HISTORY_NONE ? &ev[inv->pair]
                                                          : NULL;
    uint8_t st = done == NULL || done->type == HISTORY_INFO ? T_INFO
               : done->type == HISTORY_FAIL                 ? T_FAIL
                                                            : T_OK;
    const history_event *src = st == T_OK ? done : inv;
    const json_t *v = history_value(h, src->value);
    if (!json_is_array(v))
        return fl_error_set(err, FL_EDATA, "event %lld: field value: a txn's "
                            "value must be a list of micro-ops",
                            (long long)src->index);
    if (grow((void **)&r->txns, &rd->txcap, r->ntxn + 1, sizeof *r->txns))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    elle_txn *t = &r->txns[r->ntxn];
    *t = (elle_txn){.inv = pos, .done = done ? inv->pair : SIZE_MAX,
                    .status = st, .committed = st == T_OK,
                    .mop0 = (uint32_t)r->nmop, .node = ELLE_NONE};
    for (size_t j = 0; j < json_array_size(v); j++) {
        int rc = parse_mop(rd, json_array_get(v, j), st == T_OK, src, j, err);
        if (rc != FL_OK)
            return rc;
    }
    t->nmop = (uint32_t)(r->nmop - t->mop0);
    r->ntxn++;
    return FL_OK;
}

static int read_txns(elle_result *r, const history *h, fl_error *err)
{
    reader rd = {.r = r};
    const history_event *ev = history_events(h);
    uint32_t txn_f = history_name_find(h, "txn");
    int rc = FL_OK;
    for (size_t i = 0; rc == FL_OK && i < history_len(h); i++)
        if (ev[i].f == txn_f && ev[i].process != HISTORY_NEMESIS &&
            ev[i].type != HISTORY_INVOKE)
            rc = decide_kind(&rd, &ev[i], history_value(h, ev[i].value), err);
    for (size_t i = 0; rc == FL_OK && i < history_len(h); i++)
        if (ev[i].f == txn_f && ev[i].process != HISTORY_NEMESIS &&
            ev[i].type == HISTORY_INVOKE) {
            if (!rd.decided)
                rc = decide_kind(&rd, &ev[i], history_value(h, ev[i].value),
                                 err);
            if (rc == FL_OK)
                rc = add_txn(&rd, h, i, err);
        }
    fl_free(rd.keys.slot);
    r->sum.list_append = rd.list_append || !rd.decided;
    return rc;
}

/* ---- Within one transaction ----------------------------------------------- */

/* Mark each txn's final writes, and check that each read shows the txn's
 * own earlier appends to the key, in order, at its end (internal): what
 * every model requires. What precedes them is a committed version, the
 * read's external part (elle_mop.own counts the appends after it); two
 * reads of one key disagreeing there is a non-repeatable read, which the
 * graph judges (a G-single), not an internal anomaly. A read showing a
 * value the txn appends only later is internal too. */
static int internal_list(elle_result *r, uint32_t t)
{
    const elle_txn *x = &r->txns[t];
    elle_mop *m = &r->mops[x->mop0];
    for (uint32_t j = 0; j < x->nmop; j++) {
        uint32_t own = 0;
        for (uint32_t i = 0; i < j; i++)
            if (m[i].key == m[j].key && m[i].f != M_READ) {
                own++;
                if (m[j].f != M_READ)
                    m[i].last_write = false;
            }
        if (m[j].f != M_READ) {
            m[j].last_write = true;
            continue;
        }
        if (x->status != T_OK)
            continue;
        bool ok = m[j].nil ? own == 0 : m[j].rn >= own;
        const int64_t *got = &r->reads[m[j].r0];
        uint32_t at = m[j].rn - own;
        for (uint32_t i = 0; ok && i < j; i++)
            if (m[i].key == m[j].key && m[i].f == M_APPEND)
                ok = got[at++] == m[i].v;
        /* nor may it show what the txn appends only later */
        for (uint32_t i = j + 1; ok && !m[j].nil && i < x->nmop; i++)
            for (uint32_t e = 0; ok && m[i].key == m[j].key &&
                                 m[i].f == M_APPEND && e < m[j].rn - own; e++)
                ok = got[e] != m[i].v;
        m[j].external = ok && !m[j].nil;
        m[j].own = own;
        if (!ok && elle_found(r, ELLE_INTERNAL, &t, NULL, 1, x->mop0 + j, 0,
                              ELLE_NONE, ELLE_NONE) != FL_OK)
            return FL_ENOMEM;
    }
    return FL_OK;
}

static int internal_register(elle_result *r, uint32_t t)
{
    const elle_txn *x = &r->txns[t];
    elle_mop *m = &r->mops[x->mop0];
    for (uint32_t j = 0; j < x->nmop; j++) {
        int64_t last = -1;
        for (uint32_t i = 0; i < j; i++)
            if (m[i].key == m[j].key && m[i].f == M_WRITE) {
                last = i;
                if (m[j].f == M_WRITE)
                    m[i].last_write = false;
            }
        if (m[j].f != M_READ) {
            m[j].last_write = true;
            continue;
        }
        m[j].external = last < 0;
        if (x->status != T_OK)
            continue;
        bool ok = last < 0 || (!m[j].nil && m[j].v == m[last].v);
        for (uint32_t i = j + 1; ok && last < 0 && !m[j].nil && i < x->nmop; i++)
            ok = !(m[i].f == M_WRITE && m[i].key == m[j].key &&
                   m[i].v == m[j].v); /* a value it writes only later */
        if (!ok && elle_found(r, ELLE_INTERNAL, &t, NULL, 1, x->mop0 + j, 0,
                              ELLE_NONE, ELLE_NONE) != FL_OK)
            return FL_ENOMEM;
    }
    return FL_OK;
}

static int collect_writes(elle_result *r)
{
    size_t cap = 0;
    for (uint32_t t = 0; t < r->ntxn; t++) {
        const elle_txn *x = &r->txns[t];
        for (uint32_t j = 0; j < x->nmop; j++) {
            const elle_mop *m = &r->mops[x->mop0 + j];
            if (m->f == M_READ)
                continue;
            if (grow((void **)&r->writes, &cap, r->nwrites + 1,
                     sizeof *r->writes))
                return FL_ENOMEM;
            r->writes[r->nwrites++] = (elle_write){
                .key = m->key, .v = m->v, .txn = t, .mop = x->mop0 + j,
                .pos = -1};
        }
    }
    return FL_OK;
}

/* ---- What a read observed --------------------------------------------------- */

/* A value read by txn t's mop: garbage, aborted (G1a) or intermediate
 * (G1b, when `last` and the writer wrote the key again); an info writer
 * seen by a committed read has committed. */
static int observe(elle_result *r, uint32_t t, uint32_t mop, int64_t v,
                   bool last)
{
    elle_write *w = elle_write_find(r, r->mops[mop].key, v);
    if (w == NULL)
        return elle_found(r, ELLE_GARBAGE, &t, NULL, 1, mop, v, ELLE_NONE,
                          ELLE_NONE);
    elle_txn *wt = &r->txns[w->txn];
    if (wt->status == T_FAIL)
        return elle_found(r, ELLE_G1A, &t, NULL, 1, mop, v, w->txn, w->mop);
    wt->committed = true;
    if (last && w->txn != t && !r->mops[w->mop].last_write)
        return elle_found(r, ELLE_G1B, &t, NULL, 1, mop, v, w->txn, w->mop);
    return FL_OK;
}

int elle_each_read(elle_result *r, int (*fn)(elle_result *, uint32_t,
                                             uint32_t))
{
    for (uint32_t t = 0; t < r->ntxn; t++) {
        const elle_txn *x = &r->txns[t];
        for (uint32_t j = x->mop0; x->status == T_OK && j < x->mop0 + x->nmop;
             j++) {
            const elle_mop *m = &r->mops[j];
            int rc = m->f == M_READ && !m->nil ? fn(r, t, j) : FL_OK;
            if (rc != FL_OK)
                return rc;
        }
    }
    return FL_OK;
}

/* The longest read of its key so far becomes the key's order. */
static int longest(elle_result *r, uint32_t t, uint32_t j)
{
    const elle_mop *m = &r->mops[j];
    elle_key *k = &r->keys[m->key];
    if (k->order_mop == ELLE_NONE || r->mops[k->order_mop].rn < m->rn) {
        k->order_mop = j;
        k->order_txn = t;
    }
    return FL_OK;
}

/* A read against its key's order: a prefix, or incompatible (every
 * element then observed); the end of its external part observed (G1b). */
static int against_order(elle_result *r, uint32_t t, uint32_t j)
{
    const elle_mop *m = &r->mops[j];
    const elle_key *k = &r->keys[m->key];
    const elle_mop *o = &r->mops[k->order_mop];
    int rc = FL_OK;
    if (!elle_prefix(r, m, &r->reads[o->r0])) {
        rc = elle_found(r, ELLE_INCOMPATIBLE_ORDER, &t, NULL, 1, j, 0,
                        k->order_txn, k->order_mop);
        for (uint32_t i = 0; rc == FL_OK && i < m->rn; i++)
            rc = observe(r, t, j, r->reads[m->r0 + i], i + 1 == m->rn);
    } else if (m->rn > 0) {
        uint32_t len = m->external ? m->rn - m->own : m->rn;
        rc = observe(r, t, j, r->reads[m->r0 + m->rn - 1], len == m->rn);
        if (rc == FL_OK && len > 0 && len < m->rn)
            rc = observe(r, t, j, r->reads[m->r0 + len - 1], true);
    }
    return rc;
}

/* List-append: each key's longest ok read is its order; every other read
 * must be a prefix of it; the order's elements are observed. */
static int orders_list(elle_result *r)
{
    int rc = elle_each_read(r, longest);
    if (rc == FL_OK)
        rc = elle_each_read(r, against_order);
    if (rc != FL_OK)
        return rc;
    for (uint32_t k = 0; k < r->nkeys; k++) {
        uint32_t om = r->keys[k].order_mop;
        if (om == ELLE_NONE)
            continue;
        const elle_mop *o = &r->mops[om];
        uint32_t t = r->keys[k].order_txn;
        for (uint32_t i = 0; i < o->rn; i++) {
            int64_t v = r->reads[o->r0 + i];
            elle_write *w = elle_write_find(r, k, v);
            rc = FL_OK;
            if (w != NULL && w->pos >= 0) {
                uint32_t tt[1] = {t};
                rc = elle_found(r, ELLE_DUPLICATE, tt, NULL, 1, om, v,
                                ELLE_NONE, ELLE_NONE);
            } else if (w != NULL) {
                w->pos = i;
            }
            if (rc == FL_OK && i + 1 < o->rn) /* the last was observed */
                rc = observe(r, t, om, v, false);
            if (rc != FL_OK)
                return rc;
        }
    }
    return FL_OK;
}

static int observe_external(elle_result *r, uint32_t t, uint32_t j)
{
    const elle_mop *m = &r->mops[j];
    return m->external ? observe(r, t, j, m->v, true) : FL_OK;
}

const int64_t *elle_order(const elle_result *r, uint32_t k, uint32_t *n)
{
    uint32_t om = r->keys[k].order_mop;
    if (om == ELLE_NONE) {
        *n = 0;
        return NULL;
    }
    *n = r->mops[om].rn;
    return &r->reads[r->mops[om].r0];
}

int elle_analyse(elle_result *r, fl_error *err)
{
    int rc = FL_OK;
    for (uint32_t t = 0; rc == FL_OK && t < r->ntxn; t++)
        rc = r->sum.list_append ? internal_list(r, t)
                                : internal_register(r, t);
    if (rc == FL_OK)
        rc = collect_writes(r);
    if (rc == FL_OK)
        rc = index_writes(r);
    if (rc == FL_OK)
        rc = r->sum.list_append ? orders_list(r)
                                : elle_each_read(r, observe_external);
    if (rc == FL_OK)
        rc = elle_cycles(r, err);
    if (rc == FL_ENOMEM && err && err->code != FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "elle: out of memory");
    if (rc != FL_OK)
        return rc;
    for (uint32_t t = 0; t < r->ntxn; t++) {
        const elle_txn *x = &r->txns[t];
        r->sum.ok += x->status == T_OK;
        r->sum.failed += x->status == T_FAIL;
        r->sum.info += x->status == T_INFO;
        r->sum.committed += x->committed;
    }
    r->sum.txns = r->ntxn;
    return FL_OK;
}

int elle_check(const history *h, elle_result **out, fl_error *err)
{
    *out = NULL;
    elle_result *r = fl_calloc(1, sizeof *r);
    if (r == NULL)
        return fl_error_set(err, FL_ENOMEM, "elle: out of memory");
    int rc = read_txns(r, h, err);
    if (rc == FL_OK)
        rc = elle_analyse(r, err);
    if (rc != FL_OK) {
        elle_result_free(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}
