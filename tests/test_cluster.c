/*
 * Integration test of the local cluster and the ssh module together: a
 * real 3-node cluster (network namespaces, sshd) in a private state
 * directory under /tmp. Needs root and `ip netns`; otherwise, or when a
 * cluster is already up on this machine (the network names are global),
 * it reports one SKIPPED test saying why.
 *
 * The tests run in a child process; the parent always tears the cluster
 * down afterwards, so nothing is left even if a test crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/cluster.h"
#include "harness/ssh.h"

#define NODES 3

static char state_dir[64];
static char skip_reason[256];
static fl_ssh *conn[NODES + 1]; /* by node number */

/* ---- helpers ------------------------------------------------------------------ */

static void state_path(char *buf, size_t n, const char *file)
{
    snprintf(buf, n, "%s/%s", state_dir, file);
}

static int connect_node(int i, const char *known_hosts, bool insecure,
                        const char *key, fl_ssh **out, fl_error *err)
{
    cluster_node n;
    cluster_node_at(i, &n, NULL);
    char kh[128], k[128];
    state_path(kh, sizeof kh, CLUSTER_KNOWN_HOSTS_FILE);
    state_path(k, sizeof k, CLUSTER_KEY_FILE);
    fl_ssh_options o = {.host = n.address, .user = CLUSTER_USER,
                        .private_key = key ? key : k,
                        .known_hosts = known_hosts ? known_hosts : kh,
                        .insecure_ignore_host_key = insecure,
                        .connect_timeout_ms = 5000};
    return fl_ssh_connect(&o, out, err);
}

/* Run a command on node i that must succeed with exit status `want`. */
static void run_on(int i, const char *cmd, int want, fl_ssh_result *res)
{
    fl_error err = {0};
    if (fl_ssh_exec(conn[i], cmd, 10000, res, &err) != FL_OK)
        fail_msg("n%d: %s: %s", i, cmd, err.msg);
    if (res->exit_status != want)
        fail_msg("n%d: %s: exit %d (wanted %d), stderr: %s", i, cmd,
                 res->exit_status, want, res->err);
}

/* Whether a TCP connection from node `from` to node `to` port 22 opens
 * within 2 s (bash's /dev/tcp; timeout(1) bounds a dropped SYN). */
static bool can_reach(int from, int to)
{
    cluster_node n;
    cluster_node_at(to, &n, NULL);
    char cmd[160];
    snprintf(cmd, sizeof cmd,
             "timeout 2 bash -c '</dev/tcp/%s/22' 2>/dev/null", n.address);
    fl_ssh_result r;
    fl_error err = {0};
    if (fl_ssh_exec(conn[from], cmd, 10000, &r, &err) != FL_OK)
        fail_msg("n%d: %s", from, err.msg);
    bool ok = r.exit_status == 0;
    fl_ssh_result_free(&r);
    return ok;
}

/* Whether any process in node i's namespace is called comm. */
static bool netns_has(int i, const char *comm)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "ip netns pids fl-n%d", i);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    bool found = false;
    int pid;
    while (fscanf(p, "%d", &pid) == 1) {
        char path[64], name[64] = "";
        snprintf(path, sizeof path, "/proc/%d/comm", pid);
        FILE *f = fopen(path, "r");
        if (f && fgets(name, sizeof name, f))
            found |= strncmp(name, comm, strlen(comm)) == 0 &&
                     name[strlen(comm)] == '\n';
        if (f)
            fclose(f);
    }
    pclose(p);
    return found;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_each_node_is_itself(void **state)
{
    (void)state;
    for (int i = 1; i <= NODES; i++) {
        cluster_node n;
        cluster_node_at(i, &n, NULL);
        fl_ssh_result r;
        run_on(i, "hostname; ip -4 addr show eth0", 0, &r);
        char want_host[16], want_inet[40];
        snprintf(want_host, sizeof want_host, "%s\n", n.name);
        snprintf(want_inet, sizeof want_inet, "inet %s/24", n.address);
        if (strncmp(r.out, want_host, strlen(want_host)) != 0 ||
            !strstr(r.out, want_inet))
            fail_msg("n%d said:\n%s", i, r.out);
        assert_int_equal(r.err_len, 0);
        fl_ssh_result_free(&r);
    }
}

