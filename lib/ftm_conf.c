// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /etc/flushtm/flushtm.conf and flushtm.conf.d/ *.conf, through inih.
 *
 * Each file is read whole first so that what inih cannot say clearly (binary
 * data, absurd sizes, overlong lines) is refused with a reason; lines are
 * then handed to inih by our own reader, which also gives the handler the
 * line number that this inih build does not pass (INI_HANDLER_LINENO 0).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftm_private.h"
#include "ftm_sources.h"

#define CONF_MAX_BYTES	FTM_CONF_MAX_BYTES

struct conf_reader {
	const char *data, *pos, *end;
	unsigned int line;	/* number of the line last handed to inih */
	bool too_long;
};

/*
 * The range names seen so far, across files: an open-addressing hash of
 * indices into conf->ranges (index + 1; 0 is an empty slot), so that a
 * duplicate is found in constant time and a large file parses in linear time.
 */
struct name_index {
	size_t *slots;
	size_t cap;		/* a power of two, at least twice the ranges held */
};

struct conf_parse {
	struct conf_reader rd;
	struct ftm_conf *conf;
	struct name_index *names;
	size_t ranges_cap;	/* allocated length of conf->ranges */
	const char *file;
	/* The first error; inih goes on after a handler error, we keep only this one. */
	unsigned int err_line;
	char err[512];
	/* Keys seen in the current section of the current file, to refuse repeats. */
	char section[FTM_NAME_MAX + 16];
	unsigned int seen;
	struct ftm_conf_range *cur;	/* the [range NAME] being filled, or NULL */
};

enum {
	SEEN_METHOD = 1u << 0, SEEN_THRESHOLD = 1u << 1, SEEN_HOOKS = 1u << 2,
	SEEN_SOURCES = 1u << 3, SEEN_START = 1u << 4, SEEN_SIZE = 1u << 5,
	SEEN_RESERVE_MEM = 1u << 6, SEEN_BUDGET = 1u << 7, SEEN_TEXTFILE_DIR = 1u << 8,
	SEEN_TEXTFILE_INTERVAL = 1u << 9, SEEN_PRIORITY = 1u << 10,
};

__attribute__((format(printf, 2, 3)))
static int conf_error(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_line)
		return 0;
	p->err_line = p->rd.line;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return 0;
}

/* Splits a space-separated list in place; calls fn on each word. */
static int for_each_word(char *list, int (*fn)(struct conf_parse *, const char *),
			 struct conf_parse *p)
{
	char *save = NULL;

	for (char *w = strtok_r(list, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save))
		if (!fn(p, w))
			return 0;
	return 1;
}

static int add_hook(struct conf_parse *p, const char *word)
{
	struct ftm_conf *c = p->conf;
	size_t n = 0;
	char **grown;

	if (!ftm_hook_name_valid(word))
		return conf_error(p, "unknown hook '%s'", word);
	while (c->hooks[n]) {
		if (!strcmp(c->hooks[n], word))
			return conf_error(p, "hook '%s' listed twice", word);
		n++;
	}
	grown = realloc(c->hooks, (n + 2) * sizeof(*grown));
	if (!grown)
		return conf_error(p, "out of memory");
	c->hooks = grown;
	c->hooks[n] = strdup(word);
	c->hooks[n + 1] = NULL;
	return c->hooks[n] ? 1 : conf_error(p, "out of memory");
}

static int add_source(struct conf_parse *p, const char *word)
{
	unsigned int bit;
	char words[64];

	if (ftm_source_parse(word, &bit) < 0)
		return conf_error(p, "unknown source '%s' (%s)", word,
				  ftm_sources_format(FTM_SRC_ALL, words, sizeof(words)));
	p->conf->sources |= bit;
	return 1;
}

static bool once(struct conf_parse *p, unsigned int bit)
{
	if (p->seen & bit)
		return false;
	p->seen |= bit;
	return true;
}

