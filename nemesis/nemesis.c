/*
 * nemesis: grudges and iptables command lines. See
 * nemesis.h. Everything is pure; randomness comes from the caller's fl_rng.
 */
#include "nemesis/nemesis.h"

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

void nem_shuffle(size_t *perm, size_t n, fl_rng *rng)
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
    nem_shuffle(perm, n, rng);
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
    nem_shuffle(perm, n, rng);
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
    nem_shuffle(perm, n, rng);
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
