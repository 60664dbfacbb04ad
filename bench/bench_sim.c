// SPDX-License-Identifier: MIT
/*
 * anpu-bench-sim: memory read bandwidth of this machine and how close the
 * simulator's MATMUL gets to it.
 *
 *   sim.load1                               1-minute load average at start
 *                                           (sim.load1_end at the end)
 *   sim.bw.read_gbs                         all online threads, widest loads,
 *                                           512 MiB slices of a 1 GiB buffer,
 *                                           best of the reads (one before
 *                                           each decode step)
 *   sim.matmul.decode.<dt>.bw_fraction      one Qwen2.5-0.5B decode step's
 *                                           matmuls (24 layers + lm head), M=1,
 *                                           weight bytes / step_ms / read_gbs
 *   sim.matmul.decode.<dt>.step_ms          best step time of the rounds
 *   sim.attention.decode.<m>.pos4000.bw_fraction
 *                                           one decode step's ATTENTION ops at
 *                                           position 4000 (every layer, F16
 *                                           caches, model <m>'s heads): cache
 *                                           bytes / step time / read_gbs, in
 *                                           the same rounds (.step_ms: the time)
 *   sim.bw.rounds                           rounds: per dtype one bw read and
 *                                           one step, for ~40 s
 *   sim.matmul.decode.<dt>.<K>x<N>.gbs      per shape (24 distinct copies)
 *   sim.matmul.prefill.<dt>.<K>x<N>.gflops  M = 128
 *   sim.peak.int8_gops, sim.peak.f32_gflops the SIMD path's int8 dot-product
 *                                           and f32 FMA throughput, all model
 *                                           threads at once (bench/peak.h)
 *   sim.matmul.prefill.<dt>.<K>x<N>.peak_fraction
 *                                           gflops / the peak of its kind
 *                                           (int8 for quantized weights), the
 *                                           best of probes run before each rep
 * Output: JSON lines on stdout and, with --out FILE, in FILE (rewritten);
 * --prefix P names them P.* instead of sim.* (make bench-sim runs the AVX2
 * path's prefill figures as sim.avx2.* on an AVX-512 host, ANPU_SIM_SIMD=avx2).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anpusim.h"
#include "bench/bench_sim_attention.h"
#include "bench/bw_read.h"
#include "bench/peak.h"
#include "sim/kernels/quant.h"
#include "sim/sim_ops.h"
#include "sim/sim_pool.h"
#include "tools/common/anpu_cli.h"

#define GIB (1ull << 30)
#define N_LAYERS 24
#define HIDDEN 896
#define FFN 4864
#define VOCAB 151936
#define PREFILL_M 128
#define BENCH_THREADS 2	/* --threads N to diagnose */

static FILE *out_file;
/* --prefix P: figure names start with P, not "sim" (the AVX2 run of an AVX-512 host) */
static const char *name_prefix = "sim";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void emit(const char *sim_name, double value, const char *unit, const char *note)
{
	char line[512], name[160];

	if (!strncmp(sim_name, "sim.", 4))
		snprintf(name, sizeof(name), "%s.%s", name_prefix, sim_name + 4);
	else
		snprintf(name, sizeof(name), "%s", sim_name);

	if (note)
		snprintf(line, sizeof(line),
			 "{\"name\":\"%s\",\"value\":%.4f,\"unit\":\"%s\",\"note\":\"%s\"}",
			 name, value, unit, note);
	else
		snprintf(line, sizeof(line), "{\"name\":\"%s\",\"value\":%.4f,\"unit\":\"%s\"}",
			 name, value, unit);
	puts(line);
	fflush(stdout);
	if (out_file) {
		fprintf(out_file, "%s\n", line);
		fflush(out_file);
	}
}

/* ---- read bandwidth ---- */

struct bw_slice {
	const uint8_t *p;
	size_t n;
	uint64_t sink;
};

static int have_avx512;

static void *bw_thread(void *arg)
{
	struct bw_slice *s = arg;

	s->sink = have_avx512 ? bw_read_avx512(s->p, s->n) : bw_read_avx2(s->p, s->n);
	return NULL;
}

/* Read bandwidth buffer: 1 GiB, read by all online threads at once. */
struct bw_buf {
	uint8_t *p;
	size_t size;
	size_t next;	/* offset of the next slice to read */
	long nthreads;
};

