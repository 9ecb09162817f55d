/* Reading an ACME CA's JSON objects (see acme_json.h). */
#include <stdio.h>
#include <string.h>

#include "acme_json.h"

static const char *string_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int acme_problem(long status, json_t *body, const char *url, struct cc_err *err)
{
	const char *type = string_at(body, "type"), *detail = string_at(body, "detail");

	if (type == NULL)
		return cc_err_set(err, "acme: '%s' answered HTTP %ld", url, status);
	return cc_err_set(err, "acme: %s: %s (HTTP %ld)", type, detail ? detail : "", status);
}

int acme_order_read(json_t *order, struct acme_order *o, struct cc_err *err)
{
	json_t *list = json_object_get(order, "authorizations"), *v;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->status = string_at(order, "status");
	o->finalize = string_at(order, "finalize");
	o->certificate = string_at(order, "certificate");
	if (o->status == NULL)
		return cc_err_set(err, "acme: the order has no status");
	if (!json_is_array(list) || json_array_size(list) > ACME_MAX_AUTHZ)
		return cc_err_set(err, "acme: the order's authorizations are %s",
		    json_is_array(list) ? "more than 64" : "missing");
	json_array_foreach(list, i, v) {
		if ((o->authz[i] = json_string_value(v)) == NULL)
			return cc_err_set(err, "acme: malformed authorization list");
		o->nauthz++;
	}
	if (o->finalize == NULL)
		return cc_err_set(err, "acme: the order has no finalize URL");
	return 0;
}

int acme_order_done(json_t *order, struct acme_order *o, struct cc_err *err)
{
	const char *detail = string_at(json_object_get(order, "error"), "detail");

	memset(o, 0, sizeof(*o));
	o->status = string_at(order, "status");
	o->certificate = string_at(order, "certificate");
	if (o->status != NULL && strcmp(o->status, "valid") == 0 && o->certificate != NULL)
		return 0;
	return cc_err_set(err, "acme: the order ended %s without a certificate%s%s",
	    o->status ? o->status : "(no status)", detail ? ": " : "", detail ? detail : "");
}

int acme_authz_read(json_t *authz, const char *url, const char *type, struct acme_authz *z,
    struct cc_err *err)
{
	json_t *ch;
	size_t i;

	memset(z, 0, sizeof(*z));
	z->status = string_at(authz, "status");
	z->domain = string_at(json_object_get(authz, "identifier"), "value");
	z->wildcard = json_is_true(json_object_get(authz, "wildcard"));
	if (z->status == NULL || z->domain == NULL)
		return cc_err_set(err, "acme: malformed authorization '%s'", url);
	json_array_foreach(json_object_get(authz, "challenges"), i, ch) {
		if (z->error == NULL)
			z->error = string_at(json_object_get(ch, "error"), "detail");
		if (z->token == NULL && type != NULL && json_is_string(json_object_get(ch, "type")) &&
		    strcmp(string_at(ch, "type"), type) == 0) {
			z->token = string_at(ch, "token");
			z->url = string_at(ch, "url");
			if (z->token == NULL || z->url == NULL)
				z->token = z->url = NULL;
		}
	}
	return 0;
}

int acme_profile_offered(json_t *dir, const char *source, const char *profile,
    struct cc_err *err)
{
	json_t *profiles = json_object_get(json_object_get(dir, "meta"), "profiles"), *v;
	char list[256] = "";
	const char *name;

	if (!json_is_object(profiles) || json_object_size(profiles) == 0)
		return cc_err_set(err, "source '%s' offers no profiles (its directory has no "
		    "meta.profiles), so profile '%s' cannot be ordered", source, profile);
	if (json_object_get(profiles, profile) != NULL)
		return 0;
	json_object_foreach(profiles, name, v)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
		    list[0] ? ", " : "", name);
	return cc_err_set(err, "profile '%s' is not offered by source '%s' (it offers: %s)",
	    profile, source, list);
}

int acme_is_outage(long status, const char *type)
{
	return status == 0 || status == 429 || status >= 500 ||
	    (type != NULL && strcmp(type, "urn:ietf:params:acme:error:rateLimited") == 0);
}
