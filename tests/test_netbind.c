/*
 * Tests that every connection the controller makes to a local node — SSH,
 * the cluster's status probe, raftkv's client — is bound to the test
 * network's source address before it connects, and that with that address
 * gone the bind fails before connect(): nothing is sent anywhere.
 *
 * Loopback only. The "bound" cases bind to 127.0.0.2 and connect to a
 * listener on 127.0.0.1, which without the bind would see 127.0.0.1 as
 * the peer: the peer address the listener records proves the bind. The
 * "gone" cases bind to 198.51.100.1 (TEST-NET-2, on no interface here)
 * and check that the listener never got a connection. Also: a fake HTTP
 * server on 127.0.0.1 answering 404 with a body that is not raftkv's is
 * never recorded as an ok read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/cluster.h"
#include "harness/netbind.h"
#include "harness/ssh.h"
#include "targets/clients/raftkv.h"

#define BOUND "127.0.0.2"
#define NOT_HERE "198.51.100.1"

/* ---- a loopback listener ----------------------------------------------------- */

typedef struct listener {
    int fd;
    int port;
    const char *banner;     /* sent to the first connection, or NULL */
    char peer[64];          /* the first connection's source address */
    pthread_t thread;
} listener;

static void listen_on_loopback(listener *l, const char *banner)
{
    memset(l, 0, sizeof *l);
    l->banner = banner;
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(l->fd, 8), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(l->fd, (struct sockaddr *)&sa, &len), 0);
    l->port = ntohs(sa.sin_port);
}

/* Accept one connection (within 5 s), note its source, send the banner,
 * close. */
static void *accept_one(void *arg)
{
    listener *l = arg;
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    if (poll(&p, 1, 5000) != 1)
        return NULL;
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int c = accept(l->fd, (struct sockaddr *)&peer, &len);
    if (c < 0)
        return NULL;
    inet_ntop(AF_INET, &peer.sin_addr, l->peer, sizeof l->peer);
    if (l->banner && write(c, l->banner, strlen(l->banner)) < 0)
        l->peer[0] = '\0';
    close(c);
    return NULL;
}

static void serve_one(listener *l)
{
    assert_int_equal(pthread_create(&l->thread, NULL, accept_one, l), 0);
}

static void finish(listener *l)
{
    pthread_join(l->thread, NULL);
    close(l->fd);
}

/* Whether a connection is waiting to be accepted. A connect() to loopback
 * completes its handshake in the kernel at once, so a connection that had
 * been attempted would be queued by now. */
static bool connection_pending(const listener *l)
{
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    return poll(&p, 1, 100) == 1;
}

static void local_address(int fd, char *out, size_t n, int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    inet_ntop(AF_INET, &sa.sin_addr, out, (socklen_t)n);
    *port = ntohs(sa.sin_port);
}

/* ---- fl_net_bind ----------------------------------------------------------------- */

static int connect_to(int fd, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    return connect(fd, (struct sockaddr *)&sa, sizeof sa);
}

static void test_bind_sets_the_source(void **state)
{
    (void)state;
    listener l;
    listen_on_loopback(&l, NULL);
    char addr[64];
    int port;
    /* The control: unbound, the kernel picks 127.0.0.1. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect_to(fd, l.port), 0);
    local_address(fd, addr, sizeof addr, &port);
    assert_string_equal(addr, "127.0.0.1");
    close(fd);
    /* Bound: the connection comes from the bound address. */
    fl_error err = {0};
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fl_net_bind(fd, BOUND, &err) != FL_OK)
        fail_msg("%s", err.msg);
    local_address(fd, addr, sizeof addr, &port);
    assert_string_equal(addr, BOUND);
    assert_int_equal(connect_to(fd, l.port), 0);
    local_address(fd, addr, sizeof addr, &port);
    assert_string_equal(addr, BOUND);
    close(fd);
    close(l.fd);
}

static void test_bind_to_an_address_not_here_fails(void **state)
{
    (void)state;
    assert_false(fl_net_is_local(NOT_HERE));
    assert_true(fl_net_is_local("127.0.0.1"));
    assert_true(fl_net_is_local(BOUND));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fl_error err = {0};
    assert_int_equal(fl_net_bind(fd, NOT_HERE, &err), FL_NET_EUNBOUND);
    assert_non_null(strstr(err.msg, "source address " NOT_HERE
                                    " is not on this machine"));
    assert_non_null(strstr(err.msg, "nothing was sent"));
    /* Still unbound: nothing was set up to send from. */
    char addr[64];
    int port;
    local_address(fd, addr, sizeof addr, &port);
    assert_string_equal(addr, "0.0.0.0");
    assert_int_equal(port, 0);
    close(fd);
}

/* The bridge's own address, when no local cluster is up here: the message
 * says what is probably wrong. */