static int bw_init(struct bw_buf *bw)
{
	bw->nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	if (bw->nthreads < 1)
		bw->nthreads = 1;
	if (bw->nthreads > 64)
		bw->nthreads = 64;
	bw->size = GIB;
	bw->next = 0;
	bw->p = aligned_alloc(4096, bw->size);
	if (!bw->p)
		return -ENOMEM;
	memset(bw->p, 1, bw->size);
	__builtin_cpu_init();
	have_avx512 = __builtin_cpu_supports("avx512f");
	return 0;
}

/*
 * GB/s of one read of a BW_SLICE slice of the buffer (the next slice each
 * call, so never from cache): about as long as a decode step, so the best of
 * many reads and the best of as many steps see equally short windows.
 */
#define BW_SLICE (512ull << 20)

static double bw_once(struct bw_buf *bw)
{
	pthread_t tid[64];
	struct bw_slice sl[64];
	size_t per = BW_SLICE / (size_t)bw->nthreads & ~(size_t)255;
	const uint8_t *base = bw->p + bw->next;
	double t0 = now_s();

	bw->next = (bw->next + BW_SLICE) % bw->size;
	for (long i = 0; i < bw->nthreads; i++) {
		sl[i].p = base + (size_t)i * per;
		sl[i].n = per;
		pthread_create(&tid[i], NULL, bw_thread, &sl[i]);
	}
	for (long i = 0; i < bw->nthreads; i++)
		pthread_join(tid[i], NULL);
	return (double)per * (double)bw->nthreads / (now_s() - t0) / 1e9;
}

/* ---- matmul ops ---- */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random quants; every fp16 scale or weight a normal number near 2^-7. */
static void fill_weights(uint32_t dtype, uint8_t *w, size_t k, size_t n)
{
	unsigned int be = 1, bb = 4;
	size_t bytes;

	anpu_dtype_layout(dtype, &be, &bb);
	bytes = k / be * bb * n;
	for (size_t i = 0; i + 8 <= bytes; i += 8) {
		uint64_t v = rnd();

		memcpy(w + i, &v, 8);
	}
	if (dtype == ANPU_DTYPE_F16) {
		uint16_t *h = (uint16_t *)w;

		for (size_t i = 0; i < k * n; i++)
			h[i] = (uint16_t)((h[i] & 0x83ff) | 0x2000);
		return;
	}
	for (size_t b = 0; b < bytes / bb; b++) {
		uint8_t *blk = w + b * bb;
		uint16_t d = 0x2000 | (uint16_t)(rnd() & 0x3ff);

		if (dtype == ANPU_DTYPE_Q6_K) {
			memcpy(blk + 208, &d, 2);
		} else {
			memcpy(blk, &d, 2);
			if (dtype == ANPU_DTYPE_Q4_K || dtype == ANPU_DTYPE_Q5_K)
				memcpy(blk + 2, &d, 2);
		}
	}
}

struct shape {
	const char *what;
	uint32_t k, n;
};

static const struct shape layer_shapes[] = {
	{ "q", HIDDEN, HIDDEN }, { "k", HIDDEN, 128 }, { "v", HIDDEN, 128 },
	{ "o", HIDDEN, HIDDEN }, { "gate", HIDDEN, FFN }, { "up", HIDDEN, FFN },
	{ "down", FFN, HIDDEN },
};
#define N_LAYER_SHAPES (sizeof(layer_shapes) / sizeof(layer_shapes[0]))
static const struct shape lm_head = { "lm_head", HIDDEN, VOCAB };
/* distinct shapes, in report order */
static const struct shape distinct[] = {
	{ "q/o", HIDDEN, HIDDEN }, { "k/v", HIDDEN, 128 }, { "gate/up", HIDDEN, FFN },
	{ "down", FFN, HIDDEN }, { "lm_head", HIDDEN, VOCAB },
};

struct bench_dtype {
	const char *name;
	uint32_t dtype;
	uint32_t fallback;	/* for K % 256 != 0 */
	const char *note;
};

