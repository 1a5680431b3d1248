// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for nf_ftpx/ftpx_parse.c, compiled in userspace.
 *
 * Most cases are one table row: a line, the state before, and what the
 * parser must say. Every row also gets the generic checks (the span is
 * inside the line, every prefix of an acted-on line is a candidate, and an
 * accepted address survives a format-and-splice round trip), so a new
 * grammar case is one new row. Prints "PASS: parse: <name>" or
 * "FAIL: parse: <name> (why)" per test; exits 1 if anything failed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftpx_parse.h"

#define C	FTPX_DIR_CLIENT
#define S	FTPX_DIR_SERVER
/* literal plus its length, so rows may carry NUL bytes */
#define L(s)	s, sizeof(s) - 1

#define R_OK	FTPX_R_OK
#define R_BAD	FTPX_R_BAD
#define R_NONE	FTPX_R_NONE

struct row {
	const char *name;
	enum ftpx_dir dir;
	unsigned int ml_in;	/* ftpx_pstate.ml_code before the line */
	const char *line;
	size_t len;
	enum ftpx_result res;
	enum ftpx_kind kind;
	enum ftpx_bad bad;
	const char *addr;	/* expected address bytes in hex (8 or 32) */
	unsigned int port;
	const char *span;	/* expected text at m.off/m.len */
	int ml_out;		/* state after; -1: unchanged */
};

#define OK(n, d, l, k, a, p, sp) \
	{ n, d, 0, L(l), R_OK, k, FTPX_BAD_NONE, a, p, sp, -1 }
#define OK0(n, d, l, k) \
	{ n, d, 0, L(l), R_OK, k, FTPX_BAD_NONE, NULL, 0, NULL, -1 }
