/* webhook.c: placeholder until implemented. */
