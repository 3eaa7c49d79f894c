/* queue.c: placeholder until implemented. */
