#pragma once
/* The contract between mtool and its report module (mtool-report.so, lib/analysis/module/),
 * which `mtool report` loads with dlopen(): the report reads with simdjson, Debian's shared
 * library on the shared libstdc++, and no other command should map either (module_loader.h).
 *
 * mtool parses the command line (Boost.Program_options, linked into the executable) and hands
 * the module the request below; the module checks what only it can (--by, --plot's file and
 * gnuplot), reads, writes the report and returns the exit code. Nothing but C strings and
 * numbers crosses; the module writes through the C library's stdout and stderr, which both
 * sides share, and no exception leaves it.
 *
 * Versioned as exporter_abi.h: a change of any struct or function here raises
 * MTOOL_REPORT_ABI_VERSION, and the entry point's name carries the version. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTOOL_REPORT_ABI_VERSION 1u
/* The module's one exported symbol: returns its table of functions. */
#define MTOOL_REPORT_ENTRY "mtool_report_v1"
/* The module's file name, in lib/mtool/ (module_loader.h). */
#define MTOOL_REPORT_FILE "mtool-report.so"

enum mtool_report_format {
  MTOOL_REPORT_TEXT = 0,
  MTOOL_REPORT_JSON = 1,
  MTOOL_REPORT_CSV = 2,
};

enum mtool_report_tables {
  MTOOL_REPORT_ALL = 0,
  MTOOL_REPORT_SUMMARY = 1,
  MTOOL_REPORT_PATHS = 2,
};

/* `mtool report`'s options, as given. */
struct mtool_report_request {
  const char* const* inputs; /* files, directories, "-" for standard input */
  size_t input_count;
  const char* by;       /* --by: target, vantage, msm, hour, comma-separated */
  int tables;           /* --only: enum mtool_report_tables */
  int format;           /* enum mtool_report_format */
  int strict;           /* --strict: a line that is not a result is fatal */
  const char* plot;     /* --plot FILE (.svg or .png), or NULL */
  size_t plot_targets;  /* --plot-targets, at least 1 */
  size_t plot_vantages; /* --plot-vantages, at least 1 */
};

struct mtool_report_api {
  uint32_t abi_version; /* MTOOL_REPORT_ABI_VERSION of the module */
  uint32_t api_size;    /* sizeof(struct mtool_report_api) of the module */
  /* Writes the report on standard output, each skipped line and any error on standard error
   * ("mtool report: ...", one line each), and returns the exit code: 0, 1 (no result, or
   * --strict and a line that is not one; the report could not be written) or 2 (a bad --by or
   * --plot, an input that cannot be read, a plot not drawn). */
  int (*run)(const struct mtool_report_request* request);
};

typedef const struct mtool_report_api* (*mtool_report_entry)(void);

#ifdef __cplusplus
}
#endif
