/* test_ref.c: reference parsing, idpbuilder defaults, registry value
 * normalisation, loopback detection, which hosts are idpbuilder's
 * registry (path routing, another port), localtest.me names, and Gitea's
 * rule for image names. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "util/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" D64

/* Parse s; on success compare each member (NULL = expect NULL). */
static void expect_ref(const char *s, const struct idp_ref_defaults *d, const char *domain,
		       const char *path, const char *tag, const char *digest)
{
	struct idp_ref r;
	struct idp_error e = IDP_ERROR_INIT;
	int rc = idp_ref_parse(s, d, &r, &e);

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(r.domain, domain);
	CU_ASSERT_STRING_EQUAL(r.path, path);
	if (tag) {
		CU_ASSERT_STRING_EQUAL(r.tag, tag);
	} else {
		CU_ASSERT_PTR_NULL(r.tag);
	}
	if (digest) {
		CU_ASSERT_STRING_EQUAL(r.digest, digest);
	} else {
		CU_ASSERT_PTR_NULL(r.digest);
	}
	idp_ref_release(&r);
}

/* Parse must fail with IDP_EGENERAL and a message containing `needle`. */
static void expect_fail(const char *s, const char *needle)
{
	struct idp_ref r;
	struct idp_error e = IDP_ERROR_INIT;

	CU_ASSERT_EQUAL(idp_ref_parse(s, NULL, &r, &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EGENERAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, needle));
	CU_ASSERT_PTR_NULL(r.domain);
	CU_ASSERT_PTR_NULL(r.path);
	CU_ASSERT_PTR_NULL(r.tag);
	CU_ASSERT_PTR_NULL(r.digest);
}

