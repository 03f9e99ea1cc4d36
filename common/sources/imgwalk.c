/* imgwalk.c: from a top descriptor to the list of blobs and manifests to
 * push, over any digest-addressed blob store (see imgwalk.h). Manifests are
 * read bounded (IDP_CAP_MANIFEST) and checked against their digest before
 * they are trusted; JSON is handled with json-c only. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "util/jsonutil.h"
#include "util/digest.h"
#include "imgwalk.h"
#include "util/manifest.h"
#include "banned.h"

#define WALK_MAX_DEPTH 4
#define PLAT_LEN 100
#define ATTEST_KEY "vnd.docker.reference.type"

struct walk {
	const struct idp_blobstore *bs;
	const struct idp_source_opts *o;
	struct idp_error *err;
};

/* One entry of an index's "manifests". */
struct child {
	size_t idx;
	const char *digest, *mt;
	int64_t size;
	char plat[PLAT_LEN];    /* normalised "os/arch[/variant]", "" when none */
	int attest, selected, complete;
};

/* A descriptor to walk: the manifest or index it names, and the
 * platform the index above said it is (NULL: none said). */
struct desc {
	const char *digest, *mt;
	int64_t size;
	const char *plat;
};

/* A loaded manifest or index: its exact bytes and parsed JSON. */
struct doc {
	struct idp_buf bytes;
	json_object *json;
	const char *mt;
};

/* An index being walked: its digest and document, its children, how deep
 * it is (0: the top). */
struct index {
	const char *digest;
	const struct doc *d;
	struct child *c;
	size_t n;
	int depth;
};

static int walk_desc(const struct walk *w, const struct desc *ds, int depth,
		     struct idp_image *img);

static void doc_release(struct doc *d)
{
	json_object_put(d->json);
	d->json = NULL;
	idp_buf_release(&d->bytes);
}

/* The media type of a document: the descriptor's, else its own
 * "mediaType", else guessed from its shape. */
static const char *doc_media_type(const char *desc_mt, json_object *j)
{
	const char *mt = desc_mt ? desc_mt : idp_json_str(j, "mediaType");
	if (mt)
		return mt;
	if (idp_json_array(j, "manifests"))
		return "application/vnd.oci.image.index.v1+json";
	return "application/vnd.oci.image.manifest.v1+json";
}

/* Read a manifest/index blob, check its digest and size, parse it. */
static int doc_load(const struct walk *w, const struct desc *ds, struct doc *d)
{
	const char *digest = ds->digest;
	char got[IDP_DIGEST_MAX];

	idp_buf_init(&d->bytes, IDP_CAP_MANIFEST);
	d->json = NULL;
	if (!idp_digest_valid(digest))
		return idp_error_set(w->err, IDP_EGENERAL, "invalid digest '%.80s'", digest);
	if (w->bs->read(w->bs->ctx, digest, &d->bytes, w->err) < 0)
		return -1;
	idp_sha256_digest(d->bytes.buf, d->bytes.len, got);
	if (strcmp(got, digest) != 0)
		return idp_error_set(w->err, IDP_EGENERAL,
				     "blob %s is corrupt: its bytes hash to %s", digest, got);
	if (ds->size >= 0 && (int64_t)d->bytes.len != ds->size)
		return idp_error_set(w->err, IDP_EGENERAL,
				     "blob %s has %zu bytes, its descriptor says %lld", digest,
				     d->bytes.len, (long long)ds->size);
	if (strlen(d->bytes.buf) != d->bytes.len || !(d->json = json_tokener_parse(d->bytes.buf)) ||
	    !json_object_is_type(d->json, json_type_object))
		return idp_error_set(w->err, IDP_EGENERAL, "manifest %s is not a JSON object",
				     digest);
	d->mt = doc_media_type(ds->mt, d->json);
	return 0;
}

/* A descriptor's size: -1 when absent, -2 when impossible (negative, or
 * past anything believable: sums of sizes must never overflow). */
static int64_t desc_size(json_object *desc)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(desc, "size", &v))
		return -1;
	if (!json_object_is_type(v, json_type_int))
		return -2;
	n = json_object_get_int64(v);
	return n < 0 || n > IDP_SIZE_MAX_BELIEVED ? -2 : n;
}

/* A config/layer descriptor: must be present; added to img. A config
 * has no progress line (quiet), as docker push shows none; a blob that
 * is also a layer keeps its line. */
