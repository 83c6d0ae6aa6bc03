/* frame_clock.h - the game loop's clock: a monotonic time and a sleep (frame_clock.c,
 * one version per OS). */
#ifndef EMBED_C_FRAME_CLOCK_H
#define EMBED_C_FRAME_CLOCK_H

double now_seconds(void);       /* monotonic */
void sleep_until(double t);     /* returns at once when t has passed */

#endif
