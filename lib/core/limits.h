/* Every bound wmihunt enforces on hostile input, in one place, each with
 * the reason for its value. Reaching one is reported (WH_E_LIMIT, naming
 * file and offset) and the rest of the evidence is still read.
 *
 * Each is tested at its value and just past it by tests/unit/test_limits.c.
 * That test links a second copy of the library built with
 * tests/unit/limits_small.h forced in first, which sets smaller values (the
 * same code, bounds cheap to reach); hence the #ifndef around each. */
#ifndef WH_LIMITS_H
#define WH_LIMITS_H

/* ---- fixed by the formats, not bounds: never overridden ---- */
#define WH_LIMIT_CIM_PAGE        8192u        /* CIM page size */

/* ---- memory and strings (every parser) ---- */
#ifndef WH_LIMIT_ARENA_DEFAULT
#define WH_LIMIT_ARENA_DEFAULT   (4ull << 30) /* bytes one parse may allocate; --max-memory lowers it */
#endif
#ifndef WH_LIMIT_STRING
#define WH_LIMIT_STRING          (16u << 20)  /* bytes of one decoded string (MOF, CIM) */
#endif
#ifndef WH_LIMIT_FILE_SECONDS
#define WH_LIMIT_FILE_SECONDS    600.0        /* default per-file time budget of hunt (--time-budget) */
#endif

/* ---- CIM repository (lib/cim) ---- */
#ifndef WH_LIMIT_CIM_MAX_PAGES
#define WH_LIMIT_CIM_MAX_PAGES   (1u << 22)   /* pages a mapping may declare: 32 GiB, 10x the largest repository seen */
#endif
#ifndef WH_LIMIT_CIM_OBJECT
#define WH_LIMIT_CIM_OBJECT      (64u << 20)  /* bytes of one object assembled over pages */
#endif
#ifndef WH_LIMIT_CIM_KEYS_PAGE
#define WH_LIMIT_CIM_KEYS_PAGE   1024u        /* keys in one index page (an 8 KiB page holds fewer) */
#endif
#ifndef WH_LIMIT_CIM_TREE_DEPTH
#define WH_LIMIT_CIM_TREE_DEPTH  32u          /* B-tree levels below the root (real trees: 2-4) */
#endif
#ifndef WH_LIMIT_CIM_DERIVATION
#define WH_LIMIT_CIM_DERIVATION  64u          /* ancestors of a class (Windows: under 10) */
#endif
#ifndef WH_LIMIT_CIM_PROPS
#define WH_LIMIT_CIM_PROPS       4096u        /* properties of a class layout */
#endif
#ifndef WH_LIMIT_CIM_QUALS
#define WH_LIMIT_CIM_QUALS       1024u        /* qualifiers in one list */
#endif
#ifndef WH_LIMIT_CIM_ARRAY
#define WH_LIMIT_CIM_ARRAY       (1u << 20)   /* elements of one array value */
#endif
#ifndef WH_LIMIT_CIM_NAMESPACES
#define WH_LIMIT_CIM_NAMESPACES  100000u      /* namespaces listed (Windows: about 100) */
#endif

/* ---- registry hive (lib/regf) ---- */
#ifndef WH_LIMIT_REGF_HIVE
#define WH_LIMIT_REGF_HIVE       (2ull << 30) /* bytes of a hive (Windows caps hives near 2 GiB) */
#endif
#ifndef WH_LIMIT_REGF_DEPTH
#define WH_LIMIT_REGF_DEPTH      512u         /* key nesting (Windows allows 512 levels) */
#endif
#ifndef WH_LIMIT_REGF_INDEX
#define WH_LIMIT_REGF_INDEX      2u           /* ri levels above a leaf list (Windows uses 1) */
#endif
#ifndef WH_LIMIT_REGF_LIST_WORK
#define WH_LIMIT_REGF_LIST_WORK  (1u << 26)   /* subkey-list entries read in one walk: ends loops */
#endif
#ifndef WH_LIMIT_REGF_VALUE
#define WH_LIMIT_REGF_VALUE      (64u << 20)  /* bytes of one value we assemble (big data) */
#endif
#ifndef WH_LIMIT_REGF_LOG_ENTRIES
#define WH_LIMIT_REGF_LOG_ENTRIES 65536u      /* HvLE entries taken from one log */
#endif