#define BAD(n, d, l, k, b) \
	{ n, d, 0, L(l), R_BAD, k, FTPX_BAD_##b, NULL, 0, NULL, -1 }
#define NONE(n, d, l) \
	{ n, d, 0, L(l), R_NONE, FTPX_K_NONE, FTPX_BAD_NONE, NULL, 0, NULL, -1 }
/* server line with a multi-line state before and after */
#define ML(n, in, l, r, k, out) \
	{ n, S, in, L(l), r, k, FTPX_BAD_NONE, NULL, 0, NULL, out }

#define K_PORT	FTPX_K_PORT
#define K_EPRT	FTPX_K_EPRT
#define K_227	FTPX_K_227
#define K_229	FTPX_K_229
#define K_AUTH	FTPX_K_AUTH_TLS
#define K_234	FTPX_K_234
#define K_CCC	FTPX_K_CCC
#define K_200	FTPX_K_200
#define K_NONE	FTPX_K_NONE

static const struct row rows[] = {
	/* PORT h1,h2,h3,h4,p1,p2 (RFC 959) */
	OK("port basic", C, "PORT 192,168,1,2,195,80", K_PORT,
	   "c0a80102", 50000, "192,168,1,2,195,80"),
	OK("port lowercase", C, "port 10,0,0,1,4,1", K_PORT,
	   "0a000001", 1025, "10,0,0,1,4,1"),
	OK("port mixed case", C, "pOrT 10,0,0,1,4,1", K_PORT,
	   "0a000001", 1025, "10,0,0,1,4,1"),
	OK("port extra spaces after keyword", C, "PORT    10,0,0,1,4,1",
	   K_PORT, "0a000001", 1025, "10,0,0,1,4,1"),
	OK("port trailing white space", C, "PORT 10,0,0,1,4,1 \t ", K_PORT,
	   "0a000001", 1025, "10,0,0,1,4,1"),
	OK("port leading zeros", C, "PORT 010,000,000,001,004,001", K_PORT,
	   "0a000001", 1025, "010,000,000,001,004,001"),
	OK("port lowest port 1", C, "PORT 0,0,0,0,0,1", K_PORT,
	   "00000000", 1, "0,0,0,0,0,1"),
	OK("port all 255", C, "PORT 255,255,255,255,255,255", K_PORT,
	   "ffffffff", 65535, "255,255,255,255,255,255"),
	BAD("port octet 256", C, "PORT 256,1,1,1,1,1", K_PORT, OCTET),
	BAD("port octet 999 in h4", C, "PORT 1,1,1,999,1,1", K_PORT, OCTET),
	BAD("port port 0", C, "PORT 1,2,3,4,0,0", K_PORT, PORT),
	BAD("port port byte 256", C, "PORT 1,2,3,4,256,0", K_PORT, PORT),
	BAD("port port byte p2 300", C, "PORT 1,2,3,4,1,300", K_PORT, PORT),
	BAD("port five numbers", C, "PORT 1,2,3,4,5", K_PORT, SYNTAX),
	BAD("port seven numbers", C, "PORT 1,2,3,4,5,6,7", K_PORT, SYNTAX),
	BAD("port trailing junk", C, "PORT 1,2,3,4,5,6x", K_PORT, SYNTAX),
	BAD("port junk after spaces", C, "PORT 1,2,3,4,5,6 x", K_PORT, SYNTAX),
	BAD("port leading junk", C, "PORT x1,2,3,4,5,6", K_PORT, NUMBER),
	BAD("port leading minus", C, "PORT -1,2,3,4,5,6", K_PORT, NUMBER),
	BAD("port parenthesised", C, "PORT (1,2,3,4,5,6)", K_PORT, NUMBER),
	BAD("port empty field", C, "PORT 1,,3,4,5,6", K_PORT, SYNTAX),
	BAD("port space in list", C, "PORT 1, 2,3,4,5,6", K_PORT, NUMBER),
	BAD("port dots not commas", C, "PORT 1.2.3.4.5.6", K_PORT, SYNTAX),
	BAD("port no argument", C, "PORT", K_PORT, SYNTAX),
	BAD("port only spaces", C, "PORT   ", K_PORT, SYNTAX),
	BAD("port six digits", C, "PORT 000001,2,3,4,5,6", K_PORT, NUMBER),
	BAD("port NUL inside", C, "PORT 1,2,3,\0" "4,5,6", K_PORT, CHAR),
	BAD("port NUL at end", C, "PORT 1,2,3,4,5,6\0", K_PORT, CHAR),
	BAD("port lone CR inside", C, "PORT 1,2,3,4\r,5,6", K_PORT, CHAR),
	BAD("port second trailing CR", C, "PORT 1,2,3,4,5,6\r", K_PORT, CHAR),
	BAD("port DEL", C, "PORT 1,2,3,4,5,6\x7f", K_PORT, CHAR),
	BAD("port high byte", C, "PORT 1,2,3,4,5,6\xc3\xa9", K_PORT, SYNTAX),
	NONE("port PORTX", C, "PORTX 1,2,3,4,5,6"),
	NONE("port keyword then tab", C, "PORT\t1,2,3,4,5,6"),
	NONE("port keyword then NUL", C, "PORT\0 1,2,3,4,5,6"),
	NONE("port leading space", C, " PORT 1,2,3,4,5,6"),
	NONE("port prefixed keyword", C, "XPORT 1,2,3,4,5,6"),
	NONE("port as argument", C, "SITE PORT 1,2,3,4,5,6"),
	NONE("port short keyword", C, "POR"),
	NONE("client empty line", C, ""),
	NONE("client PASV", C, "PASV"),
	NONE("client junk with NUL", C, "\0\0\0\0"),
	NONE("client PORT in server dir", S, "PORT 1,2,3,4,5,6"),

	/* EPRT |af|addr|port| (RFC 2428) */
	OK("eprt v4", C, "EPRT |1|132.235.1.2|6275|", K_EPRT,
	   "84eb0102", 6275, "|1|132.235.1.2|6275|"),
	OK("eprt lowercase", C, "eprt |1|10.0.0.1|1|", K_EPRT,
	   "0a000001", 1, "|1|10.0.0.1|1|"),
	OK("eprt delimiter !", C, "EPRT !1!10.0.0.1!21!", K_EPRT,
	   "0a000001", 21, "!1!10.0.0.1!21!"),
	OK("eprt delimiter ~", C, "EPRT ~1~10.0.0.1~21~", K_EPRT,
	   "0a000001", 21, "~1~10.0.0.1~21~"),
	OK("eprt spaces", C, "EPRT   |1|10.0.0.1|21|  ", K_EPRT,
	   "0a000001", 21, "|1|10.0.0.1|21|"),
	OK("eprt v4 zeros", C, "EPRT |1|0.0.0.0|65535|", K_EPRT,
	   "00000000", 65535, "|1|0.0.0.0|65535|"),
	OK("eprt v6 rfc2428 example", C, "EPRT |2|1080::8:800:200C:417A|5282|",
	   K_EPRT, "108000000000000000080800200c417a", 5282,
	   "|2|1080::8:800:200C:417A|5282|"),
	OK("eprt v6 full form", C,
	   "EPRT |2|2001:0db8:0000:0000:0000:0000:0000:0001|1024|", K_EPRT,
	   "20010db8000000000000000000000001", 1024,
	   "|2|2001:0db8:0000:0000:0000:0000:0000:0001|1024|"),
	OK("eprt v6 ::", C, "EPRT |2|::|1|", K_EPRT,
	   "00000000000000000000000000000000", 1, "|2|::|1|"),
	OK("eprt v6 ::1", C, "EPRT |2|::1|1|", K_EPRT,
	   "00000000000000000000000000000001", 1, "|2|::1|1|"),
	OK("eprt v6 fe80::", C, "EPRT |2|fe80::|2|", K_EPRT,
	   "fe800000000000000000000000000000", 2, "|2|fe80::|2|"),
	OK("eprt v6 :: for one group", C, "EPRT |2|1::2:3:4:5:6:7|80|", K_EPRT,
	   "00010000000200030004000500060007", 80, "|2|1::2:3:4:5:6:7|80|"),
	OK("eprt v6 mapped v4 tail", C, "EPRT |2|::ffff:192.0.2.1|2121|",
	   K_EPRT, "00000000000000000000ffffc0000201", 2121,
	   "|2|::ffff:192.0.2.1|2121|"),
	OK("eprt v6 compat v4 tail", C, "EPRT |2|::192.0.2.1|2121|", K_EPRT,
	   "000000000000000000000000c0000201", 2121, "|2|::192.0.2.1|2121|"),
	OK("eprt v6 six groups v4 tail", C, "EPRT |2|1:2:3:4:5:6:192.0.2.1|9|",
	   K_EPRT, "000100020003000400050006c0000201", 9,
	   "|2|1:2:3:4:5:6:192.0.2.1|9|"),
	OK("eprt v6 uppercase", C,
	   "EPRT |2|ABCD:EF01:2345:6789:ABCD:EF01:2345:6789|65535|", K_EPRT,
	   "abcdef0123456789abcdef0123456789", 65535,
	   "|2|ABCD:EF01:2345:6789:ABCD:EF01:2345:6789|65535|"),
	OK("eprt v6 delimiter #", C, "EPRT #2#::1#80#", K_EPRT,
	   "00000000000000000000000000000001", 80, "#2#::1#80#"),
	BAD("eprt v6 zone id", C, "EPRT |2|fe80::1%eth0|80|", K_EPRT, ADDR),
	BAD("eprt v6 nine groups", C, "EPRT |2|1:2:3:4:5:6:7:8:9|80|", K_EPRT,
	    ADDR),
	BAD("eprt v6 seven groups", C, "EPRT |2|1:2:3:4:5:6:7|80|", K_EPRT,
	    ADDR),
	BAD("eprt v6 :: for no group", C, "EPRT |2|1:2:3:4::5:6:7:8|80|",
	    K_EPRT, ADDR),
	BAD("eprt v6 two ::", C, "EPRT |2|1::2::3|80|", K_EPRT, ADDR),
	BAD("eprt v6 :::", C, "EPRT |2|1:::2|80|", K_EPRT, ADDR),
	BAD("eprt v6 five hex digits", C, "EPRT |2|12345::1|80|", K_EPRT, ADDR),
	BAD("eprt v6 leading colon", C, "EPRT |2|:1::2|80|", K_EPRT, ADDR),
	BAD("eprt v6 trailing colon", C, "EPRT |2|1::2:|80|", K_EPRT, ADDR),
	BAD("eprt v6 bad hex", C, "EPRT |2|gg::1|80|", K_EPRT, ADDR),
	BAD("eprt v6 empty", C, "EPRT |2||80|", K_EPRT, ADDR),
	BAD("eprt v6 bare v4", C, "EPRT |2|1.2.3.4|80|", K_EPRT, ADDR),
	BAD("eprt v6 v4 tail too late", C, "EPRT |2|1:2:3:4:5:6:7:1.2.3.4|80|",
	    K_EPRT, ADDR),
	BAD("eprt v6 short v4 tail", C, "EPRT |2|::ffff:1.2.3|80|", K_EPRT,
	    ADDR),
	BAD("eprt v6 v4 tail octet", C, "EPRT |2|::ffff:1.2.3.256|80|", K_EPRT,
	    OCTET),
	BAD("eprt v6 v4 tail then group", C, "EPRT |2|::1.2.3.4:5|80|", K_EPRT,
	    ADDR),
	BAD("eprt v4 octet 256", C, "EPRT |1|1.2.3.256|80|", K_EPRT, OCTET),
	BAD("eprt v4 three parts", C, "EPRT |1|1.2.3|80|", K_EPRT, ADDR),
	BAD("eprt v4 five parts", C, "EPRT |1|1.2.3.4.5|80|", K_EPRT, ADDR),
	BAD("eprt v4 leading zero", C, "EPRT |1|010.2.3.4|80|", K_EPRT, ADDR),
	BAD("eprt v4 six digits", C, "EPRT |1|1234567.2.3.4|80|", K_EPRT,
	    NUMBER),
	BAD("eprt v4 junk separator", C, "EPRT |1|1.2x3.4|80|", K_EPRT, ADDR),
	BAD("eprt v6 lone colon", C, "EPRT |2|:|80|", K_EPRT, ADDR),
	BAD("eprt non-ASCII delimiter", C,
	    "EPRT \x80" "1\x80" "1.2.3.4\x80" "80\x80", K_EPRT, SYNTAX),
	BAD("eprt af unterminated", C, "EPRT |1", K_EPRT, SYNTAX),
	BAD("eprt addr unterminated", C, "EPRT |1|1.2.3.4", K_EPRT, SYNTAX),
	BAD("eprt v4 given v6", C, "EPRT |1|::1|80|", K_EPRT, ADDR),
	BAD("eprt v4 space", C, "EPRT |1| 1.2.3.4|80|", K_EPRT, ADDR),
	BAD("eprt family 3", C, "EPRT |3|1.2.3.4|80|", K_EPRT, FAMILY),
	BAD("eprt family 12", C, "EPRT |12|1.2.3.4|80|", K_EPRT, FAMILY),
	BAD("eprt family empty", C, "EPRT ||1.2.3.4|80|", K_EPRT, SYNTAX),
	BAD("eprt port 0", C, "EPRT |1|1.2.3.4|0|", K_EPRT, PORT),
	BAD("eprt port 65536", C, "EPRT |1|1.2.3.4|65536|", K_EPRT, PORT),
	BAD("eprt port 99999", C, "EPRT |1|1.2.3.4|99999|", K_EPRT, PORT),
	BAD("eprt port six digits", C, "EPRT |1|1.2.3.4|100000|", K_EPRT,
	    NUMBER),
	BAD("eprt port junk", C, "EPRT |1|1.2.3.4|80x|", K_EPRT, NUMBER),
	BAD("eprt port empty", C, "EPRT |1|1.2.3.4||", K_EPRT, SYNTAX),
	BAD("eprt no final delimiter", C, "EPRT |1|1.2.3.4|80", K_EPRT, SYNTAX),
	BAD("eprt mixed delimiters", C, "EPRT |1|1.2.3.4!80!", K_EPRT, SYNTAX),
	BAD("eprt trailing junk", C, "EPRT |1|1.2.3.4|80|x", K_EPRT, SYNTAX),
	BAD("eprt tab as delimiter", C, "EPRT \t1\t1.2.3.4\t80\t", K_EPRT,
	    SYNTAX),
	BAD("eprt no argument", C, "EPRT", K_EPRT, SYNTAX),
	BAD("eprt space only", C, "EPRT ", K_EPRT, SYNTAX),
	BAD("eprt NUL", C, "EPRT |1|1.2.3.4|80|\0", K_EPRT, CHAR),
	NONE("eprt EPRTX", C, "EPRTX |1|1.2.3.4|80|"),

	/* AUTH (RFC 2228 / 4217) and CCC */
	OK0("auth TLS", C, "AUTH TLS", K_AUTH),
	OK0("auth tls lowercase", C, "auth tls", K_AUTH),
	OK0("auth SSL mixed case", C, "Auth Ssl", K_AUTH),
	OK0("auth TLS-C", C, "AUTH TLS-C", K_AUTH),
	OK0("auth tls-p", C, "AUTH tls-p", K_AUTH),
	OK0("auth spaces", C, "AUTH   TLS \t", K_AUTH),
	OK0("auth tab after mechanism", C, "AUTH TLS\t", K_AUTH),
	NONE("auth GSSAPI", C, "AUTH GSSAPI"),
	NONE("auth KERBEROS_V4", C, "AUTH KERBEROS_V4"),
	NONE("auth TLSX", C, "AUTH TLSX"),
	NONE("auth glued", C, "AUTHTLS"),
	NONE("auth tab", C, "AUTH\tTLS"),
	BAD("auth no mechanism", C, "AUTH", K_AUTH, SYNTAX),
	BAD("auth space only", C, "AUTH ", K_AUTH, SYNTAX),
	BAD("auth extra argument", C, "AUTH TLS now", K_AUTH, SYNTAX),
	BAD("auth NUL", C, "AUTH TLS\0", K_AUTH, CHAR),
	OK0("ccc", C, "CCC", K_CCC),
	OK0("ccc lowercase trailing space", C, "ccc  ", K_CCC),
	BAD("ccc argument", C, "CCC now", K_CCC, SYNTAX),
	BAD("ccc CR", C, "CCC \r", K_CCC, CHAR),
	NONE("ccc CCCX", C, "CCCX"),
	NONE("ccc tab", C, "CCC\t"),

	/* 227 (RFC 959 PASV reply) */
	OK("227 vsftpd", S, "227 Entering Passive Mode (192,168,1,2,195,80).",
	   K_227, "c0a80102", 50000, "192,168,1,2,195,80"),
	OK("227 rfc1123 equals form", S, "227 =192,168,1,2,195,80", K_227,
	   "c0a80102", 50000, "192,168,1,2,195,80"),
	OK("227 no parentheses", S,
	   "227 Entering Passive Mode 192,168,1,2,195,80", K_227,
	   "c0a80102", 50000, "192,168,1,2,195,80"),
	OK("227 unclosed parenthesis", S, "227 Passive (10,0,0,1,4,1", K_227,
	   "0a000001", 1025, "10,0,0,1,4,1"),
	OK("227 text then dot", S, "227 Entering passive mode. 10,0,0,1,4,1",
	   K_227, "0a000001", 1025, "10,0,0,1,4,1"),
	OK("227 digits in text first", S, "227 Mode 2 v1.2 (10,0,0,1,4,1)",
	   K_227, "0a000001", 1025, "10,0,0,1,4,1"),
	OK("227 short run first", S, "227 ok 7,8 (10,0,0,1,4,1)", K_227,
	   "0a000001", 1025, "10,0,0,1,4,1"),
	OK("227 bare tuple", S, "227 1,2,3,4,5,6", K_227, "01020304", 1286,
	   "1,2,3,4,5,6"),
	OK("227 trailing text", S, "227 (1,2,3,4,5,6) ok", K_227, "01020304",
	   1286, "1,2,3,4,5,6"),
	BAD("227 octet 256", S,
	    "227 Entering Passive Mode (256,168,1,2,195,80).", K_227, OCTET),
	BAD("227 port 0", S, "227 (1,2,3,4,0,0)", K_227, PORT),
	BAD("227 port byte 256", S, "227 (1,2,3,4,1,256)", K_227, PORT),
	BAD("227 five numbers", S, "227 (1,2,3,4,5)", K_227, SYNTAX),
	BAD("227 seven numbers", S, "227 (1,2,3,4,5,6,7)", K_227, SYNTAX),
	BAD("227 trailing comma", S, "227 (1,2,3,4,5,6,)", K_227, SYNTAX),
	BAD("227 leading comma", S, "227 (,1,2,3,4,5,6)", K_227, SYNTAX),
	BAD("227 no numbers", S, "227 Entering Passive Mode", K_227, SYNTAX),
	BAD("227 code only", S, "227 ", K_227, SYNTAX),
	BAD("227 six digits", S, "227 (000001,2,3,4,5,6)", K_227, NUMBER),
	BAD("227 NUL", S, "227 (1,2,3,4,5,6)\0", K_227, CHAR),
	BAD("227 lone CR", S, "227 (1,2,3,4,5,6)\r.", K_227, CHAR),
	NONE("227 four digits", S, "2270 (1,2,3,4,5,6)"),
	NONE("227 leading space", S, " 227 (1,2,3,4,5,6)"),
	NONE("227 code alone", S, "227"),
	NONE("227 tab after code", S, "227\t(1,2,3,4,5,6)"),
	NONE("227 letter in code", S, "22x (1,2,3,4,5,6)"),
	NONE("227 letter in code digit 2", S, "2x7 (1,2,3,4,5,6)"),
	NONE("227 letter in code digit 1", S, "x27 (1,2,3,4,5,6)"),
	NONE("227 two digits", S, "22 (1,2,3,4,5,6)"),
	NONE("227 echoed in 500", S, "500 '227 (1,2,3,4,5,6)': not understood"),

	/* 229 (RFC 2428 EPSV reply) */
	OK("229 rfc2428", S, "229 Entering Extended Passive Mode (|||6446|)",
	   K_229, NULL, 6446, "|||6446|"),
	OK("229 delimiter !", S, "229 (!!!1!)", K_229, NULL, 1, "!!!1!"),
	OK("229 delimiter # trailing text", S,
	   "229 Extended Passive Mode OK (###65535#).", K_229, NULL, 65535,
	   "###65535#"),
	OK("229 leading zero", S, "229 (|||06446|)", K_229, NULL, 6446,
	   "|||06446|"),
	BAD("229 port 0", S, "229 Entering Extended Passive Mode (|||0|)",
	    K_229, PORT),
	BAD("229 port 65536", S, "229 (|||65536|)", K_229, PORT),
	BAD("229 six digits", S, "229 (|||100000|)", K_229, NUMBER),
	BAD("229 port junk", S, "229 (|||64x|)", K_229, NUMBER),
	BAD("229 empty port", S, "229 (||||)", K_229, SYNTAX),
	BAD("229 mixed delimiter", S, "229 (|||6446!)", K_229, SYNTAX),
	BAD("229 two delimiters", S, "229 (|!|6446|)", K_229, SYNTAX),
	BAD("229 no closing parenthesis", S, "229 (|||6446|", K_229, SYNTAX),
	BAD("229 no parenthesis", S, "229 Extended Passive Mode |||6446|",
	    K_229, SYNTAX),
	BAD("229 space delimiter", S, "229 (   6446 )", K_229, SYNTAX),
	BAD("229 with address", S, "229 (|1|1.2.3.4|6446|)", K_229, SYNTAX),
	BAD("229 non-ASCII delimiter", S, "229 (\x80\x80\x80" "1\x80)", K_229,
	    SYNTAX),
	BAD("229 third delimiter differs", S, "229 (||!6446|)", K_229, SYNTAX),
	BAD("229 junk after port", S, "229 (|||6446|x", K_229, SYNTAX),
	BAD("229 CR", S, "229 (|||6446|)\r", K_229, CHAR),

	/* 234 and 200 */
	OK0("234 vsftpd", S, "234 Proceed with negotiation.", K_234),
	OK0("234 empty text", S, "234 ", K_234),
	OK0("200 ccc reply", S, "200 Protection set to Clear", K_200),
	OK0("200 port reply", S, "200 PORT command successful.", K_200),
	BAD("234 NUL", S, "234 Proceed\0", K_234, CHAR),
	NONE("234 four digits", S, "2340 x"),
	NONE("230", S, "230 Login successful."),
	NONE("server empty line", S, ""),

	/* RFC 959 multi-line replies */
	ML("ml open 211", 0, "211-Features:", R_NONE, K_NONE, 211),
	ML("ml text line", 211, " EPRT", R_NONE, K_NONE, 211),
	ML("ml inner 227 other code", 211,
	   "227 Entering Passive Mode (1,2,3,4,5,6)", R_NONE, K_NONE, 211),
	ML("ml inner 229 other code", 211, "229 (|||6446|)", R_NONE, K_NONE,
	   211),
	ML("ml inner 234 other code", 211, "234 go", R_NONE, K_NONE, 211),
	ML("ml inner bad 227 ignored", 211, "227 (1,2,3,4,0,0)\0", R_NONE,
	   K_NONE, 211),
	ML("ml inner PORT", 211, "PORT 1,2,3,4,5,6", R_NONE, K_NONE, 211),
	ML("ml inner same code dash", 211, "211-more", R_NONE, K_NONE, 211),
	ML("ml inner same code tab", 211, "211\tEnd", R_NONE, K_NONE, 211),
	ML("ml close 211", 211, "211 End", R_NONE, K_NONE, 0),
	ML("ml close 211 with NUL", 211, "211 End\0", R_NONE, K_NONE, 0),
	ML("ml open 227", 0, "227-Entering Passive Mode (1,2,3,4,5,6)", R_NONE,
	   K_NONE, 227),
	ML("ml inner 227 dash", 227, "227-(1,2,3,4,5,6)", R_NONE, K_NONE, 227),
	{ "ml close 227 parsed", S, 227,
	  L("227 Entering Passive Mode (1,2,3,4,5,6)"), R_OK, K_227,
	  FTPX_BAD_NONE, "01020304", 1286, "1,2,3,4,5,6", 0 },
	ML("ml close 234 parsed", 234, "234 go", R_OK, K_234, 0),
	ML("ml close 200 parsed", 200, "200 ok", R_OK, K_200, 0),
	{ "ml close 229 bad", S, 229, L("229 (|||0|)"), R_BAD, K_229,
	  FTPX_BAD_PORT, NULL, 0, NULL, 0 },
	ML("ml code 000 opens nothing", 0, "000-odd", R_NONE, K_NONE, 0),
	ML("ml 550 block", 0, "550-No such file", R_NONE, K_NONE, 550),
	{ "ml client ignores state", C, 211, L("PORT 1,2,3,4,5,6"), R_OK,
	  K_PORT, FTPX_BAD_NONE, "01020304", 1286, "1,2,3,4,5,6", -1 },
};

static int failures, tests;

/*
 * With FTPX_BADINPUT_OUT set, every row that is not a line nf_ftpx acts on
 * (refused or ignored) is also written there as one row of the generated
 * bad-input table (scripts/gen-bad-input.sh -> docs/bad-input.md): what
 * was fed, what the parser must say, what it said.
 */
static FILE *badinput;

static void esc(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

static void outcome(char *buf, size_t len, enum ftpx_result res,
		    enum ftpx_kind kind, enum ftpx_bad bad)
{
	if (res == FTPX_R_NONE)
		snprintf(buf, len, "ignored");
	else if (res == FTPX_R_BAD)
		snprintf(buf, len, "refused %s: %s", ftpx_kind_name(kind),
			 ftpx_bad_name(bad));
	else
		snprintf(buf, len, "ACTED ON as %s", ftpx_kind_name(kind));
}

static void badinput_row(const char *name, enum ftpx_dir dir,
			 const char *line, size_t len, const char *shown,
			 enum ftpx_result want_res, enum ftpx_kind want_kind,
			 enum ftpx_bad want_bad, enum ftpx_result res,
			 const struct ftpx_match *m)
{
	char want[96], got[96];
	bool ok = res == want_res && m->kind == want_kind &&
		  m->bad == want_bad;

	if (!badinput)
		return;
	outcome(want, sizeof(want), want_res, want_kind, want_bad);
	outcome(got, sizeof(got), res, m->kind, m->bad);
	fprintf(badinput, "control\t%s\t%s: ", name,
		dir == FTPX_DIR_CLIENT ? "client" : "server");
	if (shown)
		fputs(shown, badinput);
	else
		esc(badinput, line, len);
	fprintf(badinput, "\t%s\t%s\t%s\n", want, got, ok ? "pass" : "FAIL");
}

/* @fmt NULL means the test passed. */
static void result(const char *name, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!fmt) {
		printf("PASS: parse: %s\n", name);
		return;
	}
	failures++;
	printf("FAIL: parse: %s (", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(")\n");
}

static void hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = b;
	}
}

