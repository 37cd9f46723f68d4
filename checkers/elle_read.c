/*
 * elle_read.c — elle straight from a JSONL file, without a history: the
 * lines faultline's recorder writes for transactions are scanned once
 * into elle's flat arrays (micro-ops, list elements), never into JSON
 * values, which is what a history of a million transactions costs most
 * (a pooled JSON tree per value). Anything not of that shape declines,
 * and the caller reads the history as usual: every message about a bad
 * file stays the history reader's.
 *
 * The explanations need the operations of the transactions in findings:
 * those lines alone are read into a small history afterwards.
 */
#include "checkers/elle_internal.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct scan {
    const char *p, *end;
} scan;

typedef struct imap {
    int64_t *k;
    uint32_t *v;
    size_t cap, n;
} imap;

typedef struct reader {
    elle_result *r;
    const char *base;
    size_t txcap, mcap, rcap, kcap;
    size_t *inv_value;     /* per txn: offset of its invoke's value */
    imap open;             /* process -> its txn in flight */
    imap keys;             /* integer key -> key id */
    bool decided, list_append;
} reader;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
        s->p++;
}

static bool lit(scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static bool integer(scan *s, int64_t *v)
{
    ws(s);
    const char *q = s->p;
    bool neg = q < s->end && *q == '-';
    q += neg;
    uint64_t x = 0;
    const char *d = q;
    while (q < s->end && *q >= '0' && *q <= '9' && q - d < 18)
        x = x * 10 + (uint64_t)(*q++ - '0');
    if (q == d || (q < s->end && ((*q >= '0' && *q <= '9') || *q == '.' ||
                                  *q == 'e' || *q == 'E')))
        return false;
    *v = neg ? -(int64_t)x : (int64_t)x;
    s->p = q;
    return true;
}

/* A string without escapes: its bytes. */
static bool string(scan *s, const char **str, size_t *len)
{
    if (!lit(s, '"'))
        return false;
    const char *q = s->p;
    while (q < s->end && *q != '"' && *q != '\\')
        q++;
    if (q >= s->end || *q != '"')
        return false;
    *str = s->p;
    *len = (size_t)(q - s->p);
    s->p = q + 1;
    return true;
}

static bool is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Skip any JSON value (strings may have escapes here). */
static bool skip(scan *s)
{
    ws(s);
    if (s->p >= s->end)
        return false;
    char c = *s->p;
    if (c == '"') {
        for (s->p++; s->p < s->end && *s->p != '"';)
            s->p += *s->p == '\\' ? 2 : 1;
        if (s->p >= s->end)
            return false;
        s->p++;
        return true;
    }
    if (c == '[' || c == '{') {
        char close = c == '[' ? ']' : '}';
        s->p++;
        if (lit(s, close))
            return true;
        do {
            if (c == '{' && (!skip(s) || !lit(s, ':')))
                return false;
            if (!skip(s))
                return false;
        } while (lit(s, ','));
        return lit(s, close);
    }
    const char *q = s->p; /* a number or a literal */
    while (s->p < s->end && !strchr(",]}: \t\r", *s->p))
        s->p++;
    return s->p > q;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    void *q = fl_realloc(*p, ncap * size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

/* ---- keys and processes: an int64 -> uint32 map -------------------------- */

/* Open addressing, linear probing; v[i] ELLE_NONE marks an empty slot. */
static size_t imap_slot(const imap *m, int64_t k)
{
    size_t j = fl_rng_mix((uint64_t)k) & (m->cap - 1);
    while (m->v[j] != ELLE_NONE && m->k[j] != k)
        j = (j + 1) & (m->cap - 1);
    return j;
}

/* Room for one more entry. -1 when out of memory. */
static int imap_reserve(imap *m)
{
    if ((m->n + 1) * 2 <= m->cap)
        return 0;
    imap g = {.cap = m->cap ? m->cap * 2 : 1024, .n = m->n};
    g.k = fl_malloc(g.cap * sizeof *g.k);
    g.v = fl_malloc(g.cap * sizeof *g.v);
    if (!g.k || !g.v) {
        fl_free(g.k);
        fl_free(g.v);
        return -1;
    }
    memset(g.v, 0xff, g.cap * sizeof *g.v);
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i] != ELLE_NONE) {
            size_t j = imap_slot(&g, m->k[i]);
            g.k[j] = m->k[i];
            g.v[j] = m->v[i];
        }
    fl_free(m->k);
    fl_free(m->v);
    *m = g;
    return 0;
}

static void imap_put(imap *m, size_t slot, int64_t k, uint32_t v)
{
    m->n += m->v[slot] == ELLE_NONE;
    m->k[slot] = k;
    m->v[slot] = v;
}

/* Empty the slot, re-placing the cluster after it. */
static void imap_remove(imap *m, size_t j)
{
    m->v[j] = ELLE_NONE;
    m->n--;
    for (size_t i = (j + 1) & (m->cap - 1); m->v[i] != ELLE_NONE;
         i = (i + 1) & (m->cap - 1)) {
        int64_t k = m->k[i];
        uint32_t v = m->v[i];
        m->v[i] = ELLE_NONE;
        size_t at = imap_slot(m, k);
        m->k[at] = k;
        m->v[at] = v;
    }
}

static void imap_free(imap *m)
{
    fl_free(m->k);
    fl_free(m->v);
}

/* The id of integer key k, new keys named by a JSON integer of their own. */
static int key_of(reader *rd, int64_t k, uint32_t *out)
{
    elle_result *r = rd->r;
    if (imap_reserve(&rd->keys))
        return -1;
    size_t j = imap_slot(&rd->keys, k);
    if (rd->keys.v[j] != ELLE_NONE) {
        *out = rd->keys.v[j];
        return 0;
    }
    json_t *name = json_integer(k);
    if (name == NULL || grow((void **)&r->keys, &rd->kcap, r->nkeys + 1,
                             sizeof *r->keys)) {
        json_decref(name);
        return -1;
    }
    r->keys[r->nkeys] = (elle_key){.name = name, .order_txn = ELLE_NONE,
                                   .order_mop = ELLE_NONE};
    imap_put(&rd->keys, j, k, (uint32_t)r->nkeys);
    *out = (uint32_t)r->nkeys++;
    return 0;
}

/* ---- micro-ops ------------------------------------------------------------------ */

enum { OK_ = 0, DECLINE = 1, NOMEM = 2 };

/* The value at s (a list of micro-ops) into r's mops; reads' results
 * only when with_reads. */
static int mops(reader *rd, scan *s, bool with_reads)
{
    elle_result *r = rd->r;
    if (!lit(s, '['))
        return DECLINE;
    if (lit(s, ']'))
        return DECLINE; /* an empty txn: the general reader decides */
    do {
        const char *f;
        size_t fl;
        int64_t k;
        if (!lit(s, '[') || !string(s, &f, &fl) || !lit(s, ',') ||
            !integer(s, &k) || !lit(s, ','))
            return DECLINE;
        if (grow((void **)&r->mops, &rd->mcap, r->nmop + 1, sizeof *r->mops))
            return NOMEM;
        elle_mop *m = &r->mops[r->nmop];
        *m = (elle_mop){.nil = true};
        if (key_of(rd, k, &m->key))
            return NOMEM;
        bool la;
        if (is(f, fl, "append") || is(f, fl, "w")) {
            la = f[0] == 'a';
            m->f = la ? M_APPEND : M_WRITE;
            m->nil = false;
            if (!integer(s, &m->v))
                return DECLINE;
        } else if (is(f, fl, "r")) {
            m->f = M_READ;
            ws(s);
            if (s->p < s->end && *s->p == 'n') {
                if (s->end - s->p < 4 || memcmp(s->p, "null", 4) != 0)
                    return DECLINE;
                s->p += 4;
                la = rd->list_append;
                if (!rd->decided)
                    goto next; /* says nothing of the kind */
            } else if (lit(s, '[')) {
                la = true;
                m->r0 = (uint32_t)r->nreads;
                m->nil = !with_reads;
                if (!lit(s, ']')) {
                    do {
                        int64_t v;
                        if (!integer(s, &v))
                            return DECLINE;
                        if (grow((void **)&r->reads, &rd->rcap, r->nreads + 1,
                                 sizeof *r->reads))
                            return NOMEM;
                        r->reads[r->nreads++] = v;
                    } while (lit(s, ','));
                    if (!lit(s, ']'))
                        return DECLINE;
                }
                m->rn = (uint32_t)(r->nreads - m->r0);
                if (!with_reads)
                    r->nreads = m->r0, m->rn = 0;
            } else {
                la = false;
                m->nil = !with_reads;
                if (!integer(s, &m->v))
                    return DECLINE;
            }
        } else {
            return DECLINE;
        }
        if (rd->decided && la != rd->list_append)
            return DECLINE; /* mixed: the general reader's error */
        rd->decided = true;
        rd->list_append = la;
    next:
        if (!lit(s, ']'))
            return DECLINE;
        r->nmop++;
    } while (lit(s, ','));
    return lit(s, ']') ? OK_ : DECLINE;
}

/* The micro-ops of txn t from the value at offset off. */
static int txn_mops(reader *rd, uint32_t t, size_t off, const char *end,
                    bool with_reads)
{
    elle_result *r = rd->r;
    scan s = {rd->base + off, end};
    r->txns[t].mop0 = (uint32_t)r->nmop;
    int rc = mops(rd, &s, with_reads);
    r->txns[t].nmop = (uint32_t)(r->nmop - r->txns[t].mop0);
    return rc;
}

/* ---- lines ---------------------------------------------------------------------- */

typedef struct line {
    bool nemesis, has_value;
    int64_t process;
    history_type type;
    const char *f;
    size_t flen, value;    /* value: offset of the value */
} line;

static int parse_line(reader *rd, scan *s, line *l)
{
    *l = (line){.f = NULL};
    bool type = false, proc = false;
    if (!lit(s, '{'))
        return DECLINE;
    do {
        const char *k, *v;
        size_t kl, vl;
        if (!string(s, &k, &kl) || !lit(s, ':'))
            return DECLINE;
        if (is(k, kl, "process")) {
            ws(s);
            if (s->p < s->end && *s->p == '"') {
                if (!string(s, &v, &vl) || !is(v, vl, "nemesis"))
                    return DECLINE;
                l->nemesis = proc = true;
            } else if (!(proc = integer(s, &l->process)) || l->process < 0) {
                return DECLINE;
            }
        } else if (is(k, kl, "type")) {
            if (!string(s, &v, &vl))
                return DECLINE;
            l->type = is(v, vl, "invoke") ? HISTORY_INVOKE
                    : is(v, vl, "ok")     ? HISTORY_OK
                    : is(v, vl, "fail")   ? HISTORY_FAIL
                    : is(v, vl, "info")   ? HISTORY_INFO
                                          : (history_type)-1;
            type = (int)l->type >= 0;
        } else if (is(k, kl, "f")) {
            if (!string(s, &l->f, &l->flen))
                return DECLINE;
        } else if (is(k, kl, "value")) {
            ws(s);
            l->value = (size_t)(s->p - rd->base);
            l->has_value = true;
            if (!skip(s))
                return DECLINE;
        } else if (is(k, kl, "index") || is(k, kl, "time") ||
                   is(k, kl, "error")) {
            if (!skip(s))
                return DECLINE;
        } else {
            return DECLINE; /* "key" and anything else: not a txn line */
        }
    } while (lit(s, ','));
    if (!lit(s, '}') || !type || !proc || l->f == NULL)
        return DECLINE;
    ws(s);
    return s->p == s->end ? OK_ : DECLINE;
}

static int event(reader *rd, const line *l, size_t pos, size_t off,
                 const char *eol)
{
    elle_result *r = rd->r;
    if (l->nemesis)
        return OK_;
    if (!is(l->f, l->flen, "txn") || !l->has_value)
        return DECLINE;
    if (imap_reserve(&rd->open))
        return NOMEM;
    size_t j = imap_slot(&rd->open, l->process);
    if (l->type == HISTORY_INVOKE) {
        if (rd->open.v[j] != ELLE_NONE)
            return DECLINE;
        if (grow((void **)&r->txns, &rd->txcap, r->ntxn + 1, sizeof *r->txns))
            return NOMEM;
        r->txns[r->ntxn] = (elle_txn){.inv = pos, .done = SIZE_MAX,
                                      .status = T_INFO, .node = ELLE_NONE,
                                      .mop0 = UINT32_MAX};
        imap_put(&rd->open, j, l->process, (uint32_t)r->ntxn++);
        return OK_;
    }
    if (rd->open.v[j] == ELLE_NONE)
        return DECLINE;
    uint32_t t = rd->open.v[j];
    imap_remove(&rd->open, j);
    elle_txn *x = &r->txns[t];
    x->done = pos;
    x->status = l->type == HISTORY_OK ? T_OK : l->type == HISTORY_FAIL
                                                   ? T_FAIL : T_INFO;
    x->committed = x->status == T_OK;
    r->lines[t][1] = off;
    return x->status == T_OK ? txn_mops(rd, t, l->value, eol, true) : OK_;
}

/* The txns not ok take the invoke's micro-ops (writes), parsed now. */
static int invoke_mops(reader *rd, const char *end)
{
    elle_result *r = rd->r;
    for (uint32_t t = 0; t < r->ntxn; t++) {
        int rc = r->txns[t].status == T_OK
                     ? OK_ : txn_mops(rd, t, rd->inv_value[t], end, false);
        if (rc != OK_)
            return rc;
    }
    return OK_;
}

static int scan_all(reader *rd, const char *buf, size_t n)
{
    elle_result *r = rd->r;
    size_t pos = 0, lcap = 0, icap = 0;
    for (const char *p = buf, *end = buf + n; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        scan s = {p, le};
        ws(&s);
        if (s.p == le) {
            if (eol == NULL)
                break;
            p = eol + 1;
            continue; /* a blank line */
        }
        line l;
        int rc = parse_line(rd, &s, &l);
        if (rc != OK_)
            return rc;
        size_t before = r->ntxn;
        if (grow((void **)&r->lines, &lcap, r->ntxn + 1, sizeof *r->lines) ||
            grow((void **)&rd->inv_value, &icap, r->ntxn + 1,
                 sizeof *rd->inv_value))
            return NOMEM;
        rc = event(rd, &l, pos, (size_t)(p - buf), le);
        if (rc != OK_)
            return rc;
        if (r->ntxn > before) {
            r->lines[before][0] = (size_t)(p - buf);
            r->lines[before][1] = SIZE_MAX;
            rd->inv_value[before] = l.value;
        }
        pos++;
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return invoke_mops(rd, buf + n);
}

/* ---- the small history of the findings ------------------------------------------ */

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The txns named by findings, sorted and unique: *k of them (caller frees). */
static uint32_t *finding_txns(const elle_result *r, size_t *k)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfound; i++)
        n += r->found[i].n + 1;
    uint32_t *tx = fl_malloc((n + 1) * sizeof *tx);
    if (tx == NULL)
        return NULL;
    n = 0;
    for (size_t i = 0; i < r->nfound; i++) {
        const elle_finding *f = &r->found[i];
        for (uint32_t j = 0; j < f->n; j++)
            tx[n++] = f->txns[j];
        if (f->other != ELLE_NONE)
            tx[n++] = f->other;
    }
    qsort(tx, n, sizeof *tx, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || tx[m - 1] != tx[i])
            tx[m++] = tx[i];
    *k = m;
    return tx;
}

