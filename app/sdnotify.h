/* sdnotify.h: systemd's service notification protocol (sd_notify(3)) without libsystemd. */
#ifndef LW_SDNOTIFY_H
#define LW_SDNOTIFY_H

#include "lw.h"

/* Reads $NOTIFY_SOCKET (a path, or '@' for an abstract socket) once: call before any thread
 * starts. Without it, or with one that is not a unix socket address, lw_sdnotify does nothing. */
void lw_sdnotify_init(void);

/* Sends one datagram of newline-separated VAR=VALUE assignments ("READY=1\nSTATUS=...") to the
 * service manager. Safe from any thread; never blocks for long (a datagram to a local socket);
 * a failure is logged once and otherwise ignored: the daemon works the same without systemd. */
void lw_sdnotify(const char *fmt, ...) LW_PRINTF(1, 2);

#endif
