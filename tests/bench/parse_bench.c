// SPDX-License-Identifier: GPL-2.0
/*
 * Parser benchmark: nf_ftpx's shared parser (nf_ftpx/ftpx_parse.c, built
 * for userspace) against the in-tree helper's matcher (intree_ftp.c), over
 * the same control lines.
 *
 *   parse_bench count PARSER SET CORPUS_DIR
 *       parse every line of SET once in bench_run() (for callgrind
 *       --toggle-collect=bench_run) and print "lines N"
 *   parse_bench rate SET CORPUS_DIR SECONDS
 *       alternate 0.1 s blocks of both parsers for SECONDS in total and
 *       print "rate ftpx L/S", "rate intree L/S" (lines per second)
 *
 * PARSER: ftpx | intree. SET: real (the fuzz seed corpus: captured and
 * hand-written dialogues) | adv (generated lines that are costly to
 * match: long near-misses, digit runs, long IPv6 texts, unterminated
 * prefixes). Each parser gets a line the way its kernel caller passes it:
 * nf_ftpx without CR/LF, the in-tree matcher as a segment ending in CRLF.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftpx_parse.h"
#include "intree_ftp.h"

struct line {
	char *p;		/* the line followed by "\r\n" */
	size_t len;		/* without CR/LF */
	int dir;
};

static struct line *lines;
static size_t n_lines, cap_lines;
static volatile unsigned long sink;

static void add_line(const char *p, size_t len, int dir)
{
	struct line *l;

	if (n_lines == cap_lines) {
		cap_lines = cap_lines ? 2 * cap_lines : 1024;
		lines = realloc(lines, cap_lines * sizeof(*lines));
		if (!lines)
			exit(2);
	}
	l = &lines[n_lines++];
	l->p = malloc(len + 2);
	if (!l->p)
		exit(2);
	memcpy(l->p, p, len);
	memcpy(l->p + len, "\r\n", 2);
	l->len = len;
	l->dir = dir;
}

