/*
 * crash_logs: scan a run's node logs for crash patterns. See crash_logs.h.
 */
#include "harness/crash_logs.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TEXT_MAX 300

int crash_logs_scan_file(FILE *in, const char *node, const char *file,
                         const json_t *patterns, json_t *lines,
                         fl_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    json_int_t no = 0;
    while (json_array_size(lines) < CRASH_LOGS_MAX_LINES &&
           (len = getline(&line, &cap, in)) >= 0) {
        no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t i;
        const json_t *p;
        json_array_foreach(patterns, i, p) {
            const char *pat = json_string_value(p);
            if (!pat || !*pat || !strstr(line, pat))
                continue;
            json_t *o = json_pack("{s:s,s:s,s:I,s:s%,s:s}", "node", node,
                                  "file", file, "line", no, "text", line,
                                  strnlen(line, TEXT_MAX), "pattern", pat);
            if (!o || json_array_append_new(lines, o) != 0) {
                free(line);
                return fl_error_set(err, FL_ENOMEM, "crash logs: out of "
                                    "memory");
            }
            break;
        }
    }
    free(line);
    return FL_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir (not . and ..), sorted so that the result does not
 * depend on the file system's order. *count entries; free each and the
 * array. NULL with *count 0 when dir cannot be read. */
static char **sorted_entries(const char *dir, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            char **n = realloc(names, cap * sizeof *n);
            if (!n)
                break;
            names = n;
        }
        if (!(names[*count] = strdup(e->d_name)))
            break;
        (*count)++;
    }
    closedir(d);
    if (names)
        qsort(names, *count, sizeof *names, cmp_names);
    return names;
}

static void free_entries(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

int crash_logs_scan(const char *run_dir, const json_t *patterns,
                    json_t **lines, fl_error *err)
{
    char nodes[PATH_MAX], ndir[PATH_MAX], path[PATH_MAX];
    if (!(*lines = json_array()))
        return fl_error_set(err, FL_ENOMEM, "crash logs: out of memory");
    if (!json_array_size(patterns))
        return FL_OK;
    snprintf(nodes, sizeof nodes, "%s/nodes", run_dir);
    size_t nn, nf;
    char **node_names = sorted_entries(nodes, &nn);
    int rc = FL_OK;
    for (size_t i = 0; rc == FL_OK && i < nn; i++) {
        if (snprintf(ndir, sizeof ndir, "%s/%s", nodes, node_names[i]) >=
            (int)sizeof ndir)
            continue;
        char **files = sorted_entries(ndir, &nf);
        for (size_t j = 0; rc == FL_OK && j < nf; j++) {
            struct stat st;
            bool fits = snprintf(path, sizeof path, "%s/%s", ndir,
                                 files[j]) < (int)sizeof path;
            FILE *in = fits && stat(path, &st) == 0 && S_ISREG(st.st_mode)
                           ? fopen(path, "r") : NULL;
            if (!in)
                continue;
            rc = crash_logs_scan_file(in, node_names[i], files[j], patterns,
                                      *lines, err);
            fclose(in);
        }
        free_entries(files, nf);
    }
    free_entries(node_names, nn);
    return rc;
}