/* ---- event logs (lib/evtx) ---- */
#ifndef WH_LIMIT_EVTX_DEPTH
#define WH_LIMIT_EVTX_DEPTH      64u          /* element / BinXml nesting in one record */
#endif
#ifndef WH_LIMIT_EVTX_VALUES
#define WH_LIMIT_EVTX_VALUES     4096u        /* substitution values of one template instance */
#endif
#ifndef WH_LIMIT_EVTX_NODES
#define WH_LIMIT_EVTX_NODES      200000u      /* XML nodes of one record: a 64 KiB chunk cannot need more */
#endif
#ifndef WH_LIMIT_EVTX_ARENA
#define WH_LIMIT_EVTX_ARENA      (256u << 20) /* bytes parsing one chunk may allocate */
#endif

/* ---- MOF text (lib/mof): a MOF is source code, so anything past these is hostile ---- */
#ifndef WH_LIMIT_MOF_FILE
#define WH_LIMIT_MOF_FILE        (64u << 20)  /* bytes of one .mof file read (Windows' largest: ~2 MiB) */
#endif
#ifndef WH_LIMIT_MOF_DEPTH
#define WH_LIMIT_MOF_DEPTH       32u          /* nesting of arrays / embedded instances */
#endif
#ifndef WH_LIMIT_MOF_OBJECTS
#define WH_LIMIT_MOF_OBJECTS     (1u << 20)   /* class + instance declarations per file */
#endif
#ifndef WH_LIMIT_MOF_PROPS
#define WH_LIMIT_MOF_PROPS       4096u        /* properties, qualifiers or features of one declaration */
#endif
#ifndef WH_LIMIT_MOF_ARRAY
#define WH_LIMIT_MOF_ARRAY       (1u << 20)   /* elements of one array value */
#endif
#ifndef WH_LIMIT_MOF_PATH
#define WH_LIMIT_MOF_PATH        (64u << 10)  /* bytes of an object path built from aliases (real ones: < 1 KiB) */
#endif
#ifndef WH_LIMIT_MOF_NOTES
#define WH_LIMIT_MOF_NOTES       1000u        /* skipped/repaired entries kept per file */
#endif
#ifndef WH_LIMIT_MOF_WALK_DEPTH
#define WH_LIMIT_MOF_WALK_DEPTH  64u          /* directory levels walked by `wmihunt mof DIR` */
#endif

/* ---- rule files and matching (lib/detect) ---- */
#ifndef WH_LIMIT_RULES_FILE
#define WH_LIMIT_RULES_FILE      (16u << 20)  /* bytes of one rule file (the built-in set: ~60 KiB) */
#endif
#ifndef WH_LIMIT_RULES_COND_DEPTH
#define WH_LIMIT_RULES_COND_DEPTH 32u         /* nesting of all/any/not in a condition */
#endif
#ifndef WH_LIMIT_RULES_FIELD_DEPTH
#define WH_LIMIT_RULES_FIELD_DEPTH 64u        /* nesting of record values a field path walks */
#endif
#ifndef WH_LIMIT_RULES_RE_MATCH
#define WH_LIMIT_RULES_RE_MATCH  1000000u     /* PCRE2 match limit: ends catastrophic backtracking */
#endif

