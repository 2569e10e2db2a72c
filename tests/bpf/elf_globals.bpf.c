// Global data in every section kind, for tests/elf: .data, .rodata, .bss, .kconfig externs,
// custom .data.* / .rodata.* sections, static and global variables, and a version section.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";
__u32 VERSION SEC("version") = 0x060c00;

__u64 counter = 7;                       // .data
static __u32 hidden = 9;                 // .data, a LOCAL symbol
const volatile __u32 config_pid = 42;    // .rodata
const volatile char banner[8] = "pybpf";  // .rodata
__u64 zeroed;                            // .bss
__u32 zeroed_array[4];                   // .bss
__u32 custom_value SEC(".data.custom") = 0x11223344;
const volatile __u16 custom_ro SEC(".rodata.custom") = 0x5566;

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig __weak;

SEC("socket")
int read_globals(void *ctx)
{
	__u64 sum = counter + hidden + config_pid + banner[1] + zeroed + zeroed_array[2];

	sum += custom_value + custom_ro + LINUX_KERNEL_VERSION + CONFIG_BPF_SYSCALL;
	zeroed = sum;
	hidden++;
	return sum & 0xff;
}