static const struct bench_dtype dtypes[] = {
	{ "f16", ANPU_DTYPE_F16, ANPU_DTYPE_F16, NULL },
	{ "q8_0", ANPU_DTYPE_Q8_0, ANPU_DTYPE_Q8_0, NULL },
	{ "q4_0", ANPU_DTYPE_Q4_0, ANPU_DTYPE_Q4_0, NULL },
	{ "q4_k", ANPU_DTYPE_Q4_K, ANPU_DTYPE_Q5_0,
	  "K=896 tensors use q5_0 (llama.cpp Q4_K_M fallback); ffn_down is q4_k" },
	{ "q6_k", ANPU_DTYPE_Q6_K, ANPU_DTYPE_Q8_0,
	  "K=896 tensors use q8_0 (llama.cpp fallback); ffn_down is q6_k" },
};

static uint32_t weight_dtype(const struct bench_dtype *bd, uint32_t k)
{
	return k % 256 ? bd->fallback : bd->dtype;
}

static size_t weight_bytes(uint32_t dtype, uint32_t k, uint32_t n)
{
	unsigned int be = 1, bb = 4;

	anpu_dtype_layout(dtype, &be, &bb);
	return (size_t)k / be * bb * n;
}

#define N_STEP_OPS (N_LAYERS * N_LAYER_SHAPES + 1)

struct step {
	struct sim_op ops[N_STEP_OPS];
	uint8_t *weights;
	size_t bytes;
	float *x, *y;
};

static int step_build(struct step *s, const struct bench_dtype *bd, uint32_t m)
{
	size_t off = 0;

	s->bytes = 0;
	for (unsigned int i = 0; i < N_STEP_OPS; i++) {
		const struct shape *sh = i < N_LAYERS * N_LAYER_SHAPES ?
			&layer_shapes[i % N_LAYER_SHAPES] : &lm_head;

		s->bytes += (weight_bytes(weight_dtype(bd, sh->k), sh->k, sh->n) + 63) & ~(size_t)63;
	}
	s->weights = aligned_alloc(64, s->bytes);
	s->x = aligned_alloc(64, sizeof(float) * FFN * m);
	s->y = aligned_alloc(64, sizeof(float) * (size_t)VOCAB * m);
	if (!s->weights || !s->x || !s->y)
		return -ENOMEM;
	for (size_t i = 0; i < (size_t)FFN * m; i++)
		s->x[i] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
	memset(s->y, 0, sizeof(float) * (size_t)VOCAB * m);
	for (unsigned int i = 0; i < N_STEP_OPS; i++) {
		const struct shape *sh = i < N_LAYERS * N_LAYER_SHAPES ?
			&layer_shapes[i % N_LAYER_SHAPES] : &lm_head;
		uint32_t dt = weight_dtype(bd, sh->k);
		struct sim_op *op = &s->ops[i];

		memset(op, 0, sizeof(*op));
		op->index = i;
		op->opcode = ANPU_OP_MATMUL;
		op->n_tensors = 3;
		fill_weights(dt, s->weights + off, sh->k, sh->n);
		sim_tensor_dense(&op->t[0], ANPU_DTYPE_F32, sh->k, m, 1, 1, s->x, 0x10000);
		sim_tensor_dense(&op->t[1], dt, sh->k, sh->n, 1, 1, s->weights + off,
				 0x20000000 + off);
		sim_tensor_dense(&op->t[2], ANPU_DTYPE_F32, sh->n, m, 1, 1, s->y, 0x10000000);
		off += (weight_bytes(dt, sh->k, sh->n) + 63) & ~(size_t)63;
	}
	return 0;
}

static void step_free(struct step *s)
{
	free(s->weights);
	free(s->x);
	free(s->y);
}

/* Seconds to run the ops whose shape is (k, n) (all when k == 0), best of reps. */
static double time_ops(struct sim_exec *ex, struct step *s, uint32_t k,
		       uint32_t n, int reps)
{
	double best = 1e30;

	for (int rep = 0; rep < reps; rep++) {
		double t0 = now_s();

		for (unsigned int i = 0; i < N_STEP_OPS; i++) {
			const struct sim_op *op = &s->ops[i];

			if (k && (op->t[1].ne[0] != k || op->t[1].ne[1] != n))
				continue;
			sim_op_matmul.run(ex, op);
		}
		double t = now_s() - t0;

		if (t < best)
			best = t;
	}
	return best;
}

