/* evaluator.c: placeholder until implemented. */