static void test_failing_command(void **state)
{
    (void)state;
    fl_ssh_result r;
    run_on(1, "echo out; echo oops >&2; exit 7", 7, &r);
    assert_string_equal(r.out, "out\n");
    assert_string_equal(r.err, "oops\n");
    assert_string_equal(r.exit_signal, "");
    fl_ssh_result_free(&r);

    run_on(2, "ls /nonexistent-faultline", 2, &r);
    assert_non_null(strstr(r.err, "No such file"));
    fl_ssh_result_free(&r);

    const char *argv[] = {"printf", "%s|", "a b", "$HOME", "it's", "`id`",
                          NULL};
    fl_error err = {0};
    assert_int_equal(fl_ssh_exec_argv(conn[3], argv, 10000, &r, &err), FL_OK);
    assert_int_equal(r.exit_status, 0);
    assert_string_equal(r.out, "a b|$HOME|it's|`id`|");
    fl_ssh_result_free(&r);
}

static void test_command_timeout(void **state)
{
    (void)state;
    fl_ssh_result r;
    fl_error err = {0};
    assert_int_equal(fl_ssh_exec(conn[1], "sleep 30", 1000, &r, &err),
                     FL_SSH_ETIMEOUT);
    assert_non_null(strstr(err.msg, "timed out"));
    assert_null(r.out);
    /* The connection is still usable and the sleep was killed. */
    run_on(1, "echo still here", 0, &r);
    assert_string_equal(r.out, "still here\n");
    fl_ssh_result_free(&r);
    bool gone = false;
    for (int t = 0; t < 50 && !gone; t++) {
        gone = !netns_has(1, "sleep");
        if (!gone)
            usleep(100000);
    }
    assert_true(gone);
}

static void fill_pattern(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)((i * 2654435761u) >> 13) & 0xff, f);
    fclose(f);
}

static bool same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static void test_upload_download(void **state)
{
    (void)state;
    char local[128], remote[128], back[128];
    state_path(local, sizeof local, "payload.bin");
    state_path(remote, sizeof remote, "uploaded.bin");
    state_path(back, sizeof back, "downloaded.bin");
    fill_pattern(local, 300000);
    fl_error err = {0};
    if (fl_ssh_upload(conn[2], local, remote, 0640, 10000, &err) != FL_OK)
        fail_msg("%s", err.msg);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "stat -c '%%a %%s' %s", remote);
    fl_ssh_result r;
    run_on(2, cmd, 0, &r);
    assert_string_equal(r.out, "640 300000\n");
    fl_ssh_result_free(&r);
    if (fl_ssh_download(conn[3], remote, back, 10000, &err) != FL_OK)
        fail_msg("%s", err.msg);
    assert_true(same_bytes(local, back));

    /* A missing remote file fails cleanly, leaves no local file, and the
     * connection carries on. */
    unlink(back);
    assert_int_equal(fl_ssh_download(conn[3], "/nonexistent/f", back, 10000,
                                     &err), FL_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/f"));
    assert_int_equal(access(back, F_OK), -1);
    assert_int_equal(fl_ssh_upload(conn[3], "/nonexistent/local", remote,
                                   0600, 10000, &err), FL_ENOINPUT);
    run_on(3, "true", 0, &r);
    fl_ssh_result_free(&r);
}

static void test_iptables_partition(void **state)
{
    (void)state;
    fl_ssh_result r;
    assert_true(can_reach(2, 1));
    run_on(1, "iptables -A INPUT -s 10.231.0.12 -j DROP", 0, &r);
    fl_ssh_result_free(&r);
    bool cut = !can_reach(2, 1), others = can_reach(3, 1);
    /* The rule lives in n1's namespace only, not on the host. */
    FILE *p = popen("iptables -S INPUT 2>&1", "r");
    assert_non_null(p);
    char line[256];
    bool on_host = false;
    while (fgets(line, sizeof line, p))
        on_host |= strstr(line, "10.231.0.12") != NULL;
    pclose(p);
    run_on(1, "iptables -D INPUT -s 10.231.0.12 -j DROP", 0, &r);
    fl_ssh_result_free(&r);
    assert_true(cut);
    assert_true(others);
    assert_false(on_host);
    assert_true(can_reach(2, 1));
}