static int handle_flushtm(struct conf_parse *p, const char *key, const char *value)
{
	struct ftm_conf *c = p->conf;
	char list[INI_MAX_LINE];
	int ret;

	if (!strcmp(key, "method")) {
		if (!once(p, SEEN_METHOD))
			return conf_error(p, "method given twice");
		if (!ftm_method_valid(value))
			return conf_error(p, "method '%s': not one of auto, lines, cache", value);
		snprintf(c->method, sizeof(c->method), "%s", value);
		c->has_method = true;
		return 1;
	}
	if (!strcmp(key, "cache_threshold")) {
		if (!once(p, SEEN_THRESHOLD))
			return conf_error(p, "cache_threshold given twice");
		ret = ftm_parse_size(value, &c->cache_threshold);
		if (ret < 0)
			return conf_error(p, "cache_threshold '%s': %s", value,
					  ret == -ERANGE ? "too large" : "not a size");
		c->has_threshold = true;
		return 1;
	}
	if (!strcmp(key, "crash_budget_ms")) {
		if (!once(p, SEEN_BUDGET))
			return conf_error(p, "crash_budget_ms given twice");
		if (!ftm_crash_budget_valid(value))
			return conf_error(p, "crash_budget_ms '%s': not auto or milliseconds", value);
		snprintf(c->crash_budget, sizeof(c->crash_budget), "%s", value);
		c->has_budget = true;
		return 1;
	}
	if (!strcmp(key, "hooks")) {
		if (!once(p, SEEN_HOOKS))
			return conf_error(p, "hooks given twice");
		/* A later file replaces the list, it does not add to it. */
		for (char **h = c->hooks; h && *h; h++)
			free(*h);
		free(c->hooks);
		c->hooks = calloc(1, sizeof(*c->hooks));
		if (!c->hooks)
			return conf_error(p, "out of memory");
		c->has_hooks = true;
		snprintf(list, sizeof(list), "%s", value);
		return for_each_word(list, add_hook, p);
	}
	return conf_error(p, "unknown key '%s' in [flushtm] (method, cache_threshold, crash_budget_ms, hooks)", key);
}

static int handle_flushtmd(struct conf_parse *p, const char *key, const char *value)
{
	char list[INI_MAX_LINE];

	if (!strcmp(key, "sources")) {
		if (!once(p, SEEN_SOURCES))
			return conf_error(p, "sources given twice");
		p->conf->sources = 0;
		p->conf->has_sources = true;
		snprintf(list, sizeof(list), "%s", value);
		return for_each_word(list, add_source, p);
	}
	if (!strcmp(key, "textfile_dir")) {
		if (!once(p, SEEN_TEXTFILE_DIR))
			return conf_error(p, "textfile_dir given twice");
		/* "none" (or nothing) turns the metrics file off. */
		if (!strcmp(value, "none"))
			value = "";
		if (value[0] && value[0] != '/')
			return conf_error(p, "textfile_dir '%s': not an absolute path (or none)",
					  value);
		if (strlen(value) >= sizeof(p->conf->textfile_dir))
			return conf_error(p, "textfile_dir: longer than %zu bytes",
					  sizeof(p->conf->textfile_dir) - 1);
		snprintf(p->conf->textfile_dir, sizeof(p->conf->textfile_dir), "%s", value);
		p->conf->has_textfile_dir = true;
		return 1;
	}
	if (!strcmp(key, "textfile_interval")) {
		unsigned long secs;
		char *end;

		if (!once(p, SEEN_TEXTFILE_INTERVAL))
			return conf_error(p, "textfile_interval given twice");
		errno = 0;
		secs = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || secs < 1 || secs > 86400)
			return conf_error(p, "textfile_interval '%s': not a number of seconds "
					  "(1 to 86400)", value);
		p->conf->textfile_interval = (unsigned int)secs;
		p->conf->has_textfile_interval = true;
		return 1;
	}
	return conf_error(p, "unknown key '%s' in [flushtmd] (sources, textfile_dir, "
			  "textfile_interval)", key);
}

