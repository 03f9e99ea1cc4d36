/* fuzz_hoststoml.c: libFuzzer target for common/registry/hoststoml.c, and for
 * common/registry/tlsconf.c reading it. The input (up to its first NUL, as a file
 * read into a string is) is parsed as a hosts.toml; every entry must stay
 * within the documented bounds. Then it is written as
 * <tmp>/certs.d/_default/hosts.toml and resolved by idp_tls_resolve for a
 * registry host, with no system directory looked at; a few CA/client
 * files exist there so both the found and the missing cases are seen.
 * A parse error is safe for a terminal (fz_check_err): keys and table
 * names quoted from the file cannot put escapes into it. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "registry/hoststoml.h"
#include "registry/tlsconf.h"
#include "fuzz.h"

static void check_entry(const struct idp_hosts_entry *e)
{
	int i;

	FZ_ASSERT(e->ncas >= 0 && e->ncas <= IDP_HOSTS_MAX_FILES);
	FZ_ASSERT(e->nclients >= 0 && e->nclients <= IDP_HOSTS_MAX_FILES);
	for (i = 0; i < e->ncas; i++)
		FZ_ASSERT(e->ca[i] != NULL);
	for (i = 0; i < e->nclients; i++)
		FZ_ASSERT(e->client_cert[i] != NULL);
}

static void parse(const char *text)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_hosts_file f;
	int rc, i;

	rc = idp_hosts_parse(text, "/etc/containerd/certs.d/h", "hosts.toml", &f, &err);
	fz_check_err(rc, &err);
	if (rc == 0) {
		FZ_ASSERT(f.nhosts >= 0 && f.nhosts <= IDP_HOSTS_MAX);
		check_entry(&f.server);
		for (i = 0; i < f.nhosts; i++) {
			FZ_ASSERT(f.hosts[i].url != NULL);
			check_entry(&f.hosts[i]);
		}
		idp_hosts_release(&f);
	}
}

static void setup_dir(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	fz_mkdirs(fz_path(0, "certs.d/_default"));
	fz_write(fz_path(0, "certs.d/_default/ca.crt"), "x\n", 2);
	fz_write(fz_path(0, "certs.d/_default/client.cert"), "x\n", 2);
	fz_write(fz_path(0, "certs.d/_default/client.key"), "x\n", 2);
}

static void resolve(const char *text)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_tls_opts o;
	struct idp_tls t;
	int rc;

	setup_dir();
	fz_write(fz_path(0, "certs.d/_default/hosts.toml"), text, strlen(text));
	memset(&o, 0, sizeof(o));
	o.hosts_dir = fz_path(1, "certs.d");
	o.docker_certs_dir = fz_path(2, "no-docker-certs");
	o.no_system_dirs = 1;
	rc = idp_tls_resolve(&o, "registry.example:5000", &t, &err);
	fz_check_err(rc, &err);
	if (rc == 0) {
		FZ_ASSERT(t.origin != NULL && t.ncas >= 0 && t.ncas <= IDP_TLS_MAX_CAS);
		FZ_ASSERT(!t.client_cert == !t.client_key);
	}
	idp_tls_release(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size);

	parse(text);
	resolve(text);
	free(text);
	return 0;
}
