/* image.h: a job's whole state as a compact, versioned image (image.c), as
 * the snapshot store keeps it.  Not installed. */
#ifndef SL_IMAGE_H
#define SL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* The image of st: every column of its jobs row and sheets rows, from the
 * column catalogue, zstd-compressed.  *out is owned (free()).  SL_ENOMEM. */
int sl_image_encode(uint8_t **out, size_t *len, const struct sl_job_state *st);

/* The state an image holds, into *out (set only on success).  SL_ECORRUPT
 * for anything that is not an image this build wrote; SL_ENOMEM. */
int sl_image_decode(struct sl_job_state *out, const void *img, size_t len);

#endif