static int handle_range(struct conf_parse *p, const char *key, const char *value)
{
	struct ftm_conf_range *r = p->cur;
	int ret;

	if (!strcmp(key, "start")) {
		if (!once(p, SEEN_START))
			return conf_error(p, "start given twice");
		ret = ftm_parse_addr(value, &r->start);
		if (ret < 0)
			return conf_error(p, "start '%s': %s", value,
					  ret == -ERANGE ? "too large" : "not an address (0x hex or decimal)");
		return 1;
	}
	if (!strcmp(key, "size")) {
		if (!once(p, SEEN_SIZE))
			return conf_error(p, "size given twice");
		ret = ftm_parse_size(value, &r->size);
		if (ret < 0)
			return conf_error(p, "size '%s': %s", value,
					  ret == -ERANGE ? "too large" : "not a size (bytes, K, M, G)");
		if (r->size == 0)
			return conf_error(p, "size is 0");
		return 1;
	}
	if (!strcmp(key, "reserve_mem")) {
		if (!once(p, SEEN_RESERVE_MEM))
			return conf_error(p, "reserve_mem given twice");
		if (!ftm_reserve_mem_label_valid(value))
			return conf_error(p, "reserve_mem '%s': not a label (1 to %d of letters, "
					  "digits, '_', '.', '-')", value, FTM_RESERVE_MEM_MAX - 1);
		snprintf(r->reserve_mem, sizeof(r->reserve_mem), "%s", value);
		return 1;
	}
	if (!strcmp(key, "priority")) {
		if (!once(p, SEEN_PRIORITY))
			return conf_error(p, "priority given twice");
		if (ftm_parse_priority(value, &r->priority) < 0)
			return conf_error(p, "priority '%s': not a number from 0 to %d", value,
					  FTM_PRIORITY_MAX);
		return 1;
	}
	return conf_error(p, "unknown key '%s' in [range %s] (start, size, reserve_mem, priority)",
			  key, r->name);
}

/* A section just ended (or the file did): a range must have start and size. */
static int close_section(struct conf_parse *p)
{
	struct ftm_conf_range *r = p->cur;

	p->cur = NULL;
	if (!r)
		return 1;
	/* Given one way or the other, never both: the whole configuration is refused. */
	if ((p->seen & SEEN_RESERVE_MEM) && (p->seen & (SEEN_START | SEEN_SIZE))) {
		if (p->err_line)
			return 0;
		p->err_line = r->line;
		snprintf(p->err, sizeof(p->err),
			 "[range %s]: reserve_mem and %s: a range is given by a label or by "
			 "start and size, not both", r->name,
			 (p->seen & SEEN_START) ? "start" : "size");
		return 0;
	}
	if (p->seen & SEEN_RESERVE_MEM)
		return 1;
	if (!(p->seen & SEEN_START) || !(p->seen & SEEN_SIZE)) {
		if (p->err_line)
			return 0;
		p->err_line = r->line;
		snprintf(p->err, sizeof(p->err), "[range %s]: %s missing", r->name,
			 !(p->seen & SEEN_START) ? "start" : "size");
		return 0;
	}
	if (r->start + r->size < r->start) {
		if (!p->err_line) {
			p->err_line = r->line;
			snprintf(p->err, sizeof(p->err), "[range %s]: start + size wraps around",
				 r->name);
		}
		return 0;
	}
	return 1;
}

static size_t name_hash(const char *name)
{
	size_t h = 14695981039346656037ull;	/* FNV-1a */

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 1099511628211ull;
	return h;
}

/* The slot of name: the one holding it, or the empty one where it goes. */
static size_t *name_slot(const struct name_index *ix, const struct ftm_conf *c, const char *name)
{
	size_t i = name_hash(name) & (ix->cap - 1);

	while (ix->slots[i] && strcmp(c->ranges[ix->slots[i] - 1].name, name))
		i = (i + 1) & (ix->cap - 1);
	return &ix->slots[i];
}

/* Room for one more name: the table stays at most half full. */
static int name_index_grow(struct name_index *ix, const struct ftm_conf *c)
{
	struct name_index bigger;

	if (ix->cap >= 2 * (c->nr_ranges + 1))
		return 0;
	bigger.cap = ix->cap ? ix->cap * 2 : 64;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_ranges; i++)
		*name_slot(&bigger, c, c->ranges[i].name) = i + 1;
	free(ix->slots);
	*ix = bigger;
	return 0;
}

