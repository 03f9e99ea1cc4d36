/* test_cluster.c: what idpbuilder's cluster tools print, read without
 * running them (registry/cluster.h): `idpbuilder get secrets -p gitea -o
 * json` in every version's shape (>= 0.9 flat and indented, 0.8.1 under
 * "data", [] before the secret exists), and whether idpbuilder's CA has
 * expired. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "registry/cluster.h"

struct secrets_row {
	const char *what;
	const char *json;
	int rc;                 /* 1, IDP_CLUSTER_NOT_YET or 0 */
	const char *user;       /* with rc 1 */
	const char *pass;
};

static const struct secrets_row secrets_rows[] = {
	{ "0.9, one line",
	  "[{\"IsCore\":true,\"name\":\"gitea-credential\",\"namespace\":\"gitea\","
	  "\"username\":\"giteaAdmin\",\"password\":\"pw\",\"token\":\"t\"}]",
	  1, "giteaAdmin", "pw" },
	{ "0.9, indented, no token",
	  "[\n  {\n    \"IsCore\": true,\n    \"name\": \"gitea-credential\",\n"
	  "    \"namespace\": \"gitea\",\n    \"username\": \"giteaAdmin\",\n"
	  "    \"password\": \"pw\"\n  }\n]\n",
	  1, "giteaAdmin", "pw" },
	{ "0.8.1: under data",
	  "[{\"name\":\"gitea-credential\",\"namespace\":\"gitea\",\"data\":{\"username\":"
	  "\"giteaAdmin\",\"password\":\"pw\",\"token\":\"t\"}}]",
	  1, "giteaAdmin", "pw" },
	{ "gitea-credential among others",
	  "[{\"name\":\"argocd\",\"username\":\"admin\",\"password\":\"a\"},"
	  "{\"name\":\"gitea-credential\",\"username\":\"giteaAdmin\",\"password\":\"pw\"}]",
	  1, "giteaAdmin", "pw" },
	{ "the secret does not exist yet", "[]\n", IDP_CLUSTER_NOT_YET, NULL, NULL },
	{ "no password", "[{\"name\":\"gitea-credential\",\"username\":\"giteaAdmin\"}]", 0,
	  NULL, NULL },
	{ "empty strings", "[{\"username\":\"\",\"password\":\"\"}]", 0, NULL, NULL },
	{ "not an array", "{\"username\":\"u\",\"password\":\"p\"}", 0, NULL, NULL },
	{ "not JSON", "The connection to the server was refused", 0, NULL, NULL },
};

static void test_parse_secrets(void)
{
	size_t i;

	for (i = 0; i < sizeof(secrets_rows) / sizeof(secrets_rows[0]); i++) {
		const struct secrets_row *r = &secrets_rows[i];
		struct idp_creds c;
		struct idp_error e = IDP_ERROR_INIT;
		int rc;

		memset(&c, 0, sizeof(c));
		rc = idp_cluster_parse_secrets(r->json, strlen(r->json), &c, &e);
		CU_ASSERT_EQUAL(rc, r->rc);
		if (rc == 1) {
			CU_ASSERT_STRING_EQUAL(c.username, r->user);
			CU_ASSERT_STRING_EQUAL(c.password, r->pass);
			CU_ASSERT_EQUAL(c.source, IDP_CREDS_CLUSTER);
		} else {
			CU_ASSERT(e.msg[0] != '\0');
		}
		if (rc == IDP_CLUSTER_NOT_YET)
			CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no Gitea credential yet"));
		idp_creds_release(&c);
	}
}

/* valid from 2023-01-01 to 2024-01-02 */
static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBOjCB4KADAgECAgEBMAoGCCqGSM49BAMCMBwxGjAYBgNVBAMMEWNub2UubG9j\n"
	"YWx0ZXN0Lm1lMB4XDTIzMDEwMTAwMDAwMFoXDTI0MDEwMjAwMDAwMFowHDEaMBgG\n"
	"A1UEAwwRY25vZS5sb2NhbHRlc3QubWUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
	"AATADgR2ciwfkB9lHikQMs+zJaM5gqkCQIu4lSsugeuyDTvKZvtdEpLycYnJUKaQ\n"
	"d0drY/XElpj8fy33NOHJNQ1WoxMwETAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49\n"
	"BAMCA0kAMEYCIQCQl7DtIsrUT7kXSzz2oeiNFuhFehslz8/sdrtgD73XvwIhAIuf\n"
	"FuVY5SuW4kMrhdOBgbEtAjSPd0Ma3HCqrQJOI+Yz\n"
	"-----END CERTIFICATE-----\n";

static void test_ca_expired(void)
{
	char when[32];

	CU_ASSERT_EQUAL(idp_cluster_ca_expired(ca_pem, strlen(ca_pem), 1685577600 /* 2023-06 */,
					       when, sizeof(when)), 0);
	CU_ASSERT_EQUAL(idp_cluster_ca_expired(ca_pem, strlen(ca_pem), 1717200000 /* 2024-06 */,
					       when, sizeof(when)), 1);
	CU_ASSERT_STRING_EQUAL(when, "2024-01-02");
	CU_ASSERT_EQUAL(idp_cluster_ca_expired("junk", 4, 1717200000, when, sizeof(when)), -1);
	CU_ASSERT_EQUAL(idp_cluster_ca_expired("", 0, 1717200000, when, sizeof(when)), -1);
}

static const struct unit_test tests[] = {
	{ "parse_secrets", test_parse_secrets },
	{ "ca_expired", test_ca_expired },
	{ NULL, NULL }
};

IDP_SUITE(cluster) { unit_add_suite("cluster", tests); }