static void test_host_key_checks(void **state)
{
    (void)state;
    char kh[128], bad[128], empty[128], hostkey2[128];
    state_path(kh, sizeof kh, CLUSTER_KNOWN_HOSTS_FILE);
    state_path(bad, sizeof bad, "known_hosts.bad");
    state_path(empty, sizeof empty, "known_hosts.empty");
    state_path(hostkey2, sizeof hostkey2, "n2/ssh_host_ed25519_key");
    /* n2's key filed under n1's address: a changed host key. */
    FILE *f = fopen(kh, "r");
    assert_non_null(f);
    char line[512], n2key[512] = "";
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "10.231.0.12 ", 12) == 0)
            snprintf(n2key, sizeof n2key, "10.231.0.11 %s", line + 12);
    fclose(f);
    assert_true(n2key[0] != '\0');
    write_text(bad, n2key);
    write_text(empty, "");

    /* n1's real fingerprint, as OpenSSH prints it. */
    char cmd[600], fp[128] = "";
    snprintf(cmd, sizeof cmd, "ssh-keygen -lf %s/n1/ssh_host_ed25519_key.pub",
             state_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%*d %127s", fp), 1);
    pclose(p);
    assert_non_null(strstr(fp, "SHA256:"));

    fl_ssh *s = NULL;
    fl_error err = {0};
    char want[512];
    assert_int_equal(connect_node(1, bad, false, NULL, &s, &err),
                     FL_SSH_EDENIED);
    assert_non_null(strstr(err.msg, "does not match"));
    assert_non_null(strstr(err.msg, fp));
    snprintf(want, sizeof want, "ssh-keygen -R 10.231.0.11 -f %s && "
             "ssh-keyscan -p 22 -t ed25519 10.231.0.11 >> %s", bad, bad);
    if (!strstr(err.msg, want))
        fail_msg("\"%s\" not in \"%s\"", want, err.msg);
    assert_int_equal(connect_node(1, empty, false, NULL, &s, &err),
                     FL_SSH_EDENIED);
    assert_non_null(strstr(err.msg, "not in"));
    assert_non_null(strstr(err.msg, fp));
    snprintf(want, sizeof want, "ssh-keyscan -p 22 -t ed25519 10.231.0.11 "
             ">> %s", empty);
    if (!strstr(err.msg, want))
        fail_msg("\"%s\" not in \"%s\"", want, err.msg);
    assert_null(strstr(err.msg, "ssh-keygen -R"));
    assert_null(s);
    /* The advice works: running it makes the key known. */
    snprintf(cmd, sizeof cmd, "%s 2>/dev/null", want);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(connect_node(1, empty, false, NULL, &s, &err), FL_OK);
    fl_ssh_close(s);
    s = NULL;
    /* The explicit opt-out accepts it. */
    assert_int_equal(connect_node(1, bad, true, NULL, &s, &err), FL_OK);
    fl_ssh_close(s);
    /* A key that is not authorized is refused. */
    assert_int_equal(connect_node(1, NULL, false, hostkey2, &s, &err),
                     FL_SSH_EDENIED);
    assert_non_null(strstr(err.msg, "authentication"));
}