/* Per-shape GB/s of one dtype's step (after the interleaved step timing). */
static void bench_shapes(struct sim_exec *ex, const struct bench_dtype *bd, struct step *s)
{
	char name[128];

	for (size_t i = 0; i < sizeof(distinct) / sizeof(distinct[0]); i++) {
		const struct shape *sh = &distinct[i];
		uint32_t dt = weight_dtype(bd, sh->k);
		size_t copies = sh->n == VOCAB ? 1 : N_LAYERS * (sh->n == HIDDEN && sh->k == HIDDEN ? 2 :
				 sh->n == 128 ? 2 : sh->n == FFN ? 2 : 1);
		double ts = time_ops(ex, s, sh->k, sh->n, 3);

		snprintf(name, sizeof(name), "sim.matmul.decode.%s.%ux%u.gbs", bd->name,
			 sh->k, sh->n);
		emit(name, (double)weight_bytes(dt, sh->k, sh->n) * (double)copies / ts / 1e9,
		     "GB/s", NULL);
	}
}

#define N_DTYPES (sizeof(dtypes) / sizeof(dtypes[0]))
static double decode_budget_s = 40.0;	/* interleaved bw / decode rounds; --budget S */
#define DECODE_MIN_ROUNDS 5
#define DECODE_MAX_ROUNDS 2000

/*
 * Read bandwidth and the decode steps of every dtype, interleaved: each
 * round runs, per dtype, one bw read (512 MiB) and one step; rounds
 * repeat for decode_budget_s (--budget); each side of the ratio is the best of its
 * rounds, so both see the same stretch of machine state (other load comes
 * and goes on a scale of seconds).
 */
#define ATT_POS 4000

static int bench_decode(struct sim_exec *ex, struct bw_buf *bw)
{
	static struct step steps[N_DTYPES];
	struct att_step *att[BENCH_ATT_SHAPES] = { 0 };
	double best[N_DTYPES], best_att[BENCH_ATT_SHAPES], best_bw = 0, t_end;
	char name[128];
	int rounds = 0, rc = 0;

	for (size_t d = 0; d < N_DTYPES; d++) {
		best[d] = 1e30;
		if (step_build(&steps[d], &dtypes[d], 1)) {
			fprintf(stderr, "bench: out of memory for %s\n", dtypes[d].name);
			rc = -ENOMEM;
		}
	}
	for (unsigned int a = 0; a < BENCH_ATT_SHAPES; a++) {
		best_att[a] = 1e30;
		att[a] = att_step_create(&bench_att_shapes[a], ATT_POS);
		if (!att[a]) {
			fprintf(stderr, "bench: out of memory for %s's attention\n",
				bench_att_shapes[a].name);
			rc = -ENOMEM;
		}
	}
	if (rc)
		goto out;
	for (size_t d = 0; d < N_DTYPES; d++)	/* warm-up: pool, pages, x buffers */
		time_ops(ex, &steps[d], 0, 0, 1);
	for (unsigned int a = 0; a < BENCH_ATT_SHAPES; a++)
		att_step_run(ex, att[a]);
	t_end = now_s() + decode_budget_s;
	while (rounds < DECODE_MAX_ROUNDS && (rounds < DECODE_MIN_ROUNDS || now_s() < t_end)) {
		for (size_t d = 0; d < N_DTYPES; d++) {
			double g = bw_once(bw);
			double t = time_ops(ex, &steps[d], 0, 0, 1);

			if (g > best_bw)
				best_bw = g;
			if (t < best[d])
				best[d] = t;
		}
		for (unsigned int a = 0; a < BENCH_ATT_SHAPES; a++) {
			double t = att_step_run(ex, att[a]);

			if (t < best_att[a])
				best_att[a] = t;
		}
		rounds++;
	}
	emit("sim.bw.read_gbs", best_bw, "GB/s", NULL);
	emit("sim.bw.rounds", rounds, "count", "per dtype a bw read then a decode step; best of each");
	for (size_t d = 0; d < N_DTYPES; d++) {
		snprintf(name, sizeof(name), "sim.matmul.decode.%s.bw_fraction", dtypes[d].name);
		emit(name, (double)steps[d].bytes / best[d] / 1e9 / best_bw, "fraction",
		     dtypes[d].note);
		snprintf(name, sizeof(name), "sim.matmul.decode.%s.step_ms", dtypes[d].name);
		emit(name, best[d] * 1e3, "ms", NULL);
	}
	for (unsigned int a = 0; a < BENCH_ATT_SHAPES; a++) {
		snprintf(name, sizeof(name), "sim.attention.decode.%s.pos%u.bw_fraction",
			 bench_att_shapes[a].name, ATT_POS);
		emit(name, (double)att_step_bytes(att[a]) / best_att[a] / 1e9 / best_bw, "fraction",
		     "F16 K and V rows 0..pos of every layer / step time / read bandwidth");
		snprintf(name, sizeof(name), "sim.attention.decode.%s.pos%u.step_ms",
			 bench_att_shapes[a].name, ATT_POS);
		emit(name, best_att[a] * 1e3, "ms", NULL);
	}
	for (size_t d = 0; d < N_DTYPES; d++)
		bench_shapes(ex, &dtypes[d], &steps[d]);
out:
	for (size_t d = 0; d < N_DTYPES; d++)
		step_free(&steps[d]);
	for (unsigned int a = 0; a < BENCH_ATT_SHAPES; a++)
		att_step_free(att[a]);
	return rc;
}

