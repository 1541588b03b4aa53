/*
 * check_main.c - check_run(), the runner every Check unit suite's main()
 * ends with (see check_main.h).  Not a suite itself: CMakeLists.txt keeps
 * it out of the check_*.c binaries and links it into each of them.
 */
#include <stdarg.h>
#include <stdlib.h>

#include <check.h>

#include "check_main.h"

int
check_run(Suite *first, ...)
{
	va_list	 ap;
	SRunner	*sr;
	Suite	*s;
	int	 failed;

	sr = srunner_create(first);
	va_start(ap, first);
	while ((s = va_arg(ap, Suite *)) != NULL)
		srunner_add_suite(sr, s);
	va_end(ap);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
