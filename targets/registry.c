/*
 * registry: see registry.h. One line per target.
 */
#include "targets/registry.h"

#include <string.h>

#include "targets/clients/consul.h"
#include "targets/clients/etcd.h"
#include "targets/clients/fake.h"
#include "targets/clients/postgres.h"
#include "targets/clients/raftkv.h"
#include "targets/clients/zookeeper.h"

static const targets_entry entries[] = {
    {&raftkv_target, "faultline's bundled Raft key-value store (default)", false},
    {&etcd_target, "etcd 3.4 (Debian's etcd-server), over its v3 JSON gateway", false},
    {&consul_target, "Consul's KV store over its HTTP API (client verified "
                     "against a fake Consul only: no Consul binary here)", false},
    {&zk_target, "ZooKeeper 3.8 (Debian's zookeeper), with its C client "
                 "library", false},
    {&postgres_target, "PostgreSQL 15 (Debian's postgresql-15), one server "
                       "on the first node, for the transactional workloads",
     false},
    {&fake_target, "in-process, does nothing on the nodes: for tests and "
                   "benchmarks only", true},
};

#define N_ENTRIES (sizeof entries / sizeof *entries)

const target_vtable *targets_find(const char *name)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(entries[i].vt->name, name) == 0)
            return entries[i].vt;
    return NULL;
}

const char *targets_default(void)
{
    return entries[0].vt->name;
}

size_t targets_count(void)
{
    return N_ENTRIES;
}

const targets_entry *targets_at(size_t i)
{
    return i < N_ENTRIES ? &entries[i] : NULL;
}
