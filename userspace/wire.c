// SPDX-License-Identifier: GPL-2.0
/*
 * Hint wire format v1: encoding, decoding and authentication. Every field
 * is copied byte by byte at a fixed offset, so the layout does not depend
 * on the compiler's struct padding or the host's byte order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "wire.h"

static const char *const verdict_names[FTPX_V_MAX] = {
	[FTPX_V_ACCEPTED] = "accepted",
	[FTPX_V_MALFORMED] = "malformed",
	[FTPX_V_BAD_MAC] = "bad-mac",
	[FTPX_V_STALE] = "stale",
	[FTPX_V_REPLAY] = "replay",
	[FTPX_V_NOT_ROOT] = "not-root",
	[FTPX_V_UNMAPPED] = "unmapped",
	[FTPX_V_NO_CONNTRACK] = "no-conntrack",
	[FTPX_V_NOT_FTPX] = "not-ftpx",
	[FTPX_V_NOT_ENCRYPTED] = "not-encrypted",
	[FTPX_V_MISMATCH] = "mismatch",
	[FTPX_V_PORT] = "port",
	[FTPX_V_AGENT] = "agent",
	[FTPX_V_KERNEL] = "kernel",
};

const char *ftpx_verdict_name(unsigned int v)
{
	return v < FTPX_V_MAX ? verdict_names[v] : "unknown";
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The context of the last key used: keying HMAC (and fetching the
 * algorithm) costs several times what hashing a hint does, and a program
 * signs and verifies with one key all the time. */
static struct {
	EVP_MAC_CTX *ctx;
	uint8_t key[FTPX_KEY_MAX];
	size_t klen;
} hm;

static int hmac_key(const uint8_t *key, size_t klen)
{
	static EVP_MAC *mac;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 "SHA256", 0),
		OSSL_PARAM_construct_end()
	};

	hm.klen = 0;
	if (!mac)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!hm.ctx && mac)
		hm.ctx = EVP_MAC_CTX_new(mac);
	if (!hm.ctx || !EVP_MAC_init(hm.ctx, key, klen, p))
		return -1;
	memcpy(hm.key, key, klen);
	hm.klen = klen;
	return 0;
}

void ftpx_hmac(const uint8_t *key, size_t klen, const uint8_t *data,
	       size_t len, uint8_t out[FTPX_WIRE_MAC])
{
	unsigned int n = FTPX_WIRE_MAC;
	size_t sn = 0;
	int ok;

	if (!klen || klen > sizeof(hm.key)) {
		if (!HMAC(EVP_sha256(), key, (int)klen, data, len, out, &n))
			memset(out, 0, FTPX_WIRE_MAC);	/* never verifies */
		return;
	}
	if (klen == hm.klen && !CRYPTO_memcmp(key, hm.key, klen))
		ok = EVP_MAC_init(hm.ctx, NULL, 0, NULL);	/* same key */
	else
		ok = hmac_key(key, klen) == 0;
	if (!ok || !EVP_MAC_update(hm.ctx, data, len) ||
	    !EVP_MAC_final(hm.ctx, out, &sn, FTPX_WIRE_MAC) ||
	    sn != FTPX_WIRE_MAC) {
		hm.klen = 0;	/* set the key up again next time */
		memset(out, 0, FTPX_WIRE_MAC);	/* never verifies */
	}
}

void ftpx_wire_init(void)
{
	static const uint8_t k[FTPX_KEY_MIN];
	uint8_t mac[FTPX_WIRE_MAC];

	ftpx_hmac(k, sizeof(k), k, sizeof(k), mac);
	ftpx_nonce();
}

static void put_hdr(uint8_t *buf, const struct ftpx_hdr *h, uint8_t type,
		    size_t len)
{
	memcpy(buf, FTPX_WIRE_MAGIC, 4);
	buf[4] = FTPX_WIRE_VERSION;
	buf[5] = type;
	put16(buf + 6, (uint16_t)len);
	put64(buf + 8, h->ts_us);
	put64(buf + 16, h->nonce);
}

