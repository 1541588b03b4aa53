/*
 * tool.h - what the benchmark tools (kf-diskbench, kf-zmqbench) share: a
 * monotonic clock in seconds and a size parser with K, M, G suffixes.
 */
#ifndef KF_BENCH_TOOL_H
#define KF_BENCH_TOOL_H

#include <stdint.h>

double		tool_now(void);
uint64_t	tool_size(const char *, int);

#endif
