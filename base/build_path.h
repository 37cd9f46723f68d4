/*
 * build_path: where a program built beside this one is, so that the
 * controller finds the binaries it uploads to the nodes (raftkv, the
 * packet fault's shaper) without being told.
 */
#ifndef FL_BUILD_PATH_H
#define FL_BUILD_PATH_H

#include <stddef.h>

/* The executable `name` next to this program (build/), or one level up (a
 * sanitizer build in build/asan/ uses build/NAME), into out. 0 when one
 * is there and executable; -1 otherwise (out then holds the last path
 * tried). */
int fl_build_path(const char *name, char *out, size_t size);

#endif
