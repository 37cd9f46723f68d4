/*
 * run_store: the results directory of a run, and its analysis. See
 * run_store.h.
 */
#include "harness/run_store.h"
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "checkers/checker.h"
#include "checkers/compose.h"
#include "checkers/crash.h"
#include "harness/crash_logs.h"
#include "history/history.h"
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
    char stamp[32], rel[512];
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
    return mkdir_p(dir, err);
}

int run_store_point_latest(const char *root, const char *dir, fl_error *err)
{
    char link[4096], tmp[4096];
    size_t n = strlen(root);
    /* The link is relative to root, so the tree can be moved. */
    const char *rel = strncmp(dir, root, n) == 0 && dir[n] == '/' ? dir + n + 1
                                                                  : dir;
    snprintf(link, sizeof link, "%s/latest", root);
    snprintf(tmp, sizeof tmp, "%s/.latest.%ld", root, (long)getpid());
    unlink(tmp);
    if (symlink(rel, tmp) != 0 || rename(tmp, link) != 0)
        return fl_error_set(err, FL_EIO, "cannot point %s at %s: %s", link,
                            rel, strerror(errno));
    return FL_OK;
}

int run_store_lock_recording(const char *dir, int *fd, fl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.recording", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return fl_error_set(err, FL_EIO, "cannot open %s: %s", path,
                            strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return fl_error_set(err, RUN_STORE_EBUSY, "%s is locked", path);
    }
    return FL_OK;
}

