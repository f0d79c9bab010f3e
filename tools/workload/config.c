/* config.c: what a job is made of before it runs: its context (the names
 * its prose talks about) and its config snapshot.
 *
 * The snapshot is a JSON object of 1-3 KB (nested settings, validation
 * rules, the prompt template) built with jansson and dumped with Python's
 * separators (", " and ": "), as the original backend stores it.
 */
#include "workload_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPSHOT_MIN 1024
#define SNAPSHOT_MAX 3072

/* Words with no capitals in them; CamelCase for class names. */
static void append_camel(char *dst, size_t cap, const struct sl_wl_word *w)
{
	size_t at = strlen(dst);
	if (at + w->len + 1 > cap)
		return;
	memcpy(dst + at, w->s, w->len);
	if (dst[at] >= 'a' && dst[at] <= 'z')
		dst[at] = (char)(dst[at] - 'a' + 'A');
	dst[at + w->len] = '\0';
}

static void word_copy(char *dst, size_t cap, const struct sl_wl_word *w)
{
	size_t n = w->len < cap - 1 ? w->len : cap - 1;
	memcpy(dst, w->s, n);
	dst[n] = '\0';
}

void sl_wl_ctx_init(struct sl_wl_ctx *ctx, const sl_wl_vocab *v, struct sl_wl_rng *r,
		    const char *package, const char *user)
{
	memset(ctx, 0, sizeof(*ctx));
	snprintf(ctx->package, sizeof(ctx->package), "%s", package);
	snprintf(ctx->workspace, sizeof(ctx->workspace), "/home/%s/projects/%s", user, package);
	/* Module names come from a short fixed list, as real packages share
	 * them (config.py, models.py, ...); functions and classes are made
	 * from the word lists. */
	static const char *const fixed_modules[] = {
		"config", "models", "utils", "cli", "api", "storage", "runner",
		"validation", "parser", "errors", "client", "schema", "core",
		"handlers", "views", "tasks", "db", "cache", "auth", "events",
		"services", "helpers", "serializers", "settings", "workers",
		"exceptions", "constants", "types", "routes", "metrics",
	};
	uint32_t nf = (uint32_t)(sizeof(fixed_modules) / sizeof(fixed_modules[0]));
	for (int i = 0; i < SL_WL_CTX_MODULES; i++)
		ctx->modules[i] = fixed_modules[sl_wl_rng_below(r, nf)];
	for (int i = 0; i < SL_WL_CTX_FUNCS; i++) {
		char verb[24], noun[24];
		word_copy(verb, sizeof(verb), sl_wl_pick(v, r, SL_WL_VERB));
		word_copy(noun, sizeof(noun), sl_wl_pick(v, r, SL_WL_TECH));
		snprintf(ctx->funcs[i], sizeof(ctx->funcs[i]), "%s_%s", verb, noun);
	}
	for (int i = 0; i < SL_WL_CTX_CLASSES; i++) {
		ctx->classes[i][0] = '\0';
		if (sl_wl_rng_below(r, 2))
			append_camel(ctx->classes[i], sizeof(ctx->classes[i]),
				     sl_wl_pick(v, r, SL_WL_ADJ));
		append_camel(ctx->classes[i], sizeof(ctx->classes[i]), sl_wl_pick(v, r, SL_WL_TECH));
		append_camel(ctx->classes[i], sizeof(ctx->classes[i]), sl_wl_pick(v, r, SL_WL_TECH));
	}
}

/* A sentence rendered from the task patterns, as a jansson string. */
static json_t *sentence(const sl_wl_vocab *v, struct sl_wl_rng *r, const struct sl_wl_ctx *ctx)
{
	char buf[512];
	struct sl_wl_text t;
	sl_wl_text_reset(&t, buf, sizeof(buf));
	sl_wl_text_render(&t, v, r, ctx, "%s.");
	sl_wl_text_finish(&t);
	return json_string(buf);
}

/* json_object_set_new / json_array_append_new, failing on NULL. */
static int set(json_t *obj, const char *key, json_t *value)
{
	return value ? json_object_set_new(obj, key, value) : -1;
}

static int append(json_t *arr, json_t *value)
{
	return value ? json_array_append_new(arr, value) : -1;
}

