/*
 * fault.h - deterministic fault points: a simulated crash at a named step.
 *
 * Fault-injection tests need a daemon to die at an exact place of a flow
 * (after the DEK is stored, after chunk K, between commit and report), not
 * wherever a signal happens to land.  Flow code calls fault_point() at
 * named places; when the environment variable KEYFLOW_FAULT names that
 * place ("name" for any n, "name:N" for n == N only), the process logs
 * "fault point NAME reached: exiting" and calls _exit(99): no atexit
 * handlers, no destructors, no cleanup, as after kill -9.  Without the
 * variable a fault point costs one getenv().
 */
#ifndef KF_FAULT_H
#define KF_FAULT_H

#include <stdint.h>

#define FAULT_ENV	"KEYFLOW_FAULT"	/* the variable that arms a point */
#define FAULT_EXIT	99		/* exit status of a fired point */

/* 1 if spec ("name" or "name:N") selects point name at step n, else 0. */
int	fault_match(const char *spec, const char *name, uint64_t n);
/* Exit with FAULT_EXIT, without cleanup, if KEYFLOW_FAULT selects it. */
void	fault_point(const char *name, uint64_t n);

#endif
