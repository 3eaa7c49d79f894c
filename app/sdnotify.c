/* sdnotify.c: tells systemd (Type=notify) when the daemon is ready, reloading and stopping, by
 * writing the protocol's datagram to $NOTIFY_SOCKET itself: no libsystemd to link or ship. */
#include "sdnotify.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <errno.h>

/* Set once by lw_sdnotify_init before the threads start; read-only afterwards. */
static struct sockaddr_un notify_addr;
static socklen_t notify_len; /* 0: no service manager to tell */
static atomic_bool failure_said;

void lw_sdnotify_init(void)
{
    const char *s = getenv("NOTIFY_SOCKET");
    notify_len = 0;
    if (!s || !*s)
        return;
    size_t n = strlen(s);
    if ((s[0] != '/' && s[0] != '@') || n < 2 || n >= sizeof notify_addr.sun_path) {
        /* (AF_VSOCK addresses, "vsock:CID:PORT", are for virtual machines: not ours.) */
        lw_log(LW_WARN, "NOTIFY_SOCKET is not a unix socket path or abstract name: systemd "
                        "will not hear that the daemon is ready");
        return;
    }
    memset(&notify_addr, 0, sizeof notify_addr);
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, s, n);
    if (s[0] == '@')
        notify_addr.sun_path[0] = '\0'; /* abstract: the length, not a NUL, ends the name */
    notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (s[0] == '/'));
}

void lw_sdnotify(const char *fmt, ...)
{
    if (!notify_len)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof msg)
        len = sizeof msg - 1; /* only STATUS= text can be that long: cut, the rest stands */
    /* A socket per message, as libsystemd does: a few a day, and no descriptor to keep across
     * threads. */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ssize_t sent = -1;
    int e = 0;
    if (fd >= 0) {
        sent = sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, (const struct sockaddr *)&notify_addr,
                      notify_len);
        e = errno;
        close(fd);
    } else {
        e = errno;
    }
    if (sent != len && !atomic_exchange(&failure_said, true))
        lw_log(LW_WARN, "cannot notify systemd at NOTIFY_SOCKET: %s (said once)", strerror(e));
}
