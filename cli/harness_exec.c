/*
 * The checking binary's `test`, `cluster` and `serve`: the controller's
 * commands and the HTTP server live in faultline-harness, next to this
 * binary, which links libssh2, libcurl and libmicrohttpd. Keeping them out of `faultline` spares every `check`, `history`
 * and `analyze` the start-up of those libraries (35 of them, 6 ms a
 * process). The arguments pass through unchanged, so `faultline test ...`
 * is `faultline-harness test ...`.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"

#define HARNESS_BINARY "faultline-harness"

/* The harness binary's path: this executable's directory, then its name.
 * FL_OK or FL_EUSAGE with the reason on stderr. */
static int harness_path(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        fprintf(stderr, "faultline: cannot find my own executable: %s\n",
                strerror(errno));
        return FL_EUSAGE;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *(slash ? slash + 1 : self) = '\0';
    if ((size_t)snprintf(out, cap, "%s%s", self, HARNESS_BINARY) >= cap) {
        fprintf(stderr, "faultline: path too long: %s%s\n", self,
                HARNESS_BINARY);
        return FL_EUSAGE;
    }
    return FL_OK;
}

int cli_exec_harness(int argc, char **argv)
{
    char path[PATH_MAX];
    if (harness_path(path, sizeof path) != FL_OK)
        return CLI_EXIT_CANNOT_RUN;
    char **args = fl_calloc((size_t)argc + 2, sizeof *args);
    if (args == NULL) {
        fprintf(stderr, "faultline: out of memory\n");
        return FL_ENOMEM;
    }
    args[0] = path;
    memcpy(args + 1, argv, (size_t)argc * sizeof *args);
    fflush(NULL);
    execv(path, args);
    fprintf(stderr, "faultline %s: cannot run %s (built by `make`, next to "
                    "faultline): %s\n", argv[0], path, strerror(errno));
    fl_free(args);
    return CLI_EXIT_CANNOT_RUN;
}
