/* engine_push.c: a test driver that pushes an OCI layout through the engine
 * alone (no front end), for the engine's integration tests.
 *   engine-push [options] LAYOUT_DIR TARGET
 * Prints "<target>@sha256:..." on success; one-line errors on stderr; the
 * exit code is the error class. */
#include "config.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idp.h"

enum { O_PLAIN = 256, O_INSECURE, O_CA, O_CHUNK, O_JOBS, O_RETRIES, O_RETRY_MS, O_TIMEOUT, O_HOSTS,
       O_CERTS, O_DCONFIG, O_MOUNT, O_DEBUG, O_STALL, O_INSECURE_AUTH };

static const struct option longopts[] = {
	{ "plain-http", no_argument, NULL, O_PLAIN },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "ca-cert", required_argument, NULL, O_CA },
	{ "username", required_argument, NULL, 'u' },
	{ "password", required_argument, NULL, 'p' },
	{ "chunk-size", required_argument, NULL, O_CHUNK },
	{ "jobs", required_argument, NULL, O_JOBS },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "retry-initial-ms", required_argument, NULL, O_RETRY_MS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "hosts-dir", required_argument, NULL, O_HOSTS },
	{ "docker-certs-dir", required_argument, NULL, O_CERTS },
	{ "docker-config", required_argument, NULL, O_DCONFIG },
	{ "mount-from", required_argument, NULL, O_MOUNT },
	{ "debug", no_argument, NULL, O_DEBUG },
	{ "stall-timeout", required_argument, NULL, O_STALL },
	{ "allow-insecure-auth", no_argument, NULL, O_INSECURE_AUTH },
	{ NULL, 0, NULL, 0 }
};

static volatile sig_atomic_t canceled;

static void on_signal(int sig)
{
	(void)sig;
	canceled = 1;
}

static void on_line(void *ctx, const char *line)
{
	fprintf(stderr, "%s: %s\n", (const char *)ctx, line);
}

static void on_event(void *ctx, const struct idp_event *ev)
{
	static const char *const names[] = { "waiting", "pushing", "exists", "mounted", "pushed",
					     "manifest", "warning", "debug", "preparing" };
	(void)ctx;
	if (ev->kind == IDP_EV_PUSHING)
		return;
	fprintf(stderr, "event: %s %s %s\n", names[ev->kind], ev->digest ? ev->digest : "",
		ev->text ? ev->text : "");
}

static int fail(const struct idp_error *e)
{
	fprintf(stderr, "engine-push: %s\n", e->msg);
	return idp_errclass_exit_code(e->cls);
}

static int usage(const char *msg)
{
	fprintf(stderr, "engine-push: %s\nusage: engine-push [options] LAYOUT_DIR TARGET\n", msg);
	return 1;
}

static int parse_args(int argc, char **argv, struct idp_session_opts *so, struct idp_push_opts *po,
		      const char **mount_from)
{
	int c;
	long v;

	while ((c = getopt_long(argc, argv, "u:p:", longopts, NULL)) != -1) {
		switch (c) {
		case O_PLAIN: so->tls.plain_http = 1; break;
		case O_INSECURE: so->tls.insecure = 1; break;
		case O_CA: so->tls.ca_file = optarg; break;
		case 'u': so->creds.username = optarg; break;
		case 'p': so->creds.password = optarg; break;
		case O_CHUNK: so->chunk_size = strtoul(optarg, NULL, 10); break;
		case O_JOBS: po->jobs = atoi(optarg); break;
		case O_RETRIES: so->retry.attempts = atoi(optarg); break;
		case O_RETRY_MS: so->retry.initial_ms = atol(optarg); break;
		case O_TIMEOUT:
			if ((v = idp_duration_parse_ms(optarg)) < 0)
				return usage("bad --timeout");
			so->timeout_ms = v;
			break;
		case O_STALL:
			if ((v = idp_duration_parse_ms(optarg)) < 0)
				return usage("bad --stall-timeout");
			so->stall_timeout_ms = v;
			break;
		case O_HOSTS: so->tls.hosts_dir = optarg; break;
		case O_INSECURE_AUTH: so->allow_insecure_auth = 1; break;
		case O_CERTS: so->tls.docker_certs_dir = optarg; break;
		case O_DCONFIG: so->creds.docker_config_dir = optarg; break;
		case O_MOUNT: *mount_from = optarg; break;
		case O_DEBUG: so->debug = on_line; so->debug_ctx = "debug"; break;
		default: return usage("bad option");
		}
	}
	if (argc - optind != 2)
		return usage("expected LAYOUT_DIR and TARGET");
	return 0;
}

static int run(const char *layout, const char *target, struct idp_session_opts *so,
	       struct idp_push_opts *po, const char *mount_from, struct idp_error *err)
{
	struct idp_ref ref;
	struct idp_source src = { &idp_source_oci_layout, NULL };
	struct idp_image img;
	struct idp_source_opts sopts;
	struct idp_push_target t = { .s = NULL };
	struct idp_push_targets to = { &t, 1, po };
	char *name = NULL;
	int i, rc = -1;

	memset(&img, 0, sizeof(img));
	memset(&sopts, 0, sizeof(sopts));
	if (idp_ref_parse(target, NULL, &ref, err) < 0)
		return -1;
	if (src.ops->open(&src, layout, &sopts, &img, err) < 0)
		goto out;
	for (i = 0; mount_from && i < img.nblobs; i++)
		img.blobs[i].mount_from = strdup(mount_from);
	if (idp_session_open(so, &ref, &t.s, err) < 0)
		goto out;
	t.tag = ref.tag;
	if (idp_push_image_to(&to, &src, &img, err) < 0)
		goto out;
	name = idp_ref_string(&ref);
	printf("%s@%s\n", name, t.res.digest);
	rc = 0;
out:
	free(name);
	idp_session_close(t.s);
	idp_image_release(&img);
	if (src.ops && src.priv)
		src.ops->close(&src);
	idp_ref_release(&ref);
	return rc;
}

int main(int argc, char **argv)
{
	struct idp_session_opts so;
	struct idp_push_opts po;
	struct idp_error err = IDP_ERROR_INIT;
	const char *mount_from = NULL;
	int rc;

	memset(&so, 0, sizeof(so));
	memset(&po, 0, sizeof(po));
	so.cancel = &canceled;
	so.warn = on_line;
	so.warn_ctx = "warning";
	po.on_event = on_event;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((rc = parse_args(argc, argv, &so, &po, &mount_from)) != 0)
		return rc;
	if (idp_http_global_init(&err) < 0)
		return fail(&err);
	rc = run(argv[optind], argv[optind + 1], &so, &po, mount_from, &err) < 0 ? fail(&err) : 0;
	idp_http_global_cleanup();
	return rc;
}
