/* platform.c: "os/arch[/variant]" platform strings (platform.h). */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "platform.h"
#include "banned.h"

static void normalize_arch(char arch[32], char variant[32])
{
	if (strcmp(arch, "x86_64") == 0 || strcmp(arch, "x86-64") == 0)
		snprintf(arch, 32, "amd64");
	else if (strcmp(arch, "aarch64") == 0) {
		snprintf(arch, 32, "arm64");
		if (strcmp(variant, "v8") == 0)
			variant[0] = '\0';
	} else if (strcmp(arch, "armhf") == 0) {
		snprintf(arch, 32, "arm");
		snprintf(variant, 32, "v7");
	} else if (strcmp(arch, "i386") == 0 || strcmp(arch, "i686") == 0)
		snprintf(arch, 32, "386");
}

static int copy_part(char dst[32], const char *src, size_t n)
{
	size_t i;
	if (n == 0 || n >= 32)
		return -1;
	for (i = 0; i < n; i++) {
		char c = src[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return -1;
		dst[i] = c;
	}
	dst[n] = '\0';
	return 0;
}

int idp_platform_parse(const char *s, char os[32], char arch[32], char variant[32],
		       struct idp_error *err)
{
	const char *a = strchr(s, '/'), *v;

	variant[0] = '\0';
	if (!a || copy_part(os, s, (size_t)(a - s)) < 0)
		goto bad;
	a++;
	v = strchr(a, '/');
	if (copy_part(arch, a, v ? (size_t)(v - a) : strlen(a)) < 0)
		goto bad;
	if (v && copy_part(variant, v + 1, strlen(v + 1)) < 0)
		goto bad;
	normalize_arch(arch, variant);
	return 0;
bad:
	return idp_error_set(err, IDP_EGENERAL,
			     "invalid platform '%.64s': expected os/arch[/variant], e.g. "
			     "linux/amd64 or linux/arm/v7",
			     s);
}

const char *idp_platform_host(void)
{
#if defined(__x86_64__)
	return "linux/amd64";
#elif defined(__aarch64__)
	return "linux/arm64";
#elif defined(__arm__)
	return "linux/arm/v7";
#elif defined(__i386__)
	return "linux/386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "linux/ppc64le";
#elif defined(__s390x__)
	return "linux/s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "linux/riscv64";
#else
	return "linux/unknown";
#endif
}
