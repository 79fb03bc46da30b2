#pragma once
/* The contract between mtool and its Prometheus exporter module (mtool-prometheus-exporter.so,
 * lib/metrics/exporter/), which mtool loads with dlopen() only when --metrics is given.
 *
 * Why a C interface: Debian's prometheus-cpp (and civetweb under it) are shared libraries built
 * against the shared libstdc++, while mtool links its own libstdc++ statically. Two C++
 * runtimes in one process must never hand each other a C++ object (a std::string, a vector, an
 * exception): their layouts and allocators need not agree. So nothing but plain structs, C
 * strings, numbers and function pointers crosses, no exception leaves either side, and each
 * side frees only what it allocated.
 *
 * How a scrape flows: mtool hands the module a source (its collect function); on each scrape
 * the module's HTTP thread calls collect, which describes every family and sample through the
 * module's sink functions; the module builds prometheus-cpp's families from them and lets the
 * library write the exposition (text format, escaping, gzip, HTTP).
 *
 * Versioned: a change of any struct or function here raises MTOOL_EXPORTER_ABI_VERSION, and
 * the entry point's name carries the version, so a module of another version is refused by
 * name, never called with the wrong layout. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTOOL_EXPORTER_ABI_VERSION 1u
/* The module's one exported symbol: returns its table of functions. */
#define MTOOL_EXPORTER_ENTRY "mtool_prometheus_exporter_v1"
/* The module's file name, found next to the executable (metrics/exporter_module.cpp). */
#define MTOOL_EXPORTER_FILE "mtool-prometheus-exporter.so"

enum mtool_metric_type {
  MTOOL_METRIC_COUNTER = 0,
  MTOOL_METRIC_GAUGE = 1,
  MTOOL_METRIC_HISTOGRAM = 2,
};

struct mtool_metric_label {
  const char* name;
  const char* value;
};

/* One bucket of a histogram: its upper bound (le; +infinity for the last) and the count of
 * observations at or below it. */
struct mtool_metric_bucket {
  double upper_bound;
  uint64_t cumulative_count;
};

/* What a source writes one scrape into: the module's side. Every string and array is copied
 * before the call returns. A sample belongs to the family last started; a family's samples are
 * all of its type (counter and gauge: sample; histogram: histogram). A family of any other type
 * (the source's way to say it failed), or a sample that does not fit, fails the whole collect:
 * that scrape serves nothing rather than part of the figures. */
struct mtool_metric_sink {
  void* self;
  void (*family)(void* self, const char* name, const char* help, int type);
  void (*sample)(void* self, const struct mtool_metric_label* labels, size_t label_count,
                 double value);
  void (*histogram)(void* self, const struct mtool_metric_label* labels, size_t label_count,
                    const struct mtool_metric_bucket* buckets, size_t bucket_count, double sum);
};

/* What is served: mtool's side. collect is called on the module's HTTP threads, possibly two
 * at once, and must return (not throw). */
struct mtool_metric_source {
  void* self;
  void (*collect)(void* self, const struct mtool_metric_sink* sink);
};

/* Copies at most size - 1 bytes of a message and a NUL into where the caller said. */
struct mtool_exporter_error {
  char* text;
  size_t size;
};

struct mtool_exporter_api {
  uint32_t abi_version; /* MTOOL_EXPORTER_ABI_VERSION of the module */
  uint32_t api_size;    /* sizeof(struct mtool_exporter_api) of the module */
  /* Serves `source` at http://ADDR:PORT/metrics (listen: "ADDR:PORT", numeric), until stop.
   * Returns the server, or NULL with the reason in `error` (one line). */
  void* (*start)(const char* listen, const struct mtool_metric_source* source,
                 struct mtool_exporter_error error);
  /* The port the server listens on (the kernel's choice for port 0). */
  uint16_t (*port)(const void* server);
  /* Stops serving and frees the server (waits for a scrape in progress). */
  void (*stop)(void* server);
  /* One collect of `source` in Prometheus' text format, handed to `write` (possibly in several
   * pieces). Returns 0, or -1 with the reason in `error`. */
  int (*render_text)(const struct mtool_metric_source* source,
                     void (*write)(void* context, const char* bytes, size_t size), void* context,
                     struct mtool_exporter_error error);
};

typedef const struct mtool_exporter_api* (*mtool_exporter_entry)(void);

#ifdef __cplusplus
}
#endif