static void test_bind_without_the_bridge(void **state)
{
    (void)state;
    if (fl_net_is_local(CLUSTER_BRIDGE_ADDRESS)) {
        print_message("a local cluster is up: its bridge address is here\n");
        skip();
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fl_error err = {0};
    assert_int_equal(fl_net_bind(fd, CLUSTER_BRIDGE_ADDRESS, &err),
                     FL_NET_EUNBOUND);
    assert_non_null(strstr(err.msg, "source address " CLUSTER_BRIDGE_ADDRESS
                                    " is not on this machine: is the test "
                                    "network's interface (a local cluster's "
                                    "bridge) gone?"));
    close(fd);
}

static void test_bind_bad_arguments(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fl_error err = {0};
    assert_int_equal(fl_net_bind(fd, NULL, &err), FL_OK);
    assert_int_equal(fl_net_bind(fd, "", &err), FL_OK);
    assert_int_equal(fl_net_bind(fd, "flbr0", &err), FL_EUSAGE);
    assert_non_null(strstr(err.msg, "not an IP address"));
    assert_int_equal(fl_net_bind(fd, "::1", &err), FL_EUSAGE);
    close(fd);
}

/* ---- SSH -------------------------------------------------------------------------- */

static fl_ssh_options ssh_opts(int port, const char *bind)
{
    return (fl_ssh_options){.host = "127.0.0.1", .port = port,
                            .private_key = "/nonexistent/key",
                            .insecure_ignore_host_key = true,
                            .connect_timeout_ms = 3000,
                            .bind_address = bind};
}

static void test_ssh_socket_is_bound(void **state)
{
    (void)state;
    assert_int_equal(fl_ssh_init(NULL), FL_OK);
    listener l;
    listen_on_loopback(&l, NULL);
    serve_one(&l);
    fl_ssh_options o = ssh_opts(l.port, BOUND);
    fl_ssh *s = NULL;
    fl_error err = {0};
    /* No SSH server: the handshake fails, after the connection. */
    assert_int_not_equal(fl_ssh_connect(&o, &s, &err), FL_OK);
    finish(&l);
    assert_string_equal(l.peer, BOUND);
    fl_ssh_exit();
}

static void test_ssh_bind_fails_before_connect(void **state)
{
    (void)state;
    assert_int_equal(fl_ssh_init(NULL), FL_OK);
    listener l;
    listen_on_loopback(&l, NULL);
    fl_ssh_options o = ssh_opts(l.port, NOT_HERE);
    fl_ssh *s = NULL;
    fl_error err = {0};
    assert_int_equal(fl_ssh_connect(&o, &s, &err), FL_SSH_EUNAVAILABLE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "127.0.0.1 port"));
    assert_non_null(strstr(err.msg, NOT_HERE " is not on this machine"));
    assert_false(connection_pending(&l));
    close(l.fd);
    fl_ssh_exit();
}

/* ---- the cluster's status probe ------------------------------------------------------ */

static void test_probe_is_bound(void **state)
{
    (void)state;
    listener l;
    listen_on_loopback(&l, "SSH-2.0-fake\r\n");
    serve_one(&l);
    assert_true(cluster_probe("127.0.0.1", l.port, BOUND, 3000));
    finish(&l);
    assert_string_equal(l.peer, BOUND);

    listen_on_loopback(&l, "SSH-2.0-fake\r\n");
    assert_false(cluster_probe("127.0.0.1", l.port, NOT_HERE, 3000));
    assert_false(connection_pending(&l));
    close(l.fd);
}

/* ---- raftkv's client against a fake server -------------------------------------------- */

typedef struct fake {
    struct MHD_Daemon *d;
    int port;
    long status;
    const char *body;
    atomic_int requests;
    char peer[64];
} fake;

static enum MHD_Result fake_answer(void *cls, struct MHD_Connection *c,
                                   const char *url, const char *method,
                                   const char *version, const char *data,
                                   size_t *size, void **ctx)
{
    (void)url;
    (void)method;
    (void)version;
    (void)data;
    fake *f = cls;
    if (*ctx == NULL) {         /* headers only so far */
        *ctx = f;
        return MHD_YES;
    }
    if (*size) {                /* swallow a PUT's body */
        *size = 0;
        return MHD_YES;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET,
                  &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  f->peer, sizeof f->peer);
    atomic_fetch_add(&f->requests, 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(f->body), (void *)f->body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)f->status, r);
    MHD_destroy_response(r);
    return rc;
}

static void fake_start(fake *f, long status, const char *body)
{
    memset(f, 0, sizeof *f);
    f->status = status;
    f->body = body;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                            fake_answer, f, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_END);
    assert_non_null(f->d);
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    f->port = di->port;
}

