// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* tracewire collect: socket sends and receives of one process tree, with
 * the user stack of the call.
 *
 * The sock:sock_send_length and sock:sock_recv_length tracepoints (Linux
 * 6.3+) fire in the calling task after every sock_sendmsg/sock_recvmsg, so
 * write, send, sendto, sendmsg, read, recv, recvfrom and recvmsg on a
 * socket all pass here, with the struct sock at hand. Fentry and kprobes
 * are not used: function tracing is not available everywhere.
 *
 * The process tree is a set of thread group IDs: user space puts the
 * command's pid in it before the command runs; forks of a member join it;
 * a member leaves when its task is freed (its pid may be reused then).
 *
 * With TLS uprobes, libssl's SSL_write, SSL_read, SSL_write_ex and
 * SSL_read_ex of the tree are recorded with their plaintext. The socket of
 * an SSL object is the one a socket call made during one of its calls
 * (SSL_connect, SSL_accept and SSL_do_handshake included) used, so no
 * OpenSSL structure is read. */
#include "types.h"
#include <bpf_helpers.h>
#include <bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define MAX_FRAMES 48
#define DIR_OUT 1
#define DIR_IN 2

struct tuple {
	__u16 family;
	__u16 lport; /* host order */
	__u16 rport; /* host order */
	__u16 pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* One socket call. The stack is cut to the frames bpf_get_stack filled:
 * user space reads stack_bytes / sizeof(struct bpf_stack_build_id) of
 * them. */
struct event {
	__u64 mono_ns;
	__u32 pid;
	__u32 tid;
	__s32 bytes;
	__s32 stack_bytes;
	__u16 protocol;
	__u8 dir;
	__u8 cached; /* the tuple came from the socket cache */
	__u32 pad;
	struct tuple t;
	char comm[16];
	struct bpf_stack_build_id stack[MAX_FRAMES];
};

/* Thread group IDs of the traced tree. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

/* The last complete 5-tuple seen on each socket: the kernel can clear a
 * socket's local port (or its peer) before the tracepoint fires, on a
 * reset or a close. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tuple);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Scratch space for building an event (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* Counters, per CPU: 0 events lost (ring buffer full), 1 events sent,
 * 2 events of sockets that are neither IPv4 nor IPv6 TCP/UDP (skipped),
 * 3 TLS records lost (ring buffer full), 4 TLS calls whose data was cut
 * at TLS_MAX_CHUNKS chunks, 5 TLS calls whose data could not be read. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

#define TLS_CHUNK 16384
#define TLS_MAX_CHUNKS 4
#define SSL_HANDSHAKE 0
#define SSL_WRITE 1
#define SSL_READ 2
#define SSL_WRITE_EX 3
#define SSL_READ_EX 4

/* One chunk of the plaintext of an SSL call, written when it returns. */
struct tls_event {
	__u64 mono_ns;
	__u64 ssl; /* the SSL object: one TLS connection */
	__u32 pid;
	__u32 tid;
	__s64 bytes; /* bytes the call wrote or read */
	__u32 offset; /* of this chunk in the call's data */
	__u32 len; /* bytes of data in this chunk */
	__u8 fn;
	__u8 linked; /* t is the SSL object's socket */
	__u8 last; /* the call's last chunk */
	__u8 pad[5];
	struct tuple t;
	char comm[16];
	__u8 data[TLS_CHUNK];
};

/* An SSL call in progress, by thread. */
struct ssl_call {
	__u64 ssl;
	__u64 buf;
	__u64 outlen; /* size_t * of the _ex functions */
	__u8 fn;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ssl_call);
} ssl_calls SEC(".maps");

/* The socket of each SSL object. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct tuple);
} ssl_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} tls_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tls_event);
} tls_scratch SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &i);
	if (n)
		*n += 1;
}

static __always_inline bool same_tuple(const struct tuple *a, const struct tuple *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
#pragma unroll
	for (int i = 0; i < sizeof(struct tuple) / 8; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

static __always_inline int record(void *ctx, struct sock *sk, int ret, __u8 dir)
{
	if (ret <= 0)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;

	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if ((family != AF_INET && family != AF_INET6) || (proto != IPPROTO_TCP && proto != IPPROTO_UDP)) {
		count(2);
		return 0;
	}

	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->mono_ns = bpf_ktime_get_ns();
	e->pid = tgid;
	e->tid = (__u32)id;
	e->bytes = ret;
	e->protocol = proto;
	e->dir = dir;
	e->cached = 0;
	e->pad = 0;

	struct tuple *t = &e->t;
	__builtin_memset(t, 0, sizeof(*t));
	t->family = family;
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		__be32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
	} else {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr);
	}

	__u64 key = (__u64)sk;
	if (t->lport && t->rport) {
		struct tuple *c = bpf_map_lookup_elem(&sockets, &key);
		if (!c || !same_tuple(c, t))
			bpf_map_update_elem(&sockets, &key, t, BPF_ANY);
	} else {
		struct tuple *c = bpf_map_lookup_elem(&sockets, &key);
		if (c) {
			__builtin_memcpy(t, c, sizeof(*t));
			e->cached = 1;
		}
	}

	if (t->lport && t->rport) {
		/* A socket call inside an SSL call: that SSL object's socket. */
		struct ssl_call *sc = bpf_map_lookup_elem(&ssl_calls, &id);
		if (sc)
			bpf_map_update_elem(&ssl_sockets, &sc->ssl, t, BPF_ANY);
	}

	bpf_get_current_comm(e->comm, sizeof(e->comm));
	long n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
	if (n < 0)
		n = 0;
	e->stack_bytes = n;

	__u64 size = __builtin_offsetof(struct event, stack) + (__u64)n;
	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, size, 0)) {
		count(0);
		return 0;
	}
	count(1);
	return 0;
}