static void test_bare_name(void)
{
	expect_ref("myapp", NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/myapp", "latest", NULL);
	expect_ref("myapp:dev", NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/myapp", "dev", NULL);
	expect_ref("my-app_1.x", NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/my-app_1.x", "latest",
		   NULL);
	expect_ref("a__b--c", NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/a__b--c", "latest", NULL);
}

static void test_owner_name(void)
{
	expect_ref("someone/myapp:v1", NULL, IDP_DEFAULT_REGISTRY, "someone/myapp", "v1", NULL);
	expect_ref("org/team/app", NULL, IDP_DEFAULT_REGISTRY, "org/team/app", "latest", NULL);
}

static void test_with_host(void)
{
	expect_ref("gitea.cnoe.localtest.me:8443/giteaadmin/x", NULL,
		   "gitea.cnoe.localtest.me:8443", "giteaadmin/x", "latest", NULL);
	expect_ref("localhost:5000/a/b:t", NULL, "localhost:5000", "a/b", "t", NULL);
	expect_ref("localhost/x", NULL, "localhost", "x", "latest", NULL);
	expect_ref("LocalHost/x", NULL, "localhost", "x", "latest", NULL);
	expect_ref("Registry.Example.COM:443/x", NULL, "registry.example.com:443", "x", "latest",
		   NULL);
	expect_ref("example.com/x", NULL, "example.com", "x", "latest", NULL);
	expect_ref("host:5000/x", NULL, "host:5000", "x", "latest", NULL);
	expect_ref("127.0.0.1:5000/x:1", NULL, "127.0.0.1:5000", "x", "1", NULL);
	/* no '.', ':' or localhost: an owner, not a host */
	expect_ref("myhost/x", NULL, IDP_DEFAULT_REGISTRY, "myhost/x", "latest", NULL);
}

static void test_ipv6(void)
{
	expect_ref("[::1]:5000/x", NULL, "[::1]:5000", "x", "latest", NULL);
	expect_ref("[::1]/x:v2", NULL, "[::1]", "x", "v2", NULL);
	expect_ref("[FE80::1]:5000/a/b", NULL, "[fe80::1]:5000", "a/b", "latest", NULL);
	expect_fail("[::1:5000/x", "invalid registry host");
	expect_fail("[zz::1]:5000/x", "invalid registry host");
	expect_fail("[]:5000/x", "invalid registry host");
}

static void test_digests(void)
{
	expect_ref("myapp@" DIGEST, NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/myapp", NULL, DIGEST);
	expect_ref("myapp:dev@" DIGEST, NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/myapp", "dev",
		   DIGEST);
	expect_ref("localhost:5000/a/b@" DIGEST, NULL, "localhost:5000", "a/b", NULL, DIGEST);
	expect_fail("myapp@sha256:abc", "invalid digest");
	expect_fail("myapp@sha512:" D64 D64, "invalid digest");
	expect_fail("myapp@sha256:"
		    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		    "invalid digest");
	expect_fail("myapp@", "invalid digest");
	expect_fail("myapp@" DIGEST "@" DIGEST, "invalid digest");
}

static void test_uppercase(void)
{
	expect_fail("MyApp", "must be lowercase");
	expect_fail("MyApp:dev", "\"MyApp\"");
	expect_fail("localhost:5000/Owner/x", "must be lowercase");
	expect_fail("giteaAdmin/x", "giteaAdmin");
}

static void test_tags(void)
{
	char tag[200], ref[260];

	expect_ref("x:A-b_c.1", NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/x", "A-b_c.1", NULL);
	expect_ref("x:_t", NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/x", "_t", NULL);
	expect_fail("x:", "invalid tag");
	expect_fail("x:-t", "invalid tag");
	expect_fail("x:.t", "invalid tag");
	expect_fail("x:a/b", "invalid");
	expect_fail("x:a+b", "invalid tag");
	expect_fail("x:a:b", "\"x:a\"");
	memset(tag, 'a', 128);
	tag[128] = '\0';
	snprintf(ref, sizeof(ref), "x:%s", tag);
	expect_ref(ref, NULL, IDP_DEFAULT_REGISTRY, "giteaadmin/x", tag, NULL);
	tag[128] = 'a';
	tag[129] = '\0';
	snprintf(ref, sizeof(ref), "x:%s", tag);
	expect_fail(ref, "invalid tag");
}

static void test_components(void)
{
	expect_fail("", "empty");
	expect_fail("a//b", "empty path component");
	expect_fail("/a", "empty path component");
	expect_fail("a/", "empty path component");
	expect_fail("localhost:5000/", "missing repository name");
	expect_fail(":tag", "missing repository name");
	expect_fail("a..b", "invalid repository name component");
	expect_fail("a___b", "invalid repository name component");
	expect_fail("-a", "invalid repository name component");
	expect_fail("a-", "invalid repository name component");
	expect_fail("a b", "invalid repository name component");
	expect_fail("a.-b", "invalid repository name component");
	expect_fail("bad_host:x/y", "invalid registry host");
	expect_fail("host:99999/y", "invalid registry host");
	expect_fail("host:/y", "invalid registry host");
}

static void test_long_names(void)
{
	char name[400], path[420];
	size_t room = 255 - strlen(IDP_DEFAULT_REGISTRY "/giteaadmin/");
	struct idp_ref r;
	struct idp_error e = IDP_ERROR_INIT;

	memset(name, 'a', room);
	name[room] = '\0';
	snprintf(path, sizeof(path), "giteaadmin/%s", name);
	expect_ref(name, NULL, IDP_DEFAULT_REGISTRY, path, "latest", NULL);
	name[room] = 'a';
	name[room + 1] = '\0';
	expect_fail(name, "longer than 255");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect_fail(name, "longer than 255");
	/* input itself unreasonably long */
	{
		char *big = malloc(5000);
		CU_ASSERT_PTR_NOT_NULL_FATAL(big);
		memset(big, 'a', 4999);
		big[4999] = '\0';
		CU_ASSERT_EQUAL(idp_ref_parse(big, NULL, &r, &e), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "longer than"));
		free(big);
	}
}

static void test_defaults(void)
{
	struct idp_ref_defaults d = { "https://Reg.Example:5000/", NULL };
	struct idp_ref_defaults none = { "localhost:5000", "" };
	struct idp_ref_defaults mixed = { NULL, "giteaAdmin" };
	struct idp_ref_defaults badreg = { "https://h/path", NULL };
	struct idp_ref_defaults badown = { NULL, "bad owner" };
	struct idp_ref r;
	struct idp_error e = IDP_ERROR_INIT;

	expect_ref("app", &d, "reg.example:5000", "giteaadmin/app", "latest", NULL);
	expect_ref("app", &none, "localhost:5000", "app", "latest", NULL);
	expect_ref("o/app", &none, "localhost:5000", "o/app", "latest", NULL);
	expect_ref("app", &mixed, IDP_DEFAULT_REGISTRY, "giteaadmin/app", "latest", NULL);
	/* a host in the reference wins over the defaults */
	expect_ref("localhost/app", &d, "localhost", "app", "latest", NULL);
	CU_ASSERT_EQUAL(idp_ref_parse("app", &badreg, &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "host[:port]"));
	CU_ASSERT_EQUAL(idp_ref_parse("app", &badown, &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "owner"));
	CU_ASSERT_PTR_NULL(r.domain);
}

/* A reference without a tag gets the defaults' tag; one with a tag or a
 * digest keeps its own. */
static void test_default_tag(void)
{
	struct idp_ref_defaults d = { "localhost:5000", NULL, "dev" };

	expect_ref("app", &d, "localhost:5000", "giteaadmin/app", "dev", NULL);
	expect_ref("r.example/o/app", &d, "r.example", "o/app", "dev", NULL);
	expect_ref("app:1", &d, "localhost:5000", "giteaadmin/app", "1", NULL);
	expect_ref("app@" DIGEST, &d, "localhost:5000", "giteaadmin/app", NULL, DIGEST);
}

/* A registry address alone, which would otherwise be a repository under
 * the default registry. */
static void test_registry_only(void)
{
	static const char *const yes[] = { "127.0.0.1:5001", "127.0.0.1", "localhost",
					   "LocalHost:5000", "[::1]:5000", "10.1.2.3:80",
					   "registry.example.com:5000", NULL };
	static const char *const no[] = { "myapp", "myapp:5000", "my.app", "myapp:dev",
					  "127.0.0.1:5001/o/app", "localhost/app", "r.example:v1",
					  "", "a:b:c", NULL };
	int i;

	for (i = 0; yes[i]; i++)
		CU_ASSERT_EQUAL(idp_ref_is_registry_only(yes[i]), 1);
	for (i = 0; no[i]; i++)
		CU_ASSERT_EQUAL(idp_ref_is_registry_only(no[i]), 0);
}

static void expect_host(const char *in, const char *want)
{
	struct idp_error e = IDP_ERROR_INIT;
	char *h = idp_registry_host_normalize(in, &e);

	if (want) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		CU_ASSERT_STRING_EQUAL(h, want);
	} else {
		CU_ASSERT_PTR_NULL(h);
		CU_ASSERT_EQUAL(e.cls, IDP_EGENERAL);
		CU_ASSERT_NOT_EQUAL(e.msg[0], '\0');
	}
	free(h);
}

static void test_registry_normalize(void)
{
	expect_host("https://h:8443/", "h:8443");
	expect_host("HTTPS://Gitea.CNOE.localtest.me:8443", "gitea.cnoe.localtest.me:8443");
	expect_host("http://localhost:5000//", "localhost:5000");
	expect_host("gitea.cnoe.localtest.me:8443", "gitea.cnoe.localtest.me:8443");
	expect_host("[::1]:5000", "[::1]:5000");
	expect_host("https://[::1]/", "[::1]");
	expect_host("h", "h");
	expect_host("", NULL);
	expect_host(NULL, NULL);
	expect_host("https://", NULL);
	expect_host("https://h:8443/gitea", NULL);
	expect_host("ftp://h", NULL);
	expect_host("h:0", NULL);
	expect_host("h:65536", NULL);
	expect_host("h:abc", NULL);
	expect_host("user@h", NULL);
	expect_host("h h", NULL);
	expect_host("-h.example", NULL);
	expect_host("h..example", NULL);
}

static void test_strings(void)
{
	struct idp_ref r;
	struct idp_error e = IDP_ERROR_INIT;
	char *s;

	CU_ASSERT_EQUAL_FATAL(idp_ref_parse("myapp:dev", NULL, &r, &e), 0);
	s = idp_ref_string(&r);
	CU_ASSERT_STRING_EQUAL(s, "gitea.cnoe.localtest.me:8443/giteaadmin/myapp:dev");
	free(s);
	s = idp_ref_repository(&r);
	CU_ASSERT_STRING_EQUAL(s, "gitea.cnoe.localtest.me:8443/giteaadmin/myapp");
	free(s);
	idp_ref_release(&r);
	idp_ref_release(&r);   /* twice is harmless */

	CU_ASSERT_EQUAL_FATAL(idp_ref_parse("localhost:5000/a@" DIGEST, NULL, &r, &e), 0);
	s = idp_ref_string(&r);
	CU_ASSERT_STRING_EQUAL(s, "localhost:5000/a@" DIGEST);
	free(s);
	idp_ref_release(&r);

	CU_ASSERT_EQUAL_FATAL(idp_ref_parse("localhost:5000/a:t@" DIGEST, NULL, &r, &e), 0);
	s = idp_ref_string(&r);
	CU_ASSERT_STRING_EQUAL(s, "localhost:5000/a:t@" DIGEST);
	free(s);
	idp_ref_release(&r);
	idp_ref_release(NULL);
}

static void test_loopback(void)
{
	CU_ASSERT_TRUE(idp_host_is_loopback("localhost"));
	CU_ASSERT_TRUE(idp_host_is_loopback("LOCALHOST:5000"));
	CU_ASSERT_TRUE(idp_host_is_loopback("127.0.0.1"));
	CU_ASSERT_TRUE(idp_host_is_loopback("127.0.0.1:5000"));
	CU_ASSERT_TRUE(idp_host_is_loopback("127.255.1.2:80"));
	CU_ASSERT_TRUE(idp_host_is_loopback("::1"));
	CU_ASSERT_TRUE(idp_host_is_loopback("[::1]"));
	CU_ASSERT_TRUE(idp_host_is_loopback("[::1]:5000"));
	CU_ASSERT_TRUE(idp_host_is_loopback("[::ffff:127.0.0.1]:5000"));
	CU_ASSERT_FALSE(idp_host_is_loopback("128.0.0.1"));
	CU_ASSERT_FALSE(idp_host_is_loopback("10.0.0.1:5000"));
	CU_ASSERT_FALSE(idp_host_is_loopback("gitea.cnoe.localtest.me:8443"));
	CU_ASSERT_FALSE(idp_host_is_loopback("localhost.example.com"));
	CU_ASSERT_FALSE(idp_host_is_loopback("[::2]:5000"));
	CU_ASSERT_FALSE(idp_host_is_loopback("[::1"));
	CU_ASSERT_FALSE(idp_host_is_loopback("127.0.0.1.example"));
	CU_ASSERT_FALSE(idp_host_is_loopback(""));
	CU_ASSERT_FALSE(idp_host_is_loopback(NULL));
}

/* Addresses only (a name would ask DNS): literals and localhost. */
static void test_resolves_loopback(void)
{
	CU_ASSERT_TRUE(idp_host_resolves_loopback("127.0.0.1:8443"));
	CU_ASSERT_TRUE(idp_host_resolves_loopback("[::1]:8443"));
	CU_ASSERT_TRUE(idp_host_resolves_loopback("localhost:5000"));
	CU_ASSERT_FALSE(idp_host_resolves_loopback("192.0.2.1:8443"));
	CU_ASSERT_FALSE(idp_host_resolves_loopback("[2001:db8::1]:8443"));
	CU_ASSERT_FALSE(idp_host_resolves_loopback("10.0.0.1"));
	CU_ASSERT_FALSE(idp_host_resolves_loopback(""));
	CU_ASSERT_FALSE(idp_host_resolves_loopback(NULL));
}

/* Names read back from a file (the push cache) are checked as a parsed
 * reference holds them. */
static void test_validators(void)
{
	static const struct {
		const char *s;
		int repo, host;    /* valid as a repository path, as host[:port] */
	} cases[] = {
		{ "giteaadmin/myapp", 1, 0 },
		{ "a/b-c/d__e.f", 1, 0 },
		{ "gitea.cnoe.localtest.me:8443", 0, 1 },
		{ "[::1]:5000", 0, 1 },
		{ "localhost", 1, 1 },
		{ "", 0, 0 },
		{ "a//b", 0, 0 },
		{ "A/b", 0, 0 },
		{ "Example.com", 0, 0 },
		{ "a/../b", 0, 0 },
		{ "a/b?from=x", 0, 0 },
		{ "h:99999", 0, 0 },
		{ "a/\033]0;x\007", 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(idp_repository_valid(cases[i].s), cases[i].repo);
		CU_ASSERT_EQUAL(idp_hostport_valid(cases[i].s), cases[i].host);
	}
	CU_ASSERT_FALSE(idp_repository_valid(NULL));
	CU_ASSERT_FALSE(idp_hostport_valid(NULL));
}

/* idpbuilder's registry: the one configured, or its names on any port. */
static void test_is_idpbuilder(void)
{
	static const struct {
		const char *host;
		const char *configured;
		int yes;
	} rows[] = {
		{ "gitea.cnoe.localtest.me:8443", NULL, 1 },
		{ "cnoe.localtest.me:8443", NULL, 1 },         /* --use-path-routing */
		{ "gitea.cnoe.localtest.me:9443", NULL, 1 },   /* --port 9443 */
		{ "CNOE.localtest.me:8443", NULL, 1 },
		{ "cnoe.localtest.me", NULL, 1 },
		{ "127.0.0.1:8443", NULL, 0 },
		{ "127.0.0.1:8443", "127.0.0.1:8443", 1 },
		{ "127.0.0.1:8443", "https://127.0.0.1:8443/", 1 },
		{ "127.0.0.1:8444", "127.0.0.1:8443", 0 },
		{ "gitea.cnoe.localtest.me:8443", "127.0.0.1:8443", 1 },
		{ "other.cnoe.localtest.me:8443", NULL, 0 },
		{ "cnoe.localtest.me.evil.example:8443", NULL, 0 },
		{ "registry.example:443", NULL, 0 },
		{ NULL, NULL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CU_ASSERT_EQUAL(idp_registry_is_idpbuilder(rows[i].host, rows[i].configured),
				rows[i].yes);
}

static void test_localtest(void)
{
	CU_ASSERT_TRUE(idp_host_is_localtest("gitea.cnoe.localtest.me:8443"));
	CU_ASSERT_TRUE(idp_host_is_localtest("cnoe.localtest.me:8443"));
	CU_ASSERT_TRUE(idp_host_is_localtest("localtest.me"));
	CU_ASSERT_TRUE(idp_host_is_localtest("x.LOCALTEST.ME."));
	CU_ASSERT_FALSE(idp_host_is_localtest("notlocaltest.me:8443"));
	CU_ASSERT_FALSE(idp_host_is_localtest("localtest.me.example:8443"));
	CU_ASSERT_FALSE(idp_host_is_localtest("127.0.0.1:8443"));
	CU_ASSERT_FALSE(idp_host_is_localtest(NULL));
}

static void test_gitea_image_rule(void)
{
	static const struct {
		const char *image;
		const char *at;         /* NULL: follows the rule */
	} rows[] = {
		{ "app", NULL },
		{ "my.app_x-y", NULL },
		{ "team/app/v2", NULL },
		{ "a1/b-2", NULL },
		{ "my__app", "'_app'" },
		{ "my--app", "'-app'" },
		{ "my-_app", "'_app'" },
		{ "app.", "'.'" },
		{ "team//app", "'/app'" },
		{ "/app", "'/app'" },
		{ "App", "'App'" },
		{ "", "a name" },
	};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = idp_ref_gitea_image_rule(rows[i].image, why, sizeof(why));

		CU_ASSERT_EQUAL(rc, rows[i].at ? -1 : 0);
		if (rows[i].at && rc < 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(why, rows[i].at));
	}
}

static const struct unit_test tests[] = {
	{ "bare_name", test_bare_name },
	{ "owner_name", test_owner_name },
	{ "with_host", test_with_host },
	{ "ipv6", test_ipv6 },
	{ "digests", test_digests },
	{ "uppercase", test_uppercase },
	{ "tags", test_tags },
	{ "components", test_components },
	{ "long_names", test_long_names },
	{ "defaults", test_defaults },
	{ "default_tag", test_default_tag },
	{ "registry_only", test_registry_only },
	{ "registry_normalize", test_registry_normalize },
	{ "strings", test_strings },
	{ "loopback", test_loopback },
	{ "resolves_loopback", test_resolves_loopback },
	{ "validators", test_validators },
	{ "is_idpbuilder", test_is_idpbuilder },
	{ "localtest", test_localtest },
	{ "gitea_image_rule", test_gitea_image_rule },
	{ NULL, NULL }
};

IDP_SUITE(ref) { unit_add_suite("ref", tests); }