static int add_blob_desc(const struct walk *w, json_object *desc, const char *what,
			 struct idp_image *img)
{
	const char *dg = idp_json_str(desc, "digest");
	int64_t size = desc_size(desc);
	int is_config = strcmp(what, "config") == 0, was = img->nblobs, r;
	struct idp_image_blob *b;

	if (!dg || !idp_digest_valid(dg))
		return idp_error_set(w->err, IDP_EGENERAL, "%s has no valid sha256 digest", what);
	if (size < -1)
		return idp_error_set(w->err, IDP_EGENERAL, "%s %s has an impossible size", what,
				     dg);
	if ((r = w->bs->has(w->bs->ctx, dg, w->err)) < 0)
		return -1;
	if (r == 0)
		return idp_error_set(w->err, IDP_ENOTFOUND, "%s %s is missing from the local store",
				     what, dg);
	if (!(b = idp_image_add_blob(img, dg, size, idp_json_str(desc, "mediaType"), w->err)))
		return -1;
	if (!is_config)
		b->quiet = 0;
	else if (img->nblobs > was)
		b->quiet = 1;
	return 0;
}

static int walk_image_manifest(const struct walk *w, const struct desc *ds, const struct doc *d,
			       struct idp_image *img)
{
	const char *digest = ds->digest, *plat = ds->plat;
	json_object *cfg, *layers = idp_json_array(d->json, "layers");
	char what[64];
	size_t i, n;

	if (!json_object_object_get_ex(d->json, "config", &cfg) || !layers)
		return idp_error_set(w->err, IDP_EGENERAL, "manifest %s has no config or no layers",
				     digest);
	if (add_blob_desc(w, cfg, "config", img) < 0)
		goto fail;
	n = json_object_array_length(layers);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "layer %zu", i + 1);
		if (add_blob_desc(w, json_object_array_get_idx(layers, i), what, img) < 0)
			goto fail;
	}
	return idp_image_add_manifest(img,
				      &(struct idp_manifest_in){ .digest = digest,
								 .media_type = d->mt,
								 .data = d->bytes.buf,
								 .len = d->bytes.len,
								 .platform = plat },
				      w->err);
fail:
	return idp_error_prefix(w->err, "manifest %s%s%s%s", digest, plat ? " (" : "",
				plat ? plat : "", plat ? ")" : "");
}

/* "os/arch[/variant]" of an index entry, normalised; "" when absent. */
static void child_platform(json_object *desc, char out[PLAT_LEN])
{
	json_object *p;
	const char *os, *arch, *var;
	char o[32], a[32], v[32], s[PLAT_LEN];

	out[0] = '\0';
	if (!json_object_object_get_ex(desc, "platform", &p))
		return;
	os = idp_json_str(p, "os");
	arch = idp_json_str(p, "architecture");
	var = idp_json_str(p, "variant");
	if (!os || !arch)
		return;
	snprintf(s, sizeof(s), "%s/%s%s%s", os, arch, var ? "/" : "", var ? var : "");
	if (idp_platform_parse(s, o, a, v, NULL) < 0) {
		snprintf(out, PLAT_LEN, "%s", s);
		return;
	}
	snprintf(out, PLAT_LEN, "%s/%s%s%s", o, a, v[0] ? "/" : "", v);
}

static int is_attestation(json_object *desc)
{
	json_object *ann;
	return json_object_object_get_ex(desc, "annotations", &ann) &&
	       idp_json_str(ann, ATTEST_KEY);
}

/* Parse an index's "manifests" into a child array (caller frees). */
static int load_children(const struct walk *w, const char *digest, json_object *idx,
			 struct child **out, size_t *n)
{
	json_object *arr = idp_json_array(idx, "manifests");
	struct child *c;
	size_t i;

	*out = NULL;
	if (!arr || (*n = json_object_array_length(arr)) == 0)
		return idp_error_set(w->err, IDP_EGENERAL, "index %s lists no manifests", digest);
	if (!(c = calloc(*n, sizeof(*c))))
		return idp_error_set(w->err, IDP_EGENERAL, "out of memory");
	for (i = 0; i < *n; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		c[i].idx = i;
		c[i].digest = idp_json_str(d, "digest");
		c[i].mt = idp_json_str(d, "mediaType");
		c[i].size = desc_size(d);
		c[i].attest = is_attestation(d);
		child_platform(d, c[i].plat);
		if (!c[i].digest || !idp_digest_valid(c[i].digest) || c[i].size < -1) {
			free(c);
			return idp_error_set(w->err, IDP_EGENERAL,
					     "index %s: entry %zu has no valid digest or size",
					     digest, i + 1);
		}
	}
	*out = c;
	return 0;
}

