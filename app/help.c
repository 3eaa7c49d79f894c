/* help.c: `logwarden help input|sink [NAME]`: the plugins and their options, from their tables. */
#include "app.h"
#include "ingest.h"
#include "sink.h"

#include <string.h>

/* One kind of plugin, as help lists it. */
struct kind {
    const char *name;   /* "input" */
    const char *plural; /* "inputs" */
    size_t (*count)(void);
    const char *(*type)(size_t i);
    const struct lw_opt *(*opts)(size_t i);
    const struct lw_opt *common; /* the keys every plugin of the kind has besides name and type,
                                    read by the config (NULL: none) */
};

static const char *input_type(size_t i)
{
    return lw_input_at(i)->type;
}

static const struct lw_opt *input_opts(size_t i)
{
    return lw_input_at(i)->opts;
}

static const char *sink_type(size_t i)
{
    return lw_sink_at(i)->type;
}

static const struct lw_opt *sink_opts(size_t i)
{
    return lw_sink_at(i)->opts;
}

static const struct kind kinds[] = {
    {"input", "inputs", lw_input_count, input_type, input_opts, lw_config_input_opts},
    {"sink", "sinks", lw_sink_count, sink_type, sink_opts, NULL},
};

static void usage_help(FILE *f)
{
    fprintf(f, "usage: logwarden help input|sink [TYPE]\n\n"
               "Lists the built-in inputs or sinks, or prints the options of one: key, type,\n"
               "default (or required) and what it does.\n");
}

static void list(const struct kind *k)
{
    printf("%s:\n", k->plural);
    for (size_t i = 0; i < k->count(); i++)
        printf("  %s\n", k->type(i));
    printf("\n`logwarden help %s TYPE` prints the options of one.\n", k->name);
}

static void count_rows(const struct lw_opt *o, void *payload)
{
    (void)o;
    ++*(size_t *)payload;
}

static int show(const struct kind *k, const char *type)
{
    for (size_t i = 0; i < k->count(); i++) {
        if (strcmp(k->type(i), type) != 0)
            continue;
        size_t n = 0;
        lw_opts_each(k->opts(i), count_rows, &n);
        printf("%s %s: options\n", k->name, type);
        if (n == 0)
            printf("  (none of its own)\n");
        lw_opts_print(k->opts(i), stdout);
        if (k->common) {
            printf("\nand those every %s has, besides name and type:\n", k->name);
            lw_opts_print(k->common, stdout);
        } else {
            printf("\nand those every %s has: name and type\n", k->name);
        }
        return 0;
    }
    struct lw_buf names = {0};
    for (size_t i = 0; i < k->count(); i++)
        lw_buf_printf(&names, "%s%s", i ? ", " : "", k->type(i));
    fprintf(stderr, "logwarden: no %s type '%s' (%s)\n", k->name, type, names.p);
    lw_buf_free(&names);
    return 2;
}

int lw_cmd_help(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        usage_help(argc < 2 ? stdout : stderr);
        return argc < 2 ? 0 : 2;
    }
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(argv[1], kinds[i].name) != 0 && strcmp(argv[1], kinds[i].plural) != 0)
            continue;
        if (argc == 2) {
            list(&kinds[i]);
            return 0;
        }
        return show(&kinds[i], argv[2]);
    }
    fprintf(stderr, "logwarden: help: unknown topic '%s'\n\n", argv[1]);
    usage_help(stderr);
    return 2;
}
