/* bbolt_dump.c: a check tool over common/sources/bbolt.c for the integration tests.
 *   bbolt-dump META.DB        one line per image in every namespace:
 *                             NS<TAB>NAME<TAB>DIGEST<TAB>MEDIATYPE<TAB>SIZE
 *   bbolt-dump -t META.DB     every key of every bucket, indented
 * Exit 0 on success, 1 with a message on stderr on any reader error. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sources/bbolt.h"

#define NAME_MAX_LEN 4096

struct images_ctx {
	struct idp_bolt *db;
	struct idp_bolt_bucket parent;   /* the bucket being iterated */
	char ns[NAME_MAX_LEN];
	struct idp_error *err;
};

static int copy_name(char *dst, const unsigned char *k, size_t klen)
{
	if (klen >= NAME_MAX_LEN || memchr(k, '\0', klen))
		return -1;
	memcpy(dst, k, klen);
	dst[klen] = '\0';
	return 0;
}

/* A string value of `b`, copied into dst; "" when absent. */
static int get_str(struct idp_bolt *db, const struct idp_bolt_bucket *b, const char *key,
		   char *dst, struct idp_error *err)
{
	const unsigned char *v;
	size_t vl;
	int r = idp_bolt_get(db, b, key, strlen(key), &v, &vl, err);

	dst[0] = '\0';
	if (r < 0)
		return -1;
	if (r == 1 && copy_name(dst, v, vl) < 0)
		return idp_error_set(err, IDP_EGENERAL, "target/%s: bad value", key);
	return 0;
}

static int print_image(struct images_ctx *c, const char *name, const struct idp_bolt_bucket *img)
{
	struct idp_bolt_bucket t;
	char dg[NAME_MAX_LEN], mt[NAME_MAX_LEN];
	const unsigned char *v;
	size_t vl;
	int64_t size = -1;
	int r = idp_bolt_bucket(c->db, img, "target", 6, &t, c->err);

	if (r <= 0)
		return r < 0 ? -1
			     : idp_error_set(c->err, IDP_EGENERAL, "image %s: no target", name);
	if (get_str(c->db, &t, "digest", dg, c->err) < 0 ||
	    get_str(c->db, &t, "mediatype", mt, c->err) < 0)
		return -1;
	r = idp_bolt_get(c->db, &t, "size", 4, &v, &vl, c->err);
	if (r < 0)
		return -1;
	if (r == 1 && idp_bolt_varint(v, vl, &size) == 0)
		return idp_error_set(c->err, IDP_EGENERAL, "image %s: bad size varint", name);
	printf("%s\t%s\t%s\t%s\t%lld\n", c->ns, name, dg, mt, (long long)size);
	return 0;
}

static int image_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
		    int is_bucket)
{
	struct images_ctx *c = ctx;
	struct idp_bolt_bucket img;
	char name[NAME_MAX_LEN];
	int r;

	if (!is_bucket)
		return 0;
	if (copy_name(name, k, kl) < 0)
		return idp_error_set(c->err, IDP_EGENERAL, "bad image name");
	r = idp_bolt_bucket(c->db, &c->parent, name, kl, &img, c->err);
	if (r <= 0)
		return r < 0 ? -1 : idp_error_set(c->err, IDP_EGENERAL, "image %s vanished", name);
	return print_image(c, name, &img);
}

static int ns_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
		 int is_bucket)
{
	struct images_ctx *c = ctx, sub = *c;
	const char *path[3] = { "v1", sub.ns, "images" };
	int r;

	if (!is_bucket)
		return 0;
	if (copy_name(sub.ns, k, kl) < 0)
		return idp_error_set(c->err, IDP_EGENERAL, "bad namespace name");
	r = idp_bolt_bucket_path(c->db, path, 3, &sub.parent, c->err);
	if (r <= 0)
		return r;
	return idp_bolt_each(c->db, &sub.parent, image_cb, &sub, c->err);
}

static int dump_images(struct idp_bolt *db, struct idp_error *err)
{
	struct images_ctx c = { db, { 0, NULL, 0 }, "", err };
	const char *v1[1] = { "v1" };
	int r = idp_bolt_bucket_path(db, v1, 1, &c.parent, err);

	if (r <= 0)
		return r < 0 ? -1 : idp_error_set(err, IDP_EGENERAL, "no v1 bucket");
	return idp_bolt_each(db, &c.parent, ns_cb, &c, err);
}

/* ---- -t: the whole tree ---- */

struct tree_ctx {
	struct idp_bolt *db;
	struct idp_bolt_bucket b;
	int depth;
	struct idp_error *err;
};

static void put_escaped(const unsigned char *p, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	if (n > max)
		printf("...(%zu bytes)", n);
}

static int tree_cb(void *ctx, const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
		   int is_bucket)
{
	struct tree_ctx *c = ctx, sub = *c;
	int r;

	printf("%*s", c->depth * 2, "");
	put_escaped(k, kl, 200);
	if (!is_bucket) {
		printf(" = ");
		put_escaped(v, vl, 100);
		putchar('\n');
		return 0;
	}
	printf("/\n");
	if (c->depth >= 32)
		return idp_error_set(c->err, IDP_EGENERAL, "buckets nested too deep");
	r = idp_bolt_bucket(c->db, &c->b, (const char *)k, kl, &sub.b, c->err);
	if (r <= 0)
		return r < 0 ? -1 : idp_error_set(c->err, IDP_EGENERAL, "sub-bucket vanished");
	sub.depth++;
	return idp_bolt_each(c->db, &sub.b, tree_cb, &sub, c->err);
}

int main(int argc, char **argv)
{
	struct idp_error err = IDP_ERROR_INIT;
	struct idp_bolt *db;
	struct tree_ctx t;
	int tree = argc == 3 && strcmp(argv[1], "-t") == 0, r;

	if (argc != 2 && !tree) {
		fprintf(stderr, "usage: bbolt-dump [-t] META.DB\n");
		return 2;
	}
	if (idp_bolt_open(argv[argc - 1], &db, &err) < 0) {
		fprintf(stderr, "bbolt-dump: %s\n", err.msg);
		return 1;
	}
	t = (struct tree_ctx){ db, { 0, NULL, 0 }, 0, &err };
	idp_bolt_root(db, &t.b);
	r = tree ? idp_bolt_each(db, &t.b, tree_cb, &t, &err) : dump_images(db, &err);
	idp_bolt_close(db);
	if (r != 0 || fflush(stdout) != 0) {
		fprintf(stderr, "bbolt-dump: %s\n", err.msg[0] ? err.msg : "failed");
		return 1;
	}
	return 0;
}
