// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libflushtm against a fake configfs tree (lib/tests/fake-configfs.sh) and
 * against config files written here: values, attributes, ranges, hooks,
 * the config parser and its errors.  No root needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libflushtm.h"
#include "tap.h"

static char tmp[] = "/tmp/ftm-lib-test.XXXXXX";

/* fmt names the fixture's directory up to three times (%s each). */
__attribute__((format(printf, 1, 0)))
static void sh(const char *fmt, const char *arg)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), ". %s/fake-configfs.sh; ", getenv("FTM_TESTS_DIR"));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), fmt, arg, arg, arg);
#pragma GCC diagnostic pop
	if (system(cmd) != 0) {
		printf("Bail out! %s\n", cmd);
		exit(2);
	}
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		printf("Bail out! writing %s\n", path);
		exit(2);
	}
}

static void write_str(const char *path, const char *text)
{
	write_file(path, text, strlen(text));
}

static void test_values(struct tap *t)
{
	char buf[16];
	uint64_t v;

	tap_int(t, ftm_parse_size("64M", &v), 0, "parse 64M");
	tap_int(t, v, 64ull << 20, "64M is 64 MiB");
	tap_int(t, ftm_parse_size("0x1000\n", &v), 0, "parse hex with newline");
	tap_int(t, v, 4096, "0x1000 is 4096");
	tap_int(t, ftm_parse_size("2G", &v) == 0 && v == 2ull << 30, 1, "2G");
	tap_int(t, ftm_parse_size("12k", &v) == 0 && v == 12 * 1024, 1, "12k");
	tap_int(t, ftm_parse_size("", &v), -EINVAL, "empty size refused");
	tap_int(t, ftm_parse_size("0x", &v), -EINVAL, "bare 0x refused");
	tap_int(t, ftm_parse_size("12X", &v), -EINVAL, "junk suffix refused");
	tap_int(t, ftm_parse_size("1.5G", &v), -EINVAL, "fractions refused");
	tap_int(t, ftm_parse_size("-1", &v), -EINVAL, "negative refused");
	tap_int(t, ftm_parse_size("18446744073709551616", &v), -ERANGE, "2^64 overflows");
	tap_int(t, ftm_parse_size("17179869184G", &v), -ERANGE, "suffix overflow");
	tap_int(t, ftm_parse_addr("64M", &v), -EINVAL, "an address takes no suffix");
	tap_str(t, ftm_format_size(64ull << 20, buf, sizeof(buf)), "64M", "format 64M");
	tap_str(t, ftm_format_size(3ull << 29, buf, sizeof(buf)), "1.5G", "format 1.5G");
	tap_str(t, ftm_format_size(512, buf, sizeof(buf)), "512", "format bytes");
	tap_str(t, ftm_format_size(UINT64_MAX, buf, sizeof(buf)), "16.0E", "format 2^64-1");
	tap_str(t, ftm_strerror(-EINVAL, "enable"),
		"refused by the kernel: not persistent memory or RAM, not page aligned, empty, "
		"or wrapping around", "enable EINVAL in words");
	tap_str(t, ftm_strerror(-EBUSY, "size"), "busy: the range is enabled", "size EBUSY");
	tap_str(t, ftm_strerror(-ENOENT, NULL), strerror(ENOENT), "fallback strerror");
	tap_ok(t, ftm_range_name_valid("d-nd-namespace0.0"), "daemon names are valid");
	tap_ok(t, !ftm_range_name_valid("a/b") && !ftm_range_name_valid("..") &&
	       !ftm_range_name_valid("") && !ftm_range_name_valid("a b"), "bad names refused");
}

static void test_absent(struct tap *t)
{
	struct ftm_range *ranges;
	struct ftm_ctx *ctx;
	char root[256];
	size_t n;

	snprintf(root, sizeof(root), "%s/nothing", tmp);
	tap_int(t, ftm_ctx_new(&ctx, root), 0, "context for an absent root");
	tap_int(t, ftm_module_present(ctx), 0, "absent module not present");
	tap_int(t, ftm_range_list(ctx, &ranges, &n), -ENOENT, "range list of absent module");
	tap_int(t, ftm_flush(ctx, NULL), -ENOENT, "flush of absent module");
	ftm_ctx_free(ctx);
	setenv(FTM_CONFIGFS_ENV, "/env/root/", 1);
	ftm_ctx_new(&ctx, NULL);
	tap_str(t, ftm_ctx_root(ctx), "/env/root", "root from the environment, slash trimmed");
	ftm_ctx_free(ctx);
	unsetenv(FTM_CONFIGFS_ENV);
}

