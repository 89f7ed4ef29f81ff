/*
 * What a first touch of memory costs on this machine (BENCHMARKS.md, round 42): maps 64 MB, aligned to 2 MB, and
 * writes it twice with memset, timing each; with argument 1 it first asks for transparent huge pages
 * (madvise(MADV_HUGEPAGE)). Prints the times and the process's AnonHugePages.
 *   gcc -O2 -o /tmp/pf scripts/lib/page_faults.c && /tmp/pf 0 && /tmp/pf 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t n = (size_t) 64 << 20;
    int huge = argc > 1 ? atoi(argv[1]) : 0;
    char *p = mmap(0, n + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    p = (char *) (((unsigned long) p + (2 << 20) - 1) & ~((2UL << 20) - 1));
    if (huge) {
        madvise(p, n, MADV_HUGEPAGE);
    }
    double t0 = now();
    memset(p, 0, n);
    double t1 = now();
    memset(p, 1, n);
    double t2 = now();
    printf("huge=%d first touch %.1f ms (%.1f us a 4 KB page), second %.1f ms\n", huge, (t1 - t0) * 1e3,
           (t1 - t0) * 1e6 / (n / 4096), (t2 - t1) * 1e3);
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, "AnonHuge")) {
            fputs(line, stdout);
        }
    }
    return p[n - 1] == 1 ? 0 : 1;
}
