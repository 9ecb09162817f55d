/*
 * certctl.conf's YAML, composed from libyaml's events into a libyaml
 * document rather than by yaml_parser_load: that loader has no bound on
 * nesting, resolves each alias by a linear search of the anchors (quadratic
 * in a file of many), and lets an alias stand for a whole subtree, so that
 * a few kilobytes can stand for gigabytes once walked (the "billion laughs").
 * Here nesting is bounded, and aliases are refused: `defaults:` is the
 * config's way to share settings. Each certificate entry is composed into
 * a document of its own and handed over as soon as it is complete, so that
 * 100,000 of them never sit in memory as YAML nodes (96 bytes a node).
 */
#include <stdio.h>
#include <string.h>

#include "config_yaml.h"

struct composer {
	const char *path;
	yaml_document_t *main;          /* the document returned */
	yaml_document_t *doc;           /* where nodes go: main, or &entry */
	yaml_document_t entry;          /* the certificate entry being read */
	cc_yaml_entry_fn fn;
	void *arg;
	struct cc_err *err;
	/* The open collections' node ids, and per open mapping its pending
	 * key (0: none); one more level for an entry's own root. */
	int open[CC_YAML_DEPTH_MAX + 1];
	int key[CC_YAML_DEPTH_MAX + 1];
	int depth;
	int stream;     /* the depth inside `certificates:` while it is read, or 0 */
};

/* The line an operator should look at: where the unclosed construct
 * began when there is one, else where the parser stopped. */
static int parse_error(const yaml_parser_t *parser, const char *path, struct cc_err *err)
{
	const yaml_mark_t *mark = parser->context ? &parser->context_mark : &parser->problem_mark;

	if (parser->error == YAML_READER_ERROR)
		mark = &parser->problem_mark;
	return cc_err_set(err, "%s:%lu: malformed YAML: %s%s%s", path,
	    (unsigned long)mark->line + 1,
	    parser->problem ? parser->problem : "cannot read the file",
	    parser->context ? " " : "", parser->context ? parser->context : "");
}

static int fail(struct composer *c, const yaml_event_t *ev, const char *what)
{
	return cc_err_set(c->err, "%s:%lu: %s", c->path,
	    (unsigned long)ev->start_mark.line + 1, what);
}

static int too_deep(struct composer *c, const yaml_event_t *ev)
{
	char what[64];

	snprintf(what, sizeof(what), "nesting deeper than %d levels", CC_YAML_DEPTH_MAX);
	return fail(c, ev, what);
}

/* Hang node ID under the innermost open collection (the first node is
 * the root). */
static int attach(struct composer *c, int id)
{
	int parent, ok = 1;

	if (c->depth == 0)
		return 0;
	parent = c->open[c->depth - 1];
	if (yaml_document_get_node(c->doc, parent)->type == YAML_SEQUENCE_NODE)
		ok = yaml_document_append_sequence_item(c->doc, parent, id);
	else if (c->key[c->depth - 1] == 0)
		c->key[c->depth - 1] = id;
	else {
		ok = yaml_document_append_mapping_pair(c->doc, parent, c->key[c->depth - 1], id);
		c->key[c->depth - 1] = 0;
	}
	return ok ? 0 : cc_err_set(c->err, "out of memory");
}

/* Add the node of EV (a scalar or the start of a collection) to the
 * document, where it is in the file, and open it if a collection. */
static int add_node(struct composer *c, const yaml_event_t *ev)
{
	yaml_node_t *node;
	int id;

	if (ev->type == YAML_SCALAR_EVENT)
		id = yaml_document_add_scalar(c->doc, ev->data.scalar.tag,
		    ev->data.scalar.value, (int)ev->data.scalar.length,
		    ev->data.scalar.style);
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		id = yaml_document_add_sequence(c->doc, ev->data.sequence_start.tag,
		    ev->data.sequence_start.style);
	else
		id = yaml_document_add_mapping(c->doc, ev->data.mapping_start.tag,
		    ev->data.mapping_start.style);
	if (id == 0)
		return cc_err_set(c->err, "out of memory");
	node = yaml_document_get_node(c->doc, id);
	node->start_mark = ev->start_mark;
	node->end_mark = ev->end_mark;
	if (attach(c, id) == -1)
		return -1;
	if (ev->type != YAML_SCALAR_EVENT) {
		c->open[c->depth] = id;
		c->key[c->depth++] = 0;
	}
	return 0;
}

/* Whether EV opens the value of the top-level key `certificates`. */
static int opens_certificates(const struct composer *c, const yaml_event_t *ev)
{
	const yaml_node_t *key;

	if (c->fn == NULL || ev->type != YAML_MAPPING_START_EVENT || c->depth != 1 ||
	    c->doc != c->main || c->key[0] == 0)
		return 0;
	key = yaml_document_get_node(c->main, c->key[0]);
	return key->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)key->data.scalar.value, "certificates") == 0;
}

