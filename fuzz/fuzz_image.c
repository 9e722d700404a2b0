/* libFuzzer target: the disk-image entry point of lib/source
 * (wh_source_open_memory on bytes that look like an image: The Sleuth
 * Kit's partition tables and NTFS over an image in memory, our own table
 * reader when TSK refuses one, the walk with its loop and depth bounds,
 * files copied to a private folder). Small bounds keep each run cheap.
 * After each input: nothing in the private folder is a link or a device,
 * and closing removes the folder. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_int.h"
#include "wmihunt/source.h"

static int check(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)path, (void)f;
    if (type == FTW_SL || type == FTW_SLN || (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))) abort();
    return 0;
}

/* The Sleuth Kit asks calloc for what a forged MFT attribute claims (48 TB
 * was seen): in a normal build calloc returns NULL and TSK gives up on that
 * file, which is what this run must see too, not ASan's abort. Allocations
 * that succeed stay bounded by libFuzzer's -malloc_limit_mb. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef WH_HAVE_TSK
    ws_image_register(); // the readers in this process, for coverage
#endif
    wh_diag_sink sink = {0};
    // Every file wanted (no filter): the walk and the copying see the most.
    wh_source_opts o = {.size = sizeof(o), .max_members = 4096, .max_total = 16u << 20, .max_member = 4u << 20,
                        .max_depth = 32, .max_path = 1024, .vss = true, .in_process = true};
    wh_source *s = NULL;
    if (wh_source_open_memory(data, size, "fuzz.img", &o, &sink, &s) != WH_OK) return 0;
    const char *dir = wh_source_dir(s);
    if (nftw(dir, check, 16, FTW_PHYS) != 0) abort();
    char *copy = realpath(dir, NULL);
    wh_source_close(s);
    if (copy && access(copy, F_OK) == 0) abort();
    free(copy);
    return 0;
}
