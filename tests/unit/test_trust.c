/* test_trust.c: opening beneath a directory never follows a link or
 * leaves it; a directory chain is trusted only when root or the given
 * user alone can change it; only regular files are opened for reading. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "util/trust.h"

static char top[64];

/* A private tree: top/a/f (a file), top/a/fifo, top/link -> a,
 * top/a/up -> .., top/a/abs -> /etc. */
static int tree(void)
{
	char p[128];
	FILE *f;

	snprintf(top, sizeof(top), "/tmp/idp-trust.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(p, sizeof(p), "%s/a", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/f", top);
	if (!(f = fopen(p, "w")))
		return -1;
	fputs("data", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/a/fifo", top);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/link", top);
	symlink("a", p);
	snprintf(p, sizeof(p), "%s/a/up", top);
	symlink("..", p);
	snprintf(p, sizeof(p), "%s/a/abs", top);
	symlink("/etc", p);
	return 0;
}

static void untree(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_beneath(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct stat st;
	int d, fd;

	CU_ASSERT_FATAL(tree() == 0);
	d = idp_trusted_dir_open(top, geteuid(), &err);
	CU_ASSERT_FATAL(d >= 0);
	fd = idp_open_file_beneath(d, "a/f", &st);
	CU_ASSERT(fd >= 0 && st.st_size == 4);
	if (fd >= 0)
		close(fd);
	/* links anywhere on the way, "..", absolute paths: refused */
	CU_ASSERT(idp_open_file_beneath(d, "link/f", &st) < 0);
	CU_ASSERT(idp_open_file_beneath(d, "a/up/a/f", &st) < 0);
	CU_ASSERT(idp_open_file_beneath(d, "a/abs/passwd", &st) < 0);
	CU_ASSERT(idp_open_file_beneath(d, "../etc/passwd", &st) < 0);
	CU_ASSERT(idp_open_file_beneath(d, "a/../../etc/passwd", &st) < 0);
	CU_ASSERT(idp_open_file_beneath(d, "/etc/passwd", &st) < 0);
	CU_ASSERT(idp_open_beneath(d, "link", O_PATH) < 0 && errno == ELOOP);
	/* a FIFO is never opened (it would block) */
	errno = 0;
	CU_ASSERT(idp_open_file_beneath(d, "a/fifo", &st) < 0 && errno == EINVAL);
	close(d);
	untree();
}

static void test_chain(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	char p[128];
	int d;

	CU_ASSERT_FATAL(tree() == 0);
	/* a link on the way is refused */
	snprintf(p, sizeof(p), "%s/link", top);
	CU_ASSERT(idp_trusted_dir_open(p, geteuid(), &err) < 0);
	CU_ASSERT(strstr(err.msg, "link") != NULL);
	/* "..", relative paths */
	snprintf(p, sizeof(p), "%s/a/..", top);
	CU_ASSERT(idp_trusted_dir_open(p, geteuid(), &err) < 0);
	CU_ASSERT(idp_trusted_dir_open("tmp", geteuid(), &err) < 0);
	/* writable by others: refused; by the owner only: fine */
	snprintf(p, sizeof(p), "%s/a", top);
	chmod(p, 0777);
	CU_ASSERT(idp_trusted_dir_open(p, geteuid(), &err) < 0);
	CU_ASSERT(strstr(err.msg, "mode 0777") != NULL);
	chmod(p, 0755);
	d = idp_trusted_dir_open(p, geteuid(), &err);
	CU_ASSERT(d >= 0);
	if (d >= 0)
		close(d);
	/* owned by someone else (root can say so) */
	if (geteuid() == 0 && chown(p, 54321, 54321) == 0) {
		CU_ASSERT(idp_trusted_dir_open(p, 0, &err) < 0);
		d = idp_trusted_dir_open(p, 54321, &err);
		CU_ASSERT(d >= 0);
		if (d >= 0)
			close(d);
	}
	untree();
}

/* idp_trusted_dir_make: missing directories made (mode as asked), never
 * beneath a link or a directory others can change. */
static void test_make(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct stat st;
	char p[128];
	int d;

	CU_ASSERT_FATAL(tree() == 0);
	snprintf(p, sizeof(p), "%s/a/new/deeper", top);
	d = idp_trusted_dir_make(p, geteuid(), 0700, &err);
	CU_ASSERT(d >= 0);
	if (d >= 0)
		close(d);
	CU_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	snprintf(p, sizeof(p), "%s/link/made", top);
	CU_ASSERT(idp_trusted_dir_make(p, geteuid(), 0700, &err) < 0);
	snprintf(p, sizeof(p), "%s/a/made", top);
	CU_ASSERT(stat(p, &st) < 0);   /* not through the link either */
	snprintf(p, sizeof(p), "%s/a", top);
	chmod(p, 0777);
	snprintf(p, sizeof(p), "%s/a/other/made", top);
	CU_ASSERT(idp_trusted_dir_make(p, geteuid(), 0700, &err) < 0);
	snprintf(p, sizeof(p), "%s/a/other", top);
	CU_ASSERT(stat(p, &st) < 0);   /* nothing made beneath it */
	untree();
}

static void test_dir_stat(void)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | 01777;
	CU_ASSERT(idp_trusted_dir_stat(&st, 1000));    /* /tmp */
	st.st_uid = 1000;
	CU_ASSERT(!idp_trusted_dir_stat(&st, 1000));   /* sticky, but not root's */
	st.st_mode = S_IFDIR | 0755;
	CU_ASSERT(idp_trusted_dir_stat(&st, 1000));
	CU_ASSERT(!idp_trusted_dir_stat(&st, 0));
	st.st_mode = S_IFDIR | 0775;
	CU_ASSERT(!idp_trusted_dir_stat(&st, 1000));
	st.st_mode = S_IFREG | 0755;
	CU_ASSERT(!idp_trusted_dir_stat(&st, 1000));
}

/* A process's start time: ours, the same when asked twice, a child's
 * later or equal; none for a pid that is not there. */
static void test_process_started(void)
{
	uint64_t a = 0, b = 0, c = 0;
	pid_t child;

	CU_ASSERT_EQUAL(idp_process_started(getpid(), &a), 0);
	CU_ASSERT_EQUAL(idp_process_started(getpid(), &b), 0);
	CU_ASSERT(a > 0);
	CU_ASSERT_EQUAL(a, b);
	if ((child = fork()) == 0) {
		pause();
		_exit(0);
	}
	CU_ASSERT_FATAL(child > 0);
	CU_ASSERT_EQUAL(idp_process_started(child, &c), 0);
	CU_ASSERT(c >= a);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CU_ASSERT_EQUAL(idp_process_started(child, &c), -1);
	CU_ASSERT_EQUAL(idp_process_started((pid_t)0x7ffffff0, &c), -1);
}

static const struct unit_test tests[] = {
	{ "process_started", test_process_started },
	{ "beneath", test_beneath },
	{ "chain", test_chain },
	{ "make", test_make },
	{ "dir_stat", test_dir_stat },
	{ NULL, NULL }
};

IDP_SUITE(trust) { unit_add_suite("trust", tests); }
