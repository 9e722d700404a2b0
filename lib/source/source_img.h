/* lib/source internals shared by the disk-image files (built with The
 * Sleuth Kit and the libyal libraries only). */
#ifndef WH_SOURCE_IMG_H
#define WH_SOURCE_IMG_H

#include <libbfio.h>
#define LIBVSHADOW_HAVE_BFIO
#include <libewf.h>
#include <libqcow.h>
#include <libvshadow.h>
#include <tsk/libtsk.h>

#include "source/source_int.h"

/* TSK's last error as one line (and reset). */
const char *ws_tsk_error(void);
/* Copies the wanted files of the NTFS volume at byte off of img into the
 * folder v->folder of the private one; counts into v (source_ntfs.c). */
void ws_ntfs_copy(wh_source *s, const wh_source_opts *o, TSK_IMG_INFO *img, uint64_t off, wh_source_volume *v);

#endif