static void seal(uint8_t *buf, size_t len, const uint8_t *key, size_t klen)
{
	uint8_t *mac = buf + len - FTPX_WIRE_MAC;

	if (key)
		ftpx_hmac(key, klen, buf, len - FTPX_WIRE_MAC, mac);
	else
		memset(mac, 0, FTPX_WIRE_MAC);
}

size_t ftpx_wire_hint(uint8_t *buf, const struct ftpx_hdr *h,
		      const struct ftpx_hint *hint, const uint8_t *key,
		      size_t klen)
{
	uint8_t *b = buf + FTPX_WIRE_HDR;

	memset(buf, 0, FTPX_HINT_LEN);
	put_hdr(buf, h, FTPX_MSG_HINT, FTPX_HINT_LEN);
	b[0] = hint->family;
	b[1] = hint->flags;
	put16(b + 2, hint->port);
	put16(b + 4, hint->cport);
	put16(b + 6, hint->sport);
	memcpy(b + 8, hint->client, 16);
	memcpy(b + 24, hint->server, 16);
	put16(b + 40, hint->candidates);
	put16(b + 42, hint->attempt);
	put32(b + 44, hint->pid);
	put32(b + 48, hint->age_us);
	seal(buf, FTPX_HINT_LEN, key, klen);
	return FTPX_HINT_LEN;
}

size_t ftpx_wire_result(uint8_t *buf, const struct ftpx_hdr *h,
			const struct ftpx_result *r, const uint8_t *key,
			size_t klen)
{
	uint8_t *b = buf + FTPX_WIRE_HDR;

	memset(buf, 0, FTPX_RESULT_LEN);
	put_hdr(buf, h, FTPX_MSG_RESULT, FTPX_RESULT_LEN);
	put64(b, r->nonce);
	b[8] = r->verdict;
	put32(b + 12, (uint32_t)r->err);
	/* always NUL terminated on the wire (the buffer is zeroed) */
	memcpy(b + 16, r->detail, strnlen(r->detail, 63));
	seal(buf, FTPX_RESULT_LEN, key, klen);
	return FTPX_RESULT_LEN;
}

size_t ftpx_wire_status_req(uint8_t *buf, const struct ftpx_hdr *h)
{
	memset(buf, 0, FTPX_STATUS_REQ_LEN);
	put_hdr(buf, h, FTPX_MSG_STATUS_REQ, FTPX_STATUS_REQ_LEN);
	return FTPX_STATUS_REQ_LEN;
}

int ftpx_wire_hdr(const uint8_t *buf, size_t len, struct ftpx_hdr *h)
{
	size_t want;

	if (len < FTPX_WIRE_HDR + FTPX_WIRE_MAC || len > FTPX_WIRE_MAX ||
	    memcmp(buf, FTPX_WIRE_MAGIC, 4) || buf[4] != FTPX_WIRE_VERSION ||
	    get16(buf + 6) != len)
		return FTPX_V_MALFORMED;
	h->version = buf[4];
	h->type = buf[5];
	h->len = (uint16_t)len;
	h->ts_us = get64(buf + 8);
	h->nonce = get64(buf + 16);
	switch (h->type) {
	case FTPX_MSG_HINT:
		want = FTPX_HINT_LEN;
		break;
	case FTPX_MSG_RESULT:
		want = FTPX_RESULT_LEN;
		break;
	case FTPX_MSG_STATUS_REQ:
		want = FTPX_STATUS_REQ_LEN;
		break;
	case FTPX_MSG_STATUS:
		return 0;	/* variable: text up to the MAC */
	default:
		return FTPX_V_MALFORMED;
	}
	return len == want ? 0 : FTPX_V_MALFORMED;
}

