/* SPDX-License-Identifier: MIT */
/*
 * mk_weights.h - the seeded values of a tensor, one row at a time. A tensor's values
 * depend only on the seed, its name and its init kind (not on its type or on the
 * other tensors), so files of different types from one seed hold the same model.
 */
#ifndef MK_WEIGHTS_H
#define MK_WEIGHTS_H

#include <stdint.h>

#include "mk_model.h"

struct mk_rng {
	uint64_t s[4];
};

void mk_rng_seed(struct mk_rng *r, uint64_t seed, const char *name);
/* a standard normal sample */
float mk_rng_normal(struct mk_rng *r);

/* row `row` of t into x[t->ne[0]] (rows are produced in order from one rng) */
void mk_weights_row(const struct mk_preset *p, const struct mk_tensor *t, struct mk_rng *r,
		    int64_t row, float *x);

#endif
