/* banned.h: C library calls this project does not use, turned into compile
 * errors (git's banned.h idea). Include it LAST, after every system header.
 * Unbounded copies and formatting: use snprintf, memcpy with a checked
 * length, or struct idp_buf. Not thread-safe: use the _r variants. */
#ifndef IDP_BANNED_H
#define IDP_BANNED_H

#define IDP_BANNED(func) sorry_##func##_is_banned_in_idppush

#undef strcpy
#define strcpy(x, y) IDP_BANNED(strcpy)
#undef strcat
#define strcat(x, y) IDP_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) IDP_BANNED(strncpy)
#undef sprintf
#define sprintf(...) IDP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) IDP_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) IDP_BANNED(strtok)
#undef gmtime
#define gmtime(t) IDP_BANNED(gmtime)
#undef localtime
#define localtime(t) IDP_BANNED(localtime)
#undef gets
#define gets(b) IDP_BANNED(gets)

#endif
