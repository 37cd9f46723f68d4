/*
 * The ZooKeeper target's pure parts: its start command and zoo.cfg, srvr
 * answers, every row of the outcome table in zookeeper.h, its options;
 * and that the C library's own connections are bound to the configured
 * source (the --wrap=connect in the Makefile), seen by a loopback
 * listener. The real cluster is exercised by tests/cli/zookeeper.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define THREADED
#include <zookeeper/zookeeper.h>

#include "harness/netbind.h"
#include "targets/clients/zookeeper.h"

static void test_start_cmd(void **state)
{
    (void)state;
    const char *addrs[] = {"10.231.0.11", "10.231.0.12", "10.231.0.13"};
    char *cmd = zk_start_cmd("/usr/bin/java", "/a.jar:/b.jar", "/x", "n2", 3,
                             addrs, 1);
    assert_non_null(cmd);
    assert_non_null(strstr(cmd, "d=/x/n2;"));
    assert_non_null(strstr(cmd, "echo 2 > data/myid;"));
    /* Found again by the marker right after the binary (daemon.h). */
    assert_non_null(strstr(cmd, "setsid nohup sh -c '/usr/bin/java "
                                "-Dfaultline.dir=$d "));
    assert_non_null(strstr(cmd, "-cp $d:/a.jar:/b.jar "
                                "org.apache.zookeeper.server.quorum."
                                "QuorumPeerMain $d/zoo.cfg"));
    assert_non_null(strstr(cmd, "clientPortAddress=10.231.0.12 "));
    assert_non_null(strstr(cmd, " server.1=10.231.0.11:2888:3888"
                                " server.2=10.231.0.12:2888:3888"
                                " server.3=10.231.0.13:2888:3888 >> zoo.cfg"));
    assert_non_null(strstr(cmd, "\"4lw.commands.whitelist=srvr,ruok,mntr\""));
    assert_non_null(strstr(cmd, "\"admin.enableServer=false\""));
    assert_non_null(strstr(cmd, "\"dataDir=$d/data\""));
    assert_non_null(strstr(cmd, "echo $! > zookeeper.pid"));
    free(cmd);
}

/* The command, run by sh with a fake java, writes what ZooKeeper reads. */
static void test_start_cmd_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/fl-zk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *addrs[] = {"10.231.0.11"};
    char *cmd = zk_start_cmd("/bin/true", "/dev/null", dir, "n1", 1, addrs, 0);
    assert_non_null(cmd);
    char *script, *sh;
    assert_true(asprintf(&script, "%s/start.sh", dir) > 0);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs(cmd, f);
    fclose(f);
    assert_true(asprintf(&sh, "bash %s >/dev/null && "
                         "grep -qx 'server.1=10.231.0.11:2888:3888' %s/n1/zoo.cfg && "
                         "grep -qx 'tickTime=200' %s/n1/zoo.cfg && "
                         "grep -qx 'dataDir=%s/n1/data' %s/n1/zoo.cfg && "
                         "grep -qx 1 %s/n1/data/myid && "
                         "grep -q 'File=%s/n1/zookeeper.log' %s/n1/log4j.properties",
                         script, dir, dir, dir, dir, dir, dir, dir) > 0);
    free(script);
    int rc = system(sh);
    free(sh);
    free(cmd);
    char *rm;
    assert_true(asprintf(&rm, "rm -rf %s", dir) > 0);
    assert_int_equal(system(rm), 0);
    free(rm);
    assert_int_equal(rc, 0);
}

static void test_parse_srvr(void **state)
{
    (void)state;
    char mode[16];
    unsigned long long zxid;
    assert_true(zk_parse_srvr("Zookeeper version: 3.8.0\nLatency min/avg/max: "
                              "0/0.0/0\nZxid: 0x300000007\nMode: leader\n"
                              "Node count: 5\n", mode, sizeof mode, &zxid));
    assert_string_equal(mode, "leader");
    assert_int_equal(zxid, 0x300000007ULL);
    assert_true(zk_parse_srvr("Mode: follower\r\n", mode, sizeof mode, &zxid));
    assert_string_equal(mode, "follower");
    assert_int_equal(zxid, 0);
    assert_false(zk_parse_srvr("This ZooKeeper instance is not currently "
                               "serving requests\n", mode, sizeof mode, &zxid));
    assert_string_equal(mode, "");
    /* Cut to the buffer. */
    assert_true(zk_parse_srvr("Mode: standalone\n", mode, 5, &zxid));
    assert_string_equal(mode, "stan");
}

static void expect(int rc, bool is_read, history_type type, const char *error)
{
    target_result r;
    zk_classify_error(rc, is_read, &r);
    assert_int_equal(r.type, type);
    assert_string_equal(json_string_value(json_object_get(r.error, "error")),
                        error);
    target_result_clear(&r);
}

/* Every row of zookeeper.h's table. */
static void test_outcomes(void **state)
{
    (void)state;
    for (int read = 0; read < 2; read++) {
        expect(ZNONODE, read, HISTORY_FAIL, "no node");
        expect(ZBADVERSION, read, HISTORY_FAIL, "bad version");
        expect(ZNODEEXISTS, read, HISTORY_FAIL, "node exists");
        expect(ZCONNECTIONLOSS, read, read ? HISTORY_FAIL : HISTORY_INFO,
               "connection loss");
        expect(ZOPERATIONTIMEOUT, read, read ? HISTORY_FAIL : HISTORY_INFO,
               "operation timeout");
        expect(ZRUNTIMEINCONSISTENCY, read, read ? HISTORY_FAIL : HISTORY_INFO,
               "zookeeper error");
    }
    /* An expiry ends the process's session: info, reads too. */
    target_result r;
    zk_classify_error(ZSESSIONEXPIRED, true, &r);
    assert_int_equal(r.type, HISTORY_INFO);
    assert_string_equal(json_string_value(json_object_get(r.error, "error")),
                        "session expired");
    target_result_clear(&r);
    zk_classify_error(ZINVALIDSTATE, false, &r);
    assert_int_equal(r.type, HISTORY_INFO);
    target_result_clear(&r);
    zk_classify_error(ZBADVERSION, false, &r);
    assert_true(r.refused);
    target_result_clear(&r);
}

