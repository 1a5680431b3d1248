/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replay protection for authenticated hints: a message is fresh when its
 * timestamp is within +-window of our clock and its (timestamp, nonce) was
 * not seen before. Seen pairs are kept in a ring; when the ring must drop a
 * pair that could still be replayed (inside the window), everything at or
 * below that timestamp is refused from then on ("floor"), so a full ring
 * costs freshness of old messages, never safety. A hash index over the
 * ring finds a pair without scanning it (a busy intake checks thousands of
 * hints a second against thousands of pairs).
 */
#ifndef FTPX_REPLAY_H
#define FTPX_REPLAY_H

#include <stdint.h>

struct ftpx_seen {
	uint64_t ts_us;
	uint64_t nonce;
	int32_t chain;		/* next ring slot in the same bucket, -1 */
};

struct ftpx_replay {
	uint64_t window_us;
	uint64_t floor_us;	/* refuse ts <= floor */
	unsigned int size, next, used;
	struct ftpx_seen *ring;
	int32_t *bucket;	/* first ring slot per hash bucket, -1 */
	uint32_t mask;		/* buckets - 1 */
};

int ftpx_replay_init(struct ftpx_replay *r, unsigned int size,
		     unsigned int window_s);
void ftpx_replay_free(struct ftpx_replay *r);
/* 0 fresh (and now remembered), FTPX_V_STALE or FTPX_V_REPLAY. Call only
 * for messages whose MAC verified, or forgeries would fill the ring. */
int ftpx_replay_check(struct ftpx_replay *r, uint64_t ts_us, uint64_t nonce,
		      uint64_t now_us);

#endif