static int open_section(struct conf_parse *p, const char *section)
{
	struct ftm_conf *c = p->conf;
	struct ftm_conf_range *grown, *r;
	const char *name;
	size_t *slot;

	snprintf(p->section, sizeof(p->section), "%s", section);
	p->seen = 0;
	if (!strcmp(section, "flushtm") || !strcmp(section, "flushtmd"))
		return 1;
	if (strncmp(section, "range ", 6))
		return conf_error(p, "unknown section [%s] (flushtm, range NAME, flushtmd)", section);
	name = section + 6;
	while (*name == ' ')
		name++;
	if (!ftm_range_name_valid(name))
		return conf_error(p, "[%s]: invalid range name '%s'", section, name);
	if (name_index_grow(p->names, c) < 0)
		return conf_error(p, "out of memory");
	slot = name_slot(p->names, c, name);
	if (*slot)
		return conf_error(p, "range '%s' defined twice (first at %s:%u)", name,
				  c->ranges[*slot - 1].file, c->ranges[*slot - 1].line);
	if (c->nr_ranges >= FTM_CONF_MAX_RANGES)
		return conf_error(p, "more than %d ranges", FTM_CONF_MAX_RANGES);
	if (c->nr_ranges == p->ranges_cap) {
		size_t cap = p->ranges_cap ? p->ranges_cap * 2 : 16;

		grown = realloc(c->ranges, cap * sizeof(*grown));
		if (!grown)
			return conf_error(p, "out of memory");
		c->ranges = grown;
		p->ranges_cap = cap;
	}
	*slot = c->nr_ranges + 1;
	r = &c->ranges[c->nr_ranges++];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, strlen(name) + 1);	/* valid names fit */
	snprintf(r->file, sizeof(r->file), "%s", p->file);
	r->line = p->rd.line;
	p->cur = r;
	return 1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Section headers are followed here rather than in the handler: inih calls
 * the handler only for keys, so an empty (say, truncated) [range NAME] would
 * go unseen, and it cuts section names at 50 bytes.
 */
static void conf_see_line(struct conf_parse *p, const char *line)
{
	const char *start = line, *end;
	char section[sizeof(p->section)];
	size_t len;

	while (is_space(*start))
		start++;
	if (*start != '[')
		return;
	end = strchr(start, ']');
	if (!end)
		return;	/* inih reports it as a syntax error */
	len = (size_t)(end - start - 1);
	if (len >= sizeof(section)) {
		conf_error(p, "section name too long");
		return;
	}
	memcpy(section, start + 1, len);
	section[len] = '\0';
	if (close_section(p))
		open_section(p, section);
}

static char *conf_read_line(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	struct conf_reader *rd = &p->rd;
	const char *nl;
	size_t len;

	if (rd->pos >= rd->end || p->rd.too_long)
		return NULL;
	nl = memchr(rd->pos, '\n', (size_t)(rd->end - rd->pos));
	len = nl ? (size_t)(nl - rd->pos) + 1 : (size_t)(rd->end - rd->pos);
	rd->line++;
	if (len > (size_t)num - 1) {
		rd->too_long = true;
		return NULL;
	}
	memcpy(str, rd->pos, len);
	str[len] = '\0';
	rd->pos += len;
	if (!p->err_line)
		conf_see_line(p, str);
	return str;
}

static int conf_handler(void *user, const char *section, const char *key, const char *value)
{
	struct conf_parse *p = user;

	(void)section;	/* possibly cut short by inih; p->section is whole */
	if (p->err_line)
		return 0;
	if (!p->section[0])
		return conf_error(p, "'%s' outside any section", key);
	if (!strcmp(p->section, "flushtm"))
		return handle_flushtm(p, key, value);
	if (!strcmp(p->section, "flushtmd"))
		return handle_flushtmd(p, key, value);
	return handle_range(p, key, value);
}