/* ---- finding artifacts in a tree (lib/triage) ---- */
#ifndef WH_LIMIT_TRIAGE_DEF_DEPTH
#define WH_LIMIT_TRIAGE_DEF_DEPTH  40u        /* default --max-depth: Windows paths rarely pass 30 levels */
#endif
#ifndef WH_LIMIT_TRIAGE_MAX_DEPTH
#define WH_LIMIT_TRIAGE_MAX_DEPTH  256u       /* highest --max-depth: one open directory per level */
#endif
#ifndef WH_LIMIT_TRIAGE_DEF_FILES
#define WH_LIMIT_TRIAGE_DEF_FILES  2000000ul  /* entries looked at: a full Windows 11 volume is ~1.5 M */
#endif
#ifndef WH_LIMIT_TRIAGE_DEF_SECONDS
#define WH_LIMIT_TRIAGE_DEF_SECONDS 600u      /* default time for one walk */
#endif
#ifndef WH_LIMIT_TRIAGE_DEF_MOF_MAX
#define WH_LIMIT_TRIAGE_DEF_MOF_MAX (16ull << 20) /* largest MOF listed (Windows' largest: ~2 MiB) */
#endif
#ifndef WH_LIMIT_TRIAGE_PREFIX_DEPTH
#define WH_LIMIT_TRIAGE_PREFIX_DEPTH 5u       /* levels above a volume, e.g. case/Collection/uploads/ntfs/%5C%5C.%5CC%3A */
#endif
#ifndef WH_LIMIT_TRIAGE_NAME_MAX
#define WH_LIMIT_TRIAGE_NAME_MAX   1024u      /* bytes of one decoded name (NTFS: 255 UTF-16 units) */
#endif
#ifndef WH_LIMIT_TRIAGE_PATH_MAX
#define WH_LIMIT_TRIAGE_PATH_MAX   16384u     /* bytes of one path */
#endif

/* ---- WQL event queries (lib/wql): a filter query is one short line ---- */
#ifndef WH_LIMIT_WQL_QUERY
#define WH_LIMIT_WQL_QUERY       (64u << 10)  /* bytes of one query (real filters: under 1 KiB) */
#endif
#ifndef WH_LIMIT_WQL_TOKENS
#define WH_LIMIT_WQL_TOKENS      4096u        /* tokens of one query (the classic uptime filter has 18) */
#endif
#ifndef WH_LIMIT_WQL_DEPTH
#define WH_LIMIT_WQL_DEPTH       32u          /* nesting of parentheses and NOT: bounds the recursion */
#endif
#ifndef WH_LIMIT_WQL_ARENA
#define WH_LIMIT_WQL_ARENA       (8u << 20)   /* bytes one parse may allocate (the bounds above need < 2 MiB) */
#endif

/* ---- archives opened as evidence (lib/source): members are extracted to a
 * private temporary folder, so these bound the disk and time an archive
 * can cost. Each can be lowered (or raised) for one run with
 * WMIHUNT_ARCHIVE_LIMITS, e.g. "members=100,total=1G" (docs/security.md). ---- */
#ifndef WH_LIMIT_ARCHIVE_MEMBERS
#define WH_LIMIT_ARCHIVE_MEMBERS   1000000ull     /* members looked at (a full KAPE target set: ~100,000) */
#endif
#ifndef WH_LIMIT_ARCHIVE_TOTAL
#define WH_LIMIT_ARCHIVE_TOTAL     (64ull << 30)  /* bytes extracted in all (a large collection: 10-30 GiB) */
#endif
#ifndef WH_LIMIT_ARCHIVE_MEMBER
#define WH_LIMIT_ARCHIVE_MEMBER    (16ull << 30)  /* bytes of one member (the largest repository or log seen: ~4 GiB) */
#endif
#ifndef WH_LIMIT_ARCHIVE_RATIO
#define WH_LIMIT_ARCHIVE_RATIO     1000ull        /* expanded / compressed, past RATIO_MIN (deflate's best is ~1030) */
#endif
#ifndef WH_LIMIT_ARCHIVE_RATIO_MIN
#define WH_LIMIT_ARCHIVE_RATIO_MIN (64ull << 20)  /* bytes a member may expand to before its ratio counts */
#endif
#ifndef WH_LIMIT_ARCHIVE_DEPTH
#define WH_LIMIT_ARCHIVE_DEPTH     64u            /* folder levels of a member name (Windows paths: under 30) */
#endif
#ifndef WH_LIMIT_ARCHIVE_PATH
#define WH_LIMIT_ARCHIVE_PATH      2048u          /* bytes of a member name (PATH_MAX is 4096 with the folder) */
#endif

#endif
