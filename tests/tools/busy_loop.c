#include <stdio.h>
volatile unsigned long sink;
__attribute__((noinline)) void pybpf_busy_inner(void) { for (unsigned long i = 0; i < 100000; i++) sink += i; }
__attribute__((noinline)) void pybpf_busy_loop(void) { for (;;) pybpf_busy_inner(); }
int main(void) { pybpf_busy_loop(); return 0; }
