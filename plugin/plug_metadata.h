/* plug_metadata.h: the answer to the docker CLI's
 * `docker-idppush docker-cli-plugin-metadata`, in one place for the
 * launcher (plug_launch.c), which answers it without starting the
 * program, and the program itself (plug_main.c). */
#ifndef PLUG_METADATA_H
#define PLUG_METADATA_H

#define PLUG_METADATA_JSON                                                           \
	"{\n"                                                                        \
	"  \"SchemaVersion\": \"0.1.0\",\n"                                          \
	"  \"Vendor\": \"idppush project\",\n"                                       \
	"  \"Version\": \"" IDP_VERSION "\",\n"                                      \
	"  \"ShortDescription\": \"Push local images to idpbuilder's Gitea registry\",\n" \
	"  \"URL\": \"https://github.com/cnoe-io/idpbuilder\"\n"                     \
	"}\n"

/* The program the launcher runs, in the launcher's own directory (the
 * docker CLI only looks at files named docker-*). */
#define PLUG_PROGRAM "idppush-plugin"

#endif
