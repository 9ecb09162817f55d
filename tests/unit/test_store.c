/*
 * The certdir store: layout, permissions, planted symlinks, generations,
 * pending keys, state, the lock, and crash consistency of install.
 *
 * The crash test counts the store's file-system calls through the
 * linker's --wrap (see tests/meson.build) and kills a forked install with
 * SIGKILL just before the Nth one, for every N until an install finishes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "certctl/store.h"

/* --- crash points ------------------------------------------------------ */

static long crash_at = -1;
static long fs_calls;

static void crash_point(void)
{
	if (crash_at >= 0 && fs_calls++ == crash_at)
		raise(SIGKILL);
}

int __real_fsync(int fd);
int __real_renameat(int a, const char *b, int c, const char *d);
int __real_symlinkat(const char *a, int b, const char *c);
int __real_mkdirat(int a, const char *b, mode_t c);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_unlinkat(int a, const char *b, int c);
int __wrap_fsync(int fd);
int __wrap_renameat(int a, const char *b, int c, const char *d);
int __wrap_symlinkat(const char *a, int b, const char *c);
int __wrap_mkdirat(int a, const char *b, mode_t c);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_unlinkat(int a, const char *b, int c);

int __wrap_fsync(int fd) { crash_point(); return __real_fsync(fd); }
int __wrap_renameat(int a, const char *b, int c, const char *d)
{ crash_point(); return __real_renameat(a, b, c, d); }
int __wrap_symlinkat(const char *a, int b, const char *c)
{ crash_point(); return __real_symlinkat(a, b, c); }
int __wrap_mkdirat(int a, const char *b, mode_t c)
{ crash_point(); return __real_mkdirat(a, b, c); }
int __wrap_unlinkat(int a, const char *b, int c)
{ crash_point(); return __real_unlinkat(a, b, c); }
/* Writes are split so that a kill can land in the middle of a file. */
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	crash_point();
	return __real_write(fd, buf, n > 7 ? 7 : n);
}

/* --- helpers ----------------------------------------------------------- */

static char tmproot[] = "/tmp/certctl-store-XXXXXX";
static char certdir[256];

static int setup(void **state)
{
	(void)state;
	strcpy(tmproot, "/tmp/certctl-store-XXXXXX");
	assert_non_null(mkdtemp(tmproot));
	snprintf(certdir, sizeof(certdir), "%s/certdir", tmproot);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
	return system(cmd) == 0 ? 0 : -1;
}

/* A set whose every file says which set it belongs to. */
struct fake_set {
	char key[64], cert[4096], chain[64], full[4160];
};

static void fake_set(struct fake_set *s, const char *tag)
{
	snprintf(s->key, sizeof(s->key), "KEY %s\n", tag);
	/* A long cert so that it takes many (split) writes. */
	snprintf(s->cert, sizeof(s->cert), "CERT %s ", tag);
	for (size_t i = strlen(s->cert); i < 300; i++)
		s->cert[i] = 'x';
	s->cert[300] = '\0';
	snprintf(s->chain, sizeof(s->chain), "CHAIN %s\n", tag);
	snprintf(s->full, sizeof(s->full), "%s%s", s->cert, s->chain);
}

static void fill_install(struct cc_install *in, const char *name, const struct fake_set *s)
{
	memset(in, 0, sizeof(*in));
	in->name = name;
	in->key_uid = (uid_t)-1;
	in->key_gid = (gid_t)-1;
	in->files[CC_F_PRIVKEY].data = s->key;
	in->files[CC_F_PRIVKEY].len = strlen(s->key);
	in->files[CC_F_CERT].data = s->cert;
	in->files[CC_F_CERT].len = strlen(s->cert);
	in->files[CC_F_CHAIN].data = s->chain;
	in->files[CC_F_CHAIN].len = strlen(s->chain);
	in->files[CC_F_FULLCHAIN].data = s->full;
	in->files[CC_F_FULLCHAIN].len = strlen(s->full);
}

static void install_set(const char *name, const char *tag, unsigned *gen)
{
	struct cc_store *store;
	struct cc_install in;
	struct fake_set s;
	struct cc_err err;

	fake_set(&s, tag);
	fill_install(&in, name, &s);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	if (cc_store_install(store, &in, gen, &err) != 0)
		fail_msg("install: %s", err.msg);
	cc_store_close(store);
}

