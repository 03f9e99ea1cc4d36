/* test_hoststoml.c: the containerd hosts.toml subset parser: the documented
 * example, idpbuilder's file, every value shape we accept, and errors that
 * carry a line number and never the values. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "registry/hoststoml.h"

#define ALL_CAPS (IDP_HOST_CAP_PULL | IDP_HOST_CAP_RESOLVE | IDP_HOST_CAP_PUSH)

/* Parse text that must fail; returns the message (static per call). */
static const char *parse_fail(const char *text)
{
	static struct idp_error err;
	struct idp_hosts_file f;

	idp_error_clear(&err);
	CU_ASSERT_EQUAL(idp_hosts_parse(text, "/d", "h.toml", &f, &err), -1);
	CU_ASSERT_EQUAL(err.cls, IDP_EGENERAL);
	return err.msg;
}

static void test_doc_example(void)
{
	const char *text =
		"server = \"https://registry.example:5000\"\n"
		"[host.\"https://mirror.example\"]\n"
		"  capabilities = [\"pull\", \"resolve\"]      # pushes go elsewhere\n"
		"  ca = \"/path/ca.crt\"                     # string or array\n"
		"  client = [[\"/path/c.cert\", \"/path/c.key\"]]\n"
		"  skip_verify = true\n"
		"  [host.\"https://mirror.example\".header]\n"
		"    x-custom = \"v\"\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;
	const struct idp_hosts_entry *h;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(text, "/etc/containerd/certs.d/r",
					      "hosts.toml", &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.server.url, "https://registry.example:5000");
	CU_ASSERT_EQUAL(f.server.caps, ALL_CAPS);
	CU_ASSERT_EQUAL(f.server.skip_verify, -1);
	CU_ASSERT_EQUAL(f.server.ncas, 0);
	CU_ASSERT_EQUAL_FATAL(f.nhosts, 1);
	h = &f.hosts[0];
	CU_ASSERT_STRING_EQUAL(h->url, "https://mirror.example");
	CU_ASSERT_EQUAL(h->caps, IDP_HOST_CAP_PULL | IDP_HOST_CAP_RESOLVE);
	CU_ASSERT_EQUAL_FATAL(h->ncas, 1);
	CU_ASSERT_STRING_EQUAL(h->ca[0], "/path/ca.crt");
	CU_ASSERT_EQUAL_FATAL(h->nclients, 1);
	CU_ASSERT_STRING_EQUAL(h->client_cert[0], "/path/c.cert");
	CU_ASSERT_STRING_EQUAL(h->client_key[0], "/path/c.key");
	CU_ASSERT_EQUAL(h->skip_verify, 1);
	CU_ASSERT_EQUAL(h->override_path, 0);
	idp_hosts_release(&f);
	CU_ASSERT_EQUAL(f.nhosts, 0);
	CU_ASSERT_PTR_NULL(f.server.url);
}

static void test_idpbuilder(void)
{
	const char *text =
		"[host.\"https://gitea.cnoe.localtest.me:8443\"]\n"
		"  skip_verify = true\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(text, "/x", "hosts.toml", &f, &err), 0);
	CU_ASSERT_PTR_NULL(f.server.url);
	CU_ASSERT_EQUAL_FATAL(f.nhosts, 1);
	CU_ASSERT_STRING_EQUAL(f.hosts[0].url, "https://gitea.cnoe.localtest.me:8443");
	CU_ASSERT_EQUAL(f.hosts[0].caps, ALL_CAPS);
	CU_ASSERT_EQUAL(f.hosts[0].skip_verify, 1);
	CU_ASSERT_EQUAL(f.hosts[0].ncas, 0);
	idp_hosts_release(&f);

	/* the top-level form of the same thing */
	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(
		"server = \"https://gitea.cnoe.localtest.me:8443\"\nskip_verify = true\n",
		"/x", "hosts.toml", &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.server.url, "https://gitea.cnoe.localtest.me:8443");
	CU_ASSERT_EQUAL(f.server.skip_verify, 1);
	CU_ASSERT_EQUAL(f.nhosts, 0);
	idp_hosts_release(&f);
}