static size_t find_sub(const char *hay, size_t hlen, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= hlen; i++)
		if (!memcmp(hay + i, needle, n))
			return i;
	return (size_t)-1;
}

static bool has_addr(enum ftpx_kind k)
{
	return k == FTPX_K_PORT || k == FTPX_K_EPRT || k == FTPX_K_227 ||
	       k == FTPX_K_229;
}

/*
 * Replace line[off..off+len) with ftpx_format() of the parsed values and
 * parse again: same values, span moved to the new text. This is what the
 * NAT rewrite relies on.
 */
static const char *roundtrip(const struct ftpx_pstate *st0, enum ftpx_dir dir,
			     const char *line, size_t len,
			     const struct ftpx_match *m)
{
	static char why[128];
	char fmt[FTPX_FMT_MAX], buf[512];
	struct ftpx_pstate st = *st0;
	struct ftpx_match m2;
	size_t n, nl;

	n = ftpx_format(m->kind, m->family, m->addr, m->port, fmt, sizeof(fmt));
	if (!n)
		return "format gave 0";
	nl = len - m->len + n;
	if (nl > sizeof(buf))
		return NULL;	/* only long synthetic lines; skip */
	memcpy(buf, line, m->off);
	memcpy(buf + m->off, fmt, n);
	memcpy(buf + m->off + n, line + m->off + m->len, len - m->off - m->len);
	if (ftpx_parse_line(&st, dir, buf, nl, &m2) != FTPX_R_OK) {
		snprintf(why, sizeof(why), "reparse of \"%.*s\" not OK",
			 (int)nl, buf);
		return why;
	}
	if (m2.kind != m->kind || m2.family != m->family ||
	    m2.port != m->port || memcmp(m2.addr, m->addr, 16) ||
	    m2.off != m->off || m2.len != n) {
		snprintf(why, sizeof(why), "reparse of \"%.*s\" differs",
			 (int)nl, buf);
		return why;
	}
	return NULL;
}

