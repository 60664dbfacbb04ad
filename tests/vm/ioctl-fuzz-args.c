// SPDX-License-Identifier: MIT
/* anpu-ioctl-fuzz: argument generators (see ioctl-fuzz.h). */
#include "tests/vm/ioctl-fuzz.h"

#include <signal.h>
#include <ucontext.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "uapi/drm/anpu_accel.h"
#include "uapi/drm/anpu_isa.h"

uint64_t fz_derive(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	struct fz_rng r = { seed ^ (a * 0x100000001b3ull) ^ (b << 40) ^ (c << 20) };

	fz_next(&r);
	return fz_next(&r) ^ a;
}

uint64_t fz_edge64(struct fz_rng *r)
{
	unsigned int bit = fz_below(r, 64);

	switch (fz_below(r, 10)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return UINT64_MAX;
	case 3: return 1ull << bit;
	case 4: return (1ull << bit) - 1;
	case 5: return (1ull << bit) + 1;
	case 6: return (uint64_t)INT32_MAX + fz_below(r, 3);
	case 7: return UINT32_MAX - fz_below(r, 3);
	case 8: return fz_below(r, 4096);
	default: return fz_next(r);
	}
}

uint32_t fz_edge32(struct fz_rng *r)
{
	return (uint32_t)fz_edge64(r);
}

uint64_t fz_ptr(struct fz_rng *r, const void *valid)
{
	switch (fz_below(r, 24)) {
	case 0: return 0;
	case 1: return 0xffff888000000000ull;		/* the direct map */
	case 2: return 0xffffffff81000000ull;		/* kernel text */
	case 3: return 0x1000;				/* unmapped */
	case 4: return (uintptr_t)valid + 1;		/* misaligned */
	case 5: return ((uintptr_t)valid | 4095) - 7;	/* runs off its page */
	case 6: return fz_next(r);
	default: return (uintptr_t)valid;
	}
}