/* A new entry of `certificates:` starts with EV (its key): open a document
 * for it, rooted in a mapping that will hold that one pair. */
static int begin_entry(struct composer *c, const yaml_event_t *ev)
{
	yaml_node_t *root;
	int id;

	if (!yaml_document_initialize(&c->entry, NULL, NULL, NULL, 1, 1))
		return cc_err_set(c->err, "out of memory");
	c->doc = &c->entry;
	if ((id = yaml_document_add_mapping(c->doc, NULL, YAML_BLOCK_MAPPING_STYLE)) == 0)
		return cc_err_set(c->err, "out of memory");
	root = yaml_document_get_node(c->doc, id);
	root->start_mark = root->end_mark = ev->start_mark;
	c->open[c->depth] = id;
	c->key[c->depth++] = 0;
	return 0;
}

/* Hand a complete entry over, and go back to the main document. */
static int end_entry(struct composer *c)
{
	int rc = c->fn(c->arg, &c->entry);

	yaml_document_delete(&c->entry);
	c->doc = c->main;
	c->depth--;
	return rc;
}

static int entry_complete(const struct composer *c)
{
	const yaml_node_t *root;

	if (c->doc != &c->entry || c->depth != c->stream + 1 || c->key[c->stream] != 0)
		return 0;
	root = yaml_document_get_node(c->doc, c->open[c->stream]);
	return root->data.mapping.pairs.top > root->data.mapping.pairs.start;
}

/* A scalar, or the start of a collection, in the first document. */
static int start_node(struct composer *c, const yaml_event_t *ev)
{
	int certificates = opens_certificates(c, ev);

	if (ev->type != YAML_SCALAR_EVENT &&
	    c->depth - (c->doc == &c->entry) == CC_YAML_DEPTH_MAX)
		return too_deep(c, ev);
	if (c->stream != 0 && c->depth == c->stream && c->doc == c->main &&
	    begin_entry(c, ev) == -1)
		return -1;
	if (add_node(c, ev) == -1)
		return -1;
	if (certificates)
		c->stream = c->depth;
	return 0;
}

/* The end of the innermost open collection. */
static void end_node(struct composer *c, const yaml_event_t *ev)
{
	yaml_document_get_node(c->doc, c->open[c->depth - 1])->end_mark = ev->end_mark;
	if (c->doc == c->main && c->depth == c->stream)
		c->stream = 0;
	c->depth--;
}

/*
 * One event: 1 at the end of the stream, 0 to go on, -1 refused. After the
 * first document (DOCS > 0) nothing more is composed; a second one is
 * refused once the stream has been read through, so that a syntax error in
 * it is named as such.
 */
static int compose(struct composer *c, const yaml_event_t *ev, int *docs,
    unsigned long *second)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		if (*second != 0)
			return cc_err_set(c->err, "%s:%lu: only one YAML document is allowed",
			    c->path, *second);
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if ((*docs)++ > 0 && *second == 0)
			*second = (unsigned long)ev->start_mark.line + 1;
		return 0;
	case YAML_ALIAS_EVENT:
		return fail(c, ev, "YAML aliases ('*name') are not supported; 'defaults:' "
		    "holds what certificates share");
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
	case YAML_SCALAR_EVENT:
		if (*second == 0)
			return start_node(c, ev);
		if (ev->type != YAML_SCALAR_EVENT && c->depth++ == CC_YAML_DEPTH_MAX)
			return too_deep(c, ev);
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (*second == 0)
			end_node(c, ev);
		else
			c->depth--;
		return 0;
	default:
		return 0;
	}
}

int cc_yaml_load(FILE *fp, const char *path, cc_yaml_entry_fn entry, void *arg,
    yaml_document_t *doc, struct cc_err *err)
{
	struct composer c = { .path = path, .main = doc, .doc = doc, .fn = entry, .arg = arg,
		.err = err };
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned long second = 0;
	int docs = 0, rc = 0;

	if (!yaml_parser_initialize(&parser))
		return cc_err_set(err, "out of memory");
	if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1)) {
		yaml_parser_delete(&parser);
		return cc_err_set(err, "out of memory");
	}
	yaml_parser_set_input_file(&parser, fp);
	while (rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parse_error(&parser, path, err);
			break;
		}
		rc = compose(&c, &ev, &docs, &second);
		yaml_event_delete(&ev);
		if (rc == 0 && entry_complete(&c))
			rc = end_entry(&c);
	}
	yaml_parser_delete(&parser);
	if (c.doc == &c.entry)
		yaml_document_delete(&c.entry);
	if (rc == -1) {
		yaml_document_delete(doc);
		return -1;
	}
	return 0;
}
