/* test_manifest.c: manifests and indexes come out byte-exact. */
#include "config.h"
#include <string.h>
#include "unit.h"
#include "util/manifest.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static void test_docker_manifest(void)
{
	struct idp_buf b;
	struct idp_error e = IDP_ERROR_INIT;
	struct idp_descriptor cfg = { idp_media_type(IDP_FMT_DOCKER, IDP_MT_CONFIG), D1, 10, NULL };
	struct idp_descriptor layer = { idp_media_type(IDP_FMT_DOCKER, IDP_MT_LAYER_GZIP), D2, 20,
					NULL };

	idp_buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(idp_manifest_build(IDP_FMT_DOCKER, &cfg, &layer, 1, &b, &e), 0);
	CU_ASSERT_STRING_EQUAL(
		b.buf,
		"{\"schemaVersion\":2,\"mediaType\":\"application/"
		"vnd.docker.distribution.manifest.v2+json\","
		"\"config\":{\"mediaType\":\"application/"
		"vnd.docker.container.image.v1+json\",\"size\":10,"
		"\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":"
		"\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":20,\"digest\":\"" D2
		"\"}]}");
	idp_buf_release(&b);
}

static void test_oci_index(void)
{
	struct idp_buf b;
	struct idp_error e = IDP_ERROR_INIT;
	struct idp_descriptor m[2] = {
		{ idp_media_type(IDP_FMT_OCI, IDP_MT_MANIFEST), D1, 5, "linux/amd64" },
		{ idp_media_type(IDP_FMT_OCI, IDP_MT_MANIFEST), D2, 6, "linux/arm/v7" },
	};

	idp_buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(idp_index_build(IDP_FMT_OCI, m, 2, &b, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		b.buf,
		"\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.buf, "application/vnd.oci.image.index.v1+json"));
	idp_buf_release(&b);
}

static void test_rejects_bad_descriptor(void)
{
	struct idp_buf b;
	struct idp_error e = IDP_ERROR_INIT;
	struct idp_descriptor cfg = { "x", "sha256:nothex", 1, NULL };

	idp_buf_init(&b, 0);
	CU_ASSERT_EQUAL(idp_manifest_build(IDP_FMT_OCI, &cfg, NULL, 0, &b, &e), -1);
	CU_ASSERT_EQUAL(e.cls, IDP_EGENERAL);
	CU_ASSERT_EQUAL(b.len, 0);
	idp_buf_release(&b);
}

static void test_media_type_kinds(void)
{
	CU_ASSERT_TRUE(idp_media_type_is_index(
		"application/vnd.docker.distribution.manifest.list.v2+json"));
	CU_ASSERT_FALSE(idp_media_type_is_index("application/vnd.oci.image.manifest.v1+json"));
	CU_ASSERT_TRUE(idp_media_type_is_manifest("application/vnd.oci.image.manifest.v1+json"));
}

static const struct unit_test tests[] = {
	{ "docker_manifest", test_docker_manifest },
	{ "oci_index", test_oci_index },
	{ "rejects_bad_descriptor", test_rejects_bad_descriptor },
	{ "media_type_kinds", test_media_type_kinds },
	{ NULL, NULL }
};

IDP_SUITE(manifest) { unit_add_suite("manifest", tests); }