SEC("tp_btf/sock_send_length")
int on_send(__u64 *ctx)
{
	return record(ctx, (struct sock *)ctx[0], (int)ctx[1], DIR_OUT);
}

SEC("tp_btf/sock_recv_length")
int on_recv(__u64 *ctx)
{
	return record(ctx, (struct sock *)ctx[0], (int)ctx[1], DIR_IN);
}

SEC("tp_btf/sched_process_fork")
int on_fork(__u64 *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx[0];
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	if (!bpf_map_lookup_elem(&traced, &ptgid))
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;
	bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_free")
int on_free(__u64 *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx[0];
	__u32 pid = BPF_CORE_READ(p, pid);
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (pid == tgid)
		bpf_map_delete_elem(&traced, &tgid);
	return 0;
}

static __always_inline int ssl_enter(struct x86_regs *ctx, __u8 fn)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if (!bpf_map_lookup_elem(&traced, &tgid))
		return 0;
	struct ssl_call c = {};
	c.ssl = ctx->di;
	c.buf = ctx->si;
	if (fn == SSL_WRITE_EX || fn == SSL_READ_EX)
		c.outlen = ctx->cx;
	c.fn = fn;
	bpf_map_update_elem(&ssl_calls, &id, &c, BPF_ANY);
	return 0;
}

SEC("uprobe/SSL_write")
int ssl_write(struct x86_regs *ctx) { return ssl_enter(ctx, SSL_WRITE); }

SEC("uprobe/SSL_read")
int ssl_read(struct x86_regs *ctx) { return ssl_enter(ctx, SSL_READ); }

SEC("uprobe/SSL_write_ex")
int ssl_write_ex(struct x86_regs *ctx) { return ssl_enter(ctx, SSL_WRITE_EX); }

SEC("uprobe/SSL_read_ex")
int ssl_read_ex(struct x86_regs *ctx) { return ssl_enter(ctx, SSL_READ_EX); }

SEC("uprobe/SSL_do_handshake")
int ssl_handshake(struct x86_regs *ctx) { return ssl_enter(ctx, SSL_HANDSHAKE); }

SEC("uretprobe/SSL")
int ssl_return(struct x86_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_call *p = bpf_map_lookup_elem(&ssl_calls, &id);
	if (!p)
		return 0;
	struct ssl_call c = *p;
	bpf_map_delete_elem(&ssl_calls, &id);
	long ret = (long)ctx->ax;
	__u64 total = 0;
	switch (c.fn) {
	case SSL_WRITE:
	case SSL_READ:
		if ((int)ret <= 0)
			return 0;
		total = (__u64)(int)ret;
		break;
	case SSL_WRITE_EX:
	case SSL_READ_EX:
		if ((int)ret != 1 || !c.outlen)
			return 0;
		if (bpf_probe_read_user(&total, sizeof(total), (void *)c.outlen)) {
			count(5);
			return 0;
		}
		break;
	default:
		return 0;
	}
	if (!total)
		return 0;

	__u32 zero = 0;
	struct tls_event *e = bpf_map_lookup_elem(&tls_scratch, &zero);
	if (!e)
		return 0;
	e->mono_ns = bpf_ktime_get_ns();
	e->ssl = c.ssl;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->bytes = total;
	e->fn = c.fn;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	struct tuple *t = bpf_map_lookup_elem(&ssl_sockets, &c.ssl);
	if (t) {
		__builtin_memcpy(&e->t, t, sizeof(*t));
		e->linked = 1;
	} else {
		__builtin_memset(&e->t, 0, sizeof(e->t));
		e->linked = 0;
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	for (int i = 0; i < TLS_MAX_CHUNKS; i++) {
		__u64 off = (__u64)i * TLS_CHUNK;
		if (off >= total)
			break;
		__u64 len = total - off;
		if (len > TLS_CHUNK)
			len = TLS_CHUNK;
		e->offset = off;
		e->len = len;
		e->last = off + len >= total || i == TLS_MAX_CHUNKS - 1;
		if (bpf_probe_read_user(e->data, len, (void *)(c.buf + off))) {
			count(5);
			return 0;
		}
		if (bpf_ringbuf_output(&tls_events, e, __builtin_offsetof(struct tls_event, data) + len, 0)) {
			count(3);
			return 0;
		}
	}
	if (total > (__u64)TLS_MAX_CHUNKS * TLS_CHUNK)
		count(4);
	return 0;
}