static json_t *validation(const sl_wl_vocab *v, struct sl_wl_rng *r,
			  const struct sl_wl_ctx *ctx, const char *rule)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "pytest -q tests/test_%s.py",
		 ctx->modules[sl_wl_rng_below(r, SL_WL_CTX_MODULES)]);
	static const char *const kinds[] = { "command_succeeds", "file_exists",
					     "content_contains", "file_modified" };
	int bad = set(o, "name", json_string(rule)) ||
		  set(o, "type", json_string(kinds[sl_wl_rng_below(r, 4)])) ||
		  set(o, "command", json_string(cmd)) ||
		  set(o, "description", sentence(v, r, ctx)) ||
		  set(o, "required", json_boolean(sl_wl_rng_below(r, 4) != 0));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int sl_wl_config_build(struct sl_wl_config *out, const sl_wl_vocab *v, struct sl_wl_rng *r,
		       const struct sl_wl_ctx *ctx, const char *name, const char *preamble,
		       uint32_t total_sheets)
{
	int rc = SL_ENOMEM;
	char *text = NULL;
	json_t *root = json_object();
	json_t *backend = json_object(), *tools = json_array();
	json_t *sheet = json_object(), *retry = json_object(), *rate = json_object();
	json_t *validations = json_array(), *prompt = json_object(), *vars = json_object();
	json_t *learning = json_object(), *notes = json_array();
	if (!root || !backend || !tools || !sheet || !retry || !rate || !validations ||
	    !prompt || !vars || !learning || !notes)
		goto done;

	static const uint32_t timeouts[] = { 600, 900, 1200, 1800, 3600 };
	uint32_t timeout = timeouts[sl_wl_rng_below(r, 5)];
	char template[2048];
	snprintf(template, sizeof(template),
		 "%s\n\n## Sheet {{ sheet_num }} of {{ total_sheets }}\n\n{{ task }}", preamble);

	/* The job's validation rules: 3-6 distinct names. */
	uint32_t n_rules = 3 + sl_wl_rng_below(r, 4);
	uint32_t order[32];
	uint32_t nr = (uint32_t)sl_wl_n_rules;
	for (uint32_t i = 0; i < nr; i++)
		order[i] = i;
	for (uint32_t i = 0; i < n_rules; i++) {
		uint32_t j = i + sl_wl_rng_below(r, nr - i);
		uint32_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
		out->rules[i] = sl_wl_rules[order[i]];
	}
	out->n_rules = n_rules;
	out->timeout_seconds = timeout;

	if (append(tools, json_string("Read")) || append(tools, json_string("Edit")) ||
	    append(tools, json_string("Bash")) || append(tools, json_string("Grep")))
		goto done;
	int bad = set(backend, "type", json_string("claude_cli")) ||
		  set(backend, "timeout_seconds", json_integer(timeout)) ||
		  set(backend, "max_turns", json_integer(20 + 10 * sl_wl_rng_below(r, 5))) ||
		  set(backend, "skip_permissions", json_true()) ||
		  set(backend, "allowed_tools", json_incref(tools)) ||
		  set(sheet, "size", json_integer(1)) ||
		  set(sheet, "total_items", json_integer(total_sheets)) ||
		  set(sheet, "start_item", json_integer(1)) ||
		  set(retry, "max_retries", json_integer(SL_WORKLOAD_MAX_ATTEMPTS - 1)) ||
		  set(retry, "base_delay_seconds", json_integer(10)) ||
		  set(retry, "exponential_base", json_real(2.0)) ||
		  set(retry, "jitter", json_true()) ||
		  set(rate, "wait_minutes", json_integer(60)) ||
		  set(rate, "max_waits", json_integer(24)) ||
		  set(vars, "package", json_string(ctx->package)) ||
		  set(vars, "style_guide", json_string("docs/STYLE.md")) ||
		  set(prompt, "template", json_string(template)) ||
		  set(prompt, "variables", json_incref(vars)) ||
		  set(learning, "enabled", json_boolean(sl_wl_rng_below(r, 5) != 0)) ||
		  set(learning, "min_confidence", json_real(0.5));
	for (uint32_t i = 0; i < n_rules && !bad; i++)
		bad = append(validations, validation(v, r, ctx, out->rules[i]));
	if (bad)
		goto done;
	bad = set(root, "name", json_string(name)) ||
	      set(root, "description", sentence(v, r, ctx)) ||
	      set(root, "workspace", json_string(ctx->workspace)) ||
	      set(root, "backend", json_incref(backend)) ||
	      set(root, "sheet", json_incref(sheet)) ||
	      set(root, "retry", json_incref(retry)) ||
	      set(root, "rate_limit", json_incref(rate)) ||
	      set(root, "validations", json_incref(validations)) ||
	      set(root, "prompt", json_incref(prompt)) ||
	      set(root, "learning", json_incref(learning)) ||
	      set(root, "notes", json_incref(notes));
	if (bad)
		goto done;

	/* Grow the notes until the snapshot reaches its drawn size. */
	size_t target = SNAPSHOT_MIN + 100 + sl_wl_rng_below(r, SNAPSHOT_MAX - SNAPSHOT_MIN - 300);
	for (;;) {
		free(text);
		text = json_dumps(root, JSON_PRESERVE_ORDER);
		if (!text)
			goto done;
		size_t len = strlen(text);
		if (len >= target || len >= SNAPSHOT_MAX - 200)
			break;
		if (append(notes, sentence(v, r, ctx)))
			goto done;
	}
	out->snapshot = text;
	text = NULL;
	rc = SL_OK;
done:
	free(text);
	json_decref(root);
	json_decref(backend);
	json_decref(tools);
	json_decref(sheet);
	json_decref(retry);
	json_decref(rate);
	json_decref(validations);
	json_decref(prompt);
	json_decref(vars);
	json_decref(learning);
	json_decref(notes);
	return rc;
}
