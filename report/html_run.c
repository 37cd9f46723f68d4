/*
 * html_run.c — a history as operations on a tick axis, lanes and nemesis
 * periods (html_internal.h), and the script escaper (the text ones are
 * checkers/panel.h's, which checkers' panels use too).
 */
#include "report/html_internal.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- Escaping ------------------------------------------------------------------ */

void html_json_script(FILE *out, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    for (const char *p = s ? s : "null"; *p; p++) {
        if (*p == '<')
            fputs("\\u003c", out);
        else if (*p == '>')
            fputs("\\u003e", out);
        else if (*p == '&')
            fputs("\\u0026", out);
        else
            fputc(*p, out);
    }
    fl_free(s);
}

/* ---- Lanes ----------------------------------------------------------------------- */

/* process -> lane, open addressing; processes are few or dense, so a
 * table of twice the processes seen never fills. */
typedef struct lane_map {
    int64_t *proc;
    uint32_t *lane;
    size_t cap;
} lane_map;

static uint32_t *lane_slot(lane_map *m, int64_t p, bool *found)
{
    size_t i = ((uint64_t)p * 0x9E3779B97F4A7C15ull) >> 20;
    for (i &= m->cap - 1;; i = (i + 1) & (m->cap - 1)) {
        if (m->lane[i] == UINT32_MAX || m->proc[i] == p) {
            *found = m->lane[i] != UINT32_MAX;
            m->proc[i] = p;
            return &m->lane[i];
        }
    }
}

#define LANE_RETIRED (UINT32_MAX - 1) /* a process that ended info */

typedef struct lane_state {
    lane_map map;
    uint32_t *free_lanes; /* lanes whose process retired (ended info) */
    size_t nfree;
    size_t cap_lanes;
} lane_state;

/* The lane of a process's invocation: its own, or a retired one (the
 * lowest), or a new one. -1 when out of memory. */
static int64_t lane_of(html_run *r, lane_state *s, int64_t proc)
{
    bool found;
    uint32_t *slot = lane_slot(&s->map, proc, &found);
    if (found && *slot != LANE_RETIRED)
        return *slot;
    uint32_t lane;
    if (s->nfree > 0) {
        size_t best = 0;
        for (size_t i = 1; i < s->nfree; i++)
            if (s->free_lanes[i] < s->free_lanes[best])
                best = i;
        lane = s->free_lanes[best];
        s->free_lanes[best] = s->free_lanes[--s->nfree];
        r->lane_procs[lane]++;
    } else {
        if (r->nlanes == s->cap_lanes) {
            size_t cap = s->cap_lanes ? 2 * s->cap_lanes : 16;
            int64_t *lp = fl_realloc(r->lane_proc, cap * sizeof *lp);
            if (lp == NULL)
                return -1;
            r->lane_proc = lp;
            uint32_t *ln = fl_realloc(r->lane_procs, cap * sizeof *ln);
            if (ln == NULL)
                return -1;
            r->lane_procs = ln;
            uint32_t *fr = fl_realloc(s->free_lanes, cap * sizeof *fr);
            if (fr == NULL)
                return -1;
            s->free_lanes = fr;
            s->cap_lanes = cap;
        }
        lane = (uint32_t)r->nlanes++;
        r->lane_proc[lane] = proc;
        r->lane_procs[lane] = 1;
    }
    *slot = lane;
    return lane;
}

/* ---- Nemesis periods ----------------------------------------------------------------- */

/* Whether end_f ends a fault begun by begin_f: the pair of a kind in the
 * run's test.json "fault_kinds" (nemesis/fault.h), or start-X / stop-X
 * (a history without its test.json). */
static bool ends(const html_run *r, const char *end_f, const char *begin_f)
{
    if (strncmp(end_f, "stop-", 5) == 0 && strncmp(begin_f, "start-", 6) == 0)
        return strcmp(end_f + 5, begin_f + 6) == 0;
    size_t i;
    const json_t *k;
    json_array_foreach(r->fault_kinds, i, k) {
        const char *b = json_string_value(json_object_get(k, "begin_f")),
                   *e = json_string_value(json_object_get(k, "end_f"));
        if (b && e && strcmp(b, begin_f) == 0 && strcmp(e, end_f) == 0)
            return true;
    }
    return false;
}