static void test_tree(struct tap *t)
{
	struct ftm_range *ranges = NULL, r;
	struct ftm_hook *hooks = NULL;
	struct ftm_ctx *ctx;
	struct ftm_info info;
	const char *step;
	char root[256], path[512], buf[64];
	size_t n = 0;
	int *pids = NULL;
	struct stat st;

	snprintf(root, sizeof(root), "%s/flushtm", tmp);
	sh("fake_tree %s; fake_range %s b 0x20000000 67108864 1 config; "
	   "fake_range %s a 0x1000 4096 0 admin", root);
	ftm_ctx_new(&ctx, root);
	tap_int(t, ftm_module_present(ctx), 1, "fake module present");
	tap_int(t, ftm_info_read(ctx, &info), 0, "info read");
	tap_ok(t, info.version == 1 && !strcmp(info.method, "auto") &&
	       info.cache_threshold == 33554432, "info values");
	tap_int(t, ftm_set_method(ctx, "lines"), 0, "set method");
	ftm_attr_read(ctx, "method", buf, sizeof(buf));
	tap_str(t, buf, "lines", "method written whole (truncated, no newline junk)");
	tap_int(t, ftm_set_method(ctx, "fast"), -EINVAL, "bad method refused");
	tap_int(t, ftm_attr_read(ctx, "method", buf, 3), -ENOSPC, "short buffer is ENOSPC");

	tap_int(t, ftm_hook_list(ctx, &hooks, &n), 0, "hook list");
	tap_int(t, n, 9, "nine hooks");
	tap_str(t, n ? hooks[0].name : "", "panic", "hooks in documented order");
	free(hooks);
	tap_int(t, ftm_hook_set_enabled(ctx, "panic", true), 0, "enable panic");
	sh("echo 0 > %s/hooks/nmi/available", root);
	tap_int(t, ftm_hook_set_enabled(ctx, "nmi", true), -EOPNOTSUPP, "unavailable hook");
	tap_int(t, ftm_hook_set_enabled(ctx, "bogus", true), -EINVAL, "unknown hook");

	tap_int(t, ftm_exit_enroll(ctx, 42), 0, "enroll writes");
	ftm_attr_read(ctx, "hooks/exit/pids", buf, sizeof(buf));
	tap_str(t, buf, "42", "enroll wrote the pid");
	ftm_exit_withdraw(ctx, 42);
	ftm_attr_read(ctx, "hooks/exit/pids", buf, sizeof(buf));
	tap_str(t, buf, "-42", "withdraw wrote -pid");
	sh("printf '7\\n9\\n' > %s/hooks/exit/pids", root);
	tap_ok(t, ftm_exit_list(ctx, &pids, &n) == 0 && n == 2 && pids[1] == 9, "pid list");
	free(pids);

	n = 0;
	tap_int(t, ftm_range_list(ctx, &ranges, &n), 0, "range list");
	tap_int(t, n, 2, "two ranges");
	if (n == 2) {
		tap_str(t, ranges[0].name, "a", "sorted by name");
		tap_ok(t, ranges[1].start == 0x20000000 && ranges[1].size == 64ull << 20 &&
		       ranges[1].enabled && !strcmp(ranges[1].owner, "config"), "range b read");
	}
	free(ranges);
	tap_int(t, ftm_range_read(ctx, "zz", &r), -ENOENT, "absent range is ENOENT");

	/* A plain directory gets no attribute files: add must fail and leave nothing. */
	tap_int(t, ftm_range_add(ctx, "new", 0x20000000, 4096, NULL, &step), -ENOENT,
		"range add on a fake tree fails");
	tap_str(t, step ? step : "", "owner", "at the first write, the owner");
	snprintf(path, sizeof(path), "%s/ranges/new", root);
	tap_int(t, stat(path, &st), -1, "and removed its directory");
	tap_int(t, ftm_range_add(ctx, "b", 0, 4096, NULL, &step), -EEXIST, "name taken");
	tap_str(t, step, "mkdir", "fails at mkdir");
	tap_int(t, ftm_range_add(ctx, "x/y", 0, 4096, NULL, &step), -EINVAL, "bad name");
	tap_int(t, ftm_range_del(ctx, "nope"), -ENOENT, "del of an absent range");
	tap_int(t, ftm_flush(ctx, "nope"), -ENOENT, "flush of an absent range");
	tap_int(t, ftm_flush(ctx, "b"), 0, "flush of a range");
	ftm_attr_read(ctx, "flush", buf, sizeof(buf));
	tap_str(t, buf, "b", "flush wrote the name");
	ftm_ctx_free(ctx);
}

struct conf_case {
	const char *text, *err;	/* err: expected suffix after "file" */
};

