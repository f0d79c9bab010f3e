/* audit_json.h: a column's value as JSON, as the audit's JSON form writes
 * it (audit_json.c); for the programs that build JSON of their own from
 * audit entries (the timeline page).  Not installed. */
#ifndef SL_AUDIT_JSON_H
#define SL_AUDIT_JSON_H

#include <stdbool.h>

#include <jansson.h>

#include "history.h"

/* null for an absent row or a NULL value; statuses and text as strings,
 * times as ISO-8601 text, reals, booleans and integers as such.  A new
 * reference (NULL when out of memory). */
json_t *sl_audit_value_json(const struct sl_state_column *c, bool absent, const struct sl_value *v);

#endif
