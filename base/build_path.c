/*
 * build_path: a sibling build of this program. See build_path.h.
 */
#include "base/build_path.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fl_build_path(const char *name, char *out, size_t size)
{
    char self[PATH_MAX / 2];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, size, "%s/%s", self, name);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, size, "%s/../%s", self, name);
    return access(out, X_OK) == 0 ? 0 : -1;
}