static void test_conf(struct tap *t)
{
	static const struct conf_case bad[] = {
		{ "[flushtm]\nmethod = fast\n", ":2: method 'fast': not one of auto, lines, cache" },
		{ "[flushtm]\nfoo = 1\n", ":2: unknown key 'foo' in [flushtm]" },
		{ "[flushtm]\nhooks = panic oops\n", ":2: unknown hook 'oops'" },
		{ "[flushtm]\ncache_threshold = lots\n", ":2: cache_threshold 'lots': not a size" },
		{ "[nope]\nx = 1\n", ":1: unknown section [nope]" },
		{ "[range r]\nstart = 0x1000\n", ":1: [range r]: size missing" },
		{ "[range r]\n", ":1: [range r]: start missing" },
		{ "[range a/b]\nstart = 1\nsize = 1\n", ":1: [range a/b]: invalid range name" },
		{ "[range r]\nstart = 1\nsize = 1\n[range r]\n", ":4: range 'r' defined twice" },
		{ "[range r]\nstart = 1\nstart = 2\nsize = 1\n", ":3: start given twice" },
		{ "[range r]\nstart = 0xffffffffffffffff\nsize = 2\n", ":1: [range r]: start + size wraps" },
		{ "[range r]\nstart = 1\nsize = 0\n", ":3: size is 0" },
		{ "[flushtmd]\nsources = nd pci\n", ":2: unknown source 'pci'" },
		{ "[flushtm]\njunk line\n", ":2: syntax error" },
		{ "[flushtm\n", ":1: syntax error" },
		{ "method = auto\n", ":1: 'method' outside any section" },
	};
	char file[256], dfile[512], err[512], big[400];
	struct ftm_conf conf;
	const char *good =
		"; comment\n[flushtm]\nmethod = lines\ncache_threshold = 512M\n"
		"hooks = panic die nmi\n\n[range trace]\nstart = 0x20000000\nsize = 64M\n"
		"[flushtmd]\nsources = nd iomem\n";

	snprintf(file, sizeof(file), "%s/flushtm.conf", tmp);
	write_file(file, good, strlen(good));
	tap_int(t, ftm_conf_load(file, &conf, err, sizeof(err)), 0, "good config loads");
	tap_ok(t, conf.has_method && !strcmp(conf.method, "lines") && conf.has_threshold &&
	       conf.cache_threshold == 512ull << 20, "method and threshold");
	tap_ok(t, conf.hooks && conf.hooks[0] && !strcmp(conf.hooks[2], "nmi") && !conf.hooks[3],
	       "hooks listed");
	tap_ok(t, conf.nr_ranges == 1 && conf.ranges[0].start == 0x20000000 &&
	       conf.ranges[0].size == 64ull << 20 && conf.ranges[0].line == 7, "range trace");
	tap_int(t, conf.sources, FTM_SRC_ND | FTM_SRC_IOMEM, "sources");
	ftm_conf_free(&conf);

	/* conf.d: later files override settings and add ranges. */
	snprintf(dfile, sizeof(dfile), "%s.d", file);
	mkdir(dfile, 0755);
	snprintf(dfile, sizeof(dfile), "%s.d/10-more.conf", file);
	write_str(dfile, "[flushtm]\nmethod = cache\n[range two]\nstart=0x1000\nsize=4K\n");
	snprintf(dfile, sizeof(dfile), "%s.d/ignored.txt", file);
	write_file(dfile, "garbage", 7);
	tap_int(t, ftm_conf_load(file, &conf, err, sizeof(err)), 0, "conf.d loads");
	tap_ok(t, !strcmp(conf.method, "cache") && conf.nr_ranges == 2, "conf.d overrides and adds");
	ftm_conf_free(&conf);
	snprintf(dfile, sizeof(dfile), "%s.d/20-dup.conf", file);
	write_str(dfile, "[range trace]\nstart=0\nsize=4K\n");
	tap_int(t, ftm_conf_load(file, &conf, err, sizeof(err)), -EINVAL, "range twice across files");
	tap_ok(t, strstr(err, "20-dup.conf:1: range 'trace' defined twice") != NULL, "says where: %s",
	       err);
	tap_ok(t, conf.nr_ranges == 0 && !conf.hooks, "nothing half filled");
	unlink(dfile);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		write_file(file, bad[i].text, strlen(bad[i].text));
		ret = ftm_conf_load(file, &conf, err, sizeof(err));
		tap_ok(t, ret == -EINVAL && !strncmp(err, file, strlen(file)) &&
		       strstr(err + strlen(file), bad[i].err) == err + strlen(file),
		       "bad config %zu: %s", i, err);
	}
	write_file(file, "[flushtm]\nmethod = a\0uto\n", 25);
	tap_ok(t, ftm_conf_load(file, &conf, err, sizeof(err)) == -EINVAL &&
	       strstr(err, ":2: binary data"), "binary file: %s", err);
	memset(big, 'x', sizeof(big));
	memcpy(big, "[flushtm]\nhooks = ", 18);
	write_file(file, big, sizeof(big));
	tap_ok(t, ftm_conf_load(file, &conf, err, sizeof(err)) == -EINVAL &&
	       strstr(err, ":2: line too long"), "long line: %s", err);
	sh("truncate -s 10M %s/flushtm.conf", tmp);
	tap_ok(t, ftm_conf_load(file, &conf, err, sizeof(err)) == -EFBIG &&
	       strstr(err, "too large"), "10 MB file: %s", err);
	snprintf(file, sizeof(file), "%s/absent.conf", tmp);
	tap_int(t, ftm_conf_load(file, &conf, err, sizeof(err)), -ENOENT, "missing file");
}

int main(void)
{
	struct tap t = { 0 };

	if (!mkdtemp(tmp)) {
		printf("Bail out! mkdtemp\n");
		return 2;
	}
	if (!getenv("FTM_TESTS_DIR"))
		setenv("FTM_TESTS_DIR", "tests", 1);
	test_values(&t);
	test_absent(&t);
	test_tree(&t);
	test_conf(&t);
	sh("rm -rf %s", tmp);
	return tap_done(&t);
}
