/*
 * check_main.h - the one body of every Check unit suite's main()
 * (check_main.c): the suites run in one SRunner in the mode CK_ENV, so
 * that CK_VERBOSITY, CK_FORK=no (as under valgrind), CK_RUN_SUITE and
 * CK_RUN_CASE work the same in every binary, and the failure count
 * becomes the exit status ctest reads.  Per-suite settings (timeouts,
 * fixtures, loop tests) stay on the TCases the suite builds.
 */
#ifndef KF_CHECK_MAIN_H
#define KF_CHECK_MAIN_H

#include <check.h>

/*
 * Run first and then each suite after it, up to a NULL, and free them:
 * EXIT_SUCCESS when every test passed, else EXIT_FAILURE.
 */
int	check_run(Suite *first, ...) __attribute__((sentinel));

#endif
