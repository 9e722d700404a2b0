/* libFuzzer target: the archive entry point of lib/source
 * (wh_source_open_memory: libarchive reading from memory, every member
 * name checked, files written to a private folder). Small bounds keep each
 * run cheap. After each input: nothing in the private folder is a link or
 * a device, and closing removes the folder. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wmihunt/source.h"

static int check(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)path, (void)f;
    // Only folders and regular files: a link or device would be an escape.
    if (type == FTW_SL || type == FTW_SLN || (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wh_diag_sink sink = {0};
    wh_source_opts o = {.size = sizeof(o), .max_members = 256, .max_total = 16u << 20, .max_member = 8u << 20,
                        .max_ratio = 200, .ratio_min = 1u << 20, .max_depth = 32, .max_path = 1024};
    wh_source *s = NULL;
    if (wh_source_open_memory(data, size, "fuzz.zip", &o, &sink, &s) != WH_OK) return 0;
    const char *dir = wh_source_dir(s);
    if (nftw(dir, check, 16, FTW_PHYS) != 0) abort();
    char *copy = realpath(dir, NULL);
    char shown[256];
    (void)wh_source_shown(dir, shown, sizeof(shown));
    wh_source_close(s);
    if (copy && access(copy, F_OK) == 0) abort(); // the private folder must be gone
    free(copy);
    return 0;
}