/* One operation through the real client; returns its type and, in *error,
 * its error string (copied). */
static history_type invoke(fake *f, const char *bind, const char *op,
                           json_t **value, char *error, size_t n)
{
    void *client = NULL;
    fl_error err = {0};
    assert_int_equal(raftkv_client_open_at("127.0.0.1", f->port, bind,
                                           &client, &err), FL_OK);
    json_t *key = json_integer(1);
    json_t *v = strcmp(op, "cas") == 0 ? json_pack("[i,i]", 4, 5)
              : strcmp(op, "read") == 0 ? json_null() : json_integer(5);
    target_op o = {.f = op, .key = key, .value = v};
    target_result r;
    raftkv_target.client_invoke(client, &o, &r);
    raftkv_target.client_close(client);
    history_type t = r.type;
    const char *e = r.error ? json_string_value(json_object_get(r.error, "error"))
                            : NULL;
    snprintf(error, n, "%s", e ? e : "");
    *value = r.value ? json_incref(r.value) : NULL;
    target_result_clear(&r);
    json_decref(key);
    json_decref(v);
    return t;
}

static int curl_setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int curl_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

static void test_client_socket_is_bound(void **state)
{
    (void)state;
    fake f;
    fake_start(&f, 200, "{\"value\":7}");
    json_t *v = NULL;
    char e[128];
    assert_int_equal(invoke(&f, BOUND, "read", &v, e, sizeof e), HISTORY_OK);
    assert_int_equal(json_integer_value(v), 7);
    json_decref(v);
    assert_string_equal(f.peer, BOUND);
    /* The control: unbound, the server sees 127.0.0.1. */
    assert_int_equal(invoke(&f, NULL, "read", &v, e, sizeof e), HISTORY_OK);
    json_decref(v);
    assert_string_equal(f.peer, "127.0.0.1");
    MHD_stop_daemon(f.d);
}

static void test_client_bind_fails_before_connect(void **state)
{
    (void)state;
    fake f;
    fake_start(&f, 200, "{\"ok\":true}");
    json_t *v = NULL;
    char e[128];
    /* A write whose bind fails was never sent: fail, not info. */
    assert_int_equal(invoke(&f, NOT_HERE, "write", &v, e, sizeof e),
                     HISTORY_FAIL);
    assert_string_equal(e, RAFTKV_ERROR_UNBOUND);
    assert_int_equal(invoke(&f, NOT_HERE, "read", &v, e, sizeof e),
                     HISTORY_FAIL);
    assert_string_equal(e, RAFTKV_ERROR_UNBOUND);
    assert_null(v);
    assert_int_equal(atomic_load(&f.requests), 0);
    MHD_stop_daemon(f.d);
}

static const char nginx_404[] =
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n";

static void test_foreign_404_is_not_a_read(void **state)
{
    (void)state;
    fake f;
    json_t *v = NULL;
    char e[128];
    const char *foreign[] = {nginx_404, "{\"error\":\"Not Found\"}",
                             "{\"error\":\"not found\",\"path\":\"/kv/1\"}"};
    for (size_t i = 0; i < 3; i++) {
        fake_start(&f, 404, foreign[i]);
        assert_int_equal(invoke(&f, NULL, "read", &v, e, sizeof e),
                         HISTORY_FAIL);
        assert_null(v);
        assert_string_equal(e, "not raftkv's answer");
        assert_int_equal(invoke(&f, NULL, "write", &v, e, sizeof e),
                         HISTORY_INFO);
        assert_int_equal(invoke(&f, NULL, "cas", &v, e, sizeof e),
                         HISTORY_INFO);
        assert_true(atomic_load(&f.requests) >= 3);
        MHD_stop_daemon(f.d);
    }
    /* raftkv's own body: the key was never written, a read of null. */
    fake_start(&f, 404, "{\"error\":\"not found\"}");
    assert_int_equal(invoke(&f, NULL, "read", &v, e, sizeof e), HISTORY_OK);
    assert_true(json_is_null(v));
    json_decref(v);
    MHD_stop_daemon(f.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_sets_the_source),
        cmocka_unit_test(test_bind_to_an_address_not_here_fails),
        cmocka_unit_test(test_bind_without_the_bridge),
        cmocka_unit_test(test_bind_bad_arguments),
        cmocka_unit_test(test_ssh_socket_is_bound),
        cmocka_unit_test(test_ssh_bind_fails_before_connect),
        cmocka_unit_test(test_probe_is_bound),
        cmocka_unit_test(test_client_socket_is_bound),
        cmocka_unit_test(test_client_bind_fails_before_connect),
        cmocka_unit_test(test_foreign_404_is_not_a_read),
    };
    return cmocka_run_group_tests(tests, curl_setup, curl_teardown);
}
