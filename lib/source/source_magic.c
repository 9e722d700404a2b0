/* What a disk image looks like at its start (and a fixed VHD at its end):
 * no library needed, so the main program knows an image from a folder or
 * an archive before it hands the image to the reader (wmihunt-image). */
#include <string.h>

#include "source/source_int.h"

static bool mbr_like(const unsigned char *b)
{
    if (b[510] != 0x55 || b[511] != 0xAA) return false;
    // A partition table: each entry's status is 0 or 0x80, and one has a type.
    bool any = false;
    for (int i = 0; i < 4; i++) {
        const unsigned char *e = b + 446 + 16 * i;
        if (e[0] != 0 && e[0] != 0x80) return false;
        any |= e[4] != 0;
    }
    return any;
}

bool ws_image_magic(const unsigned char *b, size_t n, const unsigned char *tail)
{
    if (n < 512) return false;
    if (!memcmp(b, "EVF\x09\x0d\x0a\xff\x00", 8) || !memcmp(b, "EVF2\x0d\x0a\x81\x00", 8)) return true; // E01, Ex01
    if (!memcmp(b, "vhdxfile", 8) || !memcmp(b, "conectix", 8)) return true;                        // VHDX, dynamic VHD
    if (tail && !memcmp(tail, "conectix", 8)) return true;                                              // fixed VHD
    if (!memcmp(b, "KDMV", 4) || !memcmp(b, "COWD", 4)) return true;                                    // VMDK sparse
    if (!memcmp(b, "# Disk DescriptorFile", 21)) return true;                                           // VMDK descriptor
    if (!memcmp(b, "QFI\xfb", 4)) return true;                                                          // QCOW
    if (!memcmp(b + 3, "NTFS    ", 8) || !memcmp(b + 3, "-FVE-FS-", 8)) return true;                    // a volume alone
    if (n >= 520 && !memcmp(b + 512, "EFI PART", 8)) return true;                                       // GPT
    return mbr_like(b);
}

