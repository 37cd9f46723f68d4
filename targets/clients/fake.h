/*
 * fake target: an in-process database for tests and benchmarks only — a
 * map of values behind one mutex, linearizable by construction, that
 * installs, starts, kills and pauses nothing (every db call is a no-op
 * that succeeds, so a nemesis fault changes nothing in it). It measures
 * the controller alone (bench/bench_harness.c) and lets the test path run
 * without a real database.
 *
 * Never chosen by default: it is reached only by name, `--target fake`
 * (the registry marks it for tests, targets/registry.h); a verdict about
 * it says nothing about any real database.
 *
 * Options: none. Operations: read, write, cas (register) and add (set:
 * the value becomes an array of the elements added). Every client shares
 * the one map; keys are integers. Errors: none (every op is ok, or a
 * refused cas, "precondition failed", definite).
 */
#ifndef FL_TARGET_FAKE_H
#define FL_TARGET_FAKE_H

#include "harness/target.h"

extern const target_vtable fake_target;

#endif