/* ---- compute peak ---- */

static double peak_int8_gops, peak_f32_gflops;

struct peak_arg {
	int int8;
	uint64_t iters;
	double sink;
};

static void *peak_thread(void *arg)
{
	struct peak_arg *a = arg;
	int wide = !strcmp(anpusim_simd_path(), "avx512");

	if (a->int8 && !strcmp(anpusim_simd_path(), "avxvnni"))
		a->sink = (double)peak_int8_avxvnni(a->iters);	/* 256-bit: AVX2's op count */
	else if (a->int8)
		a->sink = (double)(wide ? peak_int8_avx512(a->iters) : peak_int8_avx2(a->iters));
	else
		a->sink = wide ? peak_f32_avx512(a->iters) : peak_f32_avx2(a->iters);
	return NULL;
}

/* Best of @reps runs of @threads probes at once, in G ops per second. */
static double peak_run(unsigned int threads, int int8, uint64_t iters, int reps)
{
	int wide = !strcmp(anpusim_simd_path(), "avx512");
	uint64_t ops = int8 ? (wide ? PEAK_INT8_OPS_AVX512(iters) : PEAK_INT8_OPS_AVX2(iters)) :
			      (wide ? PEAK_F32_OPS_AVX512(iters) : PEAK_F32_OPS_AVX2(iters));
	struct peak_arg args[256];
	pthread_t tid[256];
	double best = 1e30;

	for (int rep = 0; rep < reps; rep++) {
		double t0 = now_s();
		unsigned int started = 0;

		for (unsigned int t = 0; t < threads; t++) {
			args[t] = (struct peak_arg){ .int8 = int8, .iters = iters };
			if (pthread_create(&tid[t], NULL, peak_thread, &args[t]))
				break;
			started++;
		}
		for (unsigned int t = 0; t < started; t++)
			pthread_join(tid[t], NULL);
		if (started < threads)
			return 0;
		double t = now_s() - t0;

		if (t < best)
			best = t;
	}
	return (double)ops * threads / best / 1e9;
}

#define PEAK_ITERS 20000000ull
#define PEAK_ITERS_SHORT 2000000ull	/* ~10-20 ms: one before each timed matmul */

/*
 * The portable path gets the AVX2 probes (its loops are what the compiler
 * makes of C). The figures are the best of these runs and of the short
 * probes interleaved with the prefill matmuls (bench_prefill), so a loaded
 * machine lowers peak and matmul alike and their ratio stays meaningful.
 */
static void bench_peak(unsigned int threads)
{
	peak_int8_gops = peak_run(threads, 1, PEAK_ITERS, 3);
	peak_f32_gflops = peak_run(threads, 0, PEAK_ITERS, 3);
}

static void emit_peak(void)
{
	const char *path = anpusim_simd_path();
	const char *note = !strcmp(path, "avx512") ? "vpdpbusd 512-bit, all model threads" :
			   !strcmp(path, "avxvnni") ? "vpdpbusd 256-bit (AVX-VNNI), all model threads" :
		"maddubs+madd+add 256-bit (AVX2 kernels' int8 step), all model threads";

	emit("sim.peak.int8_gops", peak_int8_gops, "GOP/s", note);
	emit("sim.peak.f32_gflops", peak_f32_gflops, "GFLOP/s", "FMA, all model threads");
}

