package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.IntegerRows;
import dev.nemotron4j.tensor.Q8Activations;
import dev.nemotron4j.tensor.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * y = W·x for a prompt, in 16-bit integers, for 4-bit weights with an {@link IntegerRows integer form} (Q4_0, Q4_K).
 * The vectors are quantized to 8-bit blocks of 32 (as ggml's Q8_0, so as the decode path and llama.cpp do) and
 * transposed into blocks of {@link #TOKENS}, one per 16-bit lane; each thread decodes {@link #ROWS} rows into
 * integers once per call, and the micro-kernel keeps ROWS × TOKENS sums in 16-bit lanes: per column, two loads of x
 * and eight broadcast weights feed sixteen multiplies and sixteen adds. A 16-bit multiply or add takes 32 lanes where
 * a float multiply-add takes 16, and here both issue one per cycle: about 1.2 to 1.3 times the float {@link Gemm}.
 *
 * <p>A block's 32 products (at most 8·127 each) stay exact in 16 bits; then the sums are widened: the even lanes read
 * as ints shifted up 16 bits, the odd lanes masked, both exact as floats, with the 2⁻¹⁶ in the activation scales. The
 * float sums take weight scale × activation scale per block, plus offset × activation sum where the format has
 * offsets.
 */
public final class IntGemm {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LS = S.length();
    private static final int LF = F.length();
    private static final int QK = Q8Activations.QK;
    /** Rows of W per micro-kernel call. */
    static final int ROWS = 8;
    /** Vectors of 16-bit lanes per block of tokens. */
    private static final int VECTORS = 2;
    /** Tokens (activation vectors) per block: one per 16-bit lane of VECTORS vectors. */
    static final int TOKENS = VECTORS * LS;
    private static final int EVEN_MASK = 0xFFFF0000;

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private IntGemm() {
    }

    /** Whether {@code w} has an integer form this product can take on this machine's vectors. */
    public static boolean supports(WeightTensor w) {
        return LS >= 16 && 2 * LF == LS && w instanceof IntegerRows;
    }

    /** out[t·rows + r] = W[r]·x_t for every row r of W and the {@code n} vectors x_t = x[t·cols …]. */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        Job job = JOB.get();
        int cols = w.cols();
        int blocks = (n + TOKENS - 1) / TOKENS;
        job.ensure(blocks, cols);
        int[] order = w.storedOrder();
        for (int p = 0; p < cols; p++) {
            job.positions[order == null ? p : order[p]] = p;
        }
        job.w = w;
        job.x = x;
        job.n = n;
        job.out = out;
        job.transposing = true;
        Parallel.forRange(blocks, 1, job);
        job.transposing = false;
        Parallel.forRange((w.rows() + ROWS - 1) / ROWS, 1, job);
        job.w = null;
        job.x = null;
        job.out = null;
    }

    /** Lane of token i of a block in the float sums and scales: each vector's even lanes, then its odd ones. */
    static int floatLane(int i) {
        int v = i / LS;
        int l = i % LS;
        return v * LS + (l % 2) * LF + l / 2;
    }

    private static final class Job implements Parallel.RangeBody {
        /** xt[(b·cols + k)·TOKENS + i] = q of column k of vector b·TOKENS + i. */
        short[] xt = new short[0];
        /** scales[(b·blocks + j)·TOKENS + floatLane(i)] = d·2⁻¹⁶ of activation block j of that vector. */
        float[] scales = new float[0];
        /** sums[…] with the same index = d·Σ q of that block, for the offsets. */
        float[] sums = new float[0];
        /** positions[c] = stored position of column c. */
        int[] positions = new int[0];
        WeightTensor w;
        float[] x;
        float[] out;
        int n;
        boolean transposing;

        void ensure(int blocks, int cols) {
            int size = Math.multiplyExact(blocks * TOKENS, cols);
            if (xt.length < size) {
                xt = new short[size];
            }
            int scaleSize = blocks * (cols / QK) * TOKENS;
            if (scales.length < scaleSize) {
                scales = new float[scaleSize];
                sums = new float[scaleSize];
            }
            if (positions.length < cols) {
                positions = new int[cols];
            }
        }

        @Override
        public void run(int from, int to) {
            if (transposing) {
                for (int b = from; b < to; b++) {
                    quantize(b);
                }
                return;
            }
            IntegerRows integers = (IntegerRows) w;
            Scratch s = SCRATCH.get();
            int cols = w.cols();
            int blocksPerRow = cols / QK;
            s.ensure(cols, blocksPerRow);
            int blocks = (n + TOKENS - 1) / TOKENS;
            for (int rb = from; rb < to; rb++) {
                int r0 = rb * ROWS;
                int count = Math.min(ROWS, w.rows() - r0);
                for (int i = 0; i < ROWS; i++) {
                    if (i < count) {
                        integers.decodeRowInt(r0 + i, s.q, i * cols, s.wScales, s.wOffsets, i * blocksPerRow);
                    } else {
                        Arrays.fill(s.wScales, i * blocksPerRow, (i + 1) * blocksPerRow, 0f);
                        Arrays.fill(s.wOffsets, i * blocksPerRow, (i + 1) * blocksPerRow, 0f);
                    }
                }
                for (int b = 0; b < blocks; b++) {
                    product(s, b, cols, blocksPerRow, integers.intOffsets());
                    store(s.c, count, b, r0);
                }
            }
        }

        /**
         * Quantizes and transposes block b of the vectors; lanes past the n-th vector are zero. Activation block by
         * activation block, so that the 32 rows of xt being written (TOKENS shorts each) stay in L1.
         */
        private void quantize(int b) {
            int cols = w.cols();
            int blocks = cols / QK;
            int t0 = b * TOKENS;
            int count = Math.min(TOKENS, n - t0);
            int[] block = SCRATCH.get().block;
            for (int j = 0; j < blocks; j++) {
                int xtBlock = (b * cols + j * QK) * TOKENS;
                int scaleAt = (b * blocks + j) * TOKENS;
                for (int i = 0; i < TOKENS; i++) {
                    int lane = floatLane(i);
                    if (i >= count) {
                        for (int k = 0; k < QK; k++) {
                            xt[xtBlock + k * TOKENS + i] = 0;
                        }
                        scales[scaleAt + lane] = 0f;
                        sums[scaleAt + lane] = 0f;
                        continue;
                    }
                    int src = (t0 + i) * cols + j * QK;
                    float d = Q8Activations.blockScale(x, src);
                    Q8Activations.roundBlock(x, src, d != 0f ? 1f / d : 0f, block);
                    int sum = 0;
                    for (int k = 0; k < QK; k++) {
                        xt[xtBlock + k * TOKENS + i] = (short) block[k];
                        sum += block[k];
                    }
                    scales[scaleAt + lane] = d * 0x1p-16f;
                    sums[scaleAt + lane] = d * sum;
                }
            }
        }

        /** s.c = the ROWS rows in s times token block b, in float lanes ({@link #floatLane}). */
        private void product(Scratch s, int b, int cols, int blocksPerRow, boolean offsets) {
            Arrays.fill(s.c, 0f);
            int vectors = Math.min(VECTORS, (n - b * TOKENS + LS - 1) / LS);
            int xBase = b * cols * TOKENS;
            int blocks = cols / QK;
            for (int j = 0; j < blocks; j++) {
                if (vectors == VECTORS) {
                    blockAll(s.q, cols, positions, xt, xBase, j * QK, s.acc);
                } else {
                    for (int v = 0; v < vectors; v++) {
                        blockOne(s.q, cols, positions, xt, xBase + v * LS, j * QK, s.acc, v * LS);
                    }
                }
                flush(s, vectors, j, blocksPerRow, (b * blocks + j) * TOKENS, offsets);
            }
        }

        /** Adds the 16-bit sums in s.acc, widened and scaled, to s.c, and the offsets times the activation sums. */
        private void flush(Scratch s, int vectors, int g, int blocksPerRow, int scaleBase, boolean offsets) {
            float[] c = s.c;
            for (int v = 0; v < vectors; v++) {
                int at = scaleBase + v * LS;
                FloatVector evenScale = FloatVector.fromArray(F, scales, at);
                FloatVector oddScale = FloatVector.fromArray(F, scales, at + LF);
                FloatVector evenSum = FloatVector.fromArray(F, sums, at);
                FloatVector oddSum = FloatVector.fromArray(F, sums, at + LF);
                for (int r = 0; r < ROWS; r++) {
                    float ws = s.wScales[r * blocksPerRow + g];
                    IntVector pairs = ShortVector.fromArray(S, s.acc, (r * VECTORS + v) * LS).reinterpretAsInts();
                    FloatVector even = (FloatVector) pairs.lanewise(VectorOperators.LSHL, 16)
                            .convert(VectorOperators.I2F, 0);
                    FloatVector odd = (FloatVector) pairs.and(EVEN_MASK).convert(VectorOperators.I2F, 0);
                    int o = r * TOKENS + v * LS;
                    FloatVector ce = evenScale.mul(ws).fma(even, FloatVector.fromArray(F, c, o));
                    FloatVector co = oddScale.mul(ws).fma(odd, FloatVector.fromArray(F, c, o + LF));
                    if (offsets) {
                        FloatVector m = FloatVector.broadcast(F, s.wOffsets[r * blocksPerRow + g]);
                        ce = evenSum.fma(m, ce);
                        co = oddSum.fma(m, co);
                    }
                    ce.intoArray(c, o);
                    co.intoArray(c, o + LF);
                }
            }
        }

        /** Copies the sums of the real vectors of block b to out, vector by vector (each a run of out). */
        private void store(float[] c, int count, int b, int r0) {
            int rowsTotal = w.rows();
            int t0 = b * TOKENS;
            int vectors = Math.min(TOKENS, n - t0);
            for (int t = 0; t < vectors; t++) {
                int lane = floatLane(t);
                int at = (t0 + t) * rowsTotal + r0;
                for (int i = 0; i < count; i++) {
                    out[at + i] = c[i * TOKENS + lane];
                }
            }
        }
    }

    /**
     * acc[(r·VECTORS + v)·LS …] = Σ_{k0 ≤ k < k0+32} q_r[k] · x block [k][v·LS …] in 16-bit lanes, for the ROWS
     * rows of q (stored order, found through positions) and both VECTORS vectors of the block at xBase.
     */
    static void blockAll(short[] q, int cols, int[] positions, short[] xt, int xBase, int k0, short[] acc) {
        ShortVector a00 = ShortVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
                a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        for (int k = k0; k < k0 + QK; k++) {
            int xk = xBase + k * TOKENS;
            ShortVector x0 = ShortVector.fromArray(S, xt, xk);
            ShortVector x1 = ShortVector.fromArray(S, xt, xk + LS);
            int p = positions[k];
            ShortVector w0 = ShortVector.broadcast(S, q[p]);
            a00 = a00.add(w0.mul(x0));
            a01 = a01.add(w0.mul(x1));
            ShortVector w1 = ShortVector.broadcast(S, q[cols + p]);
            a10 = a10.add(w1.mul(x0));
            a11 = a11.add(w1.mul(x1));
            ShortVector w2 = ShortVector.broadcast(S, q[2 * cols + p]);
            a20 = a20.add(w2.mul(x0));
            a21 = a21.add(w2.mul(x1));
            ShortVector w3 = ShortVector.broadcast(S, q[3 * cols + p]);
            a30 = a30.add(w3.mul(x0));
            a31 = a31.add(w3.mul(x1));
            ShortVector w4 = ShortVector.broadcast(S, q[4 * cols + p]);
            a40 = a40.add(w4.mul(x0));
            a41 = a41.add(w4.mul(x1));
            ShortVector w5 = ShortVector.broadcast(S, q[5 * cols + p]);
            a50 = a50.add(w5.mul(x0));
            a51 = a51.add(w5.mul(x1));
            ShortVector w6 = ShortVector.broadcast(S, q[6 * cols + p]);
            a60 = a60.add(w6.mul(x0));
            a61 = a61.add(w6.mul(x1));
            ShortVector w7 = ShortVector.broadcast(S, q[7 * cols + p]);
            a70 = a70.add(w7.mul(x0));
            a71 = a71.add(w7.mul(x1));
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, LS);
        a10.intoArray(acc, 2 * LS);
        a11.intoArray(acc, 3 * LS);
        a20.intoArray(acc, 4 * LS);
        a21.intoArray(acc, 5 * LS);
        a30.intoArray(acc, 6 * LS);
        a31.intoArray(acc, 7 * LS);
        a40.intoArray(acc, 8 * LS);
        a41.intoArray(acc, 9 * LS);
        a50.intoArray(acc, 10 * LS);
        a51.intoArray(acc, 11 * LS);
        a60.intoArray(acc, 12 * LS);
        a61.intoArray(acc, 13 * LS);
        a70.intoArray(acc, 14 * LS);
        a71.intoArray(acc, 15 * LS);
    }

    /** {@link #blockAll} for one vector of lanes at xBase, stored at acc[r·VECTORS·LS + accOffset …]. */
    static void blockOne(short[] q, int cols, int[] positions, short[] xt, int xBase, int k0, short[] acc,
                         int accOffset) {
        ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = k0; k < k0 + QK; k++) {
            ShortVector x0 = ShortVector.fromArray(S, xt, xBase + k * TOKENS);
            int p = positions[k];
            a0 = a0.add(x0.mul(q[p]));
            a1 = a1.add(x0.mul(q[cols + p]));
            a2 = a2.add(x0.mul(q[2 * cols + p]));
            a3 = a3.add(x0.mul(q[3 * cols + p]));
            a4 = a4.add(x0.mul(q[4 * cols + p]));
            a5 = a5.add(x0.mul(q[5 * cols + p]));
            a6 = a6.add(x0.mul(q[6 * cols + p]));
            a7 = a7.add(x0.mul(q[7 * cols + p]));
        }
        a0.intoArray(acc, accOffset);
        a1.intoArray(acc, VECTORS * LS + accOffset);
        a2.intoArray(acc, 2 * VECTORS * LS + accOffset);
        a3.intoArray(acc, 3 * VECTORS * LS + accOffset);
        a4.intoArray(acc, 4 * VECTORS * LS + accOffset);
        a5.intoArray(acc, 5 * VECTORS * LS + accOffset);
        a6.intoArray(acc, 6 * VECTORS * LS + accOffset);
        a7.intoArray(acc, 7 * VECTORS * LS + accOffset);
    }

    /** Shorts and floats reused by one thread across calls. */
    private static final class Scratch {
        short[] q = new short[0];
        float[] wScales = new float[0];
        float[] wOffsets = new float[0];
        final short[] acc = new short[ROWS * VECTORS * LS];
        /** One activation block's integers, on their way into xt. */
        final int[] block = new int[QK];
        final float[] c = new float[ROWS * TOKENS];

        void ensure(int cols, int blocksPerRow) {
            if (q.length < ROWS * cols) {
                q = new short[ROWS * cols];
            }
            if (wScales.length < ROWS * blocksPerRow) {
                wScales = new float[ROWS * blocksPerRow];
                wOffsets = new float[ROWS * blocksPerRow];
            }
        }
    }

    /**
     * Scalar reference: the same 8-bit activations (ggml's Q8_0 rounding) and integer rows, summed in doubles.
     */
    static void matmulScalar(WeightTensor w, float[] x, int n, float[] out) {
        IntegerRows rows = (IntegerRows) w;
        int cols = w.cols();
        short[] q = new short[cols];
        float[] scales = new float[cols / QK];
        float[] offsets = new float[cols / QK];
        int[] order = w.storedOrder();
        float[] d = new float[n * (cols / QK)];
        int[] xq = new int[n * cols];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < cols / QK; j++) {
                float scale = Q8Activations.blockScale(x, t * cols + j * QK);
                float id = scale != 0f ? 1f / scale : 0f;
                d[t * (cols / QK) + j] = scale;
                for (int k = j * QK; k < (j + 1) * QK; k++) {
                    xq[t * cols + k] = Q8Activations.round(x[t * cols + k] * id);
                }
            }
        }
        for (int r = 0; r < w.rows(); r++) {
            rows.decodeRowInt(r, q, 0, scales, offsets, 0);
            for (int t = 0; t < n; t++) {
                double sum = 0;
                for (int p = 0; p < cols; p++) {
                    int c = order == null ? p : order[p];
                    int g = c / QK;
                    double weight = (double) scales[g] * q[p] + (rows.intOffsets() ? offsets[g] : 0);
                    sum += weight * d[t * (cols / QK) + c / QK] * xq[t * cols + c];
                }
                out[t * w.rows() + r] = (float) sum;
            }
        }
    }
}
