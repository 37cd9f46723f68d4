/*
 * nemesis: grudges, iptables command lines and the fault scheduler. See
 * nemesis.h. Everything is pure; randomness comes from the caller's fl_rng.
 */
#include "harness/nemesis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- grudges ---------------------------------------------------------------- */

const char *nem_partition_kind_name(nem_partition_kind k)
{
    static const char *const names[] = {
        "halves", "isolate-one", "isolate-leader", "majorities-ring", "bridge",
    };
    return k < NEM_PART_KIND_COUNT ? names[k] : "?";
}

void nem_grudge_none(nem_grudge *g, size_t n)
{
    memset(g, 0, sizeof *g);
    g->n = n;
}

static void cut(nem_grudge *g, size_t i, size_t j)
{
    g->drop[i][j] = true;
    g->drop[j][i] = true;
}

void nem_grudge_split(nem_grudge *g, size_t n, const bool *a)
{
    nem_grudge_none(g, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (a[i] && !a[j])
                cut(g, i, j);
}

/* A random permutation of 0..n-1 (Fisher-Yates). */
static void shuffle(size_t *perm, size_t n, fl_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)fl_rng_below(rng, i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

void nem_grudge_halves(nem_grudge *g, size_t n, fl_rng *rng)
{
    size_t perm[NEM_MAX_NODES];
    bool a[NEM_MAX_NODES] = {0};
    shuffle(perm, n, rng);
    for (size_t i = 0; i < n / 2; i++)
        a[perm[i]] = true;
    nem_grudge_split(g, n, a);
}

void nem_grudge_isolate(nem_grudge *g, size_t n, size_t node)
{
    bool a[NEM_MAX_NODES] = {0};
    a[node] = true;
    nem_grudge_split(g, n, a);
}

/* Place the nodes on a random ring; each hears only the nodes within k
 * places of itself, k chosen so that 2k+1 is a majority. */
void nem_grudge_ring(nem_grudge *g, size_t n, fl_rng *rng)
{
    size_t perm[NEM_MAX_NODES];
    size_t k = (n / 2 + 1) / 2;
    nem_grudge_none(g, n);
    shuffle(perm, n, rng);
    for (size_t p = 0; p < n; p++)
        for (size_t q = 0; q < n; q++) {
            size_t d = p > q ? p - q : q - p;
            if (n - d < d)
                d = n - d;
            if (d > k)
                g->drop[perm[p]][perm[q]] = true;
        }
}

/* Two halves that hear each other only through one bridge node. */
void nem_grudge_bridge(nem_grudge *g, size_t n, fl_rng *rng)
{
    size_t perm[NEM_MAX_NODES];
    nem_grudge_none(g, n);
    if (n < 3)
        return;
    shuffle(perm, n, rng);
    size_t bridge = n / 2;
    for (size_t p = 0; p < bridge; p++)
        for (size_t q = bridge + 1; q < n; q++)
            cut(g, perm[p], perm[q]);
}

bool nem_grudge_idle(const nem_grudge *g, size_t i)
{
    for (size_t j = 0; j < g->n; j++)
        if (g->drop[i][j])
            return false;
    return true;
}

json_t *nem_grudge_to_json(const nem_grudge *g, const char *const *names)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < g->n; i++) {
        if (nem_grudge_idle(g, i))
            continue;
        json_t *a = json_array();
        for (size_t j = 0; a && j < g->n; j++)
            if (g->drop[i][j] && json_array_append_new(a, json_string(names[j])))
                break;
        if (!a || json_object_set_new(o, names[i], a)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* ---- iptables ---------------------------------------------------------------- */

static bool address_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr("0123456789abcdefABCDEFghijklmnopqrstuvwxyz"
                    "GHIJKLMNOPQRSTUVWXYZ.:-", *s))
            return false;
    return true;
}

int nem_iptables_apply_cmd(const nem_grudge *g, size_t i,
                           const char *const *addrs, char **out, fl_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return fl_error_set(err, FL_ENOMEM, "iptables command: out of memory");
    /* `set -e` so a rule that cannot be added fails the whole command. */
    fputs("set -e", f);
    for (size_t j = 0; j < g->n; j++) {
        if (!g->drop[i][j])
            continue;
        if (!address_ok(addrs[j])) {
            fclose(f);
            free(buf);
            return fl_error_set(err, FL_EUSAGE, "node address \"%s\" is not "
                                "a plain host name or IP address", addrs[j]);
        }
        fprintf(f, "; iptables -w -A INPUT -s %s -m comment --comment %s "
                   "-j DROP; iptables -w -A OUTPUT -d %s -m comment "
                   "--comment %s -j DROP",
                addrs[j], NEM_IPTABLES_TAG, addrs[j], NEM_IPTABLES_TAG);
    }
    if (fclose(f) != 0) {
        free(buf);
        return fl_error_set(err, FL_ENOMEM, "iptables command: out of memory");
    }
    *out = buf;
    return FL_OK;
}

const char *nem_iptables_heal_cmd(void)
{
    /* iptables -S prints each rule as the arguments that add it; turning
     * -A into -D gives the arguments that delete exactly that rule. */
    return "for c in INPUT OUTPUT; do iptables -w -S $c | "
           "grep -e '--comment " NEM_IPTABLES_TAG "\\( \\|$\\)' | "
           "sed 's/^-A /-D /' | xargs -r -L1 iptables -w || exit 1; done; "
           "! iptables -w -S | grep -q -e '--comment " NEM_IPTABLES_TAG
           "\\( \\|$\\)'";
}

/* ---- the scheduler ---------------------------------------------------------------- */

int nem_faults_parse(const char *s, unsigned *mask, fl_error *err)
{
    *mask = 0;
    if (!s || !*s || strcmp(s, "none") == 0)
        return FL_OK;
    const char *p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 9 && strncmp(p, "partition", 9) == 0)
            *mask |= NEM_FAULT_PARTITION;
        else if (len == 4 && strncmp(p, "kill", 4) == 0)
            *mask |= NEM_FAULT_KILL;
        else if (len == 5 && strncmp(p, "pause", 5) == 0)
            *mask |= NEM_FAULT_PAUSE;
        else
            return fl_error_set(err, FL_EUSAGE, "--nemesis: unknown fault "
                                "\"%.*s\" (known: partition, kill, pause, "
                                "none)", (int)len, p);
        p += len;
        if (*p == ',')
            p++;
    }
    return FL_OK;
}

