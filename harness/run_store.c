/*
 * run_store: the results directory of a run, and its analysis. See
 * run_store.h.
 */
#include "harness/run_store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkers/set.h"
#include "harness/history.h"
#include "workloads/workload.h"

static int mkdir_p(const char *path, fl_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return fl_error_set(err, FL_EUSAGE, "path too long: %s", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return fl_error_set(err, FL_EIO, "cannot create %s: %s", buf,
                                    strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return FL_OK;
}

int run_store_create(const char *root, const char *name, char *dir,
                     size_t size, fl_error *err)
{
    char stamp[32], rel[512], link[4096], tmp[4096];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(rel, sizeof rel, "%s/%s", name, stamp);
    if (snprintf(dir, size, "%s/%s", root, rel) >= (int)size)
        return fl_error_set(err, FL_EUSAGE, "results path too long");
    /* Two runs in the same second: add a suffix rather than mix them. */
    for (int i = 2; access(dir, F_OK) == 0; i++) {
        snprintf(rel, sizeof rel, "%s/%s-%d", name, stamp, i);
        snprintf(dir, size, "%s/%s", root, rel);
    }
    int rc = mkdir_p(dir, err);
    if (rc != FL_OK)
        return rc;
    snprintf(link, sizeof link, "%s/latest", root);
    snprintf(tmp, sizeof tmp, "%s/.latest.%ld", root, (long)getpid());
    unlink(tmp);
    if (symlink(rel, tmp) != 0 || rename(tmp, link) != 0)
        return fl_error_set(err, FL_EIO, "cannot point %s at %s: %s", link,
                            rel, strerror(errno));
    return FL_OK;
}

int run_store_node_dir(const char *dir, const char *node, char *out,
                       size_t size, fl_error *err)
{
    if (snprintf(out, size, "%s/nodes/%s", dir, node) >= (int)size)
        return fl_error_set(err, FL_EUSAGE, "path too long");
    return mkdir_p(out, err);
}

int run_store_write_json(const char *dir, const char *file, const json_t *v,
                         fl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (json_dump_file(v, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
        return fl_error_set(err, FL_EIO, "cannot write %s", path);
    return FL_OK;
}

/* The run's workload, from test.json; runs stored before the set workload
 * existed (or made by hand) have none: register. */
static int run_workload(const char *dir, char *out, size_t size, fl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/test.json", dir);
    snprintf(out, size, "register");
    if (access(path, F_OK) != 0)
        return FL_OK;
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    if (!t)
        return fl_error_set(err, FL_EDATA, "%s:%d: %s", path, je.line, je.text);
    const json_t *w = json_object_get(t, "workload");
    int rc = FL_OK;
    if (w && !json_is_string(w))
        rc = fl_error_set(err, FL_EDATA, "%s: field \"workload\": expected a "
                          "string, got %s", path, history_json_kind(w));
    else if (w)
        snprintf(out, size, "%s", json_string_value(w));
    json_decref(t);
    return rc;
}

/* register: each key linearizable as a cas-register. */
static int check_register(const history *h, double time_limit_s,
                          FILE *summary, checker_verdict *v, json_t *checkers,
                          fl_error *err)
{
    lin_result *res = NULL;
    lin_options opt;
    lin_options_init(&opt);
    opt.model = "cas-register";
    opt.time_limit_s = time_limit_s;
    opt.shrink = true;
    int rc = lin_check(h, &opt, &res, err);
    if (rc != FL_OK)
        return rc;
    *v = lin_result_verdict(res);
    json_object_set_new(checkers, "linearizable", lin_result_to_json(res, h));
    if (summary) {
        fprintf(summary, "register (cas-register, linearizable): %s\n",
                checker_verdict_word(*v));
        if (*v == CHECKER_INVALID)
            lin_result_explain(res, h, summary);
    }
    lin_result_free(res);
    return FL_OK;
}

/* set: no acknowledged add lost, nothing read that was never added. */
static int check_set(const history *h, FILE *summary, checker_verdict *v,
                     json_t *checkers, fl_error *err)
{
    set_result *res = NULL;
    int rc = set_check(h, &res, err);
    if (rc != FL_OK)
        return rc;
    *v = set_result_verdict(res);
    if (summary) {
        set_result_summary(res, summary);
        if (*v != CHECKER_VALID)
            set_result_explain(res, summary);
    }
    json_object_set_new(checkers, "set", set_result_to_json(res));
    set_result_free(res);
    return FL_OK;
}

int run_store_analyze(const char *dir, double check_time_limit_s,
                      FILE *summary, checker_verdict *verdict, fl_error *err)
{
    char path[4096], wl[64];
    history *h = NULL;
    int rc = run_workload(dir, wl, sizeof wl, err);
    if (rc != FL_OK)
        return rc;
    if (!workload_known(wl))
        return fl_error_set(err, FL_EDATA, "%s/test.json: field \"workload\": "
                            "no checker for workload \"%s\"", dir, wl);
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    if ((rc = history_read_file(path, HISTORY_FORMAT_JSONL, &h, err)) != FL_OK)
        return rc;
    for (size_t i = 0; summary && i < history_warning_count(h); i++)
        fprintf(summary, "warning: %s\n", history_warning(h, i));
    json_t *checkers = json_object();
    snprintf(path, sizeof path, "%s/history.edn", dir);
    if ((rc = history_write_file(h, path, HISTORY_FORMAT_EDN, err)) != FL_OK)
        goto out;
    if (!checkers) {
        rc = fl_error_set(err, FL_ENOMEM, "results: out of memory");
        goto out;
    }
    rc = strcmp(wl, "set") == 0
             ? check_set(h, summary, verdict, checkers, err)
             : check_register(h, check_time_limit_s, summary, verdict,
                              checkers, err);
    if (rc != FL_OK)
        goto out;
    json_t *top = json_pack("{s:o,s:s,s:O,s:I,s:I}",
                            "valid", checker_verdict_json(*verdict),
                            "workload", wl, "checkers", checkers,
                            "events", (json_int_t)history_len(h),
                            "pending", (json_int_t)history_pending(h));
    rc = top ? run_store_write_json(dir, "results.json", top, err)
             : fl_error_set(err, FL_ENOMEM, "results: out of memory");
    json_decref(top);
    if (rc == FL_OK && summary)
        fprintf(summary, "%zu events; details in %s/results.json\n",
                history_len(h), dir);
out:
    json_decref(checkers);
    history_free(h);
    return rc;
}
