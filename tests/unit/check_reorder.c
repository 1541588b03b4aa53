/*
 * check_reorder.c - unit tests of the MediaAgent's reorder buffer
 * (mediaagent/reorder.c, compiled in here since the unit tests link only
 * the common library): early chunks wait and come out in index order,
 * the bound of cap chunks beyond the next index is enforced, duplicates
 * and late chunks are refused, and whatever is left is released.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "reorder.h"
#include "check_main.h"

static int	released;	/* items reorder_free gave back */

static void
count_release(void *item)
{
	released++;
	free(item);
}

static uint64_t *
item(uint64_t index)
{
	uint64_t	*p = malloc(sizeof(*p));

	ck_assert_ptr_nonnull(p);
	*p = index;
	return p;
}

START_TEST(test_in_order_out)
{
	struct reorder	*r;
	uint64_t	 next = 0, *p;
	/* Four streams' arrivals, interleaved as the network pleases. */
	static const uint64_t	 in[] = { 3, 1, 2, 7, 5, 6, 4, 0 };
	size_t			 i;

	r = reorder_new(8, count_release);
	ck_assert_ptr_nonnull(r);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_int_eq(reorder_put(r, next, in[i], item(in[i])),
		    REORDER_KEPT);
	ck_assert_uint_eq(reorder_count(r), 8);
	ck_assert_uint_eq(reorder_peak(r), 8);
	while ((p = reorder_take(r, next)) != NULL) {
		ck_assert_uint_eq(*p, next);
		free(p);
		next++;
	}
	ck_assert_uint_eq(next, 8);
	ck_assert_uint_eq(reorder_count(r), 0);
	reorder_free(&r);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_bound)
{
	struct reorder	*r;
	uint64_t	*p;

	r = reorder_new(4, count_release);
	ck_assert_ptr_nonnull(r);
	/* next is 10: 10..13 fit, 14 is beyond the bound. */
	p = item(14);
	ck_assert_int_eq(reorder_put(r, 10, 14, p), REORDER_TOO_FAR);
	free(p);
	p = item(13);
	ck_assert_int_eq(reorder_put(r, 10, 13, p), REORDER_KEPT);
	/* Far beyond, and at the top of the index space: no wrap-around. */
	ck_assert_int_eq(reorder_put(r, 10, UINT64_MAX, p), REORDER_TOO_FAR);
	ck_assert_int_eq(reorder_put(r, 10, 13 + 4, p), REORDER_TOO_FAR);
	/* 13 waits; nothing for 10 yet. */
	ck_assert_ptr_null(reorder_take(r, 10));
	ck_assert_uint_eq(reorder_count(r), 1);
	reorder_free(&r);
}
END_TEST

START_TEST(test_refusals)
{
	struct reorder	*r;
	uint64_t	*p, *q;

	r = reorder_new(4, count_release);
	ck_assert_ptr_nonnull(r);
	p = item(6);
	q = item(6);
	ck_assert_int_eq(reorder_put(r, 5, 6, p), REORDER_KEPT);
	ck_assert_int_eq(reorder_put(r, 5, 6, q), REORDER_DUPLICATE);
	ck_assert_int_eq(reorder_put(r, 5, 4, q), REORDER_LATE);
	free(q);
	/* An item at the same place but for another index is not it. */
	ck_assert_ptr_null(reorder_take(r, 2));
	ck_assert_ptr_null(reorder_take(r, 10));
	ck_assert_ptr_eq(reorder_take(r, 6), p);
	free(p);
	reorder_free(&r);
}
END_TEST

START_TEST(test_free_releases)
{
	struct reorder	*r;

	released = 0;
	r = reorder_new(16, count_release);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(reorder_put(r, 0, 3, item(3)), REORDER_KEPT);
	ck_assert_int_eq(reorder_put(r, 0, 9, item(9)), REORDER_KEPT);
	ck_assert_int_eq(reorder_put(r, 0, 15, item(15)), REORDER_KEPT);
	reorder_free(&r);
	ck_assert_int_eq(released, 3);
	reorder_free(&r);		/* NULL is fine */
	reorder_free(NULL);
}
END_TEST

START_TEST(test_bad_cap)
{
	ck_assert_ptr_null(reorder_new(0, count_release));
	ck_assert_ptr_null(reorder_new(65537, count_release));
	ck_assert_ptr_null(reorder_new(4, NULL));
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("reorder");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_in_order_out);
	tcase_add_test(tc, test_bound);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_free_releases);
	tcase_add_test(tc, test_bad_cap);
	suite_add_tcase(s, tc);
	return check_run(s, NULL);
}