void fz_random_bytes(struct fz_rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = fz_next(r);

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

void fz_obj_array(struct fz_rng *r, struct drm_anpu_obj_array *a, void *elems,
		  const void *src, uint32_t n, uint32_t elem_size)
{
	uint32_t stride = elem_size;
	uint8_t *dst = elems;

	memset(a, 0, sizeof(*a));
	if (!n && fz_chance(r, 95))
		return;		/* an empty array is all zero */
	switch (fz_below(r, 32)) {
	case 0:	/* a longer element, extra bytes zero or not */
	case 1:
		stride = elem_size + 8 * (1 + fz_below(r, 4));
		break;
	case 2:	/* a shorter one */
		stride = fz_below(r, elem_size);
		break;
	case 3:	/* huge */
		stride = fz_chance(r, 50) ? UINT32_MAX : (1u << (12 + fz_below(r, 20)));
		break;
	default:
		break;
	}
	if (stride && (uint64_t)stride * n <= FZ_SCRATCH / 4) {
		memset(dst, 0, (size_t)stride * n);
		for (uint32_t i = 0; i < n; i++) {
			memcpy(dst + (size_t)i * stride, (const uint8_t *)src + (size_t)i * elem_size,
			       stride < elem_size ? stride : elem_size);
			if (stride > elem_size && fz_chance(r, 30))
				dst[(size_t)i * stride + elem_size + fz_below(r, stride - elem_size)] = 1;
		}
	}
	a->stride = stride;
	a->count = n;
	a->array = n ? (uintptr_t)dst : 0;
	switch (fz_below(r, 40)) {
	case 0: a->count = fz_chance(r, 50) ? 4096 + fz_below(r, 2) : fz_edge32(r); break;
	case 1: a->array = fz_ptr(r, dst); break;
	case 2: a->stride = fz_edge32(r); break;
	case 3: if (!n) a->stride = elem_size; break;	/* empty but not all zero */
	default: break;
	}
}

/* ---- command streams ---- */

/* A packed F32 tensor of shape @ne0 x @ne1 at @addr, then maybe one field off. */
static struct anpu_tensor tensor_at(struct fz_rng *r, uint64_t addr, uint32_t ne0, uint32_t ne1,
				    bool wild)
{
	struct anpu_tensor t = { .addr = addr, .dtype = ANPU_DTYPE_F32 };

	t.ne[0] = ne0;
	t.ne[1] = ne1;
	t.ne[2] = t.ne[3] = 1;
	t.nb[0] = 4ull * ne0;
	t.nb[1] = t.nb[2] = t.nb[0] * ne1;
	if (!wild)
		return t;
	switch (fz_below(r, 10)) {
	case 0: t.addr += fz_edge64(r); break;
	case 1: t.ne[fz_below(r, 4)] = fz_edge32(r); break;
	case 2: t.nb[fz_below(r, 3)] = fz_edge64(r); break;
	case 3: t.dtype = (uint16_t)fz_below(r, 40); break;
	case 4: t.flags = (uint16_t)fz_next(r); break;
	case 5: t.reserved = (uint32_t)fz_next(r); break;
	case 6: t.addr = fz_next(r); break;
	default: break;
	}
	return t;
}

static uint32_t put_op(struct fz_rng *r, uint8_t *buf, uint32_t at, uint32_t cap,
		       uint16_t opcode, unsigned int n_tensors, const struct fz_bo_ref *bos,
		       unsigned int n_bos, bool wild)
{
	uint32_t size = (uint32_t)ANPU_OP_SIZE(n_tensors);
	struct anpu_op op = { .opcode = opcode, .n_tensors = (uint8_t)n_tensors };

	if (at + size > cap)
		return at;
	if (wild) {
		if (fz_chance(r, 20))
			op.flags = (uint32_t)fz_next(r);
		if (fz_chance(r, 10))
			op.reserved0 = (uint8_t)fz_next(r);
		if (fz_chance(r, 50))
			fz_random_bytes(r, &op.params, sizeof(op.params));
	} else if (opcode == ANPU_OP_SCALE) {
		float s = 0.5f;

		memcpy(&op.params, &s, sizeof(s));
	}
	memcpy(buf + at, &op, sizeof(op));
	/* one shape for every operand, inside the smallest of the BOs picked */
	const struct fz_bo_ref *pick[ANPU_OP_MAX_TENSORS + 1];
	uint64_t elems = UINT64_MAX;

	for (unsigned int i = 0; i < n_tensors; i++) {
		pick[i] = n_bos ? &bos[fz_below(r, n_bos)] : NULL;
		if (pick[i] && pick[i]->size / 4 < elems)
			elems = pick[i]->size / 4;
	}
	if (elems == UINT64_MAX || !elems)
		elems = 1;
	uint32_t ne0 = 1 + fz_below(r, elems > 256 ? 256 : (uint32_t)elems);
	uint64_t rows = elems / ne0 > 64 ? 64 : elems / ne0;
	uint32_t ne1 = 1 + fz_below(r, (uint32_t)rows);

	for (unsigned int i = 0; i < n_tensors; i++) {
		uint64_t addr = pick[i] ? pick[i]->addr : fz_edge64(r);
		struct anpu_tensor t = tensor_at(r, addr, ne0, ne1, wild);

		memcpy(buf + at + sizeof(op) + i * sizeof(t), &t, sizeof(t));
	}
	return at + size;
}

uint32_t fz_stream(struct fz_rng *r, uint8_t *buf, uint32_t cap,
		   const struct fz_bo_ref *bos, unsigned int n_bos)
{
	struct anpu_stream_header h = {
		.magic = ANPU_STREAM_MAGIC,
		.version_major = ANPU_ISA_VERSION_MAJOR,
	};
	uint32_t at = sizeof(h), kind = fz_below(r, 10);
	unsigned int ops = 1 + fz_below(r, 6);

	if (kind == 0) {		/* random bytes, maybe with the magic */
		uint32_t len = 8 + fz_below(r, cap - 8);

		fz_random_bytes(r, buf, len);
		if (fz_chance(r, 50))
			memcpy(buf, &h.magic, sizeof(h.magic));
		return fz_chance(r, 50) ? len : (uint32_t)fz_edge32(r);
	}
	for (unsigned int i = 0; i < ops; i++) {
		if (kind <= 4)		/* NOPs */
			at = put_op(r, buf, at, cap, ANPU_OP_NOP, 0, bos, n_bos, false);
		else if (kind <= 7)	/* element-wise ops on the file's BOs */
			at = fz_chance(r, 50) ?
				put_op(r, buf, at, cap, ANPU_OP_SCALE, 2, bos, n_bos, false) :
				put_op(r, buf, at, cap, ANPU_OP_ADD, 3, bos, n_bos, false);
		else			/* any opcode, any tensors */
			at = put_op(r, buf, at, cap, (uint16_t)fz_below(r, ANPU_OP_COUNT + 2),
				    fz_below(r, ANPU_OP_MAX_TENSORS + 2) % (ANPU_OP_MAX_TENSORS + 1),
				    bos, n_bos, true);
		h.op_count++;
	}
	h.size = at;
	if (kind >= 8) {		/* a header field off */
		switch (fz_below(r, 8)) {
		case 0: h.size = fz_edge32(r); break;
		case 1: h.op_count = fz_edge32(r); break;
		case 2: h.version_major = (uint16_t)fz_next(r); break;
		case 3: h.version_minor = (uint16_t)fz_next(r); break;
		case 4: h.step_params_count = fz_below(r, 70);
			h.step_params_addr = n_bos ? bos[0].addr : fz_edge64(r); break;
		case 5: h.reserved0 = 1; break;
		case 6: h.reserved[fz_below(r, 2)] = fz_next(r); break;
		default: break;
		}
	}
	memcpy(buf, &h, sizeof(h));
	return h.size;
}

/* ---- mapping guard ---- */

/*
 * Where a touch of a BO mapping jumps back to on SIGBUS/SIGSEGV: set only
 * around fz_touch()'s accesses, per thread (the signal is synchronous, so it
 * is delivered to the thread that touched).
 */
static __thread sigjmp_buf *volatile touch_env;

static size_t put_hex(char *b, uint64_t v)
{
	size_t n = 0;

	b[n++] = '0';
	b[n++] = 'x';
	for (int sh = 60; sh >= 0; sh -= 4)
		if ((v >> sh) || !sh || n > 2)
			b[n++] = "0123456789abcdef"[(v >> sh) & 15];
	return n;
}

/* Outside a touch: say where (async-signal-safe), then die of the signal. */
static void guard_handler(int sig, siginfo_t *si, void *uc)
{
	char b[128] = "anpu-ioctl-fuzz: fatal signal at ";
	size_t n = strlen(b);

	if (touch_env)
		siglongjmp(*touch_env, sig);
	n += put_hex(b + n, (uintptr_t)si->si_addr);
	memcpy(b + n, ", ip ", 5);
	n += 5;
	n += put_hex(b + n, (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP]);
	b[n++] = '\n';
	if (write(2, b, n) < 0)
		b[0] = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

void fz_guard_install(void)
{
	struct sigaction sa = { .sa_sigaction = guard_handler, .sa_flags = SA_NODEFER | SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

int fz_touch(void *p, size_t len, bool write)
{
	volatile uint8_t *b = p;
	sigjmp_buf env;
	int sig;

	sig = sigsetjmp(env, 1);
	if (sig) {
		touch_env = NULL;
		return sig;
	}
	touch_env = &env;
	for (size_t off = 0; off < len; off += 4096) {
		if (write)
			b[off] = (uint8_t)(off >> 12);
		else
			(void)b[off];
	}
	touch_env = NULL;
	return 0;
}

uint32_t fz_nop_stream(uint8_t *buf, uint32_t cap, unsigned int nops)
{
	struct anpu_stream_header h = {
		.magic = ANPU_STREAM_MAGIC,
		.version_major = ANPU_ISA_VERSION_MAJOR,
		.size = sizeof(h),
	};
	struct anpu_op op = { .opcode = ANPU_OP_NOP };

	for (; nops && h.size + sizeof(op) <= cap; nops--, h.op_count++) {
		memcpy(buf + h.size, &op, sizeof(op));
		h.size += sizeof(op);
	}
	memcpy(buf, &h, sizeof(h));
	return h.size;
}
