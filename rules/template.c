/* template.c: placeholder until implemented. */
