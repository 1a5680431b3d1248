// SPDX-License-Identifier: GPL-2.0
/*
 * Following TLS without reading it. Only the 5-byte record headers are
 * looked at, to keep the record boundaries; no TLS byte is ever changed.
 *
 * CCC (RFC 4217): after the 200 reply both sides shut TLS down and continue
 * in cleartext. Under TLS 1.3 the closing alerts look like any application
 * record, so the signal used is the stream itself: at a record boundary the
 * next byte is not a TLS content type but the start of an FTP line (a letter
 * from the client, a digit from the server). Sync is only trusted while every
 * byte of the direction was seen in order (tls_lost otherwise).
 */
#include "nf_ftpx.h"

#define TLS_CT_MIN	20	/* change_cipher_spec */
#define TLS_CT_MAX	24	/* heartbeat */
#define TLS_REC_MAX	(16384 + 2048)

bool ftpx_tls_client_hello(const u8 *p, unsigned int len)
{
	/* handshake record, version major 3, minor 0 (SSLv3/hello) .. 4 */
	return len >= 3 && p[0] == 22 && p[1] == 3 && p[2] <= 4;
}

/*
 * A TLS record header at the very first payload byte nf_ftpx sees of a
 * direction. An FTP line never starts with a byte below 0x20, so this is a
 * session that was already encrypted when its conntrack reached us: a backup
 * router that took it over from conntrackd, or a module loaded mid-session.
 */
bool ftpx_tls_record(const u8 *p, unsigned int len)
{
	if (len < 3 || p[0] < TLS_CT_MIN || p[0] > TLS_CT_MAX || p[1] != 3 ||
	    p[2] > 4)
		return false;
	return len < 5 || ((p[3] << 8) | p[4]) <= TLS_REC_MAX;
}

static bool ftpx_ftp_start(u8 b)
{
	return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
	       (b >= '0' && b <= '9');
}

unsigned int ftpx_tls_consume(struct ftpx_stream *st, const u8 *p,
			      unsigned int len, bool *cleared)
{
	unsigned int i = 0;

	while (i < len) {
		unsigned int k;

		if (st->tls_left) {
			k = min(st->tls_left, len - i);
			st->tls_left -= k;
			i += k;
			continue;
		}
		if (st->tls_hdr_len == 0 &&
		    (p[i] < TLS_CT_MIN || p[i] > TLS_CT_MAX)) {
			if (ftpx_ftp_start(p[i])) {
				*cleared = true;
				return i;
			}
			st->tls_lost = 1;
			return len;
		}
		k = min(5U - st->tls_hdr_len, len - i);
		memcpy(st->tls_hdr + st->tls_hdr_len, p + i, k);
		st->tls_hdr_len += k;
		i += k;
		if (st->tls_hdr_len < 5)
			break;
		st->tls_hdr_len = 0;
		st->tls_type = st->tls_hdr[0];
		st->tls_left = (st->tls_hdr[3] << 8) | st->tls_hdr[4];
		if (st->tls_hdr[1] != 3 || st->tls_left > TLS_REC_MAX) {
			st->tls_lost = 1;
			return len;
		}
	}
	return len;
}