/* A "crashed" event (a database that ended when the nemesis did not end
 * it) begins a period nothing ends: the node is down from there on, as
 * far as the history knows, and the mark shows where. */
static bool begins(const html_run *r, const char *f)
{
    if (strncmp(f, "start-", 6) == 0 || strcmp(f, "crashed") == 0)
        return true;
    size_t i;
    const json_t *k;
    json_array_foreach(r->fault_kinds, i, k) {
        const char *b = json_string_value(json_object_get(k, "begin_f"));
        if (b && strcmp(b, f) == 0)
            return true;
    }
    return false;
}

/* "start-partition isolate-leader", "kill [\"n3\"]". */
static void period_label(const history *h, const history_event *e,
                         char *buf, size_t size)
{
    const json_t *v = history_value(h, e->value);
    const json_t *shape = json_object_get(v, "partition");
    char *s = shape ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(buf, size, "%s %s", history_name(h, e->f),
             shape ? json_string_value(shape) : s ? s : "");
    fl_free(s);
}

/* The f that begins p: its label's first word. */
static void period_f(const html_period *p, char *buf, size_t size)
{
    snprintf(buf, size, "%.*s", (int)strcspn(p->label, " "), p->label);
}

static int add_period(html_run *r, size_t *cap, int64_t at,
                      const history_event *e)
{
    if (r->nperiods == *cap) {
        size_t c = *cap ? 2 * *cap : 8;
        html_period *p = fl_realloc(r->periods, c * sizeof *p);
        if (p == NULL)
            return -1;
        r->periods = p;
        *cap = c;
    }
    html_period *p = &r->periods[r->nperiods];
    *p = (html_period){.start = at, .end = -1};
    period_label(r->h, e, p->label, sizeof p->label);
    /* Its kind's row, or the next one. */
    char f[96], g[96];
    period_f(p, f, sizeof f);
    uint32_t rows = 0;
    for (size_t i = 0; i < r->nperiods; i++) {
        period_f(&r->periods[i], g, sizeof g);
        if (strcmp(f, g) == 0) {
            p->row = r->periods[i].row;
            r->nperiods++;
            return 0;
        }
        if (r->periods[i].row + 1 > rows)
            rows = r->periods[i].row + 1;
    }
    p->row = rows;
    r->nperiods++;
    return 0;
}

/* A beginning opens a period unless one of its f is open (a fault's
 * invocation and completion both say "start-partition"). An end belongs
 * to the latest period of its kind, whatever other kinds began since
 * (faults overlap): its invocation closes it, and its completion, the
 * kind's next end, moves the close; any later end of the kind (a final
 * sweep of every node) leaves a closed period alone. */
static int nemesis_event(html_run *r, size_t *cap, int64_t at,
                         const history_event *e)
{
    const char *f = history_name(r->h, e->f);
    if (strcmp(f, "crashed") == 0)   /* one mark per crash, never merged */
        return add_period(r, cap, at, e);
    for (size_t i = r->nperiods; i-- > 0;) {
        html_period *p = &r->periods[i];
        char begin_f[96];
        period_f(p, begin_f, sizeof begin_f);
        if (begins(r, f) && strcmp(begin_f, f) == 0 && p->end < 0)
            return 0;
        if (ends(r, f, begin_f)) {
            if (p->end < 0 || p->closing) {
                p->closing = p->end < 0;
                p->end = at;
            }
            return 0;
        }
    }
    return begins(r, f) ? add_period(r, cap, at, e) : 0;
}

/* ---- The table of operations ------------------------------------------------------------ */

/* A process whose op completed info issues nothing more: its lane is
 * free for its thread's next process from here on. (One that never
 * completed keeps its lane: it may be running still.) */
static void retire(lane_state *ls, uint32_t lane, int64_t proc)
{
    if (ls->nfree == ls->cap_lanes)
        return;
    bool found;
    *lane_slot(&ls->map, proc, &found) = LANE_RETIRED;
    ls->free_lanes[ls->nfree++] = lane;
}

static int64_t tick_at(const html_run *r, const history_event *ev, size_t i)
{
    return r->timed ? (ev[i].time - r->t0) / 1000 : (int64_t)i;
}

