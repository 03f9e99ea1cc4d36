/* test_tlsconf.c: TLS settings for a registry host from flags, docker
 * certs.d dirs and containerd hosts dirs, built in temp dirs. */
#include "config.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "registry/tlsconf.h"

#define HP "gitea.cnoe.localtest.me:8443"

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void rm_rf(char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Create root/rel (a file with content, or a dir when content is NULL),
 * making parents; returns the full path in a static buffer. */
static const char *mk(const char *root, const char *rel, const char *content)
{
	static char path[4096];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	if (content) {
		CU_ASSERT_EQUAL(unit_write_file(path, content), 0);
	} else {
		mkdir(path, 0700);
	}
	return path;
}

static void opts_for(struct idp_tls_opts *o, const char *root, char *dbuf,
		     char *hbuf, size_t n)
{
	memset(o, 0, sizeof(*o));
	snprintf(dbuf, n, "%s/docker", root);
	snprintf(hbuf, n, "%s/containerd", root);
	o->docker_certs_dir = dbuf;
	o->hosts_dir = hbuf;
	o->no_system_dirs = 1;
}

#define SETUP(root, o) \
	char dbuf_[4096], hbuf_[4096]; \
	struct idp_error err = IDP_ERROR_INIT; \
	struct idp_tls t; \
	char *root = unit_tmpdir(); \
	CU_ASSERT_PTR_NOT_NULL_FATAL(root); \
	opts_for(&o, root, dbuf_, hbuf_, sizeof(dbuf_))

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static void test_defaults(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL(t.plain_http, 0);
	CU_ASSERT_EQUAL(t.skip_verify, 0);
	CU_ASSERT_EQUAL(t.ncas, 0);
	CU_ASSERT_PTR_NULL(t.client_cert);
	CU_ASSERT_STRING_EQUAL(t.origin, "system defaults");
	idp_tls_release(&t);
	CU_ASSERT_PTR_NULL(t.origin);
	idp_tls_release(NULL);
	rm_rf(root);
}

static void test_flags(void)
{
	struct idp_tls_opts o;
	char ca[4096];
	SETUP(root, o);

	snprintf(ca, sizeof(ca), "%s", mk(root, "my-ca.pem", "PEM"));
	o.ca_file = ca;
	o.insecure = 1;
	o.plain_http = 1;
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL(t.plain_http, 1);
	CU_ASSERT_EQUAL(t.skip_verify, 1);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT_STRING_EQUAL(t.ca_files[0], ca);
	CU_ASSERT_STRING_EQUAL(t.origin, "--ca-cert, --insecure, --plain-http");
	idp_tls_release(&t);

	snprintf(ca, sizeof(ca), "%s/missing.pem", root);
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing.pem"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--ca-cert"));
	CU_ASSERT_PTR_NULL(t.origin);

	o.ca_file = root;  /* a directory is not a CA file */
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a regular file"));
	rm_rf(root);
}

static void test_docker_dir(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "docker/" HP "/b.crt", "B");
	mk(root, "docker/" HP "/a.crt", "A");
	mk(root, "docker/" HP "/client.cert", "C");
	mk(root, "docker/" HP "/client.key", "K");
	mk(root, "docker/" HP "/README", "ignored");
	mk(root, "docker/other:5000/z.crt", "Z");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 2);
	CU_ASSERT(has_suffix(t.ca_files[0], "/docker/" HP "/a.crt"));
	CU_ASSERT(has_suffix(t.ca_files[1], "/docker/" HP "/b.crt"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.client_cert);
	CU_ASSERT(has_suffix(t.client_cert, "/client.cert"));
	CU_ASSERT(has_suffix(t.client_key, "/client.key"));
	CU_ASSERT(has_suffix(t.origin, "/docker/" HP));
	CU_ASSERT_EQUAL(t.skip_verify, 0);
	idp_tls_release(&t);
	rm_rf(root);
}

static void test_docker_missing_partner(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "docker/" HP "/client.cert", "C");
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "client.key"));
	unlink(mk(root, "docker/" HP "/client.cert", "C"));
	mk(root, "docker/" HP "/lonely.key", "K");
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing client certificate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lonely.cert"));
	rm_rf(root);
}

