/* Fuzz input for a whole repository: five little-endian u32 lengths, then
 * the bytes of MAPPING1.MAP, MAPPING2.MAP, MAPPING3.MAP, INDEX.BTR and
 * OBJECTS.DATA in that order (lengths are clamped to what is there). */
#ifndef WH_FUZZ_CIM_H
#define WH_FUZZ_CIM_H
#define WH_FUZZ_CIM_FILES 5
static const char *const wh_fuzz_cim_names[WH_FUZZ_CIM_FILES] = {"MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP",
                                                                  "INDEX.BTR", "OBJECTS.DATA"};
#endif
