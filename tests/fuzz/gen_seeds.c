// SPDX-License-Identifier: MIT
/*
 * Seed-corpus generator for fuzz_cp: writes one valid stream per op (some ops
 * in several variants) plus a mixed stream, in fuzz_cp's input format, into
 * the directory given as argv[1].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/anpu_hwif.h"
#include "tests/fuzz/fuzz_layout.h"

#define RW1	FUZZ_VA_RW1
#define RW2	FUZZ_VA_RW2
#define RO	FUZZ_VA_RO
#define IDS	FUZZ_VA_RO_IDS

struct seed {
	struct fuzz_cp_ctl ctl;
	uint8_t stream[FUZZ_STREAM_MAX];
	size_t size;
	uint32_t ops;
};

static void seed_init(struct seed *s, uint8_t ctl_flags)
{
	memset(s, 0, sizeof(*s));
	s->ctl.flags = ctl_flags;
	s->ctl.profile_kib = 4;
	s->ctl.step[0] = 3;
	s->ctl.step[1] = 1;
	s->size = sizeof(struct anpu_stream_header);
}

static struct anpu_tensor tensor(uint64_t addr, uint32_t dtype, uint32_t ne0, uint32_t ne1,
				 uint32_t ne2)
{
	struct anpu_tensor t = { .addr = addr, .ne = { ne0, ne1, ne2, 1 }, .dtype = (uint16_t)dtype };
	unsigned int be = 1, bb = 4;

	anpu_dtype_layout(dtype, &be, &bb);
	t.nb[0] = (uint64_t)(ne0 / be) * bb;
	t.nb[1] = t.nb[0] * ne1;
	t.nb[2] = t.nb[1] * ne2;
	return t;
}

static void op(struct seed *s, uint16_t opcode, uint32_t flags, const void *params, size_t plen,
	       const struct anpu_tensor *t, unsigned int n)
{
	struct anpu_op o = { .opcode = opcode, .n_tensors = (uint8_t)n, .flags = flags };

	if (params)
		memcpy(o.params.raw, params, plen);
	memcpy(s->stream + s->size, &o, sizeof(o));
	memcpy(s->stream + s->size + sizeof(o), t, n * sizeof(*t));
	s->size += ANPU_OP_SIZE(n);
	s->ops++;
}

static void write_seed(const char *dir, const char *name, struct seed *s)
{
	struct anpu_stream_header h = {
		.magic = ANPU_STREAM_MAGIC,
		.version_major = ANPU_ISA_VERSION_MAJOR,
		.version_minor = ANPU_ISA_VERSION_MINOR,
		.size = (uint32_t)s->size,
		.op_count = s->ops,
		.step_params_count = 4,
		.step_params_addr = FUZZ_VA_STEP,
	};
	char path[4096];
	FILE *f;

	memcpy(s->stream, &h, sizeof(h));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&s->ctl, sizeof(s->ctl), 1, f) != 1 ||
	    fwrite(s->stream, s->size, 1, f) != 1 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void add_op(struct seed *s, int which)
{
	struct anpu_params_scale sc = { 0.5f };
	struct anpu_params_softmax sm = { 1.0f };
	struct anpu_params_rmsnorm rn = { 1e-6f };
	struct anpu_params_rope rp = { ANPU_ROPE_NEOX, 8, 10000.0f, 1.0f, { ANPU_SCALAR_STEP, 0 } };
	struct anpu_params_kv_store kv = { { ANPU_SCALAR_IMM, 1 } };
	struct anpu_params_attention at = { 0.35f, 0, { ANPU_SCALAR_STEP, 0 } };
	struct anpu_tensor t[4];

	switch (which) {
	case ANPU_OP_NOP:
		op(s, ANPU_OP_NOP, 0, NULL, 0, NULL, 0);
		break;
	case ANPU_OP_TIMESTAMP:
		t[0] = tensor(RW2, ANPU_DTYPE_I32, 2, 1, 1);
		op(s, ANPU_OP_TIMESTAMP, 0, NULL, 0, t, 1);
		break;
	case ANPU_OP_EMBED:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 4, 1);
		t[1] = tensor(IDS, ANPU_DTYPE_I32, 2, 1, 1);
		t[2] = tensor(RW1, ANPU_DTYPE_F32, 32, 2, 1);
		op(s, ANPU_OP_EMBED, 0, NULL, 0, t, 3);
		break;
	case ANPU_OP_MATMUL:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RO + 0x1000, ANPU_DTYPE_F32, 32, 4, 1);
		t[2] = tensor(RW1, ANPU_DTYPE_F32, 4, 2, 1);
		t[3] = tensor(RO + 0x2000, ANPU_DTYPE_F32, 4, 1, 1);
		op(s, ANPU_OP_MATMUL, ANPU_MATMUL_ACCUMULATE, NULL, 0, t, 4);
		break;
	case ANPU_OP_RMSNORM:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RO + 0x1000, ANPU_DTYPE_F32, 32, 1, 1);
		t[2] = tensor(RW1, ANPU_DTYPE_F32, 32, 2, 1);
		op(s, ANPU_OP_RMSNORM, 0, &rn, sizeof(rn), t, 3);
		break;
	case ANPU_OP_ROPE:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 8, 2, 2);
		t[1] = tensor(RW1, ANPU_DTYPE_F32, 8, 2, 2);
		op(s, ANPU_OP_ROPE, 0, &rp, sizeof(rp), t, 2);
		break;
	case ANPU_OP_KV_STORE:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 16, 2, 1);
		t[1] = tensor(RW1, ANPU_DTYPE_F16, 16, 8, 1);
		op(s, ANPU_OP_KV_STORE, 0, &kv, sizeof(kv), t, 2);
		break;
	case ANPU_OP_ATTENTION:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 8, 2, 1);
		t[1] = tensor(RW1, ANPU_DTYPE_F16, 8, 8, 1);
		t[2] = tensor(RW1 + 0x1000, ANPU_DTYPE_F16, 8, 8, 1);
		t[3] = tensor(RW2, ANPU_DTYPE_F32, 8, 2, 1);
		op(s, ANPU_OP_ATTENTION, 0, &at, sizeof(at), t, 4);
		break;
	case ANPU_OP_SWIGLU:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RO + 0x1000, ANPU_DTYPE_F32, 32, 2, 1);
		t[2] = tensor(RW1, ANPU_DTYPE_F32, 32, 2, 1);
		op(s, ANPU_OP_SWIGLU, 0, NULL, 0, t, 3);
		break;
	case ANPU_OP_ADD:
	case ANPU_OP_MUL:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RO + 0x1000, ANPU_DTYPE_F32, 32, 1, 1);
		t[2] = tensor(FUZZ_VA_LARGE, ANPU_DTYPE_F32, 32, 2, 1);
		op(s, (uint16_t)which, 0, NULL, 0, t, 3);
		break;
	case ANPU_OP_SCALE:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RW1, ANPU_DTYPE_F32, 32, 2, 1);
		op(s, ANPU_OP_SCALE, 0, &sc, sizeof(sc), t, 2);
		break;
	case ANPU_OP_SOFTMAX:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RW1, ANPU_DTYPE_F32, 32, 2, 1);
		op(s, ANPU_OP_SOFTMAX, 0, &sm, sizeof(sm), t, 2);
		break;
	case ANPU_OP_ARGMAX:
		t[0] = tensor(RO, ANPU_DTYPE_F32, 32, 2, 1);
		t[1] = tensor(RW1, ANPU_DTYPE_I32, 1, 2, 1);
		op(s, ANPU_OP_ARGMAX, 0, NULL, 0, t, 2);
		break;
	case ANPU_OP_COPY:	/* F16 cache rows, as a KV-cache fork */
		t[0] = tensor(RO, ANPU_DTYPE_F16, 16, 4, 1);
		t[1] = tensor(RW1, ANPU_DTYPE_F16, 16, 4, 1);
		op(s, ANPU_OP_COPY, 0, NULL, 0, t, 2);
		break;
	}
}