/* <host>_<port>_ beats <host:port>, which beats _default. */
static void test_containerd_lookup_order(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "containerd/_default/default.crt", "D");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT(has_suffix(t.ca_files[0], "/_default/default.crt"));
	idp_tls_release(&t);

	mk(root, "containerd/" HP "/colon.crt", "C");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT(has_suffix(t.ca_files[0], "/" HP "/colon.crt"));
	idp_tls_release(&t);

	mk(root, "containerd/gitea.cnoe.localtest.me_8443_/under.crt", "U");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT(has_suffix(t.ca_files[0], "_8443_/under.crt"));
	idp_tls_release(&t);

	/* a host without a port has no <host>_<port>_ form */
	mk(root, "containerd/plain.example/p.crt", "P");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, "plain.example", &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT(has_suffix(t.ca_files[0], "/plain.example/p.crt"));
	idp_tls_release(&t);
	rm_rf(root);
}

/* idpbuilder's kind nodes get exactly this file. */
static void test_idpbuilder_skip_verify(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "containerd/" HP "/hosts.toml",
	   "[host.\"https://" HP "\"]\n  skip_verify = true\n");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL(t.skip_verify, 1);
	CU_ASSERT_EQUAL(t.plain_http, 0);
	CU_ASSERT_EQUAL(t.ncas, 0);
	CU_ASSERT(has_suffix(t.origin, "/" HP "/hosts.toml"));
	idp_tls_release(&t);
	rm_rf(root);
}

static void test_hosts_push_entry(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "containerd/" HP "/pull.crt", "not used: hosts.toml exists");
	mk(root, "containerd/" HP "/mirror.crt", "M");
	mk(root, "containerd/" HP "/push.crt", "P");
	mk(root, "containerd/" HP "/c.pem", "cert and key in one file");
	mk(root, "containerd/" HP "/hosts.toml",
	   "server = \"https://" HP "\"\n"
	   "ca = \"server.crt\"\n"
	   "[host.\"https://mirror\"]\n"
	   "  capabilities = [\"pull\", \"resolve\"]\n"
	   "  ca = \"mirror.crt\"\n"
	   "  skip_verify = true\n"
	   "[host.\"https://pusher\"]\n"
	   "  capabilities = [\"push\"]\n"
	   "  ca = [\"push.crt\"]\n"
	   "  client = \"c.pem\"\n");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT(has_suffix(t.ca_files[0], "/" HP "/push.crt"));
	CU_ASSERT_EQUAL(t.skip_verify, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.client_cert);
	CU_ASSERT(has_suffix(t.client_cert, "/c.pem"));
	CU_ASSERT_STRING_EQUAL(t.client_key, t.client_cert);
	idp_tls_release(&t);
	rm_rf(root);
}

/* No host may push: the `server` entry and its top-level keys apply. */
static void test_hosts_server_entry(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "containerd/" HP "/server.crt", "S");
	mk(root, "containerd/" HP "/c.cert", "C");
	mk(root, "containerd/" HP "/c.key", "K");
	mk(root, "containerd/" HP "/hosts.toml",
	   "server = \"http://" HP "\"\n"
	   "ca = \"server.crt\"\n"
	   "client = [[\"c.cert\", \"c.key\"]]\n"
	   "[host.\"https://mirror\"]\n"
	   "  capabilities = [\"pull\"]\n");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL(t.plain_http, 1);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 1);
	CU_ASSERT(has_suffix(t.ca_files[0], "/server.crt"));
	CU_ASSERT(has_suffix(t.client_key, "/c.key"));
	idp_tls_release(&t);

	/* a push host with http:// also means plain HTTP */
	mk(root, "containerd/" HP "/hosts.toml",
	   "[host.\"http://" HP "\"]\ncapabilities = [\"push\", \"pull\"]\n");
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL(t.plain_http, 1);
	CU_ASSERT_EQUAL(t.ncas, 0);
	idp_tls_release(&t);
	rm_rf(root);
}

static void test_hosts_errors(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "containerd/" HP "/hosts.toml", "server = \"x\"\nskip_verify = maybe\n");
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/hosts.toml:2:"));

	mk(root, "containerd/" HP "/hosts.toml", "ca = \"nope.crt\"\n");
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nope.crt"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "hosts.toml"));

	mk(root, "containerd/" HP "/hosts.toml", "client = [[\"c.cert\", \"gone.key\"]]\n");
	mk(root, "containerd/" HP "/c.cert", "C");
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gone.key"));

	CU_ASSERT_EQUAL(idp_tls_resolve(&o, "../etc", &t, &err), -1);
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, "a/b", &t, &err), -1);
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, "", &t, &err), -1);
	rm_rf(root);
}