struct wake_arg {
	atomic_uint arrived;
	unsigned int threads;
};

/* One task per thread: each waits until all have arrived, so every worker is up */
static void wake_task(void *ctx, uint32_t task, unsigned int thread)
{
	struct wake_arg *a = ctx;

	(void)task;
	(void)thread;
	atomic_fetch_add(&a->arrived, 1);
	while (atomic_load(&a->arrived) < a->threads)
		;
}

/*
 * Each timed matmul starts as it does inside a job: the pool held and its
 * workers awake (the loop of wake_task just before wakes them; during the
 * probe before it they slept, and a worker's futex wake-up is tens of us on
 * a VM, against ~100 us for an 896x128 MATMUL), and after an op of the same
 * shape, as in a prefill, where ops run back to back: the first op after the
 * probe ran slower than the next one (Q5_0 896x896, M = 128: 417-449 against
 * 408-410 us; with no probe before it, 408-409 for both).
 */
static void bench_prefill(struct sim_exec *ex, const struct bench_dtype *bd, unsigned int threads)
{
	char name[128];

	for (size_t i = 0; i < sizeof(distinct) / sizeof(distinct[0]); i++) {
		const struct shape *sh = &distinct[i];
		uint32_t dt = weight_dtype(bd, sh->k);
		size_t wb = weight_bytes(dt, sh->k, sh->n);
		uint8_t *w = aligned_alloc(64, (wb + 63) & ~(size_t)63);
		float *x = aligned_alloc(64, sizeof(float) * sh->k * PREFILL_M);
		float *y = aligned_alloc(64, sizeof(float) * (size_t)sh->n * PREFILL_M);
		struct sim_op op;
		double best = 1e30;
		/*
		 * best of N: the shortest shapes (896x128: ~0.1 ms, 15 M MACs)
		 * read 0.34-0.63 of the peak across runs with 4 tries, so they
		 * get 12 (the probe before each keeps the ratio fair)
		 */
		int reps = sh->n == VOCAB ? 2 : (uint64_t)sh->k * sh->n < (1u << 20) ? 12 : 4;

		if (!w || !x || !y) {
			free(w);
			free(x);
			free(y);
			continue;
		}
		fill_weights(dt, w, sh->k, sh->n);
		for (size_t j = 0; j < (size_t)sh->k * PREFILL_M; j++)
			x[j] = (float)((int)(rnd() % 2001) - 1000) / 1000.0f;
		memset(&op, 0, sizeof(op));
		op.opcode = ANPU_OP_MATMUL;
		op.n_tensors = 3;
		sim_tensor_dense(&op.t[0], ANPU_DTYPE_F32, sh->k, PREFILL_M, 1, 1, x,
				 0x10000);
		sim_tensor_dense(&op.t[1], dt, sh->k, sh->n, 1, 1, w, 0x20000000);
		sim_tensor_dense(&op.t[2], ANPU_DTYPE_F32, sh->n, PREFILL_M, 1, 1, y,
				 0x10000000);
		int int8 = sim_weight_block_elems(dt) > 1;
		double peak = 0, ops = 2.0 * sh->k * sh->n * PREFILL_M;

		for (int rep = 0; rep < reps; rep++) {
			double p = peak_run(threads, int8, PEAK_ITERS_SHORT, 1);

			struct wake_arg wake = { .threads = threads };

			sim_pool_hold(ex->pool, true);
			if (threads > 1)
				sim_pool_run(ex->pool, threads, wake_task, &wake);
			sim_op_matmul.run(ex, &op);	/* the op before it in a prefill */
			double t0 = now_s();

			sim_op_matmul.run(ex, &op);
			double t = now_s() - t0;

			sim_pool_hold(ex->pool, false);

			if (t < best)
				best = t;
			if (p > peak)
				peak = p;
		}
		if (int8 && peak > peak_int8_gops)
			peak_int8_gops = peak;
		if (!int8 && peak > peak_f32_gflops)
			peak_f32_gflops = peak;
		snprintf(name, sizeof(name), "sim.matmul.prefill.%s.%ux%u.gflops", bd->name,
			 sh->k, sh->n);
		double gops = ops / best / 1e9;

		/* against the best of the whole-run probe and these interleaved ones */
		peak = int8 ? peak_int8_gops : peak_f32_gflops;

		emit(name, gops, "GFLOP/s", dt != bd->dtype ? bd->note : NULL);
		snprintf(name, sizeof(name), "sim.matmul.prefill.%s.%ux%u.peak_fraction",
			 bd->name, sh->k, sh->n);
		if (peak > 0)
			emit(name, gops / peak, "fraction", dt != bd->dtype ? bd->note : NULL);
		free(w);
		free(x);
		free(y);
	}
}

