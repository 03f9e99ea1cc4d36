/* cluster.c: idpbuilder's credentials and CA from the cluster, through
 * idpbuilder or kubectl (cluster.h). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include "cluster.h"
#include "http.h"
#include "util/jsonutil.h"
#include "util/run.h"
#include "banned.h"

#define TOOL_TIMEOUT_MS 20000
#define TOOL_OUT_CAP (1u << 20)
#define TOOL_ERR_CAP 4096

/* Run argv; 1 with r filled when it ran and exited 0, 0 when it is not
 * there or failed (err says so), -1 on timeout or cancel. */
static int tool(const struct idp_stop *stop, const char *const *argv, const char *what,
		struct idp_run_result *r, struct idp_error *err)
{
	struct idp_run_opts ro;
	int64_t limit = idp_now_ms() + TOOL_TIMEOUT_MS, deadline = stop ? stop->deadline_ms : 0;
	char line[200];

	memset(&ro, 0, sizeof(ro));
	ro.argv = argv;
	ro.out_cap = TOOL_OUT_CAP;
	ro.err_cap = TOOL_ERR_CAP;
	ro.deadline_ms = deadline && deadline < limit ? deadline : limit;
	ro.cancel = stop ? stop->cancel : NULL;
	ro.what = what;
	if (idp_run(&ro, r, err) < 0)
		return err->cls == IDP_ETIMEOUT || err->cls == IDP_ECANCELED ? -1 : 0;
	if (r->status == 0 && !r->truncated)
		return 1;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(r->err.buf, "\n"), r->err.buf);
	idp_error_set(err, IDP_EAUTH, "'%s' failed%s%s", what, line[0] ? ": " : "", line);
	return 0;
}

/* base64 text -> a new NUL-terminated string (caller wipes and frees). */
static char *unbase64(const char *b64)
{
	gnutls_datum_t in = { (unsigned char *)b64, b64 ? (unsigned)strlen(b64) : 0 }, dec = { 0 };
	char *s = NULL;

	if (!b64 || gnutls_base64_decode2(&in, &dec) < 0)
		return NULL;
	if (!memchr(dec.data, '\0', dec.size) && (s = malloc(dec.size + 1))) {
		memcpy(s, dec.data, dec.size);
		s[dec.size] = '\0';
	}
	explicit_bzero(dec.data, dec.size);
	gnutls_free(dec.data);
	return s;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Take user/pass (strdup'ed unless owned) into out. */
static int fill(struct idp_creds *out, const char *user, const char *pass, const char *origin,
		struct idp_error *err)
{
	memset(out, 0, sizeof(*out));
	out->source = IDP_CREDS_CLUSTER;
	out->username = strdup(user);
	out->password = strdup(pass);
	out->origin = strdup(origin);
	if (!out->username || !out->password || !out->origin) {
		idp_creds_release(out);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	return 1;
}

/* idpbuilder's array: the gitea-credential entry, else the first with both. */
static int from_idpbuilder_json(const struct idp_buf *b, struct idp_creds *out,
				struct idp_error *err)
{
	json_object *arr = idp_json_parse(b->buf, b->len, TOOL_OUT_CAP), *e, *pick = NULL;
	size_t i, n = arr && json_object_is_type(arr, json_type_array) ?
		      json_object_array_length(arr) : 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		if (!idp_json_str(e, "username") || !idp_json_str(e, "password"))
			continue;
		if (!pick || strcmp(idp_json_str(e, "name") ? idp_json_str(e, "name") : "",
				    "gitea-credential") == 0)
			pick = e;
	}
	if (pick)
		rc = fill(out, idp_json_str(pick, "username"), idp_json_str(pick, "password"),
			  "idpbuilder get secrets -p gitea", err);
	else
		idp_error_set(err, IDP_EAUTH,
			      "'idpbuilder get secrets -p gitea' gave no credentials");
	json_object_put(arr);
	return rc;
}

/* kubectl's secret: base64 data members. */
static int from_secret_json(const struct idp_buf *b, const char *user_key, const char *pass_key,
			    struct idp_creds *out, struct idp_error *err)
{
	json_object *o = idp_json_parse(b->buf, b->len, TOOL_OUT_CAP);
	json_object *data = idp_json_obj(o, "data");
	char *user = unbase64(idp_json_str(data, user_key));
	char *pass = unbase64(idp_json_str(data, pass_key));
	int rc = 0;

	if (user && pass && *user && *pass)
		rc = fill(out, user, pass, "kubectl get secret -n gitea gitea-credential", err);
	else
		idp_error_set(err, IDP_EAUTH,
			      "the gitea-credential secret has no username/password");
	wipe_free(user);
	wipe_free(pass);
	json_object_put(o);
	return rc;
}

int idp_cluster_credentials(const struct idp_stop *stop, struct idp_creds *out,
			    struct idp_error *err)
{
	static const char *const ib[] = { "idpbuilder", "get", "secrets", "-p", "gitea", "-o",
					  "json", NULL };
	static const char *const kc[] = { "kubectl", "get", "secret", "-n", "gitea",
					  "gitea-credential", "-o", "json", NULL };
	struct idp_run_result r;
	int rc = tool(stop, ib, "idpbuilder get secrets -p gitea -o json", &r, err);

	if (rc > 0)
		rc = from_idpbuilder_json(&r.out, out, err);
	idp_run_result_release(&r);
	if (rc != 0)
		return rc;
	rc = tool(stop, kc, "kubectl get secret -n gitea gitea-credential -o json", &r, err);
	if (rc > 0)
		rc = from_secret_json(&r.out, "username", "password", out, err);
	idp_run_result_release(&r);
	return rc;
}

int idp_cluster_ca(const struct idp_stop *stop, struct idp_buf *pem, struct idp_error *err)
{
	static const char *const kc[] = { "kubectl", "get", "secret", "-n", "default",
					  "idpbuilder-cert", "-o", "json", NULL };
	struct idp_run_result r;
	json_object *j = NULL;
	char *ca = NULL;
	int rc = tool(stop, kc, "kubectl get secret -n default idpbuilder-cert -o json", &r, err);

	if (rc > 0) {
		j = idp_json_parse(r.out.buf, r.out.len, TOOL_OUT_CAP);
		ca = unbase64(idp_json_str(idp_json_obj(j, "data"), "ca.crt"));
		rc = ca && strstr(ca, "-----BEGIN CERTIFICATE-----") && idp_buf_adds(pem, ca) == 0;
		if (!rc)
			idp_error_set(err, IDP_ENETWORK,
				      "the idpbuilder-cert secret has no ca.crt certificate");
	}
	free(ca);
	json_object_put(j);
	idp_run_result_release(&r);
	return rc;
}