/* Every prefix of a line the parser acts on must be a candidate. */
static const char *prefixes(const struct ftpx_pstate *st, enum ftpx_dir dir,
			    const char *line, size_t len)
{
	static char why[64];
	size_t i;

	for (i = 0; i <= len; i++)
		if (!ftpx_line_candidate(st, dir, line, i)) {
			snprintf(why, sizeof(why), "prefix %zu not a candidate",
				 i);
			return why;
		}
	return NULL;
}

#define FAIL(...) do { result(r->name, __VA_ARGS__); return; } while (0)

static void run_row(const struct row *r)
{
	struct ftpx_pstate st = { .ml_code = r->ml_in }, st0 = st;
	unsigned char want[16] = { 0 };
	unsigned int fam = 0;
	struct ftpx_match m;
	enum ftpx_result res;
	const char *e;
	size_t off;

	res = ftpx_parse_line(&st, r->dir, r->line, r->len, &m);
	if (r->res != FTPX_R_OK && r->ml_in == 0)
		badinput_row(r->name, r->dir, r->line, r->len, NULL, r->res,
			     r->kind, r->bad, res, &m);
	if (res != r->res || m.kind != r->kind || m.bad != r->bad)
		FAIL("got %d/%s/%s, want %d/%s/%s", res,
			      ftpx_kind_name(m.kind), ftpx_bad_name(m.bad),
			      r->res, ftpx_kind_name(r->kind),
			      ftpx_bad_name(r->bad));
	if (r->ml_out >= 0 ? st.ml_code != r->ml_out : st.ml_code != r->ml_in)
		FAIL("ml_code %u", st.ml_code);
	if ((size_t)m.off + m.len > r->len)
		FAIL("span %u+%u past %zu", m.off, m.len,
			      r->len);
	if (res != FTPX_R_OK && (m.family || m.port || m.off || m.len))
		FAIL("values set on a non-OK line");
	if (r->addr) {
		fam = strlen(r->addr) == 8 ? 4 : 6;
		hex_to_bytes(r->addr, want, fam == 4 ? 4 : 16);
	}
	if (res == FTPX_R_OK && has_addr(m.kind)) {
		if (m.family != fam || memcmp(m.addr, want, 16))
			FAIL("address/family %u wrong",
				      m.family);
		if (m.port != r->port)
			FAIL("port %u", m.port);
	}
	if (r->span) {
		off = find_sub(r->line, r->len, r->span);
		if (m.off != off || m.len != strlen(r->span))
			FAIL("span %u+%u, want %zu+%zu",
				      m.off, m.len, off, strlen(r->span));
	}
	if (res == FTPX_R_OK && has_addr(m.kind)) {
		e = roundtrip(&st0, r->dir, r->line, r->len, &m);
		if (e)
			FAIL("%s", e);
	}
	if (res != FTPX_R_NONE) {
		e = prefixes(&st0, r->dir, r->line, r->len);
		if (e)
			FAIL("%s", e);
	}
	result(r->name, NULL);
}

