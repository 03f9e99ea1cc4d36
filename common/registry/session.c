/* session.c: opening and closing a push session: its stop state and HTTP
 * configuration, TLS settings and the CA bundle, credentials (idpbuilder's
 * from its cluster, when the registry is idpbuilder's on this machine),
 * the scheme (HTTPS, or plain HTTP when asked for or when a loopback
 * registry, or idpbuilder's, does not speak TLS), and the first /v2/ ping
 * that learns how the registry authenticates and checks the credentials;
 * when it fails, what to do (a *.localtest.me name that does not resolve,
 * idpbuilder's CA expired). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "auth.h"
#include "util/buf.h"
#include "util/file.h"
#include "cluster.h"
#include "registry.h"

#include "session_private.h"
#include "banned.h"

static int copy_ref(const struct idp_ref *in, struct idp_ref *out)
{
	memset(out, 0, sizeof(*out));
	out->domain = strdup(in->domain);
	out->path = strdup(in->path);
	out->tag = in->tag ? strdup(in->tag) : NULL;
	out->digest = in->digest ? strdup(in->digest) : NULL;
	return out->domain && out->path && (!in->tag || out->tag) && (!in->digest || out->digest)
		       ? 0
		       : -1;
}

static const char *system_ca_bundle(void)
{
	static const char *const candidates[] = {
		"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem", NULL
	};
	int i;
	for (i = 0; candidates[i]; i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL;
}

static int append_file(int fd, const char *path, int required, struct idp_error *err)
{
	struct idp_buf b;
	int rc = 0;

	idp_buf_init(&b, IDP_CAP_CONFIG);
	if (idp_buf_read_file(&b, path) < 0) {
		if (required)
			rc = idp_error_set(err, IDP_EGENERAL, "cannot read CA file '%s': %s", path,
					   strerror(errno));
	} else if (write(fd, b.buf, b.len) != (ssize_t)b.len || write(fd, "\n", 1) != 1) {
		rc = idp_error_set(err, IDP_EGENERAL, "cannot write the CA bundle: %s",
				   strerror(errno));
	}
	idp_buf_release(&b);
	return rc;
}

static void drop_ca_bundle(struct idp_session *s)
{
	if (!s->ca_bundle)
		return;
	close(s->ca_fd);
	free(s->ca_bundle);
	s->ca_bundle = NULL;
}

/* libcurl (GnuTLS) takes one CA file, and opens it again for every
 * connection: join the system store and the extra CAs into a temporary
 * file without a name (util/file.h), kept open while the session lives
 * and named to libcurl as /proc/self/fd/N. No name in TMPDIR, so a TMPDIR
 * another user can write cannot put their CA in its place. */
