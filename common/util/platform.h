/* platform.h: "os/arch[/variant]" platform strings, as docker and the OCI
 * image index spell them, for --platform and index entries. */
#ifndef IDP_PLATFORM_H
#define IDP_PLATFORM_H

#include "error.h"

/* Parse "os/arch[/variant]" (arch aliases: x86_64 -> amd64, aarch64 -> arm64);
 * fills out (3 strings of up to 32 bytes). -1 with a message on bad input. */
int idp_platform_parse(const char *s, char os[32], char arch[32], char variant[32],
		       struct idp_error *err);
/* The host platform as "os/arch[/variant]". */
const char *idp_platform_host(void);

#endif
