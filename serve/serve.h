/*
 * serve: a results directory over HTTP (libmicrohttpd), for a person with
 * a browser. `faultline serve` is serve_start(), a wait for SIGINT or
 * SIGTERM, and serve_stop().
 *
 *   /                 the run list: every results/<test>/<time>/ holding
 *                     test.json and/or results.json, newest first (by the
 *                     <time> directory's name, yyyymmddThhmmss), coloured by
 *                     verdict, linking to the run's report.html and files
 *   /<dir>/           a directory's listing (a run's files, nodes/<node>/)
 *   /<file>           the file, its Content-Type from its extension
 *
 * Nothing outside the results directory is ever sent. A URL is decoded
 * once, here (the server's own unescaping is turned off, so `%2e%2e`
 * arrives as written and is refused after decoding): a segment that is
 * empty (`//etc/passwd`), begins with '.' (`.`, `..`, dotfiles such as a
 * run's `.recording`), or contains a decoded NUL or '\' is 403; a path
 * whose realpath() lies outside the results directory's (a symlink
 * leading out) is 403; a missing one is 404.
 *
 * The pure parts — URL to relative path, relative path to a file inside
 * the root, a run's description from its JSON, the run list's order and
 * its HTML — are exposed for tests (tests/test_serve.c).
 */
#ifndef FL_SERVE_H
#define FL_SERVE_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "base/fl_error.h"

/* ---- Paths: each returns an HTTP status (200: out is filled) ------------------ */

/* url: the request path as sent (before the query string). Writes the
 * decoded path relative to the root, without leading or trailing '/'
 * ("" for the root itself), to out. 200; 400 for a bad %-escape or a path
 * not beginning with '/'; 403 for a refused segment (above); 414 when it
 * does not fit in cap. */
int serve_url_path(const char *url, char *out, size_t cap);

/* root_real: the results directory as realpath() gives it. Writes the
 * realpath of root_real/rel to out. 200; 404 if it does not exist; 403 if
 * it resolves outside root_real; 414 if too long. rel as serve_url_path
 * writes it. */
int serve_resolve(const char *root_real, const char *rel, char *out,
                  size_t cap);

/* The Content-Type for a file name, from its extension (a static string):
 * text/html, application/json, text/plain for .jsonl/.edn/.log, ...;
 * application/octet-stream when unknown. */
const char *serve_content_type(const char *name);

/* ---- The run list ------------------------------------------------------------- */

typedef enum serve_verdict {
    SERVE_VALID,
    SERVE_INVALID,
    SERVE_UNKNOWN,
    SERVE_NOT_CHECKED, /* no results.json */
} serve_verdict;

/* The files of a run that the list links to directly, when present. */
enum {
    SERVE_HAS_REPORT = 1 << 0,  /* report.html */
    SERVE_HAS_HISTORY = 1 << 1, /* history.jsonl */
    SERVE_HAS_RESULTS = 1 << 2, /* results.json */
    SERVE_HAS_TEST = 1 << 3,    /* test.json */
    SERVE_HAS_JUNIT = 1 << 4,   /* junit.xml */
    SERVE_HAS_SUMMARY = 1 << 5, /* summary.md */
    SERVE_HAS_NODES = 1 << 6,   /* nodes/ */
};

/* One run. Every string is owned by the serve_runs holding it; the ones a
 * run's JSON does not say are NULL, the numbers -1. */
typedef struct serve_run {
    char *test;     /* the <test> directory's name */
    char *time;     /* the <time> directory's name */
    serve_verdict verdict;
    char *target, *workload, *nemesis, *ended;
    double duration_s; /* test.json's time_limit */
    long long ops;     /* the most any checker counted */
    long long events;  /* results.json's events */
    unsigned files;    /* SERVE_HAS_* */
} serve_run;

typedef struct serve_runs {
    serve_run *run;
    size_t n;
} serve_runs;

/* Fill r's fields from a run's test.json and results.json objects (each
 * borrowed, NULL when absent): results NULL is SERVE_NOT_CHECKED. test,
 * time and files are left as they are. FL_ENOMEM. */
int serve_run_describe(serve_run *r, const json_t *test, const json_t *results,
                       fl_error *err);

/* Newest first: by time descending, then test ascending. */
void serve_runs_sort(serve_runs *runs);

/* Every run under root: root/<test>/<time>/ directories (not symlinks, so
 * results/latest is not listed twice) holding test.json or results.json.
 * A JSON file that does not parse counts as absent. On FL_OK *out is the
 * caller's, sorted, freed with serve_runs_free(). FL_ENOINPUT if root
 * cannot be read; FL_ENOMEM. */
int serve_runs_scan(const char *root, serve_runs **out, fl_error *err);
void serve_runs_free(serve_runs *runs);

/* The run list as one HTML page (inline CSS; rows of class "run VERDICT",
 * VERDICT one of valid, invalid, unknown, not-checked). title names the
 * directory served. FL_EIO if out cannot be written. */
int serve_runs_html(const serve_runs *runs, const char *title, FILE *out,
                    fl_error *err);

/* A directory's listing as HTML: its entries (dotfiles left out) sorted by
 * name, subdirectories with a trailing '/', sizes of files. dir is the
 * directory on disk, url_path how it is reached ("/t/20261201T120000/").
 * FL_ENOINPUT if dir cannot be read; FL_EIO; FL_ENOMEM. */
int serve_listing_html(const char *dir, const char *url_path, FILE *out,
                       fl_error *err);

/* ---- The server ----------------------------------------------------------------- */

typedef struct serve_config {
    const char *results; /* the directory to serve */
    const char *bind;    /* an IPv4 or IPv6 address; NULL: 127.0.0.1 */
    unsigned port;       /* 0: any free port (serve_port() says which) */
} serve_config;

typedef struct serve_server serve_server;

/* Start answering on its own threads. On FL_OK *out is the caller's, to
 * serve_stop(). FL_ENOINPUT if cfg->results is not a readable directory,
 * FL_EUSAGE for a bind address that does not parse, FL_EIO if the port
 * cannot be bound. */
int serve_start(const serve_config *cfg, serve_server **out, fl_error *err);

/* The port it listens on. */
unsigned serve_port(const serve_server *s);

/* The results directory's realpath, as served (valid until serve_stop). */
const char *serve_root(const serve_server *s);

/* Finish the requests in flight, close the socket, free s. NULL is a
 * no-op. */
void serve_stop(serve_server *s);

#endif