static int make_ca_bundle(struct idp_session *s, struct idp_error *err)
{
	const char *tmp = getenv("TMPDIR"), *sys = system_ca_bundle();
	const char *dir = tmp && *tmp ? tmp : "/tmp";
	char path[64], *copy = NULL;
	int fd, i, rc = 0;

	if ((fd = idp_file_unnamed(dir)) < 0)
		return idp_error_set(err, IDP_EGENERAL, "cannot create a CA bundle in %s: %s", dir,
				     strerror(errno));
	if (sys)
		rc = append_file(fd, sys, 0, err);
	for (i = 0; rc == 0 && i < s->tls.ncas; i++)
		rc = append_file(fd, s->tls.ca_files[i], 1, err);
	if (rc == 0 && s->cluster_ca.len &&
	    write(fd, s->cluster_ca.buf, s->cluster_ca.len) != (ssize_t)s->cluster_ca.len)
		rc = idp_error_set(err, IDP_EGENERAL, "cannot write the CA bundle: %s",
				   strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (rc == 0 && access(path, R_OK) < 0)
		rc = idp_error_set(err, IDP_EGENERAL, "cannot hand the CA bundle to libcurl as "
				   "'%s' (is /proc mounted?): %s", path, strerror(errno));
	if (rc < 0 || !(copy = strdup(path))) {
		close(fd);
		return rc < 0 ? rc : idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	drop_ca_bundle(s);   /* after: the new one has another N, so another name */
	s->ca_bundle = copy;
	s->ca_fd = fd;
	return 0;
}

static int set_base_url(struct idp_session *s, int plain, struct idp_error *err)
{
	idp_buf_reset(&s->base_url);
	if (idp_url_addf(&s->base_url, err, "%s://%s", plain ? "http" : "https",
			 s->ref.domain) < 0)
		return -1;
	idp_auth_set_registry(s->auth, s->base_url.buf);
	return 0;
}

#define QUICK_PING_MS 5000

/* The registry is on this machine: a loopback address, or idpbuilder's
 * name resolving to one. */
static int registry_local(const struct idp_session *s)
{
	return idp_host_is_loopback(s->ref.domain) || s->local_idpbuilder;
}

/* GET /v2/. quick: bounded to QUICK_PING_MS and no retries, for probing
 * a loopback registry's scheme. A refused connection to a registry on
 * this machine is the answer (nothing listens there, as docker takes it),
 * not a fault to retry. */
static int ping_once(struct idp_session *s, struct idp_http *h, int quick, struct idp_error *err)
{
	struct idp_reg_call c = { .req = { .method = "GET" }, .once = quick, .ok = { 200 },
				  .refused_final = registry_local(s) };
	struct idp_http_resp resp;
	struct idp_buf url;
	int rc;

	idp_url_init(&url);
	if (idp_session_url(s, &url, err, "/v2/") < 0)
		return -1;
	idp_http_resp_init(&resp);
	c.req.url = url.buf;
	if (quick)
		c.req.connect_timeout_ms = c.req.stall_timeout_ms = QUICK_PING_MS;
	rc = idp_reg_call(s, h, &c, &resp, err);
	idp_http_resp_release(&resp);
	idp_buf_release(&url);
	return rc;
}

static int ping(struct idp_session *s, struct idp_http *h, struct idp_error *err)
{
	return ping_once(s, h, 0, err);
}

/* The quick ping: a handshake that never completes (and no stop said so)
 * is taken as "does not speak TLS". */
static int quick_ping(struct idp_session *s, struct idp_http *h, struct idp_error *err)
{
	int rc = ping_once(s, h, 1, err);

	if (rc < 0 && err->cls == IDP_ETIMEOUT && idp_stop_check(&s->stop) != IDP_STOP_CANCEL)
		err->tls_failure = 1;
	return rc;
}

/* The destination is idpbuilder's registry (the one in effect: --registry,
 * else the default; or its names on any port), and whether it is on this
 * machine (its name resolves to loopback only, as idpbuilder's
 * *.localtest.me names do): only then does the cluster give its password
 * and CA, so a --registry naming a host elsewhere never receives Gitea's
 * admin password. */
static void which_registry(struct idp_session *s)
{
	s->idpbuilder = idp_registry_is_idpbuilder(s->registry, s->opts.idpbuilder_registry);
	s->local_idpbuilder = s->idpbuilder && idp_host_resolves_loopback(s->registry);
}

/* A *.localtest.me name that does not resolve: why, and what to do. */
static int localtest_unresolved(struct idp_session *s, struct idp_error *err)
{
	char what[512];

	snprintf(what, sizeof(what),
		 "; *.localtest.me names reach 127.0.0.1 through public DNS only (offline, or "
		 "behind a resolver that drops private answers against DNS rebinding, they do "
		 "not resolve): add the line '127.0.0.1 %.*s' to /etc/hosts%s",
		 (int)strcspn(s->registry, ":"), s->registry,
		 s->idpbuilder ? " (127.0.0.1:PORT itself does not do: idpbuilder's ingress "
				 "routes by name, and its certificate names only "
				 "cnoe.localtest.me and *.cnoe.localtest.me)" : "");
	return idp_error_suffix(err, what);
}

/* The CAs trusted for the registry, for messages: "the system's CAs",
 * each CA file configured, idpbuilder's CA when the cluster gave it (a
 * long list is cut: the buffer's cap). */
static void trusted_cas(const struct idp_session *s, struct idp_buf *b)
{
	int i;

	(void)idp_buf_addf(b, "the system's CAs");
	for (i = 0; i < s->tls.ncas; i++)
		(void)idp_buf_addf(b, ", %s", s->tls.ca_files[i]);
	if (s->cluster_ca.len)
		(void)idp_buf_addf(b, ", idpbuilder's CA (from the cluster)");
}

/* No CA we trusted vouches for the registry's certificate: which were
 * trusted; for a registry on a loopback address, that docker does not
 * verify its certificate (it takes it as an insecure registry), idppush
 * does. */
static int untrusted(const struct idp_session *s, struct idp_error *err)
{
	struct idp_buf cas;

	idp_buf_init(&cas, 1024);
	trusted_cas(s, &cas);
	idp_error_prefix(err, "cannot verify registry %s (trusting %s)", s->registry, cas.buf);
	idp_buf_release(&cas);
	if (idp_host_is_loopback(s->ref.domain))
		idp_error_suffix(err, " (docker does not verify the certificate of a registry on a "
				 "loopback address; idppush does)");
	return -1;
}

/* idpbuilder's registry does not answer: is the cluster running? When
 * it was named (--registry, IDPBUILDER_REGISTRY_URL), not how to name
 * another. */
static int idpbuilder_down(const struct idp_session *s, struct idp_error *err)
{
	char what[256];

	snprintf(what, sizeof(what), "; %sis the idpbuilder cluster running ('idpbuilder "
		 "create')?%s", err->refused ? "nothing is listening there: " : "",
		 s->opts.idpbuilder_registry ? ""
					     : " For another registry pass --registry or TARGET");
	return idp_error_suffix(err, what);
}

/* The ping failed: when the registry cannot be reached, say why and what
 * to do; an answer (a refusal, a login failure) speaks for itself. */
static int unreachable(struct idp_session *s, struct idp_error *err)
{
	int idpbuilder = s->idpbuilder;

	/* it answered (and refused), or the credentials are the story (none,
	 * refused, not to be sent): the message says so */
	if (err->http_status || err->cls == IDP_EAUTH)
		return -1;
	if (err->untrusted)   /* it answered, with a certificate we cannot verify */
		return untrusted(s, err);
	idp_error_prefix(err, "cannot reach registry %s", s->registry);
	if (err->unresolved && idp_host_is_localtest(s->registry))
		return localtest_unresolved(s, err);
	if (idpbuilder && (err->unresolved || err->refused || err->cls == IDP_ETIMEOUT))
		return idpbuilder_down(s, err);
	if (err->unresolved)
		return idp_error_suffix(err, "; check the registry's name");
	if (err->refused)
		return idp_error_suffix(err,
					"; nothing is listening there: is the registry running?");
	return -1;
}

/* How the cluster is asked: within the session's stop state, each command
 * and its outcome said under -v. */
static struct idp_cluster_ask cluster_ask(const struct idp_session *s)
{
	return (struct idp_cluster_ask){ &s->stop, s->opts.info, s->opts.warn_ctx };
}

/* idpbuilder's registry failed TLS verification with the CAs we had: when
 * none was given for it, trust the CA its cluster holds (kubectl) for
 * this session. 1 when that CA is now in the bundle; else 0, with the
 * command that gets it added to err. */
static int trust_cluster_ca(struct idp_session *s, struct idp_error *err)
{
	struct idp_error why = IDP_ERROR_INIT;
	const struct idp_cluster_ask ask = cluster_ask(s);

	if (!s->local_idpbuilder || s->tls.ncas || s->tls.skip_verify || s->tls.plain_http)
		return 0;
	idp_buf_init(&s->cluster_ca, 1u << 20);
	if (idp_cluster_ca(&ask, &s->cluster_ca, &why) <= 0 || make_ca_bundle(s, &why) < 0) {
		idp_buf_release(&s->cluster_ca);
		idp_error_suffix(err, "; idpbuilder's CA: " IDP_CLUSTER_CA_HINT);
		return 0;
	}
	s->hcfg.ca_bundle = s->ca_bundle;
	session_infof(s, "trusting idpbuilder's CA for %s, from kubectl (secret "
		      "idpbuilder-cert); --install-ca keeps it for later runs", s->registry);
	return 1;
}

/* idpbuilder's registry failed TLS verification: when the CA trusted for
 * it (from the cluster, or a CA file given) has expired, say so (1). */
static int ca_expired(struct idp_session *s, struct idp_error *err)
{
	char when[32], msg[512];
	const char *which = NULL;
	struct idp_buf pem;
	int i;

	if (!s->idpbuilder)
		return 0;
	if (s->cluster_ca.len && idp_cluster_ca_expired(s->cluster_ca.buf, s->cluster_ca.len,
							time(NULL), when, sizeof(when)) == 1)
		which = "idpbuilder-cert, from the cluster";
	for (i = 0; !which && i < s->tls.ncas; i++) {
		idp_buf_init(&pem, IDP_CAP_CONFIG);
		if (idp_buf_read_file(&pem, s->tls.ca_files[i]) == 0 &&
		    idp_cluster_ca_expired(pem.buf, pem.len, time(NULL), when, sizeof(when)) == 1)
			which = s->tls.ca_files[i];
		idp_buf_release(&pem);
	}
	if (!which)
		return 0;
	snprintf(msg, sizeof(msg),
		 "; idpbuilder's CA (%.200s) expired on %s: idpbuilder makes it valid for a "
		 "year and never renews it, and docker itself does not notice (it does not "
		 "check the certificate of a registry on this machine); recreate the cluster "
		 "(idpbuilder delete, then idpbuilder create), or pass --insecure",
		 which, when);
	idp_error_suffix(err, msg);
	return 1;
}

/* HTTPS first; a loopback registry (or idpbuilder's, on this machine:
 * --protocol http) that fails the TLS handshake (or never finishes it) is
 * tried over plain HTTP, as docker does for its implicit insecure
 * registries. */
static int choose_scheme_and_ping(struct idp_session *s, struct idp_error *err)
{
	struct idp_http *h = idp_session_conn(s);
	int probe = registry_local(s) && !s->tls.plain_http;
	struct idp_error tls_err;

	if (!h)
		return idp_error_set(err, IDP_EGENERAL, "cannot create an HTTP handle");
	if (set_base_url(s, s->tls.plain_http, err) < 0)
		return -1;
	if ((probe ? quick_ping(s, h, err) : ping(s, h, err)) == 0)
		return 0;
	if (err->tls_failure && trust_cluster_ca(s, err) && ping(s, h, err) == 0)
		return 0;
	if (err->tls_failure && ca_expired(s, err))
		return unreachable(s, err);
	if (!probe || !err->tls_failure || err->untrusted)   /* it speaks TLS: not plain HTTP */
		return unreachable(s, err);
	tls_err = *err;
	if (set_base_url(s, 1, err) < 0)
		return -1;
	s->tls.plain_http = 1;
	if (quick_ping(s, h, err) < 0) {
		/* the TLS failure is the story, unless plain HTTP hung too: then
		 * the registry cannot be reached at all (a network problem) */
		if (err->cls != IDP_ETIMEOUT)
			*err = tls_err;
		else
			err->cls = IDP_ENETWORK;
		idp_error_prefix(err, "cannot reach registry %s", s->registry);
		return idp_error_suffix(err, "; a plain-HTTP registry: pass --plain-http");
	}
	/* a note, not a warning: kind's localhost:5001 would say it on every
	 * push, and docker says nothing */
	session_infof(s, "%s does not speak TLS: using plain HTTP, as docker does for loopback "
		      "registries (--plain-http says so and skips the TLS try)", s->registry);
	return 0;
}

static void session_defaults(struct idp_session *s)
{
	struct idp_retry_policy def = IDP_RETRY_DEFAULT;

	if (s->opts.retry.attempts < 1)
		s->opts.retry = def;
	s->chunk_start = s->opts.chunk_size ? s->opts.chunk_size : IDP_CHUNK_DEFAULT;
	if (s->chunk_start < IDP_CHUNK_MIN)
		s->chunk_start = IDP_CHUNK_MIN;
	s->chunk = s->opts.chunk_size ? s->chunk_start : IDP_CHUNK_GROWN_MAX;
	s->hcfg.tls = &s->tls;
	s->hcfg.connect_timeout_ms = s->opts.connect_timeout_ms;
	s->hcfg.stall_timeout_ms = s->opts.stall_timeout_ms;
	s->stop.cancel = s->opts.cancel;
	s->stop.deadline_ms = s->opts.timeout_ms > 0 ? idp_now_ms() + s->opts.timeout_ms : 0;
	s->hcfg.stop = &s->stop;
	s->hcfg.limit = s->opts.limit;
	s->hcfg.debug = s->opts.debug;
	s->hcfg.debug_ctx = s->opts.debug_ctx;
}

/* -v: which CA files and client certificate the registry gets. */
static void say_tls(const struct idp_session *s)
{
	const char *cert = s->tls.origin ? s->tls.origin : "the configuration";
	struct idp_buf cas;

	if (!s->opts.info || s->tls.plain_http || (!s->tls.ncas && !s->tls.client_cert))
		return;
	idp_buf_init(&cas, 1024);
	trusted_cas(s, &cas);
	session_infof(s, "TLS for %s: %s%s%s", s->registry, cas.buf,
		      s->tls.client_cert ? "; client certificate from " : "",
		      s->tls.client_cert ? cert : "");
	idp_buf_release(&cas);
}

static int setup_tls(struct idp_session *s, struct idp_error *err)
{
	if (idp_tls_resolve(&s->opts.tls, s->ref.domain, &s->tls, err) < 0)
		return -1;
	if (s->tls.skip_verify && !s->tls.plain_http)
		session_warnf(s, "TLS certificate verification is disabled for %s (%s)",
			      s->registry, s->tls.origin ? s->tls.origin : "--insecure");
	if (s->tls.ncas > 0 && make_ca_bundle(s, err) < 0)
		return -1;
	s->hcfg.ca_bundle = s->ca_bundle;
	say_tls(s);
	return 0;
}

/* The cluster's credentials, asked for when the registry wants some
 * (idp_auth_late_fn). Its failures are not ours to report: without
 * credentials the registry's refusal says what to do. */
static int cluster_credentials(void *ctx, struct idp_creds *out, struct idp_error *why)
{
	struct idp_session *s = ctx;
	const struct idp_cluster_ask ask = cluster_ask(s);
	int rc = idp_cluster_credentials(&ask, out, why);

	if (rc == IDP_CLUSTER_NOT_YET)
		return IDP_AUTH_LATE_NOT_YET;
	if (rc <= 0)
		return 0;
	session_infof(s, "credentials for %s: %s (the registry asked for some)", s->registry,
		      out->origin ? out->origin : "idpbuilder's cluster");
	return 1;
}

/* A credential helper gone past: one that cannot be run is a leftover
 * (Docker Desktop's "desktop" once it is gone), said under -v only, as
 * docker says nothing; one that ran and failed is broken: a warning. The
 * registry's refusal names it should credentials be needed. */
static void say_skipped_helper(const struct idp_session *s, const struct idp_creds_skip *skip)
{
	if (!skip->what)
		return;
	if (skip->not_run)
		session_infof(s, "%s: going on without it", skip->what);
	else
		session_warnf(s, "%s: going on without its credentials", skip->what);
}

static int setup_auth(struct idp_session *s, struct idp_error *err)
{
	struct idp_creds creds;
	struct idp_creds_opts co = s->opts.creds;
	int remote_plain = s->tls.plain_http && !idp_host_is_loopback(s->ref.domain) &&
			   !s->local_idpbuilder;

	memset(&creds, 0, sizeof(creds));
	co.stop = &s->stop;
	if (idp_creds_resolve(&co, s->ref.domain, &creds, err) < 0)
		return -1;
	say_skipped_helper(s, &creds.skipped);
	if (remote_plain && s->opts.allow_insecure_auth && creds.source != IDP_CREDS_NONE)
		session_warnf(s, "%s is reached over plain HTTP and is not on this machine: the "
			      "credentials (%s) cross the network in clear text if it asks for "
			      "them (--allow-insecure-auth)", s->registry, creds.origin);
	if (!(s->auth = idp_auth_new(&creds, remote_plain, s->opts.allow_insecure_auth))) {
		idp_creds_release(&creds);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	if (s->idpbuilder)
		idp_auth_set_hint(s->auth, "idpbuilder's password: " IDP_CLUSTER_PASSWORD_HINT);
	if (s->local_idpbuilder)
		idp_auth_set_late(s->auth, cluster_credentials, s);
	else if (s->idpbuilder)
		session_infof(s, "not asking the cluster for idpbuilder's password and CA: the "
			      "registry is not on this machine");
	/* -v: where the credentials came from (never what they are) */
	session_infof(s, "credentials for %s: %s", s->registry, idp_auth_origin(s->auth));
	return 0;
}

int idp_session_open(const struct idp_session_opts *opts, const struct idp_ref *dest,
		     struct idp_session **out, struct idp_error *err)
{
	struct idp_session *s = calloc(1, sizeof(*s));
	size_t n;

	*out = NULL;
	if (!s)
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->cluster_ca = (struct idp_buf)IDP_BUF_INIT;
	idp_url_init(&s->base_url);
	s->opts = *opts;
	session_defaults(s);
	n = strlen(dest->path) + 32;
	if (copy_ref(dest, &s->ref) < 0 || !(s->registry = strdup(dest->domain)) ||
	    !(s->scopes = malloc(n))) {
		idp_session_close(s);
		return idp_error_set(err, IDP_EGENERAL, "out of memory");
	}
	snprintf(s->scopes, n, "repository:%s:pull,push", dest->path);
	which_registry(s);
	if (setup_tls(s, err) < 0 || setup_auth(s, err) < 0 || choose_scheme_and_ping(s, err) < 0) {
		idp_session_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void idp_session_close(struct idp_session *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->nconns; i++)
		idp_http_free(s->conns[i]);
	idp_auth_free(s->auth);
	drop_ca_bundle(s);
	idp_tls_release(&s->tls);
	idp_buf_release(&s->cluster_ca);
	idp_ref_release(&s->ref);
	idp_buf_release(&s->base_url);
	free(s->registry);
	free(s->scopes);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
