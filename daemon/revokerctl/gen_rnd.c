/*
 * gen_rnd: the generator's seeded random numbers (splitmix64), for the
 * trees (gen.c) and the lines they become (gen_out.c).  See gen_int.h.
 */
#include <stdint.h>

#include "daemon/revokerctl/gen_int.h"

uint64_t
gen_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0.  The slight modulo bias does not matter. */
uint32_t
gen_rnd(struct gen *g, uint32_t n)
{
	return (uint32_t)(gen_splitmix(&g->rng) % n);
}
