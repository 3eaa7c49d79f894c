/* test_invariants.c: LW_ALWAYS/LW_NEVER when active (this file is built with LW_INVARIANTS):
 * a held invariant is the plain condition, a broken one aborts with file:line and the
 * condition. test_base checks the inactive form, the plain condition. */
#include "lw.h"
#include "test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LW_INVARIANTS
#error "test_invariants is built with LW_INVARIANTS"
#endif

/* Runs fn in a child with stderr in a pipe: its exit status, and what it wrote to stderr. */
static int in_child(void (*fn)(void), char *out, size_t size)
{
    int fd[2], status = 0;
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        fn();
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fd[0], out + n, size - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = 0;
    close(fd[0]);
    waitpid(pid, &status, 0);
    return status;
}

static volatile int zero = 0;

static void broken_always(void)
{
    if (LW_ALWAYS(zero == 1))
        _exit(3);
    _exit(4);
}

static void broken_never(void)
{
    if (LW_NEVER(zero == 0))
        _exit(3);
    _exit(4);
}

static void broken_statement(void)
{
    LW_INVARIANT(zero > 0);
    _exit(4);
}

static void held(void)
{
    LW_INVARIANT(zero == 0);
    if (!LW_ALWAYS(zero == 0) || LW_NEVER(zero == 1))
        _exit(3);
}

int main(void)
{
    char err[1024];
    int st = in_child(broken_always, err, sizeof err);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(err, "test_invariants.c:") != NULL);
    CHECK(strstr(err, "invariant failed: ALWAYS(zero == 1)") != NULL);

    st = in_child(broken_never, err, sizeof err);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(err, "invariant failed: NEVER(zero == 0)") != NULL);

    st = in_child(broken_statement, err, sizeof err);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(err, "invariant failed: ALWAYS(zero > 0)") != NULL);

    st = in_child(held, err, sizeof err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_STR(err, "");
    return test_summary();
}
