#include <unistd.h>
__attribute__((noinline)) void pybpf_nap(void) { usleep(20000); }
__attribute__((noinline)) void pybpf_nap_loop(void) { for (;;) pybpf_nap(); }
int main(void) { pybpf_nap_loop(); return 0; }