/* One seed file, read the way tests/fuzz/fuzz_parse.c reads it. */
static void load_seed(const char *path)
{
	static char buf[1 << 20];
	size_t n, i, start;
	int mode, k = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (!n)
		return;
	mode = buf[0] & 3;
	for (start = 1, i = 1; i <= n; i++) {
		const char *p = buf + start;
		size_t len;
		int dir;

		if (i < n && buf[i] != '\n')
			continue;
		len = i - start;
		start = i + 1;
		if (len && p[len - 1] == '\r')
			len--;
		if (!len)
			continue;
		switch (mode) {
		case 0: dir = FTPX_DIR_CLIENT; break;
		case 1: dir = FTPX_DIR_SERVER; break;
		case 2: dir = k++ % 2 ? FTPX_DIR_CLIENT : FTPX_DIR_SERVER; break;
		default:
			dir = p[0] == 'C' ? FTPX_DIR_CLIENT : FTPX_DIR_SERVER;
			p++;
			len--;
		}
		add_line(p, len, dir);
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_real(const char *dir)
{
	char *names[512], path[4096];
	struct dirent *e;
	int n = 0, i;
	DIR *d = opendir(dir);

	if (!d) {
		perror(dir);
		exit(2);
	}
	while ((e = readdir(d)) && n < 512)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		load_seed(path);
		free(names[i]);
	}
}

static void add_str(const char *s, int dir)
{
	add_line(s, strlen(s), dir);
}

/* Lines that make a matcher work: what a hostile peer or a broken client
 * sends on the control connection to burn router CPU. */
static void load_adv(void)
{
	char b[600];
	int i, r;

	for (r = 0; r < 8; r++) {
		/* "227 " and no digit for 150-500 bytes (the in-tree helper
		 * scans all of it; a partial match drops the segment there) */
		memset(b, 0, sizeof(b));
		strcpy(b, "227 Entering Passive Mode ");
		for (i = strlen(b); i < 150 + r * 50; i++)
			b[i] = 'a' + i % 26;
		add_str(b, FTPX_DIR_SERVER);
		/* "229 " and no parenthesis */
		memcpy(b, "229 ", 4);
		add_str(b, FTPX_DIR_SERVER);
		/* PORT with a digit run in place of the numbers */
		memset(b, 0, sizeof(b));
		strcpy(b, "PORT ");
		for (i = 5; i < 150 + r * 50; i++)
			b[i] = '1' + i % 9;
		add_str(b, FTPX_DIR_CLIENT);
		/* PORT: separators with nothing between, never a sixth field */
		memset(b, 0, sizeof(b));
		strcpy(b, "PORT 1");
		for (i = 6; i < 150 + r * 50; i++)
			b[i] = i % 2 ? '.' : '9';
		add_str(b, FTPX_DIR_CLIENT);
		/* spaces before the numbers */
		memset(b, 0, sizeof(b));
		strcpy(b, "PORT");
		for (i = 4; i < 140 + r * 50; i++)
			b[i] = ' ';
		strcpy(b + i, "10,0,0,1,4,1");
		add_str(b, FTPX_DIR_CLIENT);
		/* EPRT |2| with a long IPv6-looking text */
		memset(b, 0, sizeof(b));
		strcpy(b, "EPRT |2|");
		for (i = 8; i < 150 + r * 50; i++)
			b[i] = "0123:abcd:"[i % 10];
		add_str(b, FTPX_DIR_CLIENT);
		/* EPRT |1| with a dotted digit run */
		memset(b, 0, sizeof(b));
		strcpy(b, "EPRT |1|");
		for (i = 8; i < 150 + r * 50; i++)
			b[i] = i % 4 ? '9' : '.';
		add_str(b, FTPX_DIR_CLIENT);
		/* "229 (|||" and a digit run */
		memset(b, 0, sizeof(b));
		strcpy(b, "229 Entering Extended Passive Mode (|||");
		for (i = strlen(b); i < 150 + r * 50; i++)
			b[i] = '7';
		add_str(b, FTPX_DIR_SERVER);
		/* a long multi-line reply full of 227-looking text */
		add_str("227-Entering Passive Mode (10,0,0,1,4,1)", FTPX_DIR_SERVER);
		for (i = 0; i < 4; i++)
			add_str(" 227 Entering Passive Mode (10,0,0,1,4,1)",
				FTPX_DIR_SERVER);
		add_str("227 Entering Passive Mode (10,0,0,1,4,1)", FTPX_DIR_SERVER);
		/* embedded NUL in a valid-looking PORT */
		add_line("PORT 10,0,0,1,4\0,1", 19, FTPX_DIR_CLIENT);
		/* case games and lowercase commands */
		add_str("pOrT 10,0,0,1,4,1", FTPX_DIR_CLIENT);
		add_str("ePrT |2|2001:db8:0:0:0:0:0:1|5282|", FTPX_DIR_CLIENT);
	}
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* One pass over the set; callgrind counts only what runs in here. */
__attribute__((noinline)) void bench_run(int parser)
{
	struct ftpx_pstate st[2] = { { 0 }, { 0 } };
	unsigned long acc = 0;
	size_t i;

	for (i = 0; i < n_lines; i++) {
		const struct line *l = &lines[i];

		if (parser == 0) {
			struct ftpx_match m;

			acc += ftpx_parse_line(&st[l->dir], l->dir, l->p,
					       l->len, &m);
		} else {
			struct intree_match m;

			acc += intree_ftp_match(l->dir, 4, l->p, l->len + 2,
						&m) + 1;
		}
	}
	sink += acc;
}

static double rate_block(int parser, double secs, unsigned long *done)
{
	double t0 = now(), t;
	unsigned long n = 0;

	do {
		bench_run(parser);
		n += n_lines;
		t = now();
	} while (t - t0 < secs);
	*done += n;
	return t - t0;
}

int main(int argc, char **argv)
{
	int parser = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: parse_bench count ftpx|intree real|adv DIR\n"
			"       parse_bench rate real|adv DIR SECONDS\n");
		return 2;
	}
	if (!strcmp(argv[1], "count")) {
		if (argc < 5)
			return 2;
		parser = !strcmp(argv[2], "intree");
		if (!strcmp(argv[3], "adv"))
			load_adv();
		else
			load_real(argv[4]);
		bench_run(parser);
		printf("lines %zu\n", n_lines);
		return 0;
	}
	if (!strcmp(argv[1], "rate") && argc >= 5) {
		double total = atof(argv[4]), t[2] = { 0, 0 };
		unsigned long n[2] = { 0, 0 };

		if (!strcmp(argv[2], "adv"))
			load_adv();
		else
			load_real(argv[3]);
		/* warm up both, then alternate so load changes hit both */
		rate_block(0, 0.05, &n[0]);
		rate_block(1, 0.05, &n[1]);
		n[0] = n[1] = 0;
		while (t[0] + t[1] < total) {
			t[0] += rate_block(0, 0.1, &n[0]);
			t[1] += rate_block(1, 0.1, &n[1]);
		}
		printf("lines %zu\n", n_lines);
		printf("rate ftpx %.0f\n", n[0] / t[0]);
		printf("rate intree %.0f\n", n[1] / t[1]);
		return 0;
	}
	return 2;
}
