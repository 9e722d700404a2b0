/* wmihunt-image: the disk-image reader, run by wmihunt in a child process
 * (lib/source/source_isolate.c) and by nothing else. It alone links The
 * Sleuth Kit and the libyal libraries, so other runs of wmihunt do not load
 * them. Its arguments are the frame pipe, the private folder to copy into,
 * the image and the bounds; what it says goes over the pipe as frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/source_int.h"
#include "wmihunt/triage.h"

int main(int argc, char **argv)
{
    if (argc != 12 || strcmp(argv[1], "--child") != 0) {
        fputs("wmihunt-image: the disk-image reader of wmihunt, started by it; give the image to "
              "'wmihunt hunt' or 'wmihunt triage'\n",
              stderr);
        return 64;
    }
    ws_image_register();
    ws_child_fd = atoi(argv[2]);
    wh_source s;
    memset(&s, 0, sizeof(s));
    s.given = argv[4];
    s.dir = argv[3];
    s.dirlen = strlen(argv[3]);
    s.extracted = true;
    s.disk = true;
    wh_source_opts o = {.size = sizeof(o),
                        .max_members = strtoull(argv[5], NULL, 10),
                        .max_total = strtoull(argv[6], NULL, 10),
                        .max_member = strtoull(argv[7], NULL, 10),
                        .max_depth = (unsigned)strtoul(argv[8], NULL, 10),
                        .max_path = (unsigned)strtoul(argv[9], NULL, 10),
                        .vss = atoi(argv[10]) != 0,
                        .want = strcmp(argv[11], "triage") ? NULL : wh_triage_wanted};
    ws_child_run(&s, &o, argv[4], NULL, 0);
    _exit(0); // as the forked reader does: all is said in frames, the process is thrown away
}
