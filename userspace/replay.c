// SPDX-License-Identifier: GPL-2.0
/*
 * Replay cache: the ring of seen pairs, and chained hash buckets that
 * index it by (timestamp, nonce).
 */
#include <stdlib.h>

#include "replay.h"
#include "wire.h"

int ftpx_replay_init(struct ftpx_replay *r, unsigned int size,
		     unsigned int window_s)
{
	uint32_t nb = 16, i;

	while (nb < size && nb < (1u << 30))
		nb <<= 1;
	r->ring = calloc(size, sizeof(*r->ring));
	r->bucket = malloc(nb * sizeof(*r->bucket));
	if (!r->ring || !r->bucket) {
		ftpx_replay_free(r);
		return -1;
	}
	for (i = 0; i < nb; i++)
		r->bucket[i] = -1;
	r->mask = nb - 1;
	r->size = size;
	r->next = r->used = 0;
	r->window_us = (uint64_t)window_s * 1000000;
	r->floor_us = 0;
	return 0;
}

void ftpx_replay_free(struct ftpx_replay *r)
{
	free(r->ring);
	free(r->bucket);
	r->ring = NULL;
	r->bucket = NULL;
}

static int32_t *bucket_of(struct ftpx_replay *r, uint64_t ts_us,
			  uint64_t nonce)
{
	uint64_t h = (nonce ^ ts_us) * 0x9e3779b97f4a7c15ull;

	return &r->bucket[(uint32_t)(h >> 32) & r->mask];
}

int ftpx_replay_check(struct ftpx_replay *r, uint64_t ts_us, uint64_t nonce,
		      uint64_t now_us)
{
	int32_t *b, *p, me = (int32_t)r->next, i;
	struct ftpx_seen *slot;

	if (ts_us + r->window_us < now_us || ts_us > now_us + r->window_us)
		return FTPX_V_STALE;
	if (ts_us <= r->floor_us)
		return FTPX_V_REPLAY;
	b = bucket_of(r, ts_us, nonce);
	for (i = *b; i >= 0; i = r->ring[i].chain)
		if (r->ring[i].nonce == nonce && r->ring[i].ts_us == ts_us)
			return FTPX_V_REPLAY;
	slot = &r->ring[me];
	if (r->used == r->size) {
		if (slot->ts_us + r->window_us >= now_us &&
		    slot->ts_us > r->floor_us)
			r->floor_us = slot->ts_us;	/* still replayable */
		/* the oldest pair leaves the ring and its bucket */
		for (p = bucket_of(r, slot->ts_us, slot->nonce); *p != me;
		     p = &r->ring[*p].chain)
			;
		*p = slot->chain;
	}
	slot->ts_us = ts_us;
	slot->nonce = nonce;
	slot->chain = *b;
	*b = me;
	r->next = (r->next + 1) % r->size;
	if (r->used < r->size)
		r->used++;
	return 0;
}
