/* The Windows build reads folders and files only (source.c): no disk-image
 * reader, no child process. */
#include "source/source_int.h"

wh_status (*ws_image_builtin)(wh_source *, const wh_source_opts *, const char *, const void *, size_t);

bool wh_source_images_supported(void) { return false; }

wh_status ws_image_isolated(wh_source *s, const wh_source_opts *o, const char *path, const void *mem, size_t size)
{
    (void)s, (void)o, (void)path, (void)mem, (void)size;
    return WH_E_ARG;
}