#define PROG "anpu-bench-sim"

static void usage(void)
{
	printf("Usage: " PROG " [--out FILE] [--threads N] [--decode-only|--prefill-only] [--budget S]\n"
	       "       [--prefix P]\n"
	       "  memory read bandwidth and the model's MATMUL against it: JSON lines on stdout\n"
	       "  --out FILE      also write the JSON lines to FILE (rewritten)\n"
	       "  --threads N     model worker threads (default %d)\n"
	       "  --decode-only   only the decode rounds (no per-shape figures)\n"
	       "  --prefill-only  only the compute peak and the M = 128 figures\n"
	       "  --budget S      seconds of interleaved bandwidth/decode rounds (default %.0f)\n"
	       "  --prefix P      name the figures P.* instead of sim.* (ANPU_SIM_SIMD picks the path)\n"
	       "  -h, --help      print this help and exit\n"
	       "  --version       print the version and exit\n", BENCH_THREADS, decode_budget_s);
}

int main(int argc, char **argv)
{
	struct sim_exec ex = { 0 };
	struct bw_buf bw;
	double load[3];
	unsigned int threads = BENCH_THREADS;
	int decode_only = 0, prefill_only = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val;
		int status = anpu_cli_common(PROG, opt, usage);

		if (status >= 0) {
			return status;
		} else if (!strcmp(opt, "--decode-only")) {
			decode_only = 1;
		} else if (!strcmp(opt, "--prefill-only")) {
			prefill_only = 1;
		} else if (strcmp(opt, "--out") && strcmp(opt, "--threads") && strcmp(opt, "--budget") &&
			   strcmp(opt, "--prefix")) {
			return anpu_cli_usage_error(PROG, "unknown option '%s'", opt);
		} else if (!(val = anpu_cli_value(PROG, argc, argv, &i))) {
			return ANPU_CLI_USAGE_EXIT;
		} else if (!strcmp(opt, "--out")) {
			out_file = fopen(val, "w");
			if (!out_file) {
				fprintf(stderr, PROG ": %s: %s\n", val, strerror(errno));
				return 1;
			}
		} else if (!strcmp(opt, "--prefix")) {
			name_prefix = val;
		} else if (!strcmp(opt, "--threads")) {
			threads = (unsigned int)atoi(val);
			if (threads < 1 || threads > 256)
				return anpu_cli_usage_error(PROG, "--threads takes 1..256, not '%s'", val);
		} else {
			decode_budget_s = atof(val);
			if (!(decode_budget_s > 0))
				return anpu_cli_usage_error(PROG, "--budget takes seconds > 0, not '%s'", val);
		}
	}
	if (getloadavg(load, 3) == 3)
		emit("sim.load1", load[0], "load", "1-minute load average at start");
	if (bw_init(&bw)) {
		perror("bench: bw buffer");
		return 1;
	}
	ex.pool = sim_pool_create(threads, 50);
	if (!ex.pool) {
		perror("sim_pool_create");
		return 1;
	}
	fprintf(stderr, "bench: simd path %s, %u threads\n", anpusim_simd_path(), threads);
	if (!prefill_only && bench_decode(&ex, &bw))
		return 1;
	free(bw.p);
	if (!decode_only)
		bench_peak(threads);
	for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]) && !decode_only; i++)
		bench_prefill(&ex, &dtypes[i], threads);
	if (!decode_only)
		emit_peak();
	sim_pool_destroy(ex.pool);
	if (getloadavg(load, 3) == 3)
		emit("sim.load1_end", load[0], "load", "1-minute load average at the end");
	if (out_file)
		fclose(out_file);
	return 0;
}
