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

const char *idp_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t idp_json_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_int64(v);
}