/* Which set is live: "A", "B", ... or fail when it is a mix or incomplete. */
static char live_tag(const char *name)
{
	struct cc_store *store;
	struct cc_set set;
	struct fake_set want;
	struct cc_err err;
	char tag[2] = { 0 };

	assert_int_equal(cc_store_open(certdir, CC_STORE_READ, 0, &store, &err), 0);
	assert_int_equal(cc_store_load_live(store, name, &set, &err), 1);
	assert_true(set.files[CC_F_PRIVKEY].present);
	tag[0] = (char)set.files[CC_F_PRIVKEY].data[4];
	fake_set(&want, tag);
	assert_string_equal((char *)set.files[CC_F_PRIVKEY].data, want.key);
	assert_string_equal((char *)set.files[CC_F_CERT].data, want.cert);
	assert_string_equal((char *)set.files[CC_F_CHAIN].data, want.chain);
	assert_string_equal((char *)set.files[CC_F_FULLCHAIN].data, want.full);
	cc_set_free(&set);
	cc_store_close(store);
	return tag[0];
}

static int count_tmp_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".tmp") != NULL;
	closedir(d);
	return n;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

/* --- tests ------------------------------------------------------------- */

static void test_names(void **state)
{
	char out[CC_NAME_MAX + 1];

	(void)state;
	assert_true(cc_name_valid("www.example.com"));
	assert_true(cc_name_valid("a"));
	assert_true(cc_name_valid("_x") == 0);
	assert_false(cc_name_valid(""));
	assert_false(cc_name_valid(".hidden"));
	assert_false(cc_name_valid("a/b"));
	assert_false(cc_name_valid(".."));
	assert_false(cc_name_valid("a b"));
	assert_false(cc_name_valid("-x"));
	assert_int_equal(cc_name_from_domain("*.example.com", out, sizeof(out)), 0);
	assert_string_equal(out, "_.example.com");
	assert_int_equal(cc_name_from_domain("../etc", out, sizeof(out)), -1);
}

static void test_open_creates_layout(void **state)
{
	struct cc_store *store;
	struct cc_err err;
	char path[512];

	(void)state;
	umask(0);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	cc_store_close(store);
	umask(022);
	assert_int_equal(mode_of(certdir) & 07777, 0755);
	snprintf(path, sizeof(path), "%s/.pending", certdir);
	assert_int_equal(mode_of(path) & 07777, 0700);
	snprintf(path, sizeof(path), "%s/.lock", certdir);
	assert_int_equal(mode_of(path) & 07777, 0600);
}

static void test_open_refuses_writable_certdir(void **state)
{
	struct cc_store *store;
	struct cc_err err;

	(void)state;
	assert_int_equal(mkdir(certdir, 0755), 0);
	assert_int_equal(chmod(certdir, 0775), 0);
	assert_int_equal(cc_store_open(certdir, CC_STORE_READ, 0, &store, &err), -1);
	assert_non_null(strstr(err.msg, "group or world writable"));
	assert_int_equal(chmod(certdir, 0757), 0);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 0, &store, &err), -1);
	assert_non_null(strstr(err.msg, "refusing"));
}