#undef FAIL

/* Long inputs: bounded work and no overflow whatever the digit count. */
static void test_long(void)
{
	static const struct {
		const char *name, *pre, *post;
		enum ftpx_dir dir;
		enum ftpx_bad bad;
	} cases[] = {
		{ "70000 digits in PORT", "PORT ", ",1,1,1,1,1", C,
		  FTPX_BAD_NUMBER },
		{ "70000 digits in PORT port", "PORT 1,1,1,1,1,", "", C,
		  FTPX_BAD_NUMBER },
		{ "70000 digits in 227", "227 (", ",1,1,1,1,1)", S,
		  FTPX_BAD_NUMBER },
		{ "70000 digits in EPRT port", "EPRT |1|1.2.3.4|", "|", C,
		  FTPX_BAD_NUMBER },
		{ "70000 digits in EPRT octet", "EPRT |1|", ".1.1.1|80|", C,
		  FTPX_BAD_NUMBER },
		{ "70000 digits in 229", "229 (|||", "|)", S, FTPX_BAD_NUMBER },
		{ "70000 digits in 227 text", "227 (1,2,3,4,5,6) ", "", S,
		  FTPX_BAD_NONE },
		{ "70000 digits in EPRT v6", "EPRT |2|", "::1|80|", C,
		  FTPX_BAD_ADDR },
	};
	size_t nd = 70000, i, lp, lq, len;
	struct ftpx_pstate st = { 0 };
	struct ftpx_match m;
	enum ftpx_result res;
	char *buf;

	buf = malloc(nd + 64);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lp = strlen(cases[i].pre);
		lq = strlen(cases[i].post);
		memcpy(buf, cases[i].pre, lp);
		memset(buf + lp, '9', nd);
		memcpy(buf + lp + nd, cases[i].post, lq);
		len = lp + nd + lq;
		res = ftpx_parse_line(&st, cases[i].dir, buf, len, &m);
		if (cases[i].bad != FTPX_BAD_NONE) {
			const char *p = cases[i].pre;
			enum ftpx_kind k = p[0] == 'P' ? FTPX_K_PORT :
					   p[0] == 'E' ? FTPX_K_EPRT :
					   p[2] == '7' ? FTPX_K_227 :
					   FTPX_K_229;
			char shown[96];

			snprintf(shown, sizeof(shown), "%s<70000 x 9>%s", p,
				 cases[i].post);
			badinput_row(cases[i].name, cases[i].dir, buf, len,
				     shown, FTPX_R_BAD, k, cases[i].bad, res,
				     &m);
		}
		if (cases[i].bad == FTPX_BAD_NONE ?
		    res != FTPX_R_OK || m.off != 5 || m.len != 11 :
		    res != FTPX_R_BAD || m.bad != cases[i].bad)
			result(cases[i].name, "got %d/%s off %u", res,
			       ftpx_bad_name(m.bad), m.off);
		else
			result(cases[i].name, NULL);
	}

	/* a span starting past 64 KiB cannot be described in u16 off/len */
	memcpy(buf, "227 ", 4);
	memset(buf + 4, 'x', nd);
	memcpy(buf + 4 + nd, "(1,2,3,4,5,6)", 13);
	res = ftpx_parse_line(&st, S, buf, nd + 17, &m);
	result("span past 64 KiB refused", res == FTPX_R_BAD &&
	       m.bad == FTPX_BAD_SYNTAX ? NULL : "got %d", res);

	/* 64 KiB partial lines fed to the candidate test */
	len = 65536;
	memcpy(buf, "PORT ", 5);
	memset(buf + 5, '1', len - 5);
	result("64 KiB PORT partial is a candidate",
	       ftpx_line_candidate(&st, C, buf, len) ? NULL : "false");
	memcpy(buf, "NOOP ", 5);
	result("64 KiB NOOP partial is not a candidate",
	       !ftpx_line_candidate(&st, C, buf, len) ? NULL : "true");
	memcpy(buf, "227 ", 4);
	result("64 KiB 227 partial is a candidate",
	       ftpx_line_candidate(&st, S, buf, len) ? NULL : "false");
	st.ml_code = 211;
	result("64 KiB 227 partial inside 211 block is not a candidate",
	       !ftpx_line_candidate(&st, S, buf, len) ? NULL : "true");
	st.ml_code = 0;
	memset(buf, 0, len);
	result("64 KiB of NUL is not a candidate",
	       !ftpx_line_candidate(&st, C, buf, len) &&
	       !ftpx_line_candidate(&st, S, buf, len) ? NULL : "true");
	free(buf);
}

