/* syslog_send.c: the fast syslog sender of bench/syslog.py: sends the lines of a file, one
 * message each, as fast as the kernel takes them, as many senders on a busy host would.
 *
 *   syslog_send udp|tcp HOST PORT FILE [K P]
 *
 * Sends lines K, K+P, K+2P... of FILE (default: all, K=0 P=1): udp, one datagram per line with
 * sendmmsg, 64 per call, on a blocking socket (the sender waits for its own socket buffer, never
 * for the receiver: what the receiver cannot take is lost there, as with logger); tcp, one
 * connection, octet-counted frames (RFC 6587, "LEN MSG"). Prints the number of messages the
 * kernel accepted, then exits 0 (1 on a setup error). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BURST 64

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0)
        return NULL;
    char *p = malloc((size_t)st.st_size + 1);
    *n = fread(p, 1, (size_t)st.st_size, f);
    fclose(f);
    return p;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: syslog_send udp|tcp HOST PORT FILE [K P]\n");
        return 1;
    }
    int udp = strcmp(argv[1], "udp") == 0;
    long k = argc == 7 ? atol(argv[5]) : 0, np = argc == 7 ? atol(argv[6]) : 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1 || np < 1 || k < 0 || k >= np) {
        fprintf(stderr, "syslog_send: bad address or K P\n");
        return 1;
    }
    size_t len;
    char *data = slurp(argv[4], &len);
    if (!data) {
        perror(argv[4]);
        return 1;
    }
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        return 1;
    }
    struct mmsghdr mm[BURST];
    struct iovec iov[BURST];
    memset(mm, 0, sizeof mm);
    size_t nb = 0, sent = 0;
    char *out = udp ? NULL : malloc(len + len / 4 + 64); /* frames: lines plus "LEN " each */
    size_t olen = 0;
    long i = 0;
    for (char *p = data, *end = data + len; p < end; i++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (i % np == k && n) {
            if (udp) {
                iov[nb] = (struct iovec){p, n};
                mm[nb].msg_hdr.msg_iov = &iov[nb];
                mm[nb].msg_hdr.msg_iovlen = 1;
                if (++nb == BURST) {
                    for (size_t done = 0; done < nb;) {
                        int r = sendmmsg(fd, mm + done, (unsigned)(nb - done), 0);
                        if (r < 0 && errno != EINTR && errno != ENOBUFS && errno != ECONNREFUSED)
                            break;
                        if (r > 0) {
                            done += (size_t)r;
                            sent += (size_t)r;
                        }
                    }
                    nb = 0;
                }
            } else {
                olen += (size_t)sprintf(out + olen, "%zu ", n);
                memcpy(out + olen, p, n);
                olen += n;
                sent++;
            }
        }
        p += n + 1;
    }
    for (size_t done = 0; udp && done < nb;) {
        int r = sendmmsg(fd, mm + done, (unsigned)(nb - done), 0);
        if (r < 0 && errno != EINTR && errno != ENOBUFS && errno != ECONNREFUSED)
            break;
        if (r > 0) {
            done += (size_t)r;
            sent += (size_t)r;
        }
    }
    if (!udp && send_all(fd, out, olen) != 0) {
        perror("send");
        return 1;
    }
    close(fd);
    printf("%zu\n", sent);
    return 0;
}
