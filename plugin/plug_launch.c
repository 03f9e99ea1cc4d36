/* plug_launch.c: docker-idppush, the file the docker CLI runs. The CLI
 * runs a plugin twice for every `docker idppush ...`: once to ask for its
 * metadata, then to run the command. The answer to the first is a fixed
 * string, so this small program, linked with the C library only, prints
 * it at once; every other command it hands, arguments and environment
 * unchanged, to the program itself, idppush-plugin, installed next to it
 * (the CLI ignores files not named docker-*). Starting the program means
 * loading libcurl, GnuTLS and what they need, about 10 ms; this launcher
 * costs about 1 ms, so the metadata question no longer costs a second
 * start of the whole program. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "plug_metadata.h"
#include "banned.h"

#define LAUNCHER "docker-idppush"

/* PLUG_PROGRAM in the directory of this executable (symbolic links
 * resolved, so a link to an installed launcher works), or of argv[0]
 * when /proc is not there. */
static int program_path(const char *argv0, char *out, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *dir = self;
	char *slash;

	if (len > 0)
		self[len] = '\0';
	else if (argv0 && strchr(argv0, '/') && strlen(argv0) < sizeof(self))
		memcpy(self, argv0, strlen(argv0) + 1);
	else
		return -1;
	if (!(slash = strrchr(self, '/')))
		return -1;
	*slash = '\0';
	if (slash == self)
		dir = "";
	return snprintf(out, n, "%s/%s", dir, PLUG_PROGRAM) < (int)n ? 0 : -1;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];

	if (argc > 1 && strcmp(argv[1], "docker-cli-plugin-metadata") == 0) {
		fputs(PLUG_METADATA_JSON, stdout);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	}
	if (program_path(argc > 0 ? argv[0] : NULL, path, sizeof(path)) < 0) {
		fprintf(stderr, "%s: cannot tell which directory it was started from\n",
			LAUNCHER);
		return 1;
	}
	execv(path, argv);
	fprintf(stderr, "%s: cannot run %s: %s (it is installed next to %s)\n", LAUNCHER, path,
		strerror(errno), LAUNCHER);
	return 1;
}
