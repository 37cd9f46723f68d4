/*
 * nemesis: partitions as pure descriptions — grudges — and the iptables
 * command lines that apply and heal a grudge. Nothing here touches the
 * network: the partition fault kind (nemesis/fault_partition.c) carries
 * them out over SSH, and the scheduler that decides which fault to begin
 * or end next is nemesis/fault.h's.
 *
 * A grudge says, for each node, which nodes it refuses to hear: drop[i][j]
 * means node i drops every packet to and from node j. The grudges built
 * here are symmetric. Partitions are applied as iptables rules inside each
 * node, tagged with the comment NEM_IPTABLES_TAG, so healing removes
 * exactly faultline's rules and nothing else. The controller's own
 * address is never in a grudge: clients and SSH keep reaching every node.
 *
 * Everything here is deterministic given the fl_rng passed in.
 */
#ifndef FL_NEMESIS_H
#define FL_NEMESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "base/rng.h"

#define NEM_MAX_NODES 32
#define NEM_IPTABLES_TAG "faultline"

typedef struct nem_grudge {
    size_t n;
    bool drop[NEM_MAX_NODES][NEM_MAX_NODES];
} nem_grudge;

/* The shapes of partition (Jepsen's names). */
typedef enum nem_partition_kind {
    NEM_PART_HALVES,       /* a random minority | majority split */
    NEM_PART_ISOLATE_ONE,  /* one random node alone */
    NEM_PART_ISOLATE_LEADER, /* the current leader alone */
    NEM_PART_RING,         /* majorities ring: each node sees a majority,
                              no two nodes the same one */
    NEM_PART_BRIDGE,       /* two halves joined only through one node */
    NEM_PART_KIND_COUNT,
} nem_partition_kind;

const char *nem_partition_kind_name(nem_partition_kind k);

/* ---- grudges (pure) --------------------------------------------------------- */

/* n <= NEM_MAX_NODES for all of these. */
void nem_grudge_none(nem_grudge *g, size_t n);
/* Nodes in `a` (a[i] true) are cut from the others. */
void nem_grudge_split(nem_grudge *g, size_t n, const bool *a);
void nem_grudge_halves(nem_grudge *g, size_t n, fl_rng *rng);
void nem_grudge_isolate(nem_grudge *g, size_t n, size_t node);
void nem_grudge_ring(nem_grudge *g, size_t n, fl_rng *rng);
void nem_grudge_bridge(nem_grudge *g, size_t n, fl_rng *rng);

/* A random permutation of 0..n-1 into perm (Fisher-Yates). */
void nem_shuffle(size_t *perm, size_t n, fl_rng *rng);

/* Whether node i's grudge is empty. */
bool nem_grudge_idle(const nem_grudge *g, size_t i);

/* {"n1":["n2","n3"],...}: each node that drops someone, with whom (Jepsen's
 * grudge map, for the history). New reference; NULL on OOM. */
json_t *nem_grudge_to_json(const nem_grudge *g, const char *const *names);

/* ---- iptables command lines ------------------------------------------------------ */

/*
 * The shell command that makes node i drop traffic from and to each node j
 * it holds a grudge against (addrs[j]), or NULL when out of memory. Owned
 * by the caller. Addresses are validated (FL_EUSAGE for anything but
 * [0-9A-Za-z.:-]) since they end up in a shell line.
 */
int nem_iptables_apply_cmd(const nem_grudge *g, size_t i,
                           const char *const *addrs, char **out, fl_error *err);

/* The shell command that deletes every rule tagged NEM_IPTABLES_TAG from
 * INPUT and OUTPUT and nothing else. Static string. */
const char *nem_iptables_heal_cmd(void);

#endif