static const struct {
	enum ftpx_dir dir;
	unsigned int ml;
	const char *line;
	bool want;
} cands[] = {
	{ C, 0, "", true }, { C, 0, "P", true }, { C, 0, "p", true },
	{ C, 0, "Po", true }, { C, 0, "POR", true }, { C, 0, "PORT", true },
	{ C, 0, "PORT ", true }, { C, 0, "PORT 1,2", true },
	{ C, 0, "PORTX", false }, { C, 0, "PORT\t", false },
	{ C, 0, "E", true }, { C, 0, "eprt", true }, { C, 0, "EPRT |", true },
	{ C, 0, "A", true }, { C, 0, "AUT", true }, { C, 0, "AUTH T", true },
	{ C, 0, "C", true }, { C, 0, "CC", true }, { C, 0, "CCC", true },
	{ C, 0, "CCC ", true }, { C, 0, "CCCC", false },
	{ C, 0, "U", false }, { C, 0, "USER x", false }, { C, 0, " ", false },
	{ C, 0, "PASV", false }, { C, 0, "EPSV", false },
	{ C, 211, "PORT 1", true },
	{ S, 0, "", true }, { S, 0, "2", true }, { S, 0, "22", true },
	{ S, 0, "227", true }, { S, 0, "227 ", true }, { S, 0, "227 (1", true },
	{ S, 0, "229", true }, { S, 0, "229 (|||", true }, { S, 0, "23", true },
	{ S, 0, "234", true }, { S, 0, "234 x", true }, { S, 0, "20", true },
	{ S, 0, "200", true }, { S, 0, "200 ok", true },
	{ S, 0, "227-", false }, { S, 0, "2270", false }, { S, 0, "3", false },
	{ S, 0, "21", false }, { S, 0, "230 ", false }, { S, 0, "1", false },
	{ S, 0, "PORT", false }, { S, 0, " 227", false },
	{ S, 211, "", true }, { S, 211, "2", true }, { S, 211, "21", true },
	{ S, 211, "211", true }, { S, 211, "211 ", true },
	{ S, 211, "211 End", false }, { S, 211, "22", false },
	{ S, 211, "227 (1,2,3,4,5,6)", false }, { S, 211, "211-", false },
	{ S, 227, "227", true }, { S, 227, "227 (1", true },
	{ S, 227, "227-", false }, { S, 227, "229 (", false },
	{ S, 229, "229 (|||1|)", true }, { S, 550, "5", true },
	{ S, 550, "550 ", true }, { S, 550, "550 x", false },
};

