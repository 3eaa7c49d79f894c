/* sink.c: placeholder until implemented. */
