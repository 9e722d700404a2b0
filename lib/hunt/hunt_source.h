/* lib/hunt and archives (lib/source, include/wmihunt/source.h): a host
 * read from an archive reads its private folder, and everything the
 * report, the records and the diagnostics name is shown as ARCHIVE!member. */
#ifndef WH_HUNT_SOURCE_H
#define WH_HUNT_SOURCE_H

#include "wmihunt/hunt.h"
#include "wmihunt/source.h"

/* wh_hunt_hosts for an archive: extracted (kept open until
 * wh_hunt_hosts_release or exit), its hosts given to fn. */
size_t hx_hosts_archive(const char *path, void (*fn)(void *ud, const char *host_path), void *ud);
/* The path to read for the host given as path: an archive is extracted
 * (*own set: close it when the host is done); a path in an archive already
 * open gets that archive's diagnostics replayed to the host (once). NULL
 * when path is an archive that cannot be opened (said on the host's sink). */
const char *hx_begin(wh_hunt_host *hh, const char *path, wh_source **own);
/* Keeps in hh the volumes of the disk image rpath was copied from (none
 * for anything else), for the reports. */
void hx_volumes(wh_hunt_host *hh, const char *rpath);
/* The archive a path read lies in (as given), or NULL. */
const char *hx_archive_of(const char *path);

#endif
