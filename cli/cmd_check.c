/*
 * faultline check — judge a recorded history with one checker of the
 * registry (checkers/checker.h; cli/check_options.h picks it) and print the verdict
 * as one JSON object (and, with --explain, in words on stderr).
 */
#include "base/alloc.h"
#include "checkers/checker.h"
#include "cli/check_options.h"
#include "cli/cli.h"
#include "history/history.h"

#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A history with no client operations: neither a verdict (0-2) nor one of
 * base/fl_error.h's codes. */
#define CHECK_EXIT_NO_OPS 4

static int usage(FILE *out, int code)
{
    fprintf(out,
            "usage: faultline check [--checker C] [--model MODEL] [options] "
            "HISTORY...\n"
            "\n"
            "Judges HISTORY (.jsonl, or Jepsen .edn) with one checker: by\n"
            "default \"sequential\", which decides linearizability and\n"
            "sequential consistency against --model and names the anomaly\n"
            "(--checker set: whether a set workload lost or invented\n"
            "elements). Prints one JSON result, whose \"checker\" names the\n"
            "checker that ran. Exit: 0 valid, 1 invalid, 2 unknown (a budget\n"
            "ran out, or a set was never read), 4 no operations in the\n"
            "history, 64 usage, 65 bad input, 66 cannot open, 71 out of\n"
            "memory outside the check's budget, 74 a read or write failed\n"
            "(a directory, an endless input).\n"
            "\n"
            "Given several files, prints one line per file, in the order\n"
            "given, each with a \"file\" field (and, for a file that could\n"
            "not be checked, \"error\" and \"exit\" instead of a verdict);\n"
            "the others are still checked. The exit code is the worst: any\n"
            "error (the highest code among them), else 1, else 2, else 0.\n"
            "\n");
    cli_check_usage(out);
    fprintf(out,
            "  --jobs N             files checked at once (default 1)\n"
            "  --explain            describe each violation on stderr\n"
            "  --allow-empty        a history with no operations is valid\n"
            "                       (exit 0), not exit 4\n");
    return code;
}

typedef struct check_args {
    cli_check_options c;
    bool explain;
    bool allow_empty;   /* a history with no operations is valid */
    int jobs;           /* files checked at once */
    char **paths;       /* the HISTORY arguments (argv's) */
    size_t count;
} check_args;

static int parse_option(check_args *a, int c, const char *arg)
{
    int rc = cli_check_option(&a->c, c, arg, "check");
    if (rc != 1)
        return rc;
    if (c == 'e') {
        a->explain = true;
        return FL_OK;
    }
    if (c == 'E') {
        a->allow_empty = true;
        return FL_OK;
    }
    if (c != 'J')
        return FL_EUSAGE;
    char *end;
    double x = strtod(arg, &end);
    if (*arg == '\0' || *end != '\0' || x < 0) {
        fprintf(stderr, "faultline check: --jobs: expected a number >= 0, "
                        "got \"%s\"\n", arg);
        return FL_EUSAGE;
    }
    a->jobs = x < 1 ? 1 : x > 1024 ? 1024 : (int)x;
    return FL_OK;
}

static int parse_args(int argc, char **argv, check_args *a)
{
    static const struct option opts[] = {
        CLI_CHECK_LONGOPTS,
        {"jobs", required_argument, NULL, 'J'},
        {"explain", no_argument, NULL, 'e'},
        {"allow-empty", no_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout, -1);
        if (c == '?' || parse_option(a, c, optarg) != FL_OK)
            return usage(stderr, FL_EUSAGE);
    }
    /* the model first: a bad one is the error, whatever the files are */
    if (cli_check_resolve(&a->c, "check") != FL_OK)
        return FL_EUSAGE;
    if (optind >= argc) {
        fprintf(stderr, "faultline check: expected a HISTORY file\n");
        return usage(stderr, FL_EUSAGE);
    }
    a->paths = argv + optind;
    a->count = (size_t)(argc - optind);
    return FL_OK;
}

/* The result line: r's JSON, or the error, after "file" when `named`. */
static void print_line(FILE *out, const char *path, bool named,
                       const checker_result *r, int rc, const fl_error *err)
{
    json_t *line = json_object();
    if (named)
        json_object_set_new(line, "file", json_string(path));
    if (r != NULL) {
        json_object_update(line, checker_result_json(r));
        /* last, so that a line still begins as the result does */
        json_object_set_new(line, "checker",
                            json_string(checker_result_name(r)));
    } else {
        json_object_set_new(line, "error", json_string(err->msg));
        json_object_set_new(line, "exit", json_integer(rc));
    }
    json_dumpf(line, out, JSON_COMPACT);
    fputc('\n', out);
    json_decref(line);
}

/* Events of client processes: a history without any (an empty file, `[]`,
 * only the nemesis) says nothing about the system, so it must not pass as
 * valid by accident. */
static size_t client_events(const history *h)
{
    size_t n = 0;
    for (size_t i = 0; i < history_len(h); i++)
        n += history_events(h)[i].process != HISTORY_NEMESIS;
    return n;
}

/* One history's verdict: its JSON on out (a single file's error prints none,
 * as ever), warnings, errors and --explain on errs. Returns the verdict
 * (0, 1, 2) or an FL_E* code. */