/* Docker certs.d and a containerd dir add up; duplicates appear once. */
static void test_combined(void)
{
	struct idp_tls_opts o;
	SETUP(root, o);

	mk(root, "docker/" HP "/ca.crt", "A");
	mk(root, "containerd/" HP "/extra.crt", "E");
	o.insecure = 1;
	CU_ASSERT_EQUAL_FATAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 2);
	CU_ASSERT(has_suffix(t.ca_files[0], "/docker/" HP "/ca.crt"));
	CU_ASSERT(has_suffix(t.ca_files[1], "/containerd/" HP "/extra.crt"));
	CU_ASSERT_EQUAL(t.skip_verify, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.origin, "--insecure, "));
	CU_ASSERT_PTR_NOT_NULL(strstr(t.origin, "/docker/" HP));
	CU_ASSERT_PTR_NOT_NULL(strstr(t.origin, "/containerd/" HP));
	idp_tls_release(&t);
	rm_rf(root);
}

static void test_too_many_cas(void)
{
	struct idp_tls_opts o;
	char name[64];
	int i;
	SETUP(root, o);

	for (i = 0; i <= IDP_TLS_MAX_CAS; i++) {
		snprintf(name, sizeof(name), "docker/" HP "/ca%02d.crt", i);
		mk(root, name, "X");
	}
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than 16 ca files"));
	rm_rf(root);
}

static char *save_env(const char *name)
{
	const char *v = getenv(name);
	return v ? strdup(v) : NULL;
}

static void restore_env(const char *name, char *v)
{
	if (v)
		setenv(name, v, 1);
	else
		unsetenv(name);
	free(v);
}

/* Without no_system_dirs the user dirs ($XDG_CONFIG_HOME, ~/.config,
 * ~/.docker) are read too. */
static void test_user_dirs(void)
{
	struct idp_tls_opts o;
	char *home = save_env("HOME"), *xdg = save_env("XDG_CONFIG_HOME");
	char path[4096];
	SETUP(root, o);

	o.no_system_dirs = 0;
	setenv("HOME", root, 1);
	snprintf(path, sizeof(path), "%s/xdg", root);
	setenv("XDG_CONFIG_HOME", path, 1);
	mk(root, "xdg/docker/certs.d/" HP "/1xdg.crt", "X");
	mk(root, ".config/docker/certs.d/" HP "/2config.crt", "C");
	mk(root, ".docker/certs.d/" HP "/3docker.crt", "D");
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL_FATAL(t.ncas, 3);
	CU_ASSERT(has_suffix(t.ca_files[0], "1xdg.crt"));
	CU_ASSERT(has_suffix(t.ca_files[1], "2config.crt"));
	CU_ASSERT(has_suffix(t.ca_files[2], "3docker.crt"));
	idp_tls_release(&t);

	/* XDG_CONFIG_HOME == ~/.config: the dir is read once */
	snprintf(path, sizeof(path), "%s/.config", root);
	setenv("XDG_CONFIG_HOME", path, 1);
	CU_ASSERT_EQUAL(idp_tls_resolve(&o, HP, &t, &err), 0);
	CU_ASSERT_EQUAL(t.ncas, 2);
	idp_tls_release(&t);
	restore_env("HOME", home);
	restore_env("XDG_CONFIG_HOME", xdg);
	rm_rf(root);
}

static const struct unit_test tests[] = {
	{ "defaults", test_defaults },
	{ "flags", test_flags },
	{ "docker_dir", test_docker_dir },
	{ "docker_missing_partner", test_docker_missing_partner },
	{ "containerd_lookup_order", test_containerd_lookup_order },
	{ "idpbuilder_skip_verify", test_idpbuilder_skip_verify },
	{ "hosts_push_entry", test_hosts_push_entry },
	{ "hosts_server_entry", test_hosts_server_entry },
	{ "hosts_errors", test_hosts_errors },
	{ "combined", test_combined },
	{ "too_many_cas", test_too_many_cas },
	{ "user_dirs", test_user_dirs },
	{ NULL, NULL }
};

IDP_SUITE(tlsconf) { unit_add_suite("tlsconf", tests); }