static void test_open_refuses_symlinked_subdir(void **state)
{
	struct cc_store *store;
	struct cc_err err;
	char path[512];

	(void)state;
	assert_int_equal(mkdir(certdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/.live", certdir);
	assert_int_equal(symlink("/", path), 0);
	assert_int_equal(cc_store_open(certdir, CC_STORE_READ, 0, &store, &err), -1);
	assert_non_null(strstr(err.msg, ".live"));
}

static void test_install_layout_and_generations(void **state)
{
	char path[512], target[256];
	unsigned gen;
	ssize_t n;

	(void)state;
	umask(0); /* the key must still be 0600 */
	install_set("www.example.com", "A", &gen);
	umask(022);
	assert_int_equal(gen, 1);
	snprintf(path, sizeof(path), "%s/www.example.com", certdir);
	n = readlink(path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, ".live/www.example.com.g0001");
	snprintf(path, sizeof(path), "%s/.live/www.example.com.g0001/privkey.pem", certdir);
	assert_int_equal(mode_of(path) & 07777, 0600);
	snprintf(path, sizeof(path), "%s/.live/www.example.com.g0001/cert.pem", certdir);
	assert_int_equal(mode_of(path) & 07777, 0644);
	snprintf(path, sizeof(path), "%s/www.example.com.key", certdir);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	assert_string_equal(target, "www.example.com/privkey.pem");
	assert_int_equal(live_tag("www.example.com"), 'A');

	install_set("www.example.com", "B", &gen);
	assert_int_equal(gen, 2);
	assert_int_equal(live_tag("www.example.com"), 'B');
	install_set("www.example.com", "C", &gen);
	install_set("www.example.com", "D", &gen);
	install_set("www.example.com", "E", &gen);
	assert_int_equal(gen, 5);
	/* Three generations are kept: 3, 4 and the live 5. */
	snprintf(path, sizeof(path), "%s/.live/www.example.com.g0002", certdir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/.live/www.example.com.g0003", certdir);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_list_names(void **state)
{
	struct cc_store *store;
	struct cc_err err;
	char **names;
	size_t n;

	(void)state;
	install_set("b.example", "A", NULL);
	install_set("a.example", "A", NULL);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	assert_int_equal(cc_store_pending_save(store, "c.example", "K", 1, 0600, "C", 1, &err), 0);
	assert_int_equal(cc_store_list(store, &names, &n, &err), 0);
	/* Compatibility links (a.example.key...) are not names. */
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "a.example");
	assert_string_equal(names[1], "b.example");
	assert_string_equal(names[2], "c.example");
	cc_names_free(names, n);
	cc_store_close(store);
}

static void test_planted_symlinks(void **state)
{
	struct cc_store *store;
	struct cc_set set;
	struct cc_err err;
	char path[512];

	(void)state;
	install_set("www", "A", NULL);
	snprintf(path, sizeof(path), "%s/.live/www.g0001/privkey.pem", certdir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(cc_store_open(certdir, CC_STORE_READ, 0, &store, &err), 0);
	assert_int_equal(cc_store_load_live(store, "www", &set, &err), 1);
	assert_false(set.files[CC_F_PRIVKEY].present);
	assert_int_equal(set.files[CC_F_PRIVKEY].errnum, ELOOP);
	cc_set_free(&set);

	/* A live link that leaves .live is refused, not followed. */
	snprintf(path, sizeof(path), "%s/evil", certdir);
	assert_int_equal(symlink(".live/../../../etc", path), 0);
	assert_int_equal(cc_store_load_live(store, "evil", &set, &err), -1);
	assert_non_null(strstr(err.msg, "refusing"));
	cc_set_free(&set);
	assert_int_equal(cc_store_load_live(store, "../etc", &set, &err), -1);
	cc_store_close(store);
}

static void test_install_refuses_directory_name(void **state)
{
	struct cc_store *store;
	struct cc_install in;
	struct fake_set s;
	struct cc_err err;
	char path[512];

	(void)state;
	install_set("other", "A", NULL);
	snprintf(path, sizeof(path), "%s/www", certdir);
	assert_int_equal(mkdir(path, 0755), 0);
	fake_set(&s, "A");
	fill_install(&in, "www", &s);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	assert_int_equal(cc_store_install(store, &in, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "not a symlink"));
	cc_store_close(store);
	snprintf(path, sizeof(path), "%s/.live", certdir);
	assert_int_equal(count_tmp_entries(path), 0);
}

static void test_pending(void **state)
{
	struct cc_store *store;
	struct cc_set set;
	struct cc_err err;
	char path[512];

	(void)state;
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	assert_int_equal(cc_store_load_pending(store, "www", &set, &err), 0);
	assert_int_equal(cc_store_pending_save(store, "www", "KEY1", 4, 0600, "CSR1", 4, &err), 0);
	assert_int_equal(cc_store_pending_save(store, "www", "KEY2", 4, 0600, "CSR2", 4, &err), 0);
	assert_int_equal(cc_store_load_pending(store, "www", &set, &err), 1);
	assert_string_equal((char *)set.files[CC_F_PRIVKEY].data, "KEY2");
	assert_string_equal((char *)set.files[CC_F_CSR].data, "CSR2");
	assert_int_equal(set.files[CC_F_PRIVKEY].mode, 0600);
	cc_set_free(&set);
	snprintf(path, sizeof(path), "%s/.pending", certdir);
	assert_int_equal(count_tmp_entries(path), 0);
	assert_int_equal(cc_store_pending_remove(store, "www", &err), 0);
	assert_int_equal(cc_store_load_pending(store, "www", &set, &err), 0);
	cc_store_close(store);
}

static void test_state(void **state)
{
	struct cc_store *store;
	struct cc_err err;
	json_t *st;
	char path[512];
	FILE *fp;

	(void)state;
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	assert_int_equal(cc_store_state_read(store, "www", &st, &err), 0);
	assert_int_equal(json_object_size(st), 0);
	json_object_set_new(st, "etag", json_string("\"abc\""));
	assert_int_equal(cc_store_state_write(store, "www", st, &err), 0);
	json_decref(st);
	assert_int_equal(cc_store_state_read(store, "www", &st, &err), 0);
	assert_string_equal(json_string_value(json_object_get(st, "etag")), "\"abc\"");
	json_decref(st);

	snprintf(path, sizeof(path), "%s/.state/bad.json", certdir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("{ not json", fp);
	fclose(fp);
	assert_int_equal(cc_store_state_read(store, "bad", &st, &err), -1);
	assert_non_null(strstr(err.msg, "bad.json"));
	cc_store_close(store);
}

static void test_lock_excludes_second_writer(void **state)
{
	struct cc_store *first, *second;
	struct cc_err err;

	(void)state;
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &first, &err), 0);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 0.2, &second, &err), -1);
	assert_non_null(strstr(err.msg, "locked"));
	/* Readers never wait. */
	assert_int_equal(cc_store_open(certdir, CC_STORE_READ, 0, &second, &err), 0);
	cc_store_close(second);
	cc_store_close(first);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 0, &second, &err), 0);
	cc_store_close(second);
}