void run_store_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Whether another process is recording into dir now. */
static bool being_recorded(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/.recording", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

static json_t *load_test_json(const char *dir, fl_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/test.json", dir);
    if (access(path, F_OK) != 0)
        return json_object();   /* a run made by hand: no record */
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    if (!t)
        fl_error_set(err, FL_EDATA, "%s:%d: %s", path, je.line, je.text);
    else if (!json_is_object(t)) {
        json_decref(t);
        t = NULL;
        fl_error_set(err, FL_EDATA, "%s: expected a JSON object", path);
    }
    return t;
}

int run_store_set_test_field(const char *dir, const char *key,
                             json_t *value, fl_error *err)
{
    fl_error local = {0};
    if (!err)
        err = &local;
    json_t *t = load_test_json(dir, err);
    if (!t)
        return err->code;
    int rc = value && json_object_set(t, key, value) == 0
                 ? run_store_write_json(dir, "test.json", t, err)
                 : fl_error_set(err, FL_ENOMEM, "test.json: out of memory");
    json_decref(t);
    return rc;
}

int run_store_set_ended(const char *dir, const char *ended, fl_error *err)
{
    json_t *v = json_string(ended);
    int rc = run_store_set_test_field(dir, "ended", v, err);
    json_decref(v);
    return rc;
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

/* What test.json says of the run: its workload (runs stored before the
 * set workload existed, or made by hand, have none: register) and how it
 * ended (NULL: not recorded). */
typedef struct run_record {
    char workload[64];
    char ended[1024];
    bool has_ended;
    char target[64];           /* "" when not recorded */
    json_t *crash_patterns;    /* owned; NULL: none recorded */
    bool allow_crashes;
} run_record;

static int read_record(const char *dir, run_record *rec, fl_error *err)
{
    json_t *t = load_test_json(dir, err);
    if (!t)
        return err->code;
    snprintf(rec->workload, sizeof rec->workload, "register");
    const json_t *w = json_object_get(t, "workload");
    const json_t *e = json_object_get(t, "ended");
    int rc = FL_OK;
    if ((w && !json_is_string(w)) || (e && !json_is_string(e)))
        rc = fl_error_set(err, FL_EDATA, "%s/test.json: field \"%s\": "
                          "expected a string, got %s", dir,
                          w && !json_is_string(w) ? "workload" : "ended",
                          history_json_kind(w && !json_is_string(w) ? w : e));
    if (rc == FL_OK && w)
        snprintf(rec->workload, sizeof rec->workload, "%s",
                 json_string_value(w));
    if (rc == FL_OK && e) {
        snprintf(rec->ended, sizeof rec->ended, "%s", json_string_value(e));
        rec->has_ended = true;
    }
    const json_t *tg = json_object_get(t, "target");
    const json_t *cp = json_object_get(t, "crash_patterns");
    if (rc == FL_OK && cp && !json_is_array(cp))
        rc = fl_error_set(err, FL_EDATA, "%s/test.json: field "
                          "\"crash_patterns\": expected an array of strings, "
                          "got %s", dir, history_json_kind(cp));
    if (rc == FL_OK) {
        snprintf(rec->target, sizeof rec->target, "%s",
                 json_is_string(tg) ? json_string_value(tg) : "");
        rec->crash_patterns = json_incref((json_t *)cp);
        rec->allow_crashes = json_is_true(json_object_get(t,
                                                          "allow_crashes"));
    }
    json_decref(t);
    return rc;
}

/* The composition that judges a run: the workload's checkers with the
 * options it fixes, or judge->only; our budgets (the time limit, and a
 * shrunk counterexample for whoever reads it); then what judge adjusts.
 * *items is the caller's (fl_free). */
static int plan(const workload_checker *wc, size_t n, double time_limit_s,
                const run_store_judge *judge, compose_item **items,
                size_t *count, fl_error *err)
{
    bool only = judge != NULL && judge->only != NULL;
    *count = only ? 1 : n;
    *items = fl_calloc(*count + 1, sizeof **items);
    int rc = *items ? FL_OK : fl_error_set(err, FL_ENOMEM, "out of memory");
    for (size_t i = 0; i < *count && rc == FL_OK; i++) {
        compose_item *it = &(*items)[i];
        if (only) {
            it->checker = judge->only;
            checker_options_init(&it->options);
        } else {
            it->options = wc[i].options;
            rc = checker_find(wc[i].checker, &it->checker, err);
        }
        it->options.time_limit_s = time_limit_s;
        it->options.memory_limit_mb = fl_alloc_default_limit() >> 20;
        it->options.shrink = true;
        if (judge != NULL && judge->adjust != NULL)
            judge->adjust(judge->arg, &it->options);
    }
    return rc;
}

/* Run the run's checkers as one composition (checkers/compose.h):
 * *checkers gets {NAME: RESULT, ...}, *v their combined verdict. */
static int run_checkers(const history *h, const workload_checker *wc,
                        size_t nwc, double time_limit_s,
                        const run_store_judge *judge, FILE *summary,
                        checker_verdict *v, json_t **checkers, fl_error *err)
{
    compose_item *items = NULL;
    size_t n = 0;
    int rc = plan(wc, nwc, time_limit_s, judge, &items, &n, err);
    composition *run = NULL;
    if (rc == FL_OK)
        rc = compose_run(h, items, n, &run, err);
    fl_free(items);
    if (rc != FL_OK)
        return rc;
    *v = compose_verdict(run);
    json_t *all = compose_json(run);
    *checkers = json_incref(json_object_get(all, "checkers"));
    json_decref(all);
    for (size_t i = 0; summary && i < n; i++) {
        const checker_result *res = compose_result(run, i);
        checker_result_summary(res, summary);
        if (checker_result_verdict(res) != CHECKER_VALID)
            checker_result_explain(res, summary);
    }
    compose_free(run);
    return *checkers ? FL_OK : fl_error_set(err, FL_ENOMEM, "results: out of memory");
}

/* The crash checker's entry (checkers/crash.h): the history's crashes and
 * the node logs' lines matching the run's crash patterns; its verdict
 * joins *v. */
static int check_crashes(const char *dir, const history *h,
                         const run_record *rec, FILE *summary,
                         checker_verdict *v, json_t *checkers, fl_error *err)
{
    json_t *lines = NULL, *crashes = crash_events(h);
    int rc = crashes ? crash_logs_scan(dir, rec->crash_patterns, &lines, err)
                     : fl_error_set(err, FL_ENOMEM, "out of memory");
    checker_verdict cv = CHECKER_VALID;
    json_t *res = rc == FL_OK ? crash_result(crashes, lines,
                                             rec->target[0] ? rec->target
                                                            : NULL,
                                             rec->allow_crashes, &cv)
                              : NULL;
    if (rc == FL_OK && !res)
        rc = fl_error_set(err, FL_ENOMEM, "out of memory");
    if (rc == FL_OK) {
        *v = checker_verdict_combine(*v, cv);
        if (summary) {
            crash_summary_json(res, summary);
            if (json_array_size(crashes) || json_array_size(lines))
                crash_explain_json(res, summary);
        }
        json_object_set_new(checkers, CRASH_CHECKER_NAME, res);
    }
    json_decref(crashes);
    json_decref(lines);
    return rc;
}

#define NOT_RECORDED "not recorded (the controller died mid-run, or the " \
                     "run predates this record)"

int run_store_analyze(const char *dir, double check_time_limit_s, bool force,
                      FILE *summary, checker_verdict *verdict, fl_error *err)
{
    return run_store_analyze_judged(dir, check_time_limit_s, force, NULL,
                                    summary, verdict, err);
}

/* run_store_analyze_judged of a run whose test.json says rec. */
static int analyze_recorded(const char *dir, const run_record *rec,
                            double check_time_limit_s,
                            const run_store_judge *judge, FILE *summary,
                            checker_verdict *verdict, fl_error *err)
{
    char path[4096];
    history *h = NULL;
    int rc;
    if (strncmp(rec->ended, "could not start", 15) == 0)
        return fl_error_set(err, RUN_STORE_ENEVER_RAN, "%s: the run %s; there "
                            "is no history to judge", dir, rec->ended);
    const char *ended = rec->has_ended ? rec->ended : NOT_RECORDED;
    const char *wl = rec->workload;
    const workload_checker *wc;
    size_t nwc;
    if (workload_checkers(wl, &wc, &nwc, NULL) != FL_OK)
        return fl_error_set(err, FL_EDATA, "%s/test.json: field \"workload\": "
                            "no checker for workload \"%s\"", dir, wl);
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    if ((rc = history_read_file(path, HISTORY_FORMAT_JSONL, &h, err)) != FL_OK)
        return rc;
    for (size_t i = 0; summary && i < history_warning_count(h); i++)
        fprintf(summary, "warning: %s\n", history_warning(h, i));
    json_t *checkers = NULL;
    snprintf(path, sizeof path, "%s/history.edn", dir);
    if ((rc = history_write_file(h, path, HISTORY_FORMAT_EDN, err)) != FL_OK)
        goto out;
    rc = run_checkers(h, wc, nwc, check_time_limit_s, judge, summary, verdict,
                      &checkers, err);
    /* Every run is also judged for crashes, unless one checker is asked
     * to judge alone (`analyze --checker`). */
    if (rc == FL_OK && !(judge && judge->only))
        rc = check_crashes(dir, h, rec, summary, verdict, checkers, err);
    if (rc != FL_OK)
        goto out;
    json_t *top = json_pack("{s:o,s:s,s:s,s:O,s:I,s:I}",
                            "valid", checker_verdict_json(*verdict),
                            "workload", wl, "ended", ended,
                            "checkers", checkers,
                            "events", (json_int_t)history_len(h),
                            "pending", (json_int_t)history_pending(h));
    rc = top ? run_store_write_json(dir, "results.json", top, err)
             : fl_error_set(err, FL_ENOMEM, "results: out of memory");
    json_decref(top);
    if (rc == FL_OK)
        rc = report_write_run(dir, h, err);
    if (rc == FL_OK && summary)
        fprintf(summary, "run ended: %s\n%zu events; details in "
                "%s/results.json (CI: junit.xml, summary.md)\n", ended,
                history_len(h), dir);
out:
    json_decref(checkers);
    history_free(h);
    return rc;
}

int run_store_analyze_judged(const char *dir, double check_time_limit_s,
                             bool force, const run_store_judge *judge,
                             FILE *summary, checker_verdict *verdict,
                             fl_error *err)
{
    run_record rec = {0};
    if (!force && being_recorded(dir))
        return fl_error_set(err, RUN_STORE_EBUSY, "%s is still being "
                            "recorded by a running `faultline test`; wait "
                            "for it, or give --force to check what it has "
                            "recorded so far", dir);
    int rc = read_record(dir, &rec, err);
    if (rc == FL_OK)
        rc = analyze_recorded(dir, &rec, check_time_limit_s, judge, summary,
                              verdict, err);
    json_decref(rec.crash_patterns);
    return rc;
}