static void test_client_shapes(void)
{
	const char *text =
		"[host.\"https://a\"]\n"
		"  client = \"one.pem\"\n"
		"[host.\"https://b\"]\n"
		"  client = [\"two.pem\", \"/abs/three.pem\"]\n"
		"[host.\"https://c\"]\n"
		"  client = [\n"
		"    [\"c.cert\", \"c.key\"],   # a pair\n"
		"    [\"solo.pem\"],\n"
		"    \"plain.pem\",\n"
		"  ]\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;
	const struct idp_hosts_entry *c;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(text, "/certs/r", "h", &f, &err), 0);
	CU_ASSERT_EQUAL_FATAL(f.nhosts, 3);
	CU_ASSERT_EQUAL_FATAL(f.hosts[0].nclients, 1);
	CU_ASSERT_STRING_EQUAL(f.hosts[0].client_cert[0], "/certs/r/one.pem");
	CU_ASSERT_PTR_NULL(f.hosts[0].client_key[0]);
	CU_ASSERT_EQUAL_FATAL(f.hosts[1].nclients, 2);
	CU_ASSERT_STRING_EQUAL(f.hosts[1].client_cert[0], "/certs/r/two.pem");
	CU_ASSERT_STRING_EQUAL(f.hosts[1].client_cert[1], "/abs/three.pem");
	CU_ASSERT_PTR_NULL(f.hosts[1].client_key[1]);
	c = &f.hosts[2];
	CU_ASSERT_EQUAL_FATAL(c->nclients, 3);
	CU_ASSERT_STRING_EQUAL(c->client_cert[0], "/certs/r/c.cert");
	CU_ASSERT_STRING_EQUAL(c->client_key[0], "/certs/r/c.key");
	CU_ASSERT_STRING_EQUAL(c->client_cert[1], "/certs/r/solo.pem");
	CU_ASSERT_PTR_NULL(c->client_key[1]);
	CU_ASSERT_STRING_EQUAL(c->client_cert[2], "/certs/r/plain.pem");
	idp_hosts_release(&f);
}

static void test_ca_paths(void)
{
	const char *text =
		"ca = [\"rel.crt\", \"/abs/x.crt\", 'sub/lit\\eral.crt']\n"
		"[host.'https://m']\n"
		"ca = \"../up.crt\"\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(text, "/d/", "h", &f, &err), 0);
	CU_ASSERT_EQUAL_FATAL(f.server.ncas, 3);
	CU_ASSERT_STRING_EQUAL(f.server.ca[0], "/d/rel.crt");
	CU_ASSERT_STRING_EQUAL(f.server.ca[1], "/abs/x.crt");
	CU_ASSERT_STRING_EQUAL(f.server.ca[2], "/d/sub/lit\\eral.crt");
	CU_ASSERT_EQUAL_FATAL(f.nhosts, 1);
	CU_ASSERT_STRING_EQUAL(f.hosts[0].ca[0], "/d/../up.crt");
	idp_hosts_release(&f);

	/* no dir: paths stay as written */
	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse("ca = \"x.crt\"", NULL, "h", &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.server.ca[0], "x.crt");
	idp_hosts_release(&f);
}

static void test_syntax(void)
{
	const char *text =
		"# leading comment\r\n"
		"\r\n"
		"server = \"registry.example:5000\"   # no scheme\r\n"
		"override_path = true\r\n"
		"dial_timeout = \"3s\"\r\n"
		"some_number = 1_000\r\n"
		"[header]\r\n"
		"  \"X-Quoted\" = [\"a\", 'b']\r\n"
		"[ host . \"mirror.example\" ]  # spaces in the header\r\n"
		"capabilities = []\r\n"
		"ca = \"caf\\u00e9\\t.crt\"\r\n";
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(text, "/d", "h", &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.server.url, "https://registry.example:5000");
	CU_ASSERT_EQUAL(f.server.override_path, 1);
	CU_ASSERT_EQUAL_FATAL(f.nhosts, 1);
	CU_ASSERT_STRING_EQUAL(f.hosts[0].url, "https://mirror.example");
	CU_ASSERT_EQUAL(f.hosts[0].caps, 0);
	CU_ASSERT_STRING_EQUAL(f.hosts[0].ca[0], "/d/caf\xc3\xa9\t.crt");
	idp_hosts_release(&f);
}

static void test_empty(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse("", "/d", "h", &f, &err), 0);
	CU_ASSERT_PTR_NULL(f.server.url);
	CU_ASSERT_EQUAL(f.nhosts, 0);
	CU_ASSERT_EQUAL(f.server.caps, ALL_CAPS);
	CU_ASSERT_EQUAL(f.server.skip_verify, -1);
	idp_hosts_release(&f);
	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse("# only\n\n   \n# comments", "/d", "h",
					      &f, &err), 0);
	idp_hosts_release(&f);
	idp_hosts_release(NULL);
}

static void test_http_server(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;

	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(
		"server = \"http://localhost:5000\"\n[host.\"http://localhost:5000\"]\n"
		"capabilities = [\"pull\", \"resolve\", \"push\"]\nskip_verify = false\n",
		"/d", "h", &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.server.url, "http://localhost:5000");
	CU_ASSERT_STRING_EQUAL(f.hosts[0].url, "http://localhost:5000");
	CU_ASSERT_EQUAL(f.hosts[0].caps, ALL_CAPS);
	CU_ASSERT_EQUAL(f.hosts[0].skip_verify, 0);
	idp_hosts_release(&f);
}

