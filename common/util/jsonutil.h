/* jsonutil.h: small json-c helpers every parser here needs: parse a
 * bounded, not necessarily NUL-terminated text; read a typed member. */
#ifndef IDP_JSONUTIL_H
#define IDP_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Parse at most `cap` bytes of JSON; NULL when empty, too large or invalid. */
struct json_object *idp_json_parse(const char *text, size_t len, size_t cap);

/* Member `key` of object o when it is a string, else NULL. */
const char *idp_json_str(struct json_object *o, const char *key);

/* Member `key` of o as an integer, or `def` when missing or not an integer. */
int64_t idp_json_int(struct json_object *o, const char *key, int64_t def);

/* Member `key` of o when it is an object / an array, else NULL. */
struct json_object *idp_json_obj(struct json_object *o, const char *key);
struct json_object *idp_json_array(struct json_object *o, const char *key);

#endif
