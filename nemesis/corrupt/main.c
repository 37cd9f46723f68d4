/*
 * faultline-corrupt: the file-corruption faults' program on a node (the
 * database there stopped). It picks one of the database's data files,
 * keeps a copy of it, corrupts it (nemesis/corrupt/corrupt.h) and prints
 * what it did as one JSON line, which the fault notes in the history.
 *
 * Usage: faultline-corrupt bitflip|truncate SEED N SAVE_DIR DATA_DIR GLOB...
 *
 * GLOBs are relative to DATA_DIR; the file is drawn (from SEED) among the
 * non-empty regular files they match, in glob's order. Its copy goes to
 * SAVE_DIR/FILE (made), from which the fault puts it back if the
 * database refuses to start. Output: {"file", "size", "data_end", and
 * "flips": [[OFFSET, BIT], ...] or "cut" and "new_size"}, or
 * {"file": null} when no file matches (nothing was done). Exit 0; 1 with
 * the reason on stderr; 64 on a bad command line.
 */
#include "nemesis/corrupt/corrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: faultline-corrupt bitflip|truncate SEED N "
            "SAVE_DIR DATA_DIR GLOB...\n");
    return 64;
}

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "faultline-corrupt: %s %s: %s\n", what, path,
            strerror(errno));
    return 1;
}

/* mkdir -p of path's directories (not its last component). */
static int make_parents(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* Copy the open file in to the new file `to`. */
static int copy_to(int in, const char *to)
{
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0)
        return -1;
    char buf[65536];
    off_t off = 0;
    ssize_t got;
    while ((got = pread(in, buf, sizeof buf, off)) > 0) {
        if (write(out, buf, (size_t)got) != got) {
            close(out);
            return -1;
        }
        off += got;
    }
    return close(out) != 0 || got < 0 ? -1 : 0;
}

/* A file name as a JSON string (names are the database's own: escape
 * what JSON needs). */
static void print_name(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc < 7)
        return usage();
    const char *mode = argv[1];
    bool flip = strcmp(mode, "bitflip") == 0;
    if (!flip && strcmp(mode, "truncate") != 0)
        return usage();
    char *end;
    uint64_t seed = strtoull(argv[2], &end, 10);
    uint64_t n = *end ? 0 : strtoull(argv[3], &end, 10);
    if (*end || n == 0)
        return usage();
    /* SAVE_DIR as given, from where we were: the globs are DATA_DIR's. */
    char here[4096], save[8192];
    if (argv[4][0] == '/')
        snprintf(save, sizeof save, "%s", argv[4]);
    else if (getcwd(here, sizeof here))
        snprintf(save, sizeof save, "%s/%s", here, argv[4]);
    else
        return fail("finding", ".");
    if (chdir(argv[5]) != 0)
        return fail("entering", argv[5]);

    glob_t g = {0};
    for (int i = 6; i < argc; i++)
        glob(argv[i], i > 6 ? GLOB_APPEND : 0, NULL, &g);
    size_t nfiles = 0;
    const char **files = calloc(g.gl_pathc + 1, sizeof *files);
    for (size_t i = 0; files && i < g.gl_pathc; i++) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_size > 0)
            files[nfiles++] = g.gl_pathv[i];
    }
    if (nfiles == 0) {
        int none = files ? 0 : 1;
        if (none)
            fprintf(stderr, "faultline-corrupt: out of memory\n");
        else
            puts("{\"file\":null}");
        free(files);
        globfree(&g);
        return none;
    }
    fl_rng rng;
    fl_rng_seed(&rng, seed);
    const char *name = files[fl_rng_below(&rng, nfiles)];
    int rc = 0;
    int fd = open(name, O_RDWR);
    if (fd < 0) {
        rc = fail("opening", name);
        goto out;
    }
    struct stat st;
    fl_error err = {0};
    uint64_t data_end = 0;
    char *copy = NULL;
    if (fstat(fd, &st) != 0 || corrupt_data_end(fd, &data_end, &err) != 0) {
        fprintf(stderr, "faultline-corrupt: %s: %s\n", name,
                err.msg[0] ? err.msg : strerror(errno));
        rc = 1;
    } else if (asprintf(&copy, "%s/%s", save, name) < 0) {
        copy = NULL;
        rc = fail("naming the copy of", name);
    } else if (make_parents(copy) != 0 || copy_to(fd, copy) != 0) {
        rc = fail("keeping a copy at", copy);
    }
    if (rc == 0) {
        printf("{\"file\":");
        print_name(name);
        printf(",\"size\":%" PRIu64 ",\"data_end\":%" PRIu64,
               (uint64_t)st.st_size, data_end);
        if (flip) {
            corrupt_flip *f = calloc(n < CORRUPT_MAX_FLIPS ? n
                                     : CORRUPT_MAX_FLIPS, sizeof *f);
            size_t k = f ? corrupt_plan_flips(&rng, data_end, n, f) : 0;
            if (!f || corrupt_flip_bits(fd, f, k, &err) != 0)
                rc = 1;
            printf(",\"flips\":[");
            for (size_t i = 0; i < k; i++)
                printf("%s[%" PRIu64 ",%u]", i ? "," : "", f[i].offset,
                       f[i].bit);
            printf("]}\n");
            free(f);
        } else {
            uint64_t size = 0;
            rc = corrupt_cut(fd, data_end, n, &size, &err) != 0;
            printf(",\"cut\":%" PRIu64 ",\"new_size\":%" PRIu64 "}\n",
                   data_end - size, size);
        }
        if (rc)
            fprintf(stderr, "faultline-corrupt: %s: %s\n", name,
                    err.msg[0] ? err.msg : "out of memory");
    }
    /* Durable, like the writes it replaces: under power-loss's powerfs
     * an unsynced corruption would be undone by the next power cut. */
    if (rc == 0 && fsync(fd) != 0)
        rc = fail("syncing", name);
    free(copy);
    close(fd);
out:
    free(files);
    globfree(&g);
    return rc;
}