static void test_replace_live_file(void **state)
{
	struct cc_store *store;
	struct cc_set set;
	struct cc_err err;

	(void)state;
	install_set("www", "A", NULL);
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	assert_int_equal(cc_store_replace_live_file(store, "www", CC_F_OCSP, "OCSP1", 5, &err), 0);
	assert_int_equal(cc_store_replace_live_file(store, "www", CC_F_OCSP, "OCSP2", 5, &err), 0);
	assert_int_equal(cc_store_replace_live_file(store, "www", CC_F_PRIVKEY, "X", 1, &err), -1);
	assert_int_equal(cc_store_load_live(store, "www", &set, &err), 1);
	assert_string_equal((char *)set.files[CC_F_OCSP].data, "OCSP2");
	cc_set_free(&set);
	cc_store_close(store);
}

/* Run one install of set B over live set A, killed before fs call N.
 * Returns 1 when the child was killed, 0 when it finished. */
static int killed_install(long n)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		crash_at = n;
		fs_calls = 0;
		install_set("www", "B", NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status)) {
		assert_int_equal(WTERMSIG(status), SIGKILL);
		return 1;
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	return 0;
}

static void reset_to_a(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	assert_int_equal(system(cmd), 0);
	install_set("www", "A", NULL);
}

static void assert_recovers(char live)
{
	char path[512], root[512];
	struct cc_store *store;
	struct cc_err err;

	/* The next writer cleans up and can install again. */
	assert_int_equal(cc_store_open(certdir, CC_STORE_WRITE, 1, &store, &err), 0);
	cc_store_close(store);
	snprintf(path, sizeof(path), "%s/.live", certdir);
	snprintf(root, sizeof(root), "%s", certdir);
	assert_int_equal(count_tmp_entries(path), 0);
	assert_int_equal(count_tmp_entries(root), 0);
	assert_int_equal(live_tag("www"), live);
	install_set("www", "C", NULL);
	assert_int_equal(live_tag("www"), 'C');
}

static void test_crash_at_every_point(void **state)
{
	long n, kills = 0, saw_new = 0;
	char live;

	(void)state;
	for (n = 0; n < 10000; n++) {
		reset_to_a();
		if (!killed_install(n))
			break;
		kills++;
		/* Before any clean-up, readers see a whole old or a whole new set. */
		live = live_tag("www");
		assert_true(live == 'A' || live == 'B');
		saw_new += live == 'B';
		assert_recovers(live);
	}
	assert_true(n < 10000);
	assert_int_equal(live_tag("www"), 'B'); /* the uninterrupted run */
	/* The install went through many points; some kills landed after the swap. */
	assert_true(kills > 50);
	assert_true(saw_new > 0);
	print_message("# %ld kill points, %ld with the new set live\n", kills, saw_new);
}

static void test_crash_at_random_times(void **state)
{
	const struct timespec settle = { 0, 0 };
	int status, trials = 40;
	char live;

	(void)state;
	srand((unsigned)time(NULL));
	for (int t = 0; t < trials; t++) {
		pid_t pid;

		reset_to_a();
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (;;)
				install_set("www", "B", NULL);
		}
		usleep((useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		nanosleep(&settle, NULL);
		live = live_tag("www");
		assert_true(live == 'A' || live == 'B');
		assert_recovers(live);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_open_creates_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_writable_certdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_symlinked_subdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_layout_and_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_refuses_directory_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_excludes_second_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_live_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_every_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_random_times, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
