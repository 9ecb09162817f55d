/*
 * The loaded configuration: lookups, the effective policy of a name, and
 * freeing (loading and checking are in config.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/config.h"
#include "certctl/store.h"
#include "certctl/strmap.h"

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i]);
	free(list);
}

static void free_policy(struct cc_policy *p)
{
	free_list(p->sources, p->nsources);
	free(p->owner);
	free(p->group);
	free_list(p->publish, p->npublish);
	free(p->profile);
}

void cc_config_free(struct cc_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nsources; i++) {
		struct cc_source *s = &cfg->sources[i];
		char *strings[] = { s->name, s->directory, s->challenge_type, s->webroot,
			s->listen, s->hook, s->eab_kid, s->eab_hmac_key, s->preferred_chain, s->profile,
			s->url, s->bearer_token_file, s->client_cert, s->client_key, s->ca_file,
			s->sigv4_region, s->sigv4_service, s->sigv4_key_id_file,
			s->sigv4_secret_file };
		for (size_t j = 0; j < sizeof(strings) / sizeof(strings[0]); j++)
			free(strings[j]);
		free_list(s->contact, s->ncontact);
	}
	for (size_t i = 0; i < cfg->ncerts; i++) {
		free(cfg->certs[i].name);
		free(cfg->certs[i].deploy_hook);
		free_list(cfg->certs[i].domains, cfg->certs[i].ndomains);
		free_policy(&cfg->certs[i].policy);
	}
	free(cfg->sources);
	free(cfg->certs);
	cc_strmap_free(cfg->cert_index);
	free_policy(&cfg->defaults);
	free(cfg->certdir);
	free(cfg->trust);
	free(cfg->path);
	free(cfg);
}

const struct cc_cert_conf *cc_config_cert(const struct cc_config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || cc_strmap_get(cfg->cert_index, name, &i) == 0)
		return NULL;
	return &cfg->certs[i];
}

const struct cc_source *cc_config_source(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; cfg != NULL && name != NULL && i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].name, name) == 0)
			return &cfg->sources[i];
	return NULL;
}

/* Copy into DST every field SRC sets. */
static void overlay(struct cc_policy *dst, const struct cc_policy *src)
{
	unsigned s = src->set;

	if (s & CC_P_KEY)
		dst->key = src->key;
	if (s & CC_P_RENEW)
		dst->renew_before = src->renew_before;
	if (s & CC_P_SOURCE) {
		dst->source = src->source;
		dst->sources = src->sources;
		dst->nsources = src->nsources;
	}
	if (s & CC_P_FILES)
		dst->combined = src->combined;
	if (s & CC_P_OWNER)
		dst->owner = src->owner;
	if (s & CC_P_GROUP)
		dst->group = src->group;
	if (s & CC_P_KEY_MODE)
		dst->key_mode = src->key_mode;
	if (s & CC_P_OCSP_MIN)
		dst->ocsp_min_validity = src->ocsp_min_validity;
	if (s & CC_P_OCSP_PCT)
		dst->ocsp_min_validity_percent = src->ocsp_min_validity_percent;
	if (s & CC_P_WARN)
		dst->check_warn = src->check_warn;
	if (s & CC_P_CRIT)
		dst->check_crit = src->check_crit;
	if (s & CC_P_KEEP)
		dst->keep_generations = src->keep_generations;
	if (s & CC_P_PUBLISH) {
		dst->publish = src->publish;
		dst->npublish = src->npublish;
	}
	if (s & CC_P_PROFILE)
		dst->profile = src->profile;
	dst->set |= s;
}

void cc_config_policy(const struct cc_config *cfg, const char *name, struct cc_policy *out)
{
	const struct cc_cert_conf *cert = cc_config_cert(cfg, name);

	memset(out, 0, sizeof(*out));
	out->key.type = CC_KEY_EC;
	snprintf(out->key.curve, sizeof(out->key.curve), "P-256");
	/* renew_before unset: cc_renew_margin's rule (a third, half for
	 * short lifetimes). */
	out->key_mode = 0600;
	out->ocsp_min_validity = 3 * 86400;
	out->ocsp_min_validity_percent = 42.8;
	out->check_warn = 21 * 86400;
	out->check_crit = 7 * 86400;
	out->keep_generations = CC_KEEP_GENERATIONS;
	if (cfg != NULL)
		overlay(out, &cfg->defaults);
	if (cert != NULL)
		overlay(out, &cert->policy);
	out->set = 0;
}

const char *cc_config_profile(const struct cc_config *cfg, const char *name,
    const char *source)
{
	const struct cc_source *src;
	struct cc_policy pol;

	cc_config_policy(cfg, name, &pol);
	/* Profiles are ACME's: an http store's names have none. */
	src = cc_config_source(cfg, source != NULL ? source : pol.source);
	if (src == NULL || src->type != CC_SOURCE_ACME)
		return NULL;
	return pol.profile != NULL ? pol.profile : src->profile;
}