static void test_options(void **state)
{
    (void)state;
    json_t *opts = NULL;
    target_options *out = NULL;
    fl_error err = {0};
    assert_int_equal(target_options_parse(&zk_target, NULL, &out, &err), FL_OK);
    const json_t *j = target_options_json(out);
    assert_string_equal(json_string_value(json_object_get(j, "read-mode")),
                        "plain");
    assert_non_null(strstr(json_string_value(json_object_get(j, "classpath")),
                           "/usr/share/java/zookeeper.jar"));
    target_options_free(out);
    assert_int_equal(target_options_set(&zk_target, &opts, "read-mode", "sync",
                                        &err), FL_OK);
    assert_int_equal(target_options_parse(&zk_target, opts, &out, &err), FL_OK);
    target_options_free(out);
    assert_int_equal(target_options_set(&zk_target, &opts, "read-mode",
                                        "linearizable", &err), FL_OK);
    assert_int_equal(target_options_parse(&zk_target, opts, &out, &err),
                     FL_EUSAGE);
    assert_null(out);
    assert_non_null(strstr(err.msg, "--read-mode is plain or sync"));
    assert_int_equal(target_options_set(&zk_target, &opts, "read-mode", "plain",
                                        &err), FL_OK);
    assert_int_equal(target_options_set(&zk_target, &opts, "classpath",
                                        "/a.jar;rm -rf /", &err), FL_OK);
    assert_int_equal(target_options_parse(&zk_target, opts, &out, &err),
                     FL_EUSAGE);
    assert_non_null(strstr(err.msg, "--classpath"));
    json_decref(opts);
    /* The JVM needs more than the harness's 15 s to start. */
    assert_true(zk_target.ready_timeout_ms > 15000);
}

/* A listener on 127.0.0.1, port chosen by the kernel. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* The source address of the next connection to lfd (within 10 s). */
static void accepted_from(int lfd, char *addr, size_t size)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 10000), 1);
    struct sockaddr_in peer;
    socklen_t sl = sizeof peer;
    int c = accept(lfd, (struct sockaddr *)&peer, &sl);
    assert_true(c >= 0);
    assert_non_null(inet_ntop(AF_INET, &peer.sin_addr, addr, (socklen_t)size));
    close(c);
}

static void zk_quiet_watcher(zhandle_t *zh, int type, int st, const char *path,
                             void *ctx)
{
    (void)zh, (void)type, (void)st, (void)path, (void)ctx;
}

/* The C library's session connects from the configured source. */
static void test_library_connect_is_bound(void **state)
{
    (void)state;
    int port, lfd = listener(&port);
    zk_net_bind_source("127.0.0.2", port);
    zoo_set_debug_level((ZooLogLevel)0);
    char host[64], from[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    zhandle_t *zh = zookeeper_init(host, zk_quiet_watcher, 4000, NULL, NULL, 0);
    assert_non_null(zh);
    accepted_from(lfd, from, sizeof from);
    assert_string_equal(from, "127.0.0.2");
    zookeeper_close(zh);

    /* Another port is not the module's: left as the caller made it. */
    int port2, lfd2 = listener(&port2);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port2),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    accepted_from(lfd2, from, sizeof from);
    assert_string_equal(from, "127.0.0.1");
    close(fd);

    /* A source that is not on this machine: the connect fails, before a
     * packet leaves. */
    zk_net_bind_source("192.0.2.77", port);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    close(fd);
    zk_net_bind_source(NULL, 0);
    close(lfd);
    close(lfd2);
}

/* A one-shot four-letter-word server: reads the word, answers, closes. */
static void *srvr_server(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    char word[8] = {0};
    if (c >= 0 && read(c, word, 4) == 4 && strcmp(word, "srvr") == 0) {
        const char *a = "Zxid: 0x100000002\nMode: follower\n";
        ssize_t w = write(c, a, strlen(a));
        (void)w;
    }
    if (c >= 0)
        close(c);
    return NULL;
}

static void test_four_letter(void **state)
{
    (void)state;
    int port, lfd = listener(&port);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, srvr_server, &lfd), 0);
    char buf[256], mode[16];
    unsigned long long zxid;
    fl_error err = {0};
    assert_int_equal(zk_four_letter("127.0.0.1", "127.0.0.1", port, "srvr",
                                    5000, buf, sizeof buf, &err), FL_OK);
    pthread_join(t, NULL);
    assert_true(zk_parse_srvr(buf, mode, sizeof mode, &zxid));
    assert_string_equal(mode, "follower");
    assert_int_equal(zxid, 0x100000002ULL);
    /* An address not on this machine: refused before connecting. */
    assert_int_equal(zk_four_letter("192.0.2.77", "127.0.0.1", port, "srvr",
                                    500, buf, sizeof buf, &err),
                     FL_NET_EUNBOUND);
    close(lfd);
    /* Nobody listening now: an error, within the timeout. */
    assert_int_equal(zk_four_letter(NULL, "127.0.0.1", port, "srvr", 500, buf,
                                    sizeof buf, &err), FL_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_cmd),
        cmocka_unit_test(test_start_cmd_files),
        cmocka_unit_test(test_parse_srvr),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_library_connect_is_bound),
        cmocka_unit_test(test_four_letter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