static void test_candidates(void)
{
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		struct ftpx_pstate st = { .ml_code = cands[i].ml };
		bool got = ftpx_line_candidate(&st, cands[i].dir, cands[i].line,
					       strlen(cands[i].line));

		snprintf(name, sizeof(name), "candidate %s ml %u \"%s\"",
			 cands[i].dir == C ? "client" : "server", cands[i].ml,
			 cands[i].line);
		result(name, got == cands[i].want ? NULL : "got %d", got);
	}
}

static const struct {
	const char *name;
	enum ftpx_kind kind;
	unsigned int family;
	const char *addr;	/* hex */
	unsigned int port;
	const char *want;	/* NULL: must give 0 */
} fmts[] = {
	{ "fmt port", K_PORT, 4, "0a000001", 1025, "10,0,0,1,4,1" },
	{ "fmt 227 max", K_227, 4, "ffffffff", 65535,
	  "255,255,255,255,255,255" },
	{ "fmt eprt v4", K_EPRT, 4, "c0a80102", 21, "|1|192.168.1.2|21|" },
	{ "fmt 229", K_229, 0, NULL, 6446, "|||6446|" },
	{ "fmt v6 compress middle", K_EPRT, 6,
	  "20010db8000000000000000000020001", 80, "|2|2001:db8::2:1|80|" },
	{ "fmt v6 single zero kept", K_EPRT, 6,
	  "20010db8000000010001000100010001", 80,
	  "|2|2001:db8:0:1:1:1:1:1|80|" },
	{ "fmt v6 longest run", K_EPRT, 6, "20010000000000010000000000000001",
	  80, "|2|2001:0:0:1::1|80|" },
	{ "fmt v6 first run on tie", K_EPRT, 6,
	  "20010db8000000000001000000000001", 80,
	  "|2|2001:db8::1:0:0:1|80|" },
	{ "fmt v6 all zero", K_EPRT, 6, "00000000000000000000000000000000", 80,
	  "|2|::|80|" },
	{ "fmt v6 loopback", K_EPRT, 6, "00000000000000000000000000000001", 80,
	  "|2|::1|80|" },
	{ "fmt v6 trailing run", K_EPRT, 6, "00010000000000000000000000000000",
	  80, "|2|1::|80|" },
	{ "fmt v6 later run longer", K_EPRT, 6,
	  "00000000000100000000000000000000", 80, "|2|0:0:1::|80|" },
	{ "fmt v6 no run", K_EPRT, 6, "00000001000000010000000100000001", 80,
	  "|2|0:1:0:1:0:1:0:1|80|" },
	{ "fmt v6 lowercase no leading zeros", K_EPRT, 6,
	  "abcd0ef000f0000fabcdef0123456789", 80,
	  "|2|abcd:ef0:f0:f:abcd:ef01:2345:6789|80|" },
	{ "fmt v6 mapped", K_EPRT, 6, "00000000000000000000ffffc0000201", 80,
	  "|2|::ffff:192.0.2.1|80|" },
	{ "fmt v6 compat stays hex", K_EPRT, 6,
	  "000000000000000000000000c0000201", 80, "|2|::c000:201|80|" },
	{ "fmt v6 longest text", K_EPRT, 6, "ffffffffffffffffffffffffffffffff",
	  65535, "|2|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|65535|" },
	{ "fmt port with v6 refused", K_PORT, 6,
	  "00000000000000000000000000000001", 80, NULL },
	{ "fmt 227 with family 0 refused", K_227, 0, "00000000", 80, NULL },
	{ "fmt eprt family 5 refused", K_EPRT, 5, "00000000", 80, NULL },
	{ "fmt port 0 refused", K_EPRT, 4, "01020304", 0, NULL },
	{ "fmt auth refused", K_AUTH, 4, "01020304", 80, NULL },
	{ "fmt none refused", K_NONE, 4, "01020304", 80, NULL },
};