/* Does child platform `have` satisfy the asked `want` (both normalised)?
 * An asked platform without variant matches any variant. */
static int platform_matches(const char *want, const char *have)
{
	const char *slash = strchr(want, '/');
	size_t n = strlen(want);

	if (strcmp(want, have) == 0)
		return 1;
	return slash && !strchr(slash + 1, '/') && strncmp(want, have, n) == 0 && have[n] == '/';
}

/* Normalise an asked platform string. */
static int want_platform(const struct walk *w, const char *s, char out[PLAT_LEN])
{
	char o[32], a[32], v[32];
	if (idp_platform_parse(s, o, a, v, w->err) < 0)
		return -1;
	snprintf(out, PLAT_LEN, "%s/%s%s%s", o, a, v[0] ? "/" : "", v);
	return 0;
}

/* Index of the first non-attestation child matching want, exact first. */
static long find_child(const struct child *c, size_t n, const char *want)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!c[i].attest && strcmp(c[i].plat, want) == 0)
			return (long)i;
	for (i = 0; i < n; i++)
		if (!c[i].attest && platform_matches(want, c[i].plat))
			return (long)i;
	return -1;
}

/* "linux/amd64, linux/arm64" of the non-attestation children. */
static void list_platforms(const struct child *c, size_t n, struct idp_buf *b)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!c[i].attest)
			idp_buf_addf(b, "%s%s", b->len ? ", " : "",
				     c[i].plat[0] ? c[i].plat : "unknown");
}

/* The descriptor of child c. */
static struct desc child_desc(const struct child *c)
{
	return (struct desc){ c->digest, c->mt, c->size, c->plat[0] ? c->plat : NULL };
}

/* One platform asked (or the host's): its manifest becomes the top. */
static int pick_one(const struct walk *w, const struct index *ix, struct idp_image *img)
{
	const char *asked = w->o && w->o->nplatforms ? w->o->platforms[0] : idp_platform_host();
	const struct child *c = ix->c;
	char want[PLAT_LEN];
	struct idp_buf have;
	struct desc ds;
	long i;
	int rc;

	if (want_platform(w, asked, want) < 0)
		return -1;
	if ((i = find_child(c, ix->n, want)) < 0) {
		idp_buf_init(&have, 4096);
		list_platforms(c, ix->n, &have);
		rc = idp_error_set(w->err, IDP_ENOTFOUND,
				   "index %s has no manifest for %s (it has: %s)%s", ix->digest,
				   want, have.buf,
				   w->o && w->o->nplatforms ? "" : "; choose one with --platform");
		idp_buf_release(&have);
		return rc;
	}
	ds = child_desc(&c[i]);
	if (walk_desc(w, &ds, ix->depth + 1, img) < 0)
		return idp_error_prefix(w->err, "platform %s of index %s", c[i].plat, ix->digest);
	if (ix->depth == 0 && !img->notice && ix->n > 1 && !(w->o && w->o->stored) &&
	    asprintf(&img->notice,
		     "pushing only the %s manifest %s of index %s (--all-platforms pushes every "
		     "platform)",
		     c[i].plat, c[i].digest, ix->digest) < 0)
		img->notice = NULL;
	return 0;
}

/* Mark the children to push: every one, or those asked for. Asked
 * platforms absent from the index are listed in `missing`. */
static int select_children(const struct walk *w, const struct index *ix, int all,
			   struct idp_buf *missing)
{
	struct child *c = ix->c;
	char want[PLAT_LEN];
	size_t i, n = ix->n;
	int k;
	long j;

	for (i = 0; i < n; i++)
		c[i].selected = all && (!c[i].attest || (w->o && (w->o->keep_attestations ||
								   w->o->stored)));
	if (all)
		return 0;
	for (k = 0; k < w->o->nplatforms; k++) {
		if (want_platform(w, w->o->platforms[k], want) < 0)
			return -1;
		if ((j = find_child(c, n, want)) < 0)
			idp_buf_addf(missing, "%s%s (not in the index)", missing->len ? "; " : "",
				     want);
		else
			c[j].selected = 1;
	}
	for (i = 0; i < n && w->o->keep_attestations; i++)
		c[i].selected |= c[i].attest;
	return 0;
}

/* Copy the blobs and manifests of src into dst (a blob is quiet when it
 * is only ever a config). */