static void test_errors(void)
{
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("a = \"x\"\n\nca = \"open\n"),
				      "h.toml:3: unterminated string"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("server \"x\""), "h.toml:1: expected '='"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("\n\ncapabilities = [\"pull\", \"fly\"]"),
				      "h.toml:3: unknown capability"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("skip_verify = \"yes\""),
				      "h.toml:1: 'skip_verify' must be true or false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = [[[\"x\"]]]"), "nested too deeply"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[[host]]"), "arrays of tables"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[plugins]\n"), "h.toml:1: unknown table"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[host.\"a\".other]"), "unknown table"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[host.\"a\"\n"), "expected ']'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("server = \"a\" \"b\""), "unexpected text"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = \"\"\"x\"\"\""), "multi-line"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("client = [[\"a\", \"b\", \"c\"]]"),
				      "[cert, key]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[host]\nca = \"x\""), "h.toml:2:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = \"a\\qb\""), "invalid escape"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = \"\\u12\""), "unicode"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = 1.5"), "unsupported value"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = [\"a\" \"b\"]"), "expected ','"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = [\"a\""), "expected ','"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("a.b = 1"), "dotted keys"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("= 1"), "expected a key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = tru"), "unsupported value"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = \"a\x01\""), "control character"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[host.\"\"]"), "empty host"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[host.\"x\"]\nserver = \"y\""),
				      "only valid at the top level"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("[host.\"x\"]\n[host.'https://x']"),
				      "h.toml:2: duplicate table"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("ca = 5"), "'ca' must be"));
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail("capabilities = \"push\""), "array of strings"));
}

/* Header tables may hold credentials: errors never quote values. */
static void test_error_hides_values(void)
{
	const char *m = parse_fail(
		"[host.\"https://r\".header]\n"
		"  authorization = \"Bearer s3cr3t-value\" trailing\n");

	CU_ASSERT_PTR_NOT_NULL(strstr(m, "h.toml:2:"));
	CU_ASSERT_PTR_NULL(strstr(m, "s3cr3t"));
	m = parse_fail("authorization = \"Basic s3cr3t-value\nx = 1");
	CU_ASSERT_PTR_NULL(strstr(m, "s3cr3t"));
}

/* Found by fuzzing: a quoted key, a table name or a capability is quoted
 * in the message, and held raw bytes (an escape sequence to the terminal
 * that prints the error); they show escaped now (\x1b, \u202e). */
static void test_error_printable(void)
{
	static const char *const bad[] = {
		"'\xe2\x80\xaekey' \"x\"",
		"\"k\\u001b]0;title\\u0007\" x",
		"capabilities = [\"p\\u001bush\"]",
		"[host.\"x\"]\n[host.\"\\u001b\"]\n[host.\"\\u001b\"]",
		"[host.\"\xc3\xa9\"]\n[host.\"\xc3\xa9\"]",
	};
	const char *m, *s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = parse_fail(bad[i]);
		for (s = m; *s; s++)
			CU_ASSERT((unsigned char)*s >= 0x20 && (unsigned char)*s != 0x7f);
		CU_ASSERT_PTR_NULL(strstr(m, "\xe2\x80\xae"));
	}
}

static void test_limits(void)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;
	char text[4096];
	size_t n = 0;
	int i;

	for (i = 0; i < IDP_HOSTS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[host.\"h%d\"]\n", i);
	CU_ASSERT_EQUAL_FATAL(idp_hosts_parse(text, "/d", "h", &f, &err), 0);
	CU_ASSERT_EQUAL(f.nhosts, IDP_HOSTS_MAX);
	CU_ASSERT_STRING_EQUAL(f.hosts[IDP_HOSTS_MAX - 1].url, "https://h15");
	idp_hosts_release(&f);
	snprintf(text + n, sizeof(text) - n, "[host.\"one-too-many\"]\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail(text), "more than 16 hosts"));

	n = (size_t)snprintf(text, sizeof(text), "ca = [");
	for (i = 0; i <= IDP_HOSTS_MAX_FILES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\"c%d.crt\",", i);
	snprintf(text + n, sizeof(text) - n, "]");
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail(text), "more than 8 ca files"));

	n = (size_t)snprintf(text, sizeof(text), "x = [");
	for (i = 0; i <= 64; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "1,");
	snprintf(text + n, sizeof(text) - n, "]");
	CU_ASSERT_PTR_NOT_NULL(strstr(parse_fail(text), "more than 64 items"));
}

static const struct unit_test tests[] = {
	{ "doc_example", test_doc_example },
	{ "idpbuilder", test_idpbuilder },
	{ "client_shapes", test_client_shapes },
	{ "ca_paths", test_ca_paths },
	{ "syntax", test_syntax },
	{ "empty", test_empty },
	{ "http_server", test_http_server },
	{ "errors", test_errors },
	{ "error_hides_values", test_error_hides_values },
	{ "error_printable", test_error_printable },
	{ "limits", test_limits },
	{ NULL, NULL }
};

IDP_SUITE(hoststoml) { unit_add_suite("hoststoml", tests); }
