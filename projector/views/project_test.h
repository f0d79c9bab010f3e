/* project_test.h: seams through which tests reach into the projector
 * (project.c).  Not part of the API: nothing outside tests/ sets them. */
#ifndef SL_PROJECT_TEST_H
#define SL_PROJECT_TEST_H

#include <stdint.h>

/* When set, called after each event (or gap) is applied inside a catch-up
 * transaction, before the transaction commits, with the event's sequence
 * number: a test may _exit() there to simulate a crash in mid-batch. */
extern void (*sl_proj_test_hook)(uint64_t seq);

#endif