static int merge_image(struct idp_image *dst, const struct idp_image *src, struct idp_error *err)
{
	struct idp_image_blob *d;
	int i, was;

	for (i = 0; i < src->nblobs; i++) {
		const struct idp_image_blob *b = &src->blobs[i];

		was = dst->nblobs;
		if (!(d = idp_image_add_blob(dst, b->digest, b->size, b->media_type, err)))
			return -1;
		d->quiet = dst->nblobs > was ? b->quiet : d->quiet && b->quiet;
	}
	for (i = 0; i < src->nmanifests; i++) {
		const struct idp_image_manifest *m = &src->manifests[i];
		struct idp_manifest_in in = { .digest = m->digest,
					      .media_type = m->media_type,
					      .data = m->data,
					      .len = m->len,
					      .platform = m->platform };

		if (idp_image_add_manifest(dst, &in, err) < 0)
			return -1;
	}
	return 0;
}

/* Walk each selected child into img; incomplete ones go to `missing`. */
static int walk_selected(const struct walk *w, const struct index *ix, struct idp_image *img,
			 struct idp_buf *missing)
{
	struct idp_image tmp;
	struct desc ds;
	size_t i;
	int rc;

	for (i = 0; i < ix->n; i++) {
		if (!ix->c[i].selected)
			continue;
		memset(&tmp, 0, sizeof(tmp));
		ds = child_desc(&ix->c[i]);
		rc = walk_desc(w, &ds, ix->depth + 1, &tmp);
		if (rc == 0)
			rc = merge_image(img, &tmp, w->err);
		idp_image_release(&tmp);
		if (rc == 0) {
			ix->c[i].complete = 1;
		} else if (w->err && w->err->cls == IDP_ENOTFOUND) {
			idp_buf_addf(missing, "%s%s", missing->len ? "; " : "", w->err->msg);
		} else {
			return -1;
		}
	}
	return 0;
}

/* The index with only the complete children, as compact JSON. */
static int build_reduced(const struct walk *w, const struct index *ix, struct idp_buf *out)
{
	json_object *root = json_tokener_parse(ix->d->bytes.buf),
		    *orig = idp_json_array(root, "manifests"), *arr;
	const char *s;
	size_t i;
	int rc = -1;

	if (!orig || !(arr = json_object_new_array())) {
		json_object_put(root);
		return idp_error_set(w->err, IDP_EGENERAL, "out of memory");
	}
	for (i = 0; i < ix->n; i++)
		if (ix->c[i].complete)
			json_object_array_add(arr,
					      json_object_get(json_object_array_get_idx(orig, i)));
	json_object_object_add(root, "manifests", arr);
	s = json_object_to_json_string_ext(root,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && idp_buf_adds(out, s) == 0)
		rc = 0;
	else
		idp_error_set(w->err, IDP_EGENERAL, "reduced index too large");
	json_object_put(root);
	return rc;
}

/* Put the index itself (the stored one, or a reduced one) on top. */
static int add_index(const struct walk *w, const struct index *ix, struct idp_image *img)
{
	struct idp_manifest_in m = { .digest = ix->digest,
				     .media_type = ix->d->mt,
				     .data = ix->d->bytes.buf,
				     .len = ix->d->bytes.len };
	struct idp_buf red;
	char nd[IDP_DIGEST_MAX];
	size_t i, kept = 0;
	int rc;

	for (i = 0; i < ix->n; i++)
		kept += ix->c[i].complete ? 1 : 0;
	if (kept == ix->n)
		return idp_image_add_manifest(img, &m, w->err);
	idp_buf_init(&red, IDP_CAP_MANIFEST);
	rc = build_reduced(w, ix, &red);
	if (rc == 0) {
		idp_sha256_digest(red.buf, red.len, nd);
		m.digest = nd;
		m.data = red.buf;
		m.len = red.len;
		rc = idp_image_add_manifest(img, &m, w->err);
	}
	idp_buf_release(&red);
	free(img->notice);
	img->notice = NULL;
	if (rc == 0 &&
	    asprintf(&img->notice, "pushing a reduced index %s with %zu of the %zu manifests of %s",
		     nd, kept, ix->n, ix->digest) < 0)
		img->notice = NULL;
	return rc;
}

/* Several platforms (or all): each must be complete, or with
 * allow_partial the complete ones go into a reduced index. */