int ftpx_wire_verify(const uint8_t *buf, size_t len, const uint8_t *key,
		     size_t klen)
{
	uint8_t mac[FTPX_WIRE_MAC];

	if (len < FTPX_WIRE_HDR + FTPX_WIRE_MAC)
		return FTPX_V_MALFORMED;
	ftpx_hmac(key, klen, buf, len - FTPX_WIRE_MAC, mac);
	return CRYPTO_memcmp(mac, buf + len - FTPX_WIRE_MAC,
			     FTPX_WIRE_MAC) ? FTPX_V_BAD_MAC : 0;
}

static int zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int ftpx_wire_get_hint(const uint8_t *buf, size_t len, struct ftpx_hint *hint)
{
	const uint8_t *b = buf + FTPX_WIRE_HDR;

	if (len != FTPX_HINT_LEN)
		return FTPX_V_MALFORMED;
	memset(hint, 0, sizeof(*hint));
	hint->family = b[0];
	hint->flags = b[1];
	hint->port = get16(b + 2);
	hint->cport = get16(b + 4);
	hint->sport = get16(b + 6);
	memcpy(hint->client, b + 8, 16);
	memcpy(hint->server, b + 24, 16);
	hint->candidates = get16(b + 40);
	hint->attempt = get16(b + 42);
	hint->pid = get32(b + 44);
	hint->age_us = get32(b + 48);
	if (hint->family != 4 && hint->family != 6)
		return FTPX_V_MALFORMED;
	/* unknown flags: a newer sender means something we cannot honour */
	if (hint->flags & ~FTPX_HINT_F_UNMAPPED)
		return FTPX_V_MALFORMED;
	/* IPv4 addresses use the first 4 bytes; the rest must be zero so
	 * that one hint has exactly one encoding (the replay cache keys on
	 * the bytes' MAC-protected identity, not on a normalised form) */
	if (hint->family == 4 &&
	    (!zero(hint->client + 4, 12) || !zero(hint->server + 4, 12)))
		return FTPX_V_MALFORMED;
	if (!hint->port)
		return FTPX_V_MALFORMED;
	if (!(hint->flags & FTPX_HINT_F_UNMAPPED) &&
	    (!hint->cport || !hint->sport))
		return FTPX_V_MALFORMED;
	return 0;
}

int ftpx_wire_get_result(const uint8_t *buf, size_t len, struct ftpx_result *r)
{
	const uint8_t *b = buf + FTPX_WIRE_HDR;

	if (len != FTPX_RESULT_LEN)
		return FTPX_V_MALFORMED;
	memset(r, 0, sizeof(*r));
	r->nonce = get64(b);
	r->verdict = b[8];
	r->err = (int32_t)get32(b + 12);
	memcpy(r->detail, b + 16, 63);
	r->detail[63] = 0;
	return 0;
}

int ftpx_key_load(const char *path, uint8_t *key, char *err, size_t errlen)
{
	char buf[FTPX_KEY_MAX + 2];
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	n = strcspn(buf, "\n");
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
		     buf[n - 1] == '\r'))
		n--;
	if (n < FTPX_KEY_MIN || n > FTPX_KEY_MAX) {
		snprintf(err, errlen,
			 "key file %s: the key (first line) must be %d to %d bytes, is %zu",
			 path, FTPX_KEY_MIN, FTPX_KEY_MAX, n);
		return -1;
	}
	memcpy(key, buf, n);
	return (int)n;
}

uint64_t ftpx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t ftpx_nonce(void)
{
	/* drawn 64 at a time: a busy daemon signs every result it sends,
	 * and a system call per nonce shows (no program here forks) */
	static uint64_t pool[64];
	static unsigned int left;
	uint64_t v = 0;

	if (left)
		return pool[--left];
	if (getrandom(pool, sizeof(pool), GRND_NONBLOCK) == sizeof(pool)) {
		left = sizeof(pool) / sizeof(pool[0]) - 1;
		return pool[left];
	}
	/* getrandom() only fails before the pool is ready at early boot;
	 * then mix the clock in rather than block the daemon */
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v ^= ftpx_now_us() * 0x9e3779b97f4a7c15ULL;
	return v;
}
