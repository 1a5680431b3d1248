// SPDX-License-Identifier: GPL-2.0
/*
 * Replay cache. Hints are rare (one per data transfer), so a linear scan of
 * a few thousand entries is cheaper than keeping a hash table right.
 */
#include <stdlib.h>

#include "replay.h"
#include "wire.h"

int ftpx_replay_init(struct ftpx_replay *r, unsigned int size,
		     unsigned int window_s)
{
	r->ring = calloc(size, sizeof(*r->ring));
	if (!r->ring)
		return -1;
	r->size = size;
	r->next = r->used = 0;
	r->window_us = (uint64_t)window_s * 1000000;
	r->floor_us = 0;
	return 0;
}

void ftpx_replay_free(struct ftpx_replay *r)
{
	free(r->ring);
	r->ring = NULL;
}

int ftpx_replay_check(struct ftpx_replay *r, uint64_t ts_us, uint64_t nonce,
		      uint64_t now_us)
{
	struct ftpx_seen *slot;
	unsigned int i;

	if (ts_us + r->window_us < now_us || ts_us > now_us + r->window_us)
		return FTPX_V_STALE;
	if (ts_us <= r->floor_us)
		return FTPX_V_REPLAY;
	for (i = 0; i < r->used; i++)
		if (r->ring[i].nonce == nonce && r->ring[i].ts_us == ts_us)
			return FTPX_V_REPLAY;
	slot = &r->ring[r->next];
	if (r->used == r->size && slot->ts_us + r->window_us >= now_us &&
	    slot->ts_us > r->floor_us)
		r->floor_us = slot->ts_us;	/* still replayable: see above */
	slot->ts_us = ts_us;
	slot->nonce = nonce;
	r->next = (r->next + 1) % r->size;
	if (r->used < r->size)
		r->used++;
	return 0;
}
