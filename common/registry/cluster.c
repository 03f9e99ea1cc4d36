/* cluster.c: idpbuilder's credentials and CA from the cluster, through
 * idpbuilder or kubectl (cluster.h), the shapes each idpbuilder prints,
 * and whether the CA has expired (idpbuilder never renews it). */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include "cluster.h"
#include "http.h"
#include "util/jsonutil.h"
#include "util/run.h"
#include "banned.h"

#define TOOL_TIMEOUT_MS 20000
#define TOOL_OUT_CAP (1u << 20)
#define TOOL_ERR_CAP 4096
#define NOT_YET "the cluster has no Gitea credential yet (is it still starting?)"

/* Run argv; 1 with r filled when it ran and exited 0, 0 when it is not
 * there or failed (err says so), -1 on timeout or cancel. */
static int tool(const struct idp_cluster_ask *ask, const char *const *argv, const char *what,
		struct idp_run_result *r, struct idp_error *err)
{
	struct idp_run_opts ro;
	const struct idp_stop *stop = ask ? ask->stop : NULL;
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

/* -v: the command run and its one-line outcome: what it gave (rc 1),
 * else why not (err). */
static void told(const struct idp_cluster_ask *ask, const char *what, int rc, const char *gave,
		 const struct idp_error *err)
{
	char line[IDP_ERRMSG_MAX + 160];

	if (!ask || !ask->note)
		return;
	if (rc > 0)
		snprintf(line, sizeof(line), "cluster: '%s' gave %s", what, gave);
	else
		snprintf(line, sizeof(line), "cluster: %s", err->msg);
	ask->note(ask->note_ctx, line);
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

/* An entry's username and password: at its top level (idpbuilder >= 0.9)
 * or under "data" (0.8.1). 1 when it has both. */
static int entry_pair(json_object *e, const char **user, const char **pass)
{
	json_object *data = idp_json_obj(e, "data");

	*user = idp_json_str(e, "username");
	*pass = idp_json_str(e, "password");
	if (!*user || !*pass) {
		*user = idp_json_str(data, "username");
		*pass = idp_json_str(data, "password");
	}
	return *user && *pass && **user && **pass;
}

int idp_cluster_parse_secrets(const char *json, size_t len, struct idp_creds *out,
			      struct idp_error *err)
{
	json_object *arr = idp_json_parse(json, len, TOOL_OUT_CAP), *e;
	size_t i, n = arr && json_object_is_type(arr, json_type_array) ?
		      json_object_array_length(arr) : 0;
	const char *user = NULL, *pass = NULL, *u, *p, *name;
	int rc = 0;

	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(arr, i);
		name = idp_json_str(e, "name");
		if (entry_pair(e, &u, &p) &&
		    (!user || (name && strcmp(name, "gitea-credential") == 0))) {
			user = u;
			pass = p;
		}
	}
	if (user) {
		rc = fill(out, user, pass, "idpbuilder get secrets -p gitea", err);
	} else if (arr && json_object_is_type(arr, json_type_array) && n == 0) {
		idp_error_set(err, IDP_EAUTH, NOT_YET ": 'idpbuilder get secrets -p gitea -o json' "
			      "printed []");
		rc = IDP_CLUSTER_NOT_YET;
	} else {
		idp_error_set(err, IDP_EAUTH,
			      "'idpbuilder get secrets -p gitea' gave no credentials");
	}
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

/* $KUBECONFIG, when set (kubectl reads it, idpbuilder does not). */
static const char *kubeconfig_env(void)
{
	const char *k = getenv("KUBECONFIG");
	return k && *k ? k : NULL;
}

static int from_idpbuilder(const struct idp_cluster_ask *ask, struct idp_creds *out,
			   struct idp_error *err)
{
	const char *argv[] = { "idpbuilder", "get", "secrets", "-p", "gitea", "-o", "json",
			       NULL, NULL, NULL };
	const char *kc = kubeconfig_env(), *what = "idpbuilder get secrets -p gitea -o json";
	struct idp_run_result r;
	int rc;

	if (kc) {   /* the cluster $KUBECONFIG names: one file only */
		argv[7] = "--kubeconfig";
		argv[8] = kc;
	}
	rc = tool(ask, argv, what, &r, err);
	if (rc > 0)
		rc = idp_cluster_parse_secrets(r.out.buf, r.out.len, out, err);
	idp_run_result_release(&r);
	told(ask, what, rc, "the Gitea credentials", err);
	return rc;
}

static int from_kubectl(const struct idp_cluster_ask *ask, struct idp_creds *out,
			struct idp_error *err)
{
	static const char *const kc[] = { "kubectl", "get", "secret", "-n", "gitea",
					  "gitea-credential", "-o", "json", NULL };
	static const char what[] = "kubectl get secret -n gitea gitea-credential -o json";
	struct idp_run_result r;
	int rc = tool(ask, kc, what, &r, err);

	if (rc > 0) {
		rc = from_secret_json(&r.out, "username", "password", out, err);
	} else if (rc == 0 && r.status && strstr(r.err.buf, "NotFound")) {
		idp_error_set(err, IDP_EAUTH, NOT_YET ": kubectl found no secret "
			      "gitea/gitea-credential");
		rc = IDP_CLUSTER_NOT_YET;
	}
	idp_run_result_release(&r);
	told(ask, what, rc, "the Gitea credentials", err);
	return rc;
}

int idp_cluster_credentials(const struct idp_cluster_ask *ask, struct idp_creds *out,
			    struct idp_error *err)
{
	const char *kc = kubeconfig_env();
	int rc;

	/* the cluster $KUBECONFIG means: kubectl first, idpbuilder told of it */
	if (kc) {
		rc = from_kubectl(ask, out, err);
		if (rc != 0 || strchr(kc, ':'))
			return rc;   /* a list: idpbuilder's --kubeconfig takes one file */
		return from_idpbuilder(ask, out, err);
	}
	rc = from_idpbuilder(ask, out, err);
	return rc != 0 ? rc : from_kubectl(ask, out, err);
}

/* The PEM certificate under data[key] of secret ns/idpbuilder-cert: 1, 0, -1. */
static int ca_from_secret(const struct idp_cluster_ask *ask, const char *ns, const char *key,
			  struct idp_buf *pem, struct idp_error *err)
{
	const char *kc[] = { "kubectl", "get", "secret", "-n", ns, "idpbuilder-cert", "-o",
			     "json", NULL };
	struct idp_run_result r;
	json_object *j = NULL;
	char *ca = NULL, what[96];
	int rc;

	snprintf(what, sizeof(what), "kubectl get secret -n %s idpbuilder-cert -o json", ns);
	rc = tool(ask, kc, what, &r, err);
	if (rc > 0) {
		j = idp_json_parse(r.out.buf, r.out.len, TOOL_OUT_CAP);
		ca = unbase64(idp_json_str(idp_json_obj(j, "data"), key));
		rc = ca && strstr(ca, "-----BEGIN CERTIFICATE-----") && idp_buf_adds(pem, ca) == 0;
		if (!rc)
			idp_error_set(err, IDP_ENETWORK, "the %s/idpbuilder-cert secret has no %s "
				      "certificate", ns, key);
	}
	free(ca);
	json_object_put(j);
	idp_run_result_release(&r);
	told(ask, what, rc, "idpbuilder's CA", err);
	return rc;
}

int idp_cluster_ca(const struct idp_cluster_ask *ask, struct idp_buf *pem, struct idp_error *err)
{
	int rc = ca_from_secret(ask, "default", "ca.crt", pem, err);

	return rc != 0 ? rc : ca_from_secret(ask, "ingress-nginx", "tls.crt", pem, err);
}

int idp_cluster_ca_expired(const char *pem, size_t len, time_t now, char *when, size_t n)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)len };
	time_t end = (time_t)-1;
	struct tm tm;

	if (len > TOOL_OUT_CAP || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) == 0)
		end = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	if (end == (time_t)-1)
		return -1;
	if (n && gmtime_r(&end, &tm) && !strftime(when, n, "%Y-%m-%d", &tm))
		when[0] = '\0';
	return end < now;
}
