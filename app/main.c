/* main.c: the logwarden command line: dispatches to run, check, replay, test, status, explain,
 * silence, help. */
#include "app.h"

#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "logwarden %s: log rules and alerts\n\n"
            "usage: logwarden COMMAND [options]\n\n"
            "commands:\n"
            "  run -c CONFIG [--log-format text|json] [--log-level LEVEL]  run the daemon\n"
            "  check -c CONFIG | RULEFILE...  validate config and rules\n"
            "  replay -c CONFIG FILE...       replay logs on event time, print alerts\n"
            "  test TESTFILE...               run rule unit tests\n"
            "  status -c CONFIG               the daemon's health, then the alerts, the outbox\n"
            "  explain -c CONFIG FP|ALERT [L=V...]  why an alert fired: value, history, lines\n"
            "  silence add|list|expire        manage silences\n"
            "  help input|sink [TYPE]         the inputs or sinks, or one's options\n\n"
            "  --version                      print the version\n"
            "  COMMAND --help                 help for a command\n",
            LW_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("logwarden %s\n", LW_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") && argc > 2)
        return lw_cmd_help(argc - 1, argv + 1);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return lw_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return lw_cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay"))
        return lw_cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "status"))
        return lw_cmd_status(argc - 1, argv + 1);
    if (!strcmp(cmd, "explain"))
        return lw_cmd_explain(argc - 1, argv + 1);
    if (!strcmp(cmd, "silence"))
        return lw_cmd_silence(argc - 1, argv + 1);
    if (!strcmp(cmd, "test"))
        return lw_cmd_test(argc - 1, argv + 1);
    fprintf(stderr, "logwarden: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