static int build_ops(html_run *r, lane_state *ls, size_t *pcap)
{
    const history_event *ev = history_events(r->h);
    size_t len = history_len(r->h);
    for (size_t i = 0; i < len; i++) {
        const history_event *e = &ev[i];
        int64_t at = tick_at(r, ev, i);
        if (e->process == HISTORY_NEMESIS) {
            if (nemesis_event(r, pcap, at, e) != 0)
                return -1;
            continue;
        }
        if (e->type == HISTORY_INFO && r->op_at[i] != UINT32_MAX) {
            retire(ls, r->ops[r->op_at[i]].lane, e->process);
            continue;
        }
        if (e->type != HISTORY_INVOKE)
            continue;
        int64_t lane = lane_of(r, ls, e->process);
        if (lane < 0)
            return -1;
        html_op *op = &r->ops[r->n];
        r->op_at[i] = (uint32_t)r->n++;
        const history_event *d = e->pair == HISTORY_NONE ? NULL : &ev[e->pair];
        *op = (html_op){.start = at, .end = d ? tick_at(r, ev, e->pair) : -1,
                        .f = e->f, .key = e->key, .lane = (uint32_t)lane,
                        .type = !d || d->type == HISTORY_INFO ? HTML_INFO
                                : d->type == HISTORY_FAIL     ? HTML_FAIL
                                                              : HTML_OK};
        if (d)
            r->op_at[e->pair] = r->op_at[i];
    }
    return 0;
}

int html_run_build(const history *h, const json_t *fault_kinds, html_run *r)
{
    memset(r, 0, sizeof *r);
    r->h = h;
    r->fault_kinds = fault_kinds;
    if (h == NULL)
        return 0;
    const history_event *ev = history_events(h);
    size_t len = history_len(h);
    r->timed = len > 0;
    for (size_t i = 0; i < len && r->timed; i++)
        r->timed = ev[i].time != HISTORY_NO_TIME;
    r->t0 = r->timed ? ev[0].time : 0;
    r->span = len ? tick_at(r, ev, len - 1) : 0;
    size_t invocations = 0;
    for (size_t i = 0; i < len; i++)
        invocations += ev[i].type == HISTORY_INVOKE &&
                       ev[i].process != HISTORY_NEMESIS;
    r->ops = fl_malloc((invocations + 1) * sizeof *r->ops);
    r->op_at = fl_malloc((len + 1) * sizeof *r->op_at);
    lane_state ls = {0};
    ls.map.cap = 64;
    while (ls.map.cap < 2 * len)
        ls.map.cap *= 2;
    ls.map.proc = fl_malloc(ls.map.cap * sizeof *ls.map.proc);
    ls.map.lane = fl_malloc(ls.map.cap * sizeof *ls.map.lane);
    int rc = -1;
    size_t pcap = 0;
    if (r->ops && r->op_at && ls.map.proc && ls.map.lane) {
        memset(r->op_at, 0xff, (len + 1) * sizeof *r->op_at);
        memset(ls.map.lane, 0xff, ls.map.cap * sizeof *ls.map.lane);
        rc = build_ops(r, &ls, &pcap);
    }
    for (size_t i = 0; i < r->nperiods; i++)
        if (r->periods[i].end < 0)
            r->periods[i].end = r->span;
    fl_free(ls.map.proc);
    fl_free(ls.map.lane);
    fl_free(ls.free_lanes);
    if (rc != 0)
        html_run_free(r);
    return rc;
}

void html_run_free(html_run *r)
{
    fl_free(r->ops);
    fl_free(r->op_at);
    fl_free(r->lane_proc);
    fl_free(r->lane_procs);
    fl_free(r->periods);
    memset(r, 0, sizeof *r);
}

size_t html_pos_of_index(const html_run *r, int64_t idx)
{
    if (r->h == NULL)
        return SIZE_MAX;
    const history_event *ev = history_events(r->h);
    size_t len = history_len(r->h);
    if (idx >= 0 && (size_t)idx < len && ev[idx].index == idx)
        return (size_t)idx;
    /* Indices rise with position (the recorder stamps them in order). */
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].index < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < len && ev[lo].index == idx ? lo : SIZE_MAX;
}

int64_t html_tick_of_index(const html_run *r, int64_t idx)
{
    if (r->h == NULL)
        return idx;
    size_t pos = html_pos_of_index(r, idx);
    return pos == SIZE_MAX ? -1 : tick_at(r, history_events(r->h), pos);
}