static void test_format(void)
{
	unsigned char a[16];
	char buf[FTPX_FMT_MAX];
	size_t i, n, w;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		memset(a, 0, sizeof(a));
		if (fmts[i].addr)
			hex_to_bytes(fmts[i].addr, a, strlen(fmts[i].addr) / 2);
		memset(buf, 'x', sizeof(buf));
		n = ftpx_format(fmts[i].kind, fmts[i].family, a, fmts[i].port,
				buf, sizeof(buf));
		w = fmts[i].want ? strlen(fmts[i].want) : 0;
		if (n != w || (w && strcmp(buf, fmts[i].want)))
			result(fmts[i].name, "got %zu \"%.*s\"", n, (int)n,
			       buf);
		else
			result(fmts[i].name, NULL);
	}

	/* the buffer must hold the text and its NUL */
	memset(a, 0xff, sizeof(a));
	n = ftpx_format(K_EPRT, 6, a, 65535, buf, sizeof(buf));
	result("fmt longest fits FTPX_FMT_MAX", n && n < FTPX_FMT_MAX ?
	       NULL : "%zu", n);
	result("fmt buffer without room for NUL",
	       !ftpx_format(K_EPRT, 6, a, 65535, buf, n) ? NULL : "nonzero");
	result("fmt buffer exactly big enough",
	       ftpx_format(K_EPRT, 6, a, 65535, buf, n + 1) == n &&
	       !buf[n] ? NULL : "wrong");
	result("fmt NULL address refused",
	       !ftpx_format(K_PORT, 4, NULL, 1, buf, sizeof(buf)) &&
	       !ftpx_format(K_EPRT, 6, NULL, 1, buf, sizeof(buf)) ?
	       NULL : "nonzero");
	result("fmt zero-size buffer",
	       !ftpx_format(K_229, 0, NULL, 1, NULL, 0) ? NULL : "nonzero");
}

/* format -> parse over many pseudo-random addresses (fixed seed). */
static void test_fmt_roundtrip(void)
{
	unsigned long x = 0x2545f4914f6cdd1dUL;
	char line[FTPX_FMT_MAX + 8];
	struct ftpx_pstate st = { 0 };
	struct ftpx_match m;
	unsigned char a[16];
	size_t i, k, n;
	u16 port;

	for (i = 0; i < 200000; i++) {
		for (k = 0; k < 16; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* favour zero groups so "::" cases come up often */
			a[k] = (x & 0x300) ? 0 : x;
		}
		if (i % 7 == 0)
			memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		port = (x >> 20) | 1;
		memcpy(line, "EPRT ", 5);
		n = ftpx_format(K_EPRT, 6 - 2 * (i & 1), a, port, line + 5,
				sizeof(line) - 5);
		if (!n || ftpx_parse_line(&st, C, line, n + 5, &m) != R_OK ||
		    m.port != port || memcmp(m.addr, a, i & 1 ? 4 : 16)) {
			result("format/parse round trip", "\"%.*s\"",
			       (int)n + 5, line);
			return;
		}
	}
	result("format/parse round trip", NULL);
}

static void test_names(void)
{
	static const char *const kinds[] = { "none", "port", "eprt", "227",
		"229", "auth", "234", "ccc", "200" };
	static const char *const bads[] = { "none", "syntax", "octet", "port",
		"number", "family", "addr", "char" };
	int i, bad = 0;

	for (i = 0; i < FTPX_K_MAX; i++)
		bad |= strcmp(ftpx_kind_name(i), kinds[i]);
	for (i = 0; i < FTPX_BAD_MAX; i++)
		bad |= strcmp(ftpx_bad_name(i), bads[i]);
	bad |= strcmp(ftpx_kind_name(FTPX_K_MAX), "?");
	bad |= strcmp(ftpx_bad_name(FTPX_BAD_MAX), "?");
	bad |= strcmp(ftpx_kind_name((enum ftpx_kind)-1), "?");
	result("names", bad ? "mismatch" : NULL);
}

/* A vsftpd-like session carried through one state per direction. */
static void test_session(void)
{
	static const struct {
		enum ftpx_dir dir;
		const char *line;
		enum ftpx_result res;
		enum ftpx_kind kind;
	} s[] = {
		{ S, "220 (vsFTPd 3.0.3)", R_NONE, K_NONE },
		{ C, "FEAT", R_NONE, K_NONE },
		{ S, "211-Features:", R_NONE, K_NONE },
		{ S, " EPRT", R_NONE, K_NONE },
		{ S, "227 Entering Passive Mode (6,6,6,6,6,6)", R_NONE,
		  K_NONE },
		{ S, "229 Entering Extended Passive Mode (|||666|)", R_NONE,
		  K_NONE },
		{ S, "234 fake", R_NONE, K_NONE },
		{ S, "211 End", R_NONE, K_NONE },
		{ C, "AUTH TLS", R_OK, K_AUTH },
		{ S, "234 Proceed with negotiation.", R_OK, K_234 },
		{ C, "PASV", R_NONE, K_NONE },
		{ S, "227 Entering Passive Mode (10,0,0,1,4,1).", R_OK, K_227 },
		{ C, "EPSV", R_NONE, K_NONE },
		{ S, "229 Entering Extended Passive Mode (|||6446|)", R_OK,
		  K_229 },
		{ C, "PORT 10,0,0,2,4,2", R_OK, K_PORT },
		{ S, "200 PORT command successful.", R_OK, K_200 },
		{ C, "EPRT |2|2001:db8::2|1026|", R_OK, K_EPRT },
		{ S, "150-Here comes a listing", R_NONE, K_NONE },
		{ S, "227 (7,7,7,7,7,7)", R_NONE, K_NONE },
		{ S, "150 ok", R_NONE, K_NONE },
		{ S, "227 Entering Passive Mode (10,0,0,1,4,2)", R_OK, K_227 },
		{ C, "CCC", R_OK, K_CCC },
		{ S, "200 Protection set to Clear", R_OK, K_200 },
		{ C, "QUIT", R_NONE, K_NONE },
		{ S, "221 Goodbye.", R_NONE, K_NONE },
	};
	struct ftpx_pstate st[2] = { { 0 }, { 0 } };
	struct ftpx_match m;
	enum ftpx_result res;
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		res = ftpx_parse_line(&st[s[i].dir], s[i].dir, s[i].line,
				      strlen(s[i].line), &m);
		if (res != s[i].res || m.kind != s[i].kind) {
			result("session", "line %zu \"%s\" gave %d/%s", i,
			       s[i].line, res, ftpx_kind_name(m.kind));
			return;
		}
	}
	result("session", st[S].ml_code ? "block left open" : NULL);
}

int main(void)
{
	const char *out = getenv("FTPX_BADINPUT_OUT");
	size_t i;

	if (out && *out) {
		badinput = fopen(out, "w");
		if (!badinput) {
			perror(out);
			return 1;
		}
	}

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
	test_long();
	test_candidates();
	test_format();
	test_fmt_roundtrip();
	test_names();
	test_session();
	if (badinput)
		fclose(badinput);
	printf("parse: %d tests, %d failed\n", tests, failures);
	return failures ? 1 : 0;
}