/* Where event position p went in the sorted positions pos[0..m). */
static size_t rank_of(const size_t *pos, size_t m, size_t p)
{
    const size_t *hit = bsearch(&p, pos, m, sizeof *pos, cmp_size);
    return hit ? (size_t)(hit - pos) : SIZE_MAX;
}

/* Read the lines of the txns in findings into r->mini, each with its
 * index (its event position when the line had none), and point those
 * txns' inv/done at their positions there. */
static int read_mini(elle_result *r, const char *buf, size_t n, fl_error *err)
{
    size_t k = 0;
    uint32_t *tx = finding_txns(r, &k);
    size_t *pos = fl_malloc((2 * k + 1) * sizeof *pos), m = 0;
    if (tx == NULL || pos == NULL) {
        fl_free(tx);
        fl_free(pos);
        return fl_error_set(err, FL_ENOMEM, "elle: out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        pos[m++] = r->txns[tx[i]].inv;
        if (r->txns[tx[i]].done != SIZE_MAX)
            pos[m++] = r->txns[tx[i]].done;
    }
    qsort(pos, m, sizeof *pos, cmp_size);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    for (size_t i = 0; f && i < m; i++) {
        /* the line: found again from the txn it belongs to */
        size_t off = SIZE_MAX;
        for (size_t j = 0; j < k && off == SIZE_MAX; j++) {
            const elle_txn *x = &r->txns[tx[j]];
            off = x->inv == pos[i] ? r->lines[tx[j]][0]
                : x->done == pos[i] ? r->lines[tx[j]][1] : SIZE_MAX;
        }
        const char *p = buf + off;
        const char *eol = memchr(p, '\n', n - off);
        json_t *o = json_loadb(p, (size_t)((eol ? eol : buf + n) - p), 0, NULL);
        if (o && !json_object_get(o, "index"))
            json_object_set_new(o, "index", json_integer((json_int_t)pos[i]));
        if (o)
            json_dumpf(o, f, JSON_COMPACT);
        fputc('\n', f);
        json_decref(o);
    }
    int rc = f ? FL_OK : FL_ENOMEM;
    if (f) {
        fclose(f);
        FILE *in = fmemopen(text, len, "r");
        rc = in ? history_read_jsonl(in, "findings", &r->mini, err) : FL_ENOMEM;
        if (in)
            fclose(in);
    }
    free(text);
    for (size_t i = 0; rc == FL_OK && i < k; i++) {
        elle_txn *x = &r->txns[tx[i]];
        x->inv = rank_of(pos, m, x->inv);
        if (x->done != SIZE_MAX)
            x->done = rank_of(pos, m, x->done);
    }
    fl_free(pos);
    fl_free(tx);
    if (rc == FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "elle: out of memory");
    return rc;
}

static void reader_free(reader *rd)
{
    fl_free(rd->inv_value);
    imap_free(&rd->open);
    imap_free(&rd->keys);
}

int elle_check_jsonl(const char *path, elle_result **out, fl_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return ELLE_DECLINED; /* the history reader says why */
    }
    size_t n = (size_t)st.st_size;
    const char *buf = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (buf == MAP_FAILED)
        return ELLE_DECLINED;
    madvise((void *)buf, n, MADV_SEQUENTIAL);
    elle_result *r = fl_calloc(1, sizeof *r);
    reader rd = {.r = r, .base = buf};
    int rc = r ? FL_OK : FL_ENOMEM;
    if (r) {
        r->own_keys = true;
        int s = scan_all(&rd, buf, n);
        rc = s == DECLINE ? ELLE_DECLINED : s == NOMEM ? FL_ENOMEM : FL_OK;
        if (rc == FL_OK && r->ntxn == 0)
            rc = ELLE_DECLINED;
        r->sum.list_append = rd.list_append || !rd.decided;
    }
    reader_free(&rd);
    if (rc == FL_OK)
        rc = elle_analyse(r, err);
    if (rc == FL_OK && r->nfound > 0)
        rc = read_mini(r, buf, n, err);
    munmap((void *)buf, n);
    if (rc == FL_ENOMEM && err && err->code != FL_ENOMEM)
        fl_error_set(err, FL_ENOMEM, "elle: out of memory");
    if (rc != FL_OK) {
        elle_result_free(r);
        return rc;
    }
    *out = r;
    return FL_OK;
}

const history *elle_result_history(const elle_result *r)
{
    return r->mini;
}
