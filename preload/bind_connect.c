/*
 * faultline-bind.so: loaded (LD_PRELOAD) into a target file's client
 * processes, so that every connection they make stays on the test network
 * as the harness's own do (harness/netbind.h): before an IPv4 connect()
 * the socket is bound to FAULTLINE_BIND_ADDRESS, an address that only the
 * test network's interface has, so the connection can only leave through
 * it; when that address is not on this machine (the bridge is gone) the
 * connect fails with EADDRNOTAVAIL and not one packet is sent. IPv6
 * connects are refused (EAFNOSUPPORT): the test network is IPv4. Unix
 * sockets pass. Without FAULTLINE_BIND_ADDRESS (remote nodes, reached by
 * the machine's own routing) nothing changes.
 *
 * It links nothing of faultline: it is a separate object, built as
 * build/faultline-bind.so. It covers programs that call the C library's
 * connect() (Python, Ruby, Node, most others); a statically linked
 * program (Go) does not call it and is not covered.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *addr, socklen_t len);

/* Whether a is one of this machine's addresses now (127/8 counts). */
static bool local_address(struct in_addr a)
{
    if ((ntohl(a.s_addr) >> 24) == 127)
        return true;
    struct ifaddrs *ifs = NULL, *i;
    bool found = false;
    if (getifaddrs(&ifs) != 0)
        return false;
    for (i = ifs; i && !found; i = i->ifa_next)
        found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
                    a.s_addr;
    freeifaddrs(ifs);
    return found;
}

/* 0, or -1 with errno set: the bind the connection needs first. */
static int bind_first(int fd, const char *source)
{
    struct sockaddr_in me = {.sin_family = AF_INET};
    struct sockaddr_in now;
    socklen_t n = sizeof now;
    if (inet_pton(AF_INET, source, &me.sin_addr) != 1 ||
        !local_address(me.sin_addr)) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    /* Bound already (by the program, to our address): leave it. */
    if (getsockname(fd, (struct sockaddr *)&now, &n) == 0 &&
        now.sin_family == AF_INET && now.sin_port != 0)
        return now.sin_addr.s_addr == me.sin_addr.s_addr ? 0
                                                         : (errno = EADDRNOTAVAIL, -1);
    return bind(fd, (struct sockaddr *)&me, sizeof me);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "connect");
    const char *source = getenv("FAULTLINE_BIND_ADDRESS");
    if (source && *source && addr) {
        if (addr->sa_family == AF_INET6) {
            errno = EAFNOSUPPORT;
            return -1;
        }
        if (addr->sa_family == AF_INET && bind_first(fd, source) != 0)
            return -1;
    }
    return real(fd, addr, len);
}
