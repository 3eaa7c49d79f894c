/* expr.c: placeholder until implemented. */
