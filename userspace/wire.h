/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hint wire format, version 1 (docs/hints.md is the reference): one
 * message per datagram, big endian, a fixed header, a fixed body per type
 * and an HMAC-SHA256 trailer over everything before it. Shared by ftpxd,
 * ftpx-agent and ftpxctl; no I/O here, so the unit tests cover all of it.
 */
#ifndef FTPX_WIRE_H
#define FTPX_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define FTPX_WIRE_MAGIC		"FTPX"
#define FTPX_WIRE_VERSION	1
#define FTPX_WIRE_HDR		24
#define FTPX_WIRE_MAC		32
#define FTPX_HINT_BODY		52
#define FTPX_RESULT_BODY	80
#define FTPX_HINT_LEN		(FTPX_WIRE_HDR + FTPX_HINT_BODY + FTPX_WIRE_MAC)
#define FTPX_RESULT_LEN		(FTPX_WIRE_HDR + FTPX_RESULT_BODY + FTPX_WIRE_MAC)
#define FTPX_STATUS_REQ_LEN	(FTPX_WIRE_HDR + FTPX_WIRE_MAC)
#define FTPX_WIRE_MAX		65000	/* a status reply is the largest */
#define FTPX_KEY_MIN		16
#define FTPX_KEY_MAX		256

enum ftpx_msg_type {
	FTPX_MSG_HINT = 1,	/* agent/ftpxctl -> ftpxd */
	FTPX_MSG_RESULT = 2,	/* ftpxd -> sender: verdict on one hint */
	FTPX_MSG_STATUS_REQ = 3,	/* local socket only */
	FTPX_MSG_STATUS = 4,	/* local socket only: text after the header */
};

/* Hint flags. */
#define FTPX_HINT_F_UNMAPPED	0x01	/* no single control connection found */

/* Verdicts, also the refusal counters' index (stable: part of the format). */
enum ftpx_verdict {
	FTPX_V_ACCEPTED = 0,
	FTPX_V_MALFORMED,	/* bad length, magic, version, type or field */
	FTPX_V_BAD_MAC,
	FTPX_V_STALE,		/* timestamp outside the window */
	FTPX_V_REPLAY,		/* (timestamp, nonce) already seen */
	FTPX_V_NOT_ROOT,	/* local peer is not uid 0 */
	FTPX_V_UNMAPPED,	/* agent could not map the listener */
	FTPX_V_NO_CONNTRACK,	/* no such control connection */
	FTPX_V_NOT_FTPX,	/* it has no helper "ftpx" */
	FTPX_V_NOT_ENCRYPTED,	/* helper sees cleartext: it handles it */
	FTPX_V_MISMATCH,	/* client/server/family disagree with it */
	FTPX_V_PORT,		/* data port outside the server's allowance */
	FTPX_V_AGENT,		/* this agent may not speak for that server */
	FTPX_V_KERNEL,		/* ctnetlink refused the expectation */
	FTPX_V_MAX
};

struct ftpx_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t len;
	uint64_t ts_us;		/* sender's clock, microseconds since 1970 */
	uint64_t nonce;		/* random, unique per message */
};

struct ftpx_hint {
	uint8_t family;		/* 4 or 6 */
	uint8_t flags;
	uint16_t port;		/* data port the server listens on */
	uint16_t cport;		/* control connection: client's port */
	uint16_t sport;		/* control connection: server's port */
	uint8_t client[16];	/* client as the server sees it */
	uint8_t server[16];	/* server's own address */
	uint16_t candidates;	/* control connections found (1 if mapped) */
	uint16_t attempt;	/* 0 first send, then retries */
	uint32_t pid;		/* server process owning the listener, 0 unknown */
	uint32_t age_us;	/* listener seen -> this message sent */
};

struct ftpx_result {
	uint64_t nonce;		/* of the hint answered */
	uint8_t verdict;	/* enum ftpx_verdict */
	int32_t err;		/* errno for FTPX_V_KERNEL, else 0 */
	char detail[64];	/* NUL terminated, human readable */
};

const char *ftpx_verdict_name(unsigned int v);

/* Load and initialise the crypto library now: OpenSSL 3 sets up its
 * providers on first use, which would otherwise delay the first hint. */
void ftpx_wire_init(void);

/* HMAC-SHA256 of @len bytes; @out gets 32 bytes. */
void ftpx_hmac(const uint8_t *key, size_t klen, const uint8_t *data,
	       size_t len, uint8_t out[FTPX_WIRE_MAC]);

/* Encoders return the message length; @key NULL leaves the MAC zero
 * (local socket, where peer credentials stand in for it). */
size_t ftpx_wire_hint(uint8_t *buf, const struct ftpx_hdr *h,
		      const struct ftpx_hint *hint, const uint8_t *key,
		      size_t klen);
size_t ftpx_wire_result(uint8_t *buf, const struct ftpx_hdr *h,
			const struct ftpx_result *r, const uint8_t *key,
			size_t klen);
size_t ftpx_wire_status_req(uint8_t *buf, const struct ftpx_hdr *h);

/* Decoders. ftpx_wire_hdr checks magic, version, length field and the
 * per-type size and returns 0 or FTPX_V_MALFORMED; ftpx_wire_verify
 * checks the MAC in constant time (0 or FTPX_V_BAD_MAC). */
int ftpx_wire_hdr(const uint8_t *buf, size_t len, struct ftpx_hdr *h);
int ftpx_wire_verify(const uint8_t *buf, size_t len, const uint8_t *key,
		     size_t klen);
int ftpx_wire_get_hint(const uint8_t *buf, size_t len, struct ftpx_hint *hint);
int ftpx_wire_get_result(const uint8_t *buf, size_t len, struct ftpx_result *r);

/* Read a pre-shared key file: the first line, trailing blanks stripped,
 * FTPX_KEY_MIN..FTPX_KEY_MAX bytes. Returns the length, or -1 with a
 * message in @err. */
int ftpx_key_load(const char *path, uint8_t *key, char *err, size_t errlen);

/* Microseconds since 1970, and a fresh random nonce. */
uint64_t ftpx_now_us(void);
uint64_t ftpx_nonce(void);

#endif