static const char *const names[ANPU_OP_COUNT] = {
	"nop", "timestamp", "embed", "matmul", "rmsnorm", "rope", "kv_store", "attention",
	"swiglu", "add", "mul", "scale", "softmax", "argmax", "copy",
};

/* MATMUL over each weight dtype (RO holds arbitrary bytes for block types). */
static void matmul_dtypes(const char *dir, struct seed *s)
{
	static const uint32_t dtypes[] = { ANPU_DTYPE_F16, ANPU_DTYPE_BF16, ANPU_DTYPE_Q4_0,
		ANPU_DTYPE_Q4_1, ANPU_DTYPE_Q5_0, ANPU_DTYPE_Q5_1, ANPU_DTYPE_Q8_0, ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_K, ANPU_DTYPE_Q6_K,
		ANPU_DTYPE_Q5_0L };

	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++) {
		struct anpu_tensor t[3] = {
			tensor(RO, ANPU_DTYPE_F32, 256, 2, 1),
			tensor(RO + 0x2000, dtypes[i], 256, 4, 1),
			tensor(RW1, ANPU_DTYPE_F32, 4, 2, 1),
		};
		char name[64];

		seed_init(s, 0);
		op(s, ANPU_OP_MATMUL, 0, NULL, 0, t, 3);
		snprintf(name, sizeof(name), "matmul_dtype%u", dtypes[i]);
		write_seed(dir, name, s);
		t[0] = tensor(RO + 0x2000, dtypes[i], 256, 4, 1);
		t[1] = tensor(IDS, ANPU_DTYPE_I32, 2, 1, 1);
		t[2] = tensor(RW1, ANPU_DTYPE_F32, 256, 2, 1);
		seed_init(s, 0);
		op(s, ANPU_OP_EMBED, 0, NULL, 0, t, 3);
		snprintf(name, sizeof(name), "embed_dtype%u", dtypes[i]);
		write_seed(dir, name, s);
	}
	/* Q4_KL: a whole group of 16 rows */
	struct anpu_tensor kl[3] = {
		tensor(RO, ANPU_DTYPE_F32, 256, 2, 1),
		tensor(RO + 0x2000, ANPU_DTYPE_Q4_KL, 256, 16, 1),
		tensor(RW1, ANPU_DTYPE_F32, 16, 2, 1),
	};

	seed_init(s, 0);
	op(s, ANPU_OP_MATMUL, 0, NULL, 0, kl, 3);
	write_seed(dir, "matmul_dtype_q4_kl", s);
	kl[1] = tensor(RO + 0x2000, ANPU_DTYPE_Q6_KL, 512, 16, 1);
	kl[0] = tensor(RO, ANPU_DTYPE_F32, 512, 2, 1);
	seed_init(s, 0);
	op(s, ANPU_OP_MATMUL, 0, NULL, 0, kl, 3);
	write_seed(dir, "matmul_dtype_q6_kl", s);
	kl[1] = tensor(RO + 0x2000, ANPU_DTYPE_Q4_0L, 512, 16, 1);
	seed_init(s, 0);
	op(s, ANPU_OP_MATMUL, 0, NULL, 0, kl, 3);
	write_seed(dir, "matmul_dtype_q4_0l", s);
}

