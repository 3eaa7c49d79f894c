/* main.c: placeholder until implemented. */
int main(void) { return 0; }
