// Loads syscall_stamp.bpf.o and attaches the programs named on the command line until killed.
// usage: loader OBJ host_netns_cookie PROG...
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile int stop;
static void on_sig(int s) { (void)s; stop = 1; }
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) return 1;
  unsigned long long host = strtoull(argv[2], NULL, 0);
  struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");
  if (rodata) bpf_map__set_initial_value(rodata, &host, sizeof host);
  struct bpf_program *p;
  bpf_object__for_each_program(p, obj) {
    int want = 0;
    for (int i = 3; i < argc; i++) if (!strcmp(bpf_program__name(p), argv[i])) want = 1;
    bpf_program__set_autoload(p, want);
  }
  if (bpf_object__load(obj)) { fprintf(stderr, "load failed\n"); return 1; }
  for (int i = 3; i < argc; i++) {
    p = bpf_object__find_program_by_name(obj, argv[i]);
    if (!p || !bpf_program__attach(p)) { fprintf(stderr, "attach %s failed\n", argv[i]); return 1; }
  }
  signal(SIGTERM, on_sig); signal(SIGINT, on_sig);
  printf("attached\n"); fflush(stdout);
  while (!stop) pause();
  return 0;
}
