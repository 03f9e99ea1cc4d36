/* jsonutil.c: bounded json-c parsing and typed member access. */
#include "config.h"
#include "jsonutil.h"
#include "banned.h"

struct json_object *idp_json_parse(const char *text, size_t len, size_t cap)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (!text || len == 0 || len > cap || len > (size_t)INT32_MAX)
		return NULL;
	if (!(tok = json_tokener_new()))
		return NULL;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (obj && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Member `key` of object o when it has JSON type t, else NULL. */
static struct json_object *member(struct json_object *o, const char *key, json_type t)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

const char *idp_json_str(struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key, json_type_string);
	return v ? json_object_get_string(v) : NULL;
}

int64_t idp_json_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v = member(o, key, json_type_int);
	return v ? json_object_get_int64(v) : def;
}

struct json_object *idp_json_obj(struct json_object *o, const char *key)
{
	return member(o, key, json_type_object);
}

struct json_object *idp_json_array(struct json_object *o, const char *key)
{
	return member(o, key, json_type_array);
}
