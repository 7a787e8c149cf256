package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.F16Tensor;
import dev.nemotron4j.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Causal scaled dot-product attention over cached keys and values. The cache keeps values as rows, [position][kvDim],
 * and keys transposed in blocks of {@link #KEY_BLOCK} positions: [kv head][block][dimension][position in block]
 * ({@link #keyOffset}), so that a score step reads one run of memory, the block's positions of every dimension.
 * The rows of a run (consecutive positions of one sequence, a prompt chunk or a single decoding row) attend in tiles
 * of four query vectors of one kv head: a score vector holds one query against L positions (no horizontal sums) and
 * each key load feeds four queries, the softmax exponentials are vector ops, and each load of four value vectors feeds
 * the four queries' sixteen sums. The positions go by spans ({@link #SPAN}), each taken by every tile of a task while
 * its keys and values are in L2, with an online softmax. A decoding row of Nemotron-Mini's shape (three query heads
 * per kv head) is one tile per kv head. Heads whose size is not a multiple of 4·L attend one query vector at a time
 * ({@link #attend}).
 *
 * <p>A cache of half floats ({@link #attendAllHalf}) takes half the memory and half the reads: each span's keys and
 * values are converted to floats once, for all the tiles of a task, then the same code runs.
 */
public final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Half floats, as many as a float vector has bytes over two: one score step of a key block. */
    private static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class, F.vectorShape());
    /** Query vectors per tile. */
    private static final int QUERIES = 4;
    /** Positions per block of the cached keys: one score step, two vectors. */
    public static final int KEY_BLOCK = 2 * L;
    /** Rows of a run per task. */
    private static final int ROWS_PER_TASK = 64;
    /**
     * Positions per span: a kv head's keys and values of a span (128 KB each for a head of 128) stay in L2 while
     * every tile of a task takes them. 4B shape, 512 rows at depth 2048, 2 threads: 400–414 ms per 4 layers against
     * 526 with every tile over all positions; spans of 128 and 512 positions no different.
     */
    private static final int SPAN = 8 * KEY_BLOCK;
    /** One reusable job per calling thread, so attention allocates nothing once grown. */
    private static final ThreadLocal<Heads> JOB = ThreadLocal.withInitial(Heads::new);
    /** Per worker thread: a tile's scores and the running softmax of a task. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Attention() {
    }

    /** Positions a cache of {@code capacity} holds keys for (whole blocks): its keys take kvDim times this. */
    public static int keyStride(int capacity) {
        return (capacity + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK;
    }

    /**
     * Where dimension 0 of kv head {@code kvHead}'s key at {@code position} lies in keys of the given stride;
     * dimension d lies d·{@link #KEY_BLOCK} further.
     */
    public static int keyOffset(int kvHead, int position, int headDim, int keyStride) {
        return ((kvHead * (keyStride / KEY_BLOCK) + position / KEY_BLOCK) * headDim) * KEY_BLOCK
                + position % KEY_BLOCK;
    }

    /**
     * Slot of item i of a run of {@link #KEY_BLOCK} half floats: the first half of the run in the even slots, the
     * second in the odd ones, so that a 32-bit lane holds items i and i + KEY_BLOCK/2 and both convert in place.
     */
    public static int halfLane(int i) {
        return i < KEY_BLOCK / 2 ? 2 * i : 2 * (i - KEY_BLOCK / 2) + 1;
    }

    /** {@link #keyOffset} for a cache of half floats: the positions of a block in {@link #halfLane} order. */
    public static int halfKeyOffset(int kvHead, int position, int headDim, int keyStride) {
        return keyOffset(kvHead, position - position % KEY_BLOCK, headDim, keyStride) + halfLane(position % KEY_BLOCK);
    }

    /**
     * Where dimension c of a value row of half floats lies in the row: each whole run of {@link #KEY_BLOCK}
     * dimensions in {@link #halfLane} order, a shorter last run as it is.
     */
    public static int halfValueIndex(int c, int kvDim) {
        int run = c - c % KEY_BLOCK;
        return run + KEY_BLOCK <= kvDim ? run + halfLane(c % KEY_BLOCK) : c;
    }

    /**
     * Attention of {@code n} query rows with {@code heads} query heads each. Row r attends to positions
     * [0, positions[r]] of its own sequence's cache: {@code keys[r]} as {@link #keyOffset} lays them out, for
     * {@code keys[r].length / kvDim} positions, and {@code values[r]} [position][kvDim]; query head h uses kv head
     * h / group. q and out are [n][heads·headDim].
     */
    public static void attendAll(float[] q, float[][] keys, float[][] values, int[] positions, int kvDim, int heads,
                                 int group, int headDim, int n, float[] out) {
        Heads job = JOB.get();
        job.keys = keys;
        job.values = values;
        attendRows(job, keys, q, positions, kvDim, heads, group, headDim, n, out);
    }

    /**
     * {@link #attendAll} over caches of half floats (the bits {@link Float#floatToFloat16} writes): keys where
     * {@link #halfKeyOffset} puts them, values as rows ordered by {@link #halfValueIndex}.
     */
    public static void attendAllHalf(float[] q, short[][] keys, short[][] values, int[] positions, int kvDim,
                                     int heads, int group, int headDim, int n, float[] out) {
        Heads job = JOB.get();
        job.halfKeys = keys;
        job.halfValues = values;
        attendRows(job, keys, q, positions, kvDim, heads, group, headDim, n, out);
    }

    /** Runs the job whose cache arrays are set; {@code sequences} holds row r's keys, to tell runs apart. */
    private static void attendRows(Heads job, Object[] sequences, float[] q, int[] positions, int kvDim, int heads,
                                   int group, int headDim, int n, float[] out) {
        job.q = q;
        job.positions = positions;
        job.kvDim = kvDim;
        job.group = group;
        job.headDim = headDim;
        job.qDim = heads * headDim;
        job.out = out;
        job.split(sequences, n, heads / group);
        Parallel.forRange(job.tasks, 1, job);
        job.q = null;
        job.keys = null;
        job.values = null;
        job.halfKeys = null;
        job.halfValues = null;
        job.positions = null;
        job.out = null;
    }

    /** The rows cut into runs (consecutive positions of one sequence) and the runs into tasks of one kv head each. */
    private static final class Heads implements Parallel.RangeBody {
        float[] q;
        /** The rows' caches: floats, or half floats (then keys and values are null). */
        float[][] keys;
        float[][] values;
        short[][] halfKeys;
        short[][] halfValues;
        int[] positions;
        int kvDim;
        int group;
        int headDim;
        int qDim;
        float[] out;
        /** Task i covers rows [taskFrom[i], taskTo[i]) of one run for kv head taskHead[i]. */
        int tasks;
        int[] taskFrom = new int[0];
        int[] taskTo = new int[0];
        int[] taskHead = new int[0];

        void split(Object[] sequences, int n, int kvHeads) {
            tasks = 0;
            for (int r = 0; r < n; ) {
                int end = r + 1;
                while (end < n && sequences[end] == sequences[r] && positions[end] == positions[end - 1] + 1) {
                    end++;
                }
                for (int from = r; from < end; from += ROWS_PER_TASK) {
                    for (int g = 0; g < kvHeads; g++) {
                        add(from, Math.min(end, from + ROWS_PER_TASK), g);
                    }
                }
                r = end;
            }
        }

        private void add(int from, int to, int head) {
            if (tasks == taskFrom.length) {
                int grown = Math.max(16, 2 * tasks);
                taskFrom = Arrays.copyOf(taskFrom, grown);
                taskTo = Arrays.copyOf(taskTo, grown);
                taskHead = Arrays.copyOf(taskHead, grown);
            }
            taskFrom[tasks] = from;
            taskTo[tasks] = to;
            taskHead[tasks] = head;
            tasks++;
        }

        /** Where query vector v of a task of rows from… and kv head g starts in q and out. */
        int queryOffset(int from, int g, int v) {
            return (from + v / group) * qDim + (g * group + v % group) * headDim;
        }

        @Override
        public void run(int fromTask, int toTask) {
            Scratch s = SCRATCH.get();
            for (int i = fromTask; i < toTask; i++) {
                int g = taskHead[i];
                int from = taskFrom[i];
                int to = taskTo[i];
                if (headDim % (4 * L) == 0) {
                    block(this, s, from, to, g);
                    continue;
                }
                for (int r = from; r < to; r++) {
                    float[] scores = s.scores(keyStride(positions[r] + 1))[0];
                    for (int h = g * group; h < (g + 1) * group; h++) {
                        int qOffset = r * qDim + h * headDim;
                        if (halfKeys != null) {
                            attendHalf(q, qOffset, halfKeys[r], halfValues[r], kvDim, g * headDim,
                                    positions[r] + 1, headDim, scores, out, qOffset);
                        } else {
                            attend(q, qOffset, keys[r], values[r], kvDim, g * headDim, positions[r] + 1, headDim,
                                    scores, out, qOffset);
                        }
                    }
                }
            }
        }
    }

    /** What one worker reuses across calls. */
    private static final class Scratch {
        /** Scores, then exponentials, of a tile's query vectors: [query][position]. */
        private final float[][] scores = new float[QUERIES][0];
        final int[] qOffsets = new int[QUERIES];
        final int[] ends = new int[QUERIES];
        /** Per query vector of a run: the largest score so far, the sum of exponentials, the weighted value sums. */
        float[] maxes = new float[0];
        float[] expSums = new float[0];
        float[] sums = new float[0];
        /** The factor a span's new maximum puts on each of a tile's sums so far. */
        final float[] corrections = new float[QUERIES];
        /** The key blocks of a span of a half-float cache as floats, [block][dimension][position in block]. */
        private float[] keySpan = new float[0];
        /** A kv head's value rows of a span of a half-float cache as floats, [position][dimension]. */
        private float[] valueSpan = new float[0];

        float[] keySpan(int headDim) {
            if (keySpan.length < SPAN * headDim) {
                keySpan = new float[SPAN * headDim];
            }
            return keySpan;
        }

        float[] valueSpan(int headDim) {
            if (valueSpan.length < SPAN * headDim) {
                valueSpan = new float[SPAN * headDim];
            }
            return valueSpan;
        }

        /** The score rows, each of at least {@code positions} floats. */
        float[][] scores(int positions) {
            if (scores[0].length < positions) {
                for (int i = 0; i < QUERIES; i++) {
                    scores[i] = new float[Math.max(positions, 2 * scores[i].length)];
                }
            }
            return scores;
        }

        /** Clears the running softmax of {@code vectors} query vectors. */
        void startRun(int vectors, int headDim) {
            if (maxes.length < vectors) {
                maxes = new float[vectors];
                expSums = new float[vectors];
            }
            if (sums.length < vectors * headDim) {
                sums = new float[vectors * headDim];
            }
            Arrays.fill(maxes, 0, vectors, Float.NEGATIVE_INFINITY);
            Arrays.fill(expSums, 0, vectors, 0f);
            Arrays.fill(sums, 0, vectors * headDim, 0f);
        }

        /**
         * Takes query vector v's scores of a span into its running softmax: scores[0 … valid) become exp(score − the
         * new maximum), scores[valid … end) (the causal mask) zero. Returns the factor on the vector's sums so far.
         */
        float softmaxStep(int v, float[] scores, int valid, int end) {
            if (valid <= 0) {
                Arrays.fill(scores, 0, end, 0f);
                return 1f;
            }
            float max = Math.max(maxes[v], max(scores, valid));
            float correction = (float) Math.exp(maxes[v] - max);
            expSums[v] = expSums[v] * correction + exponentials(scores, valid, max);
            Arrays.fill(scores, valid, end, 0f);
            maxes[v] = max;
            return correction;
        }
    }

    /**
     * Rows [from, to) of one run, query heads of kv head g: query vector v = (row from + v / group, head
     * g·group + v % group), taken QUERIES at a time. The positions are taken a span of {@link #SPAN} at a time, every
     * tile of the run over one span before the next, so that the span's keys and values, read from memory once, serve
     * all the tiles from L2: the softmax is online, each vector's running maximum, sum of exponentials and weighted sum
     * of values rescaled whenever a span raises the maximum.
     */
    private static void block(Heads job, Scratch s, int from, int to, int g) {
        int headDim = job.headDim;
        int kvOffset = g * headDim;
        short[] halfKeys = job.halfKeys != null ? job.halfKeys[from] : null;
        short[] halfValues = job.halfValues != null ? job.halfValues[from] : null;
        float[] keys = halfKeys != null ? s.keySpan(headDim) : job.keys[from];
        int keyStride = (halfKeys != null ? halfKeys.length : keys.length) / job.kvDim;
        float[][] scores = s.scores(SPAN);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int vectors = (to - from) * job.group;
        s.startRun(vectors, headDim);
        int[] qOffsets = s.qOffsets;
        int[] ends = s.ends;
        int runEnd = job.positions[to - 1] + 1;
        float[] values = halfValues != null ? s.valueSpan(headDim) : job.values[from];
        for (int span = 0; span < runEnd; span += SPAN) {
            int spanEnd = Math.min(runEnd, span + SPAN);
            int valueAt = span * job.kvDim + kvOffset;
            int valueStride = job.kvDim;
            if (halfKeys != null) {
                for (int j = span; j < spanEnd; j += KEY_BLOCK) {
                    toFloats(halfKeys, keyOffset(g, j, headDim, keyStride), KEY_BLOCK, KEY_BLOCK, headDim, keys,
                            (j - span) * headDim);
                }
                toFloats(halfValues, valueAt, job.kvDim, headDim, spanEnd - span, values, 0);
                valueAt = 0;
                valueStride = headDim;
            }
            for (int v0 = 0; v0 < vectors; v0 += QUERIES) {
                int count = Math.min(QUERIES, vectors - v0);
                for (int i = 0; i < QUERIES; i++) {
                    int v = v0 + Math.min(i, count - 1); // a short tile repeats its last vector
                    qOffsets[i] = job.queryOffset(from, g, v);
                    ends[i] = job.positions[from + v / job.group] + 1;
                }
                int end = Math.min(spanEnd, ends[QUERIES - 1]);
                if (end <= span) {
                    continue; // the causal mask: these rows end before the span
                }
                for (int j = span; j < end; j += KEY_BLOCK) {
                    int at = halfKeys != null ? (j - span) * headDim : keyOffset(g, j, headDim, keyStride);
                    scores(job.q, qOffsets, keys, at, headDim, scale, scores, j - span);
                }
                for (int i = 0; i < QUERIES; i++) {
                    s.corrections[i] = i < count
                            ? s.softmaxStep(v0 + i, scores[i], Math.min(end, ends[i]) - span, end - span) : 0f;
                }
                values(scores, s.corrections, end - span, values, valueAt, valueStride, headDim, s.sums, v0,
                        Math.min(v0 + QUERIES - 1, vectors - 1));
            }
        }
        for (int v = 0; v < vectors; v++) {
            int o = job.queryOffset(from, g, v);
            float inverse = 1f / s.expSums[v];
            for (int d = 0; d < headDim; d++) {
                job.out[o + d] = s.sums[v * headDim + d] * inverse;
            }
        }
    }

    /**
     * scores[i][j … j + KEY_BLOCK) = scale · q_i · k_j… for the four query vectors at {@code qOffsets}, the key block
     * of positions j… at keys[at]: per dimension d, two loads of keys feed eight fused multiply-adds. Positions past a
     * row's end get scores no one reads.
     */
    private static void scores(float[] q, int[] qOffsets, float[] keys, int at, int headDim, float scale,
                               float[][] scores, int j) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        int q0 = qOffsets[0];
        int q1 = qOffsets[1];
        int q2 = qOffsets[2];
        int q3 = qOffsets[3];
        for (int d = 0, k = at; d < headDim; d++, k += KEY_BLOCK) {
            FloatVector k0 = FloatVector.fromArray(F, keys, k);
            FloatVector k1 = FloatVector.fromArray(F, keys, k + L);
            FloatVector x0 = FloatVector.broadcast(F, q[q0 + d]);
            a0 = x0.fma(k0, a0);
            b0 = x0.fma(k1, b0);
            FloatVector x1 = FloatVector.broadcast(F, q[q1 + d]);
            a1 = x1.fma(k0, a1);
            b1 = x1.fma(k1, b1);
            FloatVector x2 = FloatVector.broadcast(F, q[q2 + d]);
            a2 = x2.fma(k0, a2);
            b2 = x2.fma(k1, b2);
            FloatVector x3 = FloatVector.broadcast(F, q[q3 + d]);
            a3 = x3.fma(k0, a3);
            b3 = x3.fma(k1, b3);
        }
        a0.mul(scale).intoArray(scores[0], j);
        b0.mul(scale).intoArray(scores[0], j + L);
        a1.mul(scale).intoArray(scores[1], j);
        b1.mul(scale).intoArray(scores[1], j + L);
        a2.mul(scale).intoArray(scores[2], j);
        b2.mul(scale).intoArray(scores[2], j + L);
        a3.mul(scale).intoArray(scores[3], j);
        b3.mul(scale).intoArray(scores[3], j + L);
    }

    /** The largest of scores[0 … end). */
    private static float max(float[] scores, int end) {
        int upper = end - end % L;
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < upper; j += L) {
            maxes = maxes.max(FloatVector.fromArray(F, scores, j));
        }
        float max = maxes.reduceLanes(VectorOperators.MAX);
        for (int j = upper; j < end; j++) {
            max = Math.max(max, scores[j]);
        }
        return max;
    }

    /** Replaces scores[0 … end) by exp(score − max) and returns their sum. */
    private static float exponentials(float[] scores, int end, float max) {
        int upper = end - end % L;
        VectorMath.expInPlace(scores, 0, upper, max);
        FloatVector sums = FloatVector.zero(F);
        for (int j = 0; j < upper; j += L) {
            sums = sums.add(FloatVector.fromArray(F, scores, j));
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            sums = sums.add(sums.rearrange(halving));
        }
        float sum = sums.lane(0);
        for (int j = upper; j < end; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        return sum;
    }

    /** Replaces scores[0 … end) by exp(score − max) and returns their sum. */
    private static float softmax(float[] scores, int end) {
        return exponentials(scores, end, max(scores, end));
    }

    /**
     * sums[v·headDim …] = corrections[i] · sums[v·headDim …] + Σ_j p_i[j] · v_j over j in [0, n), for the query
     * vectors v = first + i of a tile (vectors past {@code last} repeat it, and are not stored), value row j at
     * rows[at + j·stride …]: four vectors of a value row at a time (a quarter of it with AVX-512 and a head of 128),
     * each load feeding the four query vectors.
     */
    private static void values(float[][] p, float[] corrections, int n, float[] rows, int at, int stride,
                               int headDim, float[] sums, int first, int last) {
        float[] p0 = p[0];
        float[] p1 = p[1];
        float[] p2 = p[2];
        float[] p3 = p[3];
        int s0 = first * headDim;
        int s1 = Math.min(first + 1, last) * headDim;
        int s2 = Math.min(first + 2, last) * headDim;
        int s3 = Math.min(first + 3, last) * headDim;
        float c0 = corrections[0];
        float c1 = corrections[1];
        float c2 = corrections[2];
        float c3 = corrections[3];
        for (int d = 0; d < headDim; d += 4 * L) {
            FloatVector o00 = FloatVector.fromArray(F, sums, s0 + d).mul(c0);
            FloatVector o01 = FloatVector.fromArray(F, sums, s0 + d + L).mul(c0);
            FloatVector o02 = FloatVector.fromArray(F, sums, s0 + d + 2 * L).mul(c0);
            FloatVector o03 = FloatVector.fromArray(F, sums, s0 + d + 3 * L).mul(c0);
            FloatVector o10 = FloatVector.fromArray(F, sums, s1 + d).mul(c1);
            FloatVector o11 = FloatVector.fromArray(F, sums, s1 + d + L).mul(c1);
            FloatVector o12 = FloatVector.fromArray(F, sums, s1 + d + 2 * L).mul(c1);
            FloatVector o13 = FloatVector.fromArray(F, sums, s1 + d + 3 * L).mul(c1);
            FloatVector o20 = FloatVector.fromArray(F, sums, s2 + d).mul(c2);
            FloatVector o21 = FloatVector.fromArray(F, sums, s2 + d + L).mul(c2);
            FloatVector o22 = FloatVector.fromArray(F, sums, s2 + d + 2 * L).mul(c2);
            FloatVector o23 = FloatVector.fromArray(F, sums, s2 + d + 3 * L).mul(c2);
            FloatVector o30 = FloatVector.fromArray(F, sums, s3 + d).mul(c3);
            FloatVector o31 = FloatVector.fromArray(F, sums, s3 + d + L).mul(c3);
            FloatVector o32 = FloatVector.fromArray(F, sums, s3 + d + 2 * L).mul(c3);
            FloatVector o33 = FloatVector.fromArray(F, sums, s3 + d + 3 * L).mul(c3);
            for (int j = 0, v = at + d; j < n; j++, v += stride) {
                FloatVector x0 = FloatVector.fromArray(F, rows, v);
                FloatVector x1 = FloatVector.fromArray(F, rows, v + L);
                FloatVector x2 = FloatVector.fromArray(F, rows, v + 2 * L);
                FloatVector x3 = FloatVector.fromArray(F, rows, v + 3 * L);
                FloatVector w = FloatVector.broadcast(F, p0[j]);
                o00 = x0.fma(w, o00);
                o01 = x1.fma(w, o01);
                o02 = x2.fma(w, o02);
                o03 = x3.fma(w, o03);
                w = FloatVector.broadcast(F, p1[j]);
                o10 = x0.fma(w, o10);
                o11 = x1.fma(w, o11);
                o12 = x2.fma(w, o12);
                o13 = x3.fma(w, o13);
                w = FloatVector.broadcast(F, p2[j]);
                o20 = x0.fma(w, o20);
                o21 = x1.fma(w, o21);
                o22 = x2.fma(w, o22);
                o23 = x3.fma(w, o23);
                w = FloatVector.broadcast(F, p3[j]);
                o30 = x0.fma(w, o30);
                o31 = x1.fma(w, o31);
                o32 = x2.fma(w, o32);
                o33 = x3.fma(w, o33);
            }
            // Vectors passed to a helper would be boxed: the stores are written out, the repeated vectors' last.
            o30.intoArray(sums, s3 + d);
            o31.intoArray(sums, s3 + d + L);
            o32.intoArray(sums, s3 + d + 2 * L);
            o33.intoArray(sums, s3 + d + 3 * L);
            o20.intoArray(sums, s2 + d);
            o21.intoArray(sums, s2 + d + L);
            o22.intoArray(sums, s2 + d + 2 * L);
            o23.intoArray(sums, s2 + d + 3 * L);
            o10.intoArray(sums, s1 + d);
            o11.intoArray(sums, s1 + d + L);
            o12.intoArray(sums, s1 + d + 2 * L);
            o13.intoArray(sums, s1 + d + 3 * L);
            o00.intoArray(sums, s0 + d);
            o01.intoArray(sums, s0 + d + L);
            o02.intoArray(sums, s0 + d + 2 * L);
            o03.intoArray(sums, s0 + d + 3 * L);
        }
    }

    /**
     * out[outOffset …+headDim] = Σ_j softmax_j(q·k_j / √headDim) · v_j over positions j in [0, positions), with k_j
     * in keys as {@link #keyOffset} lays them out (kv head kvOffset / headDim) and v_j = values[j·kvDim + kvOffset …]:
     * the scores of a key block are a sum of its rows, one per dimension. {@code scores} holds at least
     * {@code positions} floats.
     */
    static void attend(float[] q, int qOffset, float[] keys, float[] values, int kvDim, int kvOffset,
                       int positions, int headDim, float[] scores, float[] out, int outOffset) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int keyStride = keys.length / kvDim;
        Arrays.fill(scores, 0, positions, 0f);
        for (int j = 0; j < positions; j += KEY_BLOCK) {
            int at = keyOffset(kvOffset / headDim, j, headDim, keyStride);
            for (int d = 0; d < headDim; d++) {
                axpy(scale * q[qOffset + d], keys, at + d * KEY_BLOCK, scores, j, Math.min(KEY_BLOCK, positions - j));
            }
        }
        float inv = 1f / softmax(scores, positions);
        Arrays.fill(out, outOffset, outOffset + headDim, 0f);
        for (int j = 0; j < positions; j++) {
            axpy(scores[j] * inv, values, j * kvDim + kvOffset, out, outOffset, headDim);
        }
    }

    /**
     * {@link #attend} over a half-float cache, a value at a time: for the head sizes the tiles do not take (small test
     * models), where speed does not matter.
     */
    static void attendHalf(float[] q, int qOffset, short[] keys, short[] values, int kvDim, int kvOffset,
                           int positions, int headDim, float[] scores, float[] out, int outOffset) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int keyStride = keys.length / kvDim;
        for (int j = 0; j < positions; j++) {
            int at = halfKeyOffset(kvOffset / headDim, j, headDim, keyStride);
            float sum = 0f;
            for (int d = 0; d < headDim; d++) {
                sum += q[qOffset + d] * Float.float16ToFloat(keys[at + d * KEY_BLOCK]);
            }
            scores[j] = scale * sum;
        }
        float inv = 1f / softmax(scores, positions);
        Arrays.fill(out, outOffset, outOffset + headDim, 0f);
        for (int j = 0; j < positions; j++) {
            float w = scores[j] * inv;
            for (int d = 0; d < headDim; d++) {
                out[outOffset + d] += w * Float.float16ToFloat(values[j * kvDim + halfValueIndex(kvOffset + d, kvDim)]);
            }
        }
    }

    /**
     * {@code rows} runs of {@code width} halves of a half-float cache (a multiple of {@link #KEY_BLOCK}),
     * {@code stride} apart from {@code at}, as floats to out[outOffset …], width per run: each KEY_BLOCK halves' 32-bit
     * lanes ({@link #halfLane}) give their first and second L values. A key block is headDim runs of KEY_BLOCK
     * positions ([dimension][position in block]); value rows are runs of a head's dimensions.
     */
    private static void toFloats(short[] halves, int at, int stride, int width, int rows, float[] out,
                                 int outOffset) {
        for (int r = 0; r < rows; r++) {
            int from = at + r * stride;
            int o = outOffset + r * width;
            for (int c = 0; c < width; c += KEY_BLOCK) {
                IntVector pairs = ShortVector.fromArray(HALVES, halves, from + c).reinterpretAsInts();
                F16Tensor.highHalvesToFloats(pairs.lanewise(VectorOperators.LSHL, 16)).intoArray(out, o + c);
                F16Tensor.highHalvesToFloats(pairs).intoArray(out, o + c + L);
            }
        }
    }

    /**
     * Scalar reference of {@link #attend} and of the block path, for the tests; keys as a row per position,
     * [position][kvDim].
     */
    static void attendScalar(float[] q, int qOffset, float[] keys, float[] values, int kvDim, int kvOffset,
                             int positions, int headDim, float[] out, int outOffset) {
        double[] p = new double[positions];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < positions; j++) {
            double s = 0;
            for (int d = 0; d < headDim; d++) {
                s += (double) q[qOffset + d] * keys[j * kvDim + kvOffset + d];
            }
            p[j] = s / Math.sqrt(headDim);
            max = Math.max(max, p[j]);
        }
        double sum = 0;
        for (int j = 0; j < positions; j++) {
            p[j] = Math.exp(p[j] - max);
            sum += p[j];
        }
        for (int d = 0; d < headDim; d++) {
            double o = 0;
            for (int j = 0; j < positions; j++) {
                o += p[j] * values[j * kvDim + kvOffset + d];
            }
            out[outOffset + d] = (float) (o / sum);
        }
    }

    /** y[yo + i] += alpha · x[xo + i] for i in [0, len). */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i <= len - F.length(); i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).fma(a, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < len; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }
}