static int check_one(const check_args *a, const char *path, bool named,
                     FILE *out, FILE *errs)
{
    fl_error err = {0};
    history *h = NULL;
    checker_result *r = NULL;
    /* a checker's own reader first (JSONL only); it may decline */
    int rc = history_format_of_path(path) == HISTORY_FORMAT_JSONL
                 ? checker_check_file(a->c.checker, path, &a->c.opt, &r, &err)
                 : FL_OK;
    if (rc == FL_OK && r == NULL)
        rc = cli_read_history(path, a->c.keys, &h, &err);
    if (rc == FL_OK && r == NULL) {
        cli_print_warnings(h, errs);
        if (!a->allow_empty && client_events(h) == 0)
            rc = fl_error_set(&err, CHECK_EXIT_NO_OPS, "%s: no operations "
                              "(nothing to check; --allow-empty accepts it)",
                              path);
    }
    if (rc == FL_OK) {
        rc = checker_check(a->c.checker, h, &a->c.opt, &r, &err);
        if (rc != FL_OK) /* the reader's messages name the file already */
            fl_error_wrap(&err, "%s", path);
    }
    if (rc != FL_OK)
        fprintf(errs, "faultline check: %s\n", err.msg);
    if (rc == FL_OK || named)
        print_line(out, path, named, r, rc, &err);
    if (rc == FL_OK) {
        if (h != NULL && client_events(h) == 0) /* why an empty file passes */
            fprintf(errs, "faultline check: %s: %s: 0 operations\n", path,
                    checker_verdict_word(checker_result_verdict(r)));
        if (a->explain)
            checker_result_explain(r, errs);
        rc = (int)checker_result_verdict(r);
    }
    checker_result_free(r);
    history_free(h);
    return rc;
}

/* ---- Many files: --jobs workers, results printed in argument order ------- */

typedef struct check_job {
    const char *path;
    char *out, *errs; /* what check_one printed, for the printer */
    size_t out_len, errs_len;
    int rc;
    bool done;
} check_job;

typedef struct check_pool {
    const check_args *a;
    check_job *jobs;
    size_t count, next;
    pthread_mutex_t lock;
    pthread_cond_t finished;
} check_pool;

static void run_job(const check_args *a, check_job *j)
{
    FILE *out = open_memstream(&j->out, &j->out_len);
    FILE *errs = open_memstream(&j->errs, &j->errs_len);
    if (out == NULL || errs == NULL) {
        j->rc = FL_ENOMEM;
    } else {
        j->rc = check_one(a, j->path, true, out, errs);
    }
    if (out != NULL)
        fclose(out);
    if (errs != NULL)
        fclose(errs);
}

static void *check_worker(void *arg)
{
    check_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t i = p->next < p->count ? p->next++ : p->count;
        pthread_mutex_unlock(&p->lock);
        if (i == p->count)
            return NULL;
        run_job(p->a, &p->jobs[i]);
        pthread_mutex_lock(&p->lock);
        p->jobs[i].done = true;
        pthread_cond_broadcast(&p->finished);
        pthread_mutex_unlock(&p->lock);
    }
}

/* The worst of two exit codes: any error beats every verdict (the higher
 * code among errors), then invalid over unknown over valid. */
static int worse(int a, int b)
{
    bool a_err = a > CHECKER_UNKNOWN, b_err = b > CHECKER_UNKNOWN;
    if (a_err || b_err)
        return a_err && b_err ? (a > b ? a : b) : a_err ? a : b;
    return (int)checker_verdict_combine((checker_verdict)a, (checker_verdict)b);
}

/* Print job i once it is done; its exit code. */
static int print_job(check_pool *p, size_t i)
{
    check_job *j = &p->jobs[i];
    pthread_mutex_lock(&p->lock);
    while (!j->done)
        pthread_cond_wait(&p->finished, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (j->errs_len)
        fwrite(j->errs, 1, j->errs_len, stderr);
    if (j->out_len)
        fwrite(j->out, 1, j->out_len, stdout);
    fflush(stdout);
    free(j->out); /* open_memstream's buffers are libc's */
    free(j->errs);
    return j->rc;
}

static int check_many(const check_args *a, char **paths, size_t count)
{
    check_pool p = {.a = a, .count = count};
    p.jobs = fl_calloc(count, sizeof *p.jobs);
    size_t workers = (size_t)a->jobs < count ? (size_t)a->jobs : count;
    pthread_t *threads = fl_calloc(workers, sizeof *threads);
    if (p.jobs == NULL || threads == NULL) {
        fl_free(p.jobs);
        fl_free(threads);
        fprintf(stderr, "faultline check: out of memory\n");
        return FL_ENOMEM;
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.finished, NULL);
    for (size_t i = 0; i < count; i++)
        p.jobs[i].path = paths[i];
    size_t started = 0;
    while (started < workers &&
           pthread_create(&threads[started], NULL, check_worker, &p) == 0)
        started++;
    if (started == 0) /* no thread to be had: check them here, in turn */
        check_worker(&p);
    int rc = FL_OK;
    for (size_t i = 0; i < count; i++)
        rc = worse(rc, print_job(&p, i));
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&p.finished);
    pthread_mutex_destroy(&p.lock);
    fl_free(threads);
    fl_free(p.jobs);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    check_args a = {.jobs = 1};
    cli_check_options_init(&a.c);
    int rc = parse_args(argc, argv, &a);
    if (rc != FL_OK) {
        cli_check_options_free(&a.c);
        return rc < 0 ? 0 : rc;
    }
    if (a.count == 1)
        rc = check_one(&a, a.paths[0], false, stdout, stderr);
    else
        rc = check_many(&a, a.paths, a.count);
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = worse(rc, FL_EIO);
    cli_check_options_free(&a.c);
    return rc;
}