int main(int argc, char **argv)
{
	static struct seed s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (int o = 0; o < ANPU_OP_COUNT; o++) {
		seed_init(&s, 0);
		add_op(&s, o);
		write_seed(argv[1], names[o], &s);
	}
	matmul_dtypes(argv[1], &s);
	seed_init(&s, FUZZ_CTL_PROFILE);
	for (int o = 0; o < ANPU_OP_COUNT; o++)
		add_op(&s, o);
	write_seed(argv[1], "all_ops_profiled", &s);
	seed_init(&s, FUZZ_CTL_PROFILE | FUZZ_CTL_PROFILE_LARGE);
	s.ctl.profile_kib = 0;
	for (int i = 0; i < 4; i++)
		add_op(&s, ANPU_OP_NOP);
	write_seed(argv[1], "nops_profile_overflow", &s);
	/* ROPE with frequency factors (ISA 1.1): RO + 0x1000 as [n_rot/2] factors */
	{
		struct anpu_params_rope rp = { ANPU_ROPE_NORMAL, 8, 10000.0f, 1.0f,
					       { ANPU_SCALAR_STEP, 0 } };
		struct anpu_tensor t[3] = {
			tensor(RO, ANPU_DTYPE_F32, 8, 2, 2),
			tensor(RW1, ANPU_DTYPE_F32, 8, 2, 2),
			tensor(RO + 0x1000, ANPU_DTYPE_F32, 4, 1, 1),
		};

		seed_init(&s, 0);
		op(&s, ANPU_OP_ROPE, 0, &rp, sizeof(rp), t, 3);
		write_seed(argv[1], "rope_freq_factors", &s);
	}
	return 0;
}