const char *nem_action_name(nem_action_kind k)
{
    switch (k) {
    case NEM_NOOP: return "noop";
    case NEM_START_PARTITION: return "start-partition";
    case NEM_STOP_PARTITION: return "stop-partition";
    case NEM_KILL: return "kill";
    case NEM_START: return "start";
    case NEM_PAUSE: return "pause";
    case NEM_RESUME: return "resume";
    }
    return "?";
}

void nem_plan_init(nem_plan *p, unsigned faults, size_t n)
{
    memset(p, 0, sizeof *p);
    p->faults = faults;
    p->n = n;
    p->active.kind = NEM_NOOP;
}

static size_t pick_node(const nem_plan *p, fl_rng *rng, long leader)
{
    if (leader >= 0 && (size_t)leader < p->n)
        return (size_t)leader;
    return (size_t)fl_rng_below(rng, p->n);
}

static void plan_partition(nem_plan *p, fl_rng *rng, long leader,
                           nem_action *a)
{
    a->kind = NEM_START_PARTITION;
    /* With a known leader, cut it off a third of the time: a deposed
     * leader that does not know it yet is where consensus bugs show. */
    if (leader >= 0 && fl_rng_below(rng, 3) == 0)
        a->partition = NEM_PART_ISOLATE_LEADER;
    else
        a->partition = (nem_partition_kind)fl_rng_below(rng, NEM_PART_KIND_COUNT);
    switch (a->partition) {
    case NEM_PART_HALVES: nem_grudge_halves(&a->grudge, p->n, rng); break;
    case NEM_PART_ISOLATE_ONE:
        nem_grudge_isolate(&a->grudge, p->n, pick_node(p, rng, -1));
        break;
    case NEM_PART_ISOLATE_LEADER:
        nem_grudge_isolate(&a->grudge, p->n, pick_node(p, rng, leader));
        break;
    case NEM_PART_RING: nem_grudge_ring(&a->grudge, p->n, rng); break;
    default: nem_grudge_bridge(&a->grudge, p->n, rng); break;
    }
}

/* Kill or pause a minority: the leader (when known) half the time, else
 * 1..(n-1)/2 random nodes — never a majority, so progress stays possible. */
static void plan_nodes(nem_plan *p, fl_rng *rng, long leader, nem_action *a)
{
    size_t perm[NEM_MAX_NODES];
    size_t max = p->n > 2 ? (p->n - 1) / 2 : 1;
    if (leader >= 0 && fl_rng_below(rng, 2) == 0) {
        a->nodes[pick_node(p, rng, leader)] = true;
        return;
    }
    size_t count = (size_t)fl_rng_range(rng, 1, (int64_t)max);
    shuffle(perm, p->n, rng);
    for (size_t i = 0; i < count; i++)
        a->nodes[perm[i]] = true;
}

void nem_plan_heal(nem_plan *p, nem_action *out)
{
    memset(out, 0, sizeof *out);
    out->kind = NEM_NOOP;
    switch (p->active.kind) {
    case NEM_START_PARTITION: out->kind = NEM_STOP_PARTITION; break;
    case NEM_KILL: out->kind = NEM_START; break;
    case NEM_PAUSE: out->kind = NEM_RESUME; break;
    default: return;
    }
    memcpy(out->nodes, p->active.nodes, sizeof out->nodes);
    p->active.kind = NEM_NOOP;
}

void nem_plan_next(nem_plan *p, fl_rng *rng, long leader, nem_action *out)
{
    if (p->active.kind != NEM_NOOP) {
        nem_plan_heal(p, out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->kind = NEM_NOOP;
    unsigned choices[3];
    size_t nc = 0;
    for (unsigned f = NEM_FAULT_PARTITION; f <= NEM_FAULT_PAUSE; f <<= 1)
        if (p->faults & f)
            choices[nc++] = f;
    if (nc == 0 || p->n == 0)
        return;
    unsigned f = choices[fl_rng_below(rng, nc)];
    if (f == NEM_FAULT_PARTITION) {
        plan_partition(p, rng, leader, out);
    } else {
        out->kind = f == NEM_FAULT_KILL ? NEM_KILL : NEM_PAUSE;
        plan_nodes(p, rng, leader, out);
    }
    p->active = *out;
}

json_t *nem_action_to_json(const nem_action *a, size_t n,
                           const char *const *names)
{
    if (a->kind == NEM_START_PARTITION) {
        json_t *g = nem_grudge_to_json(&a->grudge, names);
        json_t *o = g ? json_pack("{s:s,s:o}", "partition",
                                  nem_partition_kind_name(a->partition),
                                  "grudge", g) : NULL;
        return o;
    }
    if (a->kind == NEM_STOP_PARTITION)
        return json_string("network healed");
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        if (a->nodes[i] && json_array_append_new(arr, json_string(names[i]))) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}
