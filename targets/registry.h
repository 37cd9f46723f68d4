/*
 * registry: every target faultline can test, by name — the one place that
 * names them (the harness only sees a target_vtable, harness/target.h).
 * A new target is one line here and its db + client in targets/clients/.
 *
 * An entry marked for_tests (the fake target) exists for tests and
 * benchmarks: it is reached only by asking for it by name, never by
 * default, and listings say so.
 */
#ifndef FL_TARGETS_REGISTRY_H
#define FL_TARGETS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "harness/target.h"

typedef struct targets_entry {
    const target_vtable *vt;
    const char *summary;     /* one line, for listings */
    bool for_tests;
} targets_entry;

/* The target called name, or NULL. */
const target_vtable *targets_find(const char *name);

/* The target a test runs against when none is named. */
const char *targets_default(void);

/* Every entry, in order: 0 .. targets_count() - 1. */
size_t targets_count(void);
const targets_entry *targets_at(size_t i);

#endif