static int pick_many(const struct walk *w, const struct index *ix, int all, struct idp_image *img)
{
	struct idp_buf missing;
	size_t i, complete = 0;
	int rc = -1, partial = ix->depth == 0 && w->o && w->o->allow_partial;

	idp_buf_init(&missing, IDP_CAP_JSON_SMALL);
	if (select_children(w, ix, all, &missing) < 0 ||
	    walk_selected(w, ix, img, &missing) < 0)
		goto out;
	for (i = 0; i < ix->n; i++)
		complete += ix->c[i].complete ? 1 : 0;
	if (missing.len && (!partial || complete == 0)) {
		idp_error_set(
			w->err, IDP_ENOTFOUND,
			"index %s: not every platform asked for is complete locally: %s%s",
			ix->digest, missing.buf,
			complete && !partial
				? " (--partial-index pushes a reduced index of the complete ones)"
				: "");
		goto out;
	}
	rc = add_index(w, ix, img);
out:
	idp_buf_release(&missing);
	return rc;
}

/* As the store keeps it: the index with every manifest it lists, when
 * each is complete here; else the host platform's manifest, and why in
 * img->notice. */
static int pick_stored(const struct walk *w, const struct index *ix, struct idp_image *img)
{
	const struct idp_image_manifest *top;
	struct idp_image whole;
	int rc;

	memset(&whole, 0, sizeof(whole));
	rc = pick_many(w, ix, 1, &whole);
	if (rc == 0)
		rc = merge_image(img, &whole, w->err);
	idp_image_release(&whole);
	if (rc == 0 || w->err->cls != IDP_ENOTFOUND)
		return rc;
	idp_error_clear(w->err);
	if (pick_one(w, ix, img) < 0)
		return -1;
	top = &img->manifests[img->nmanifests - 1];
	free(img->notice);
	if (asprintf(&img->notice,
		     "index %s lists manifests that are not all in the local store: pushing only "
		     "its %s manifest %s",
		     ix->digest, top->platform ? top->platform : "host's", top->digest) < 0)
		img->notice = NULL;
	return 0;
}

static int walk_index(const struct walk *w, const char *digest, const struct doc *d, int depth,
		      struct idp_image *img)
{
	struct index ix = { digest, d, NULL, 0, depth };
	int rc, all = depth > 0 || (w->o && w->o->all_platforms);

	if (depth >= WALK_MAX_DEPTH)
		return idp_error_set(w->err, IDP_EGENERAL, "index %s: indexes nested too deep",
				     digest);
	if (load_children(w, digest, d->json, &ix.c, &ix.n) < 0)
		return -1;
	if (depth == 0 && w->o && w->o->stored && !w->o->nplatforms)
		rc = pick_stored(w, &ix, img);
	else if (!all && (!w->o || w->o->nplatforms <= 1))
		rc = pick_one(w, &ix, img);
	else
		rc = pick_many(w, &ix, all, img);
	free(ix.c);
	return rc;
}

static int walk_desc(const struct walk *w, const struct desc *ds, int depth,
		     struct idp_image *img)
{
	const char *plat = ds->plat;
	struct doc d;
	int rc = -1;

	if (doc_load(w, ds, &d) < 0) {
		if (w->err && w->err->cls == IDP_ENOTFOUND)
			idp_error_set(w->err, IDP_ENOTFOUND,
				      "manifest %s%s%s%s is missing from the local store",
				      ds->digest, plat ? " (" : "", plat ? plat : "",
				      plat ? ")" : "");
		goto out;
	}
	if (idp_media_type_is_index(d.mt))
		rc = walk_index(w, ds->digest, &d, depth, img);
	else if (idp_media_type_is_manifest(d.mt))
		rc = walk_image_manifest(w, ds, &d, img);
	else
		idp_error_set(w->err, IDP_EGENERAL, "%s has unsupported media type '%.100s'",
			      ds->digest, d.mt);
out:
	doc_release(&d);
	return rc;
}

int idp_imgwalk(const struct idp_blobstore *bs, const struct idp_walk_top *top,
		const struct idp_source_opts *o, struct idp_image *img, struct idp_error *err)
{
	struct idp_error local = IDP_ERROR_INIT;
	struct walk w = { bs, o, err ? err : &local };
	struct desc ds = { top->digest, top->media_type, top->size, NULL };

	err = w.err;
	if (walk_desc(&w, &ds, 0, img) < 0) {
		idp_image_release(img);
		return top->what ? idp_error_prefix(err, "%s", top->what) : -1;
	}
	return 0;
}