static int read_whole(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > CONF_MAX_BYTES) {
		snprintf(err, errlen, "%s: too large (%lld bytes, %d at most)", path,
			 (long long)st.st_size, CONF_MAX_BYTES);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/*
	 * Up to one byte past the size seen, in case the file grew meanwhile;
	 * read(2) may return less than asked (a FUSE or network file system).
	 */
	size_t got = 0, want = (size_t)st.st_size + 1;
	int read_errno = 0;

	while (got < want) {
		n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			read_errno = errno;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (read_errno || got > (size_t)st.st_size) {
		snprintf(err, errlen, "%s: %s", path,
			 read_errno ? strerror(read_errno) : "changed while read");
		free(buf);
		return read_errno ? -read_errno : -EAGAIN;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

static int parse_file(const char *path, struct ftm_conf *conf, struct name_index *names,
		      size_t *ranges_cap, char *err, size_t errlen)
{
	struct conf_parse p = { .conf = conf, .file = path, .names = names,
				.ranges_cap = *ranges_cap };
	const char *nul;
	size_t len = 0;
	char *data = NULL;
	int ret;

	ret = read_whole(path, &data, &len, err, errlen);
	if (ret < 0)
		return ret;
	nul = memchr(data, '\0', len);
	if (nul) {
		unsigned int line = 1;

		for (const char *q = data; q < nul; q++)
			line += *q == '\n';
		snprintf(err, errlen, "%s:%u: binary data (a NUL byte), not a config file", path,
			 line);
		free(data);
		return -EINVAL;
	}
	p.rd.data = p.rd.pos = data;
	p.rd.end = data + len;
	/* A UTF-8 byte order mark, as editors on some systems write it (inih skips it too). */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		p.rd.pos += 3;
	ret = ini_parse_stream(conf_read_line, &p, conf_handler, &p);
	if (!p.rd.too_long)
		close_section(&p);
	free(data);
	*ranges_cap = p.ranges_cap;

	if (ret > 0 && (!p.err_line || (unsigned int)ret < p.err_line))
		snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
			 path, ret);
	else if (p.err_line)
		snprintf(err, errlen, "%s:%u: %s", path, p.err_line, p.err);
	else if (p.rd.too_long)
		snprintf(err, errlen, "%s:%u: line too long (%d bytes at most)", path, p.rd.line,
			 INI_MAX_LINE - 2);
	else if (ret < 0)
		snprintf(err, errlen, "%s: cannot parse (error %d)", path, ret);
	else
		return 0;
	return -EINVAL;
}

static int conf_d_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return de->d_name[0] != '.' && len > 5 && !strcmp(de->d_name + len - 5, ".conf");
}

int ftm_conf_load(const char *path, struct ftm_conf *conf, char *err, size_t errlen)
{
	struct name_index index = { 0 };
	struct dirent **names = NULL;
	char dir[PATH_MAX], file[PATH_MAX];
	size_t ranges_cap = 0;
	int n = 0, ret;

	memset(conf, 0, sizeof(*conf));
	if (errlen)
		err[0] = '\0';
	if (!path)
		path = FTM_CONF_DEFAULT;
	ret = parse_file(path, conf, &index, &ranges_cap, err, errlen);
	if (ret < 0)
		goto fail;

	if (snprintf(dir, sizeof(dir), "%s.d", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s.d: path too long", path);
		ret = -ENAMETOOLONG;
		goto fail;
	}
	n = scandir(dir, &names, conf_d_filter, alphasort);
	if (n < 0) {
		n = 0;
		if (errno != ENOENT && errno != ENOTDIR) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			goto fail;
		}
	}
	if (n > FTM_CONF_MAX_FILES) {
		snprintf(err, errlen, "%s: %d files, %d at most", dir, n, FTM_CONF_MAX_FILES);
		ret = -E2BIG;
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(file, sizeof(file), "%s/%s", dir, names[i]->d_name) >=
		    (int)sizeof(file)) {
			snprintf(err, errlen, "%s/%s: path too long", dir, names[i]->d_name);
			ret = -ENAMETOOLONG;
			goto fail;
		}
		ret = parse_file(file, conf, &index, &ranges_cap, err, errlen);
		if (ret < 0)
			goto fail;
	}
	ret = 0;
	goto out;
fail:
	ftm_conf_free(conf);
out:
	free(index.slots);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

void ftm_conf_free(struct ftm_conf *conf)
{
	for (char **h = conf->hooks; h && *h; h++)
		free(*h);
	free(conf->hooks);
	free(conf->ranges);
	memset(conf, 0, sizeof(*conf));
}