/* A connection bound to the bridge's address arrives from it. */
static void test_bound_to_the_bridge(void **state)
{
    (void)state;
    cluster_node n;
    cluster_node_at(2, &n, NULL);
    char kh[128], k[128];
    state_path(kh, sizeof kh, CLUSTER_KNOWN_HOSTS_FILE);
    state_path(k, sizeof k, CLUSTER_KEY_FILE);
    fl_ssh_options o = {.host = n.address, .user = CLUSTER_USER,
                        .private_key = k, .known_hosts = kh,
                        .connect_timeout_ms = 5000,
                        .bind_address = CLUSTER_BRIDGE_ADDRESS};
    fl_ssh *s = NULL;
    fl_error err = {0};
    if (fl_ssh_connect(&o, &s, &err) != FL_OK)
        fail_msg("%s", err.msg);
    fl_ssh_result r;
    if (fl_ssh_exec(s, "echo $SSH_CLIENT", 10000, &r, &err) != FL_OK)
        fail_msg("%s", err.msg);
    assert_true(strncmp(r.out, CLUSTER_BRIDGE_ADDRESS " ",
                        strlen(CLUSTER_BRIDGE_ADDRESS) + 1) == 0);
    fl_ssh_result_free(&r);
    fl_ssh_close(s);
    assert_true(cluster_probe(n.address, CLUSTER_SSH_PORT,
                              CLUSTER_BRIDGE_ADDRESS, 2000));
}

typedef struct worker {
    int node;
    int rc;
    char msg[FL_ERROR_MSG_MAX];
} worker;

/* Each thread opens its own connection and runs commands on it. */
static void *work(void *arg)
{
    worker *w = arg;
    fl_error err = {0};
    fl_ssh *s = NULL;
    w->rc = connect_node(w->node, NULL, false, NULL, &s, &err);
    for (int k = 0; k < 20 && w->rc == FL_OK; k++) {
        char cmd[32], want[32];
        snprintf(cmd, sizeof cmd, "echo %d-$(hostname)", k);
        snprintf(want, sizeof want, "%d-n%d\n", k, w->node);
        fl_ssh_result r;
        w->rc = fl_ssh_exec(s, cmd, 10000, &r, &err);
        if (w->rc == FL_OK && strcmp(r.out, want) != 0)
            w->rc = fl_error_set(&err, FL_EDATA, "got %s", r.out);
        fl_ssh_result_free(&r);
    }
    fl_ssh_close(s);
    snprintf(w->msg, sizeof w->msg, "%s", err.msg);
    return NULL;
}

static void test_sessions_in_threads(void **state)
{
    (void)state;
    pthread_t t[NODES];
    worker w[NODES];
    for (int i = 0; i < NODES; i++) {
        w[i] = (worker){.node = i + 1};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < NODES; i++) {
        pthread_join(t[i], NULL);
        if (w[i].rc != FL_OK)
            fail_msg("n%d: %s", w[i].node, w[i].msg);
    }
}

static void test_status_and_repair(void **state)
{
    (void)state;
    cluster_status st;
    fl_error err = {0};
    assert_int_equal(cluster_status_get(state_dir, &st, &err), FL_OK);
    assert_true(cluster_status_all_up(&st));
    assert_int_equal(st.count, NODES);

    char pidfile[128];
    state_path(pidfile, sizeof pidfile, "n3/sshd.pid");
    FILE *f = fopen(pidfile, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    assert_int_equal(kill(pid, SIGTERM), 0);
    for (int t = 0; t < 50 && cluster_status_all_up(&st); t++) {
        usleep(100000);
        assert_int_equal(cluster_status_get(state_dir, &st, &err), FL_OK);
    }
    assert_false(cluster_status_all_up(&st));
    assert_false(st.nodes[2].answers);

    if (cluster_up(state_dir, NODES, &err) != FL_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(cluster_status_get(state_dir, &st, &err), FL_OK);
    assert_true(cluster_status_all_up(&st));
}

/* No process whose command line mentions the state directory. */
static bool sshd_left(void)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    bool left = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && !left) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], cmd[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            cmd[i] = cmd[i] ? cmd[i] : ' ';
        cmd[n] = '\0';
        left = strstr(cmd, state_dir) != NULL;
    }
    closedir(d);
    return left;
}

static bool network_left(void)
{
    if (access("/sys/class/net/" CLUSTER_BRIDGE, F_OK) == 0)
        return true;
    for (int i = 1; i <= CLUSTER_MAX_NODES; i++) {
        char p[64];
        snprintf(p, sizeof p, "/run/netns/fl-n%d", i);
        if (access(p, F_OK) == 0)
            return true;
        snprintf(p, sizeof p, "/sys/class/net/flv%d", i);
        if (access(p, F_OK) == 0)
            return true;
    }
    return false;
}

static void test_down_leaves_nothing(void **state)
{
    (void)state;
    for (int i = 1; i <= NODES; i++) {
        fl_ssh_close(conn[i]);
        conn[i] = NULL;
    }
    fl_error err = {0};
    if (cluster_down(state_dir, &err) != FL_OK)
        fail_msg("%s", err.msg);
    assert_false(network_left());
    assert_false(sshd_left());
    FILE *p = popen("ip netns list", "r");
    assert_non_null(p);
    char line[128];
    bool ours = false;
    while (fgets(line, sizeof line, p))
        ours |= strncmp(line, "fl-n", 4) == 0;
    pclose(p);
    assert_false(ours);
    cluster_status st;
    assert_int_equal(cluster_status_get(state_dir, &st, &err), FL_OK);
    assert_false(st.configured);
    assert_false(cluster_status_all_up(&st));
    /* A second down finds nothing to do and is fine. */
    assert_int_equal(cluster_down(state_dir, &err), FL_OK);
}

static void test_skipped(void **state)
{
    (void)state;
    print_message("cluster integration skipped: %s\n", skip_reason);
    skip();
}

/* ---- set-up, tear-down, and the process that always cleans up -------------------- */

static int group_setup(void **state)
{
    (void)state;
    fl_error err = {0};
    if (fl_ssh_init(&err) != FL_OK || cluster_up(state_dir, NODES, &err) != FL_OK) {
        print_error("cluster up failed: %s\n", err.msg);
        return -1;
    }
    for (int i = 1; i <= NODES; i++)
        if (connect_node(i, NULL, false, NULL, &conn[i], &err) != FL_OK) {
            print_error("connect n%d: %s\n", i, err.msg);
            return -1;
        }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 1; i <= NODES; i++)
        fl_ssh_close(conn[i]);
    fl_error err = {0};
    cluster_down(state_dir, &err);
    fl_ssh_exit();
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Why the integration test cannot run here, or NULL. */
static const char *cannot_run(void)
{
    if (geteuid() != 0)
        return "needs root (network namespaces, a bridge, sshd)";
    if (access("/usr/sbin/sshd", X_OK) != 0)
        return "/usr/sbin/sshd missing (make deps)";
    if (system("ip netns list >/dev/null 2>&1") != 0)
        return "`ip netns` does not work here";
    if (access("/sys/class/net/" CLUSTER_BRIDGE, F_OK) == 0 ||
        access("/run/netns/fl-n1", F_OK) == 0)
        return "a faultline cluster is already up on this machine "
               "(run `faultline cluster down` first)";
    return NULL;
}

int main(void)
{
    const char *why = cannot_run();
    if (why != NULL) {
        snprintf(skip_reason, sizeof skip_reason, "%s", why);
        const struct CMUnitTest skipped[] = {cmocka_unit_test(test_skipped)};
        return cmocka_run_group_tests_name("cluster (skipped)", skipped, NULL,
                                           NULL);
    }
    snprintf(state_dir, sizeof state_dir, "/tmp/fl-cluster-test.XXXXXX");
    if (mkdtemp(state_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_each_node_is_itself),
            cmocka_unit_test(test_failing_command),
            cmocka_unit_test(test_command_timeout),
            cmocka_unit_test(test_upload_download),
            cmocka_unit_test(test_iptables_partition),
            cmocka_unit_test(test_host_key_checks),
            cmocka_unit_test(test_bound_to_the_bridge),
            cmocka_unit_test(test_sessions_in_threads),
            cmocka_unit_test(test_status_and_repair),
            cmocka_unit_test(test_down_leaves_nothing),
        };
        exit(cmocka_run_group_tests_name("cluster", tests, group_setup,
                                         group_teardown));
    }
    int status = 1;
    if (child < 0 || waitpid(child, &status, 0) < 0)
        status = 1;
    fl_error err = {0};
    if (cluster_down(state_dir, &err) != FL_OK)
        fprintf(stderr, "final cluster down: %s\n", err.msg);
    nftw(state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
