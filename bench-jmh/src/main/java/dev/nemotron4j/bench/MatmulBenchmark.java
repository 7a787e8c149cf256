package dev.nemotron4j.bench;

import dev.nemotron4j.kernels.Matmul;
import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.WeightTensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One matrix of Nemotron-Mini-4B's MLP (up: 9216 × 3072) times a batch of activation vectors: batch 1 is a decode
 * step, 64 a prompt's tail (the float product), 256 a whole prompt pass (the integer product for packed Q4_0 and
 * Q4_K). Weights are random blocks with sane f16 scales; the {@code _PACKED} types are the same blocks in the layouts
 * the model repacks them into at load, always as one packed matrix: the model keeps matrices wider than 4096 columns
 * as column blocks instead, and one matrix here measures the wide rows those replace. {@code copies} matrices of that
 * shape are multiplied in turn: with copies totalling well over the L3 (32 MB here), decode reads its weights from
 * memory, as in the model, instead of from cache (e.g. {@code -p rows=1364 -p cols=12288 -p copies=18} against
 * {@code -p rows=4096 -p cols=4096 -p copies=18}: the same bytes in wide and in narrow rows).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MatmulBenchmark {
    @Param({"Q4_0", "Q4_0_PACKED", "Q8_0", "Q8_0_PACKED", "F16", "BF16", "Q4_K", "Q4_K_PACKED", "Q5_K",
            "Q5_K_PACKED", "Q6_K", "Q6_K_PACKED"})
    public String type;

    @Param({"1", "64", "256"})
    public int batch;

    @Param({"1", "2"})
    public int threads;

    @Param({"9216"})
    public int rows;

    @Param({"3072"})
    public int cols;

    @Param({"1"})
    public int copies;

    private WeightTensor[] w;
    private float[] x;
    private float[] out;

    @Setup
    public void setUp() {
        boolean packed = type.endsWith("_PACKED");
        GGMLType t = GGMLType.valueOf(type.replace("_PACKED", ""));
        Random rnd = new Random(42);
        w = new WeightTensor[copies];
        for (int c = 0; c < copies; c++) {
            w[c] = matrix(t, packed, rnd);
        }
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[batch * rows];
        Parallel.setThreads(threads);
    }

    /** A rows × cols matrix of type t: random blocks with sane scales, packed if asked. */
    private WeightTensor matrix(GGMLType t, boolean packed, Random rnd) {
        long bytes = t.byteSize((long) rows * cols);
        MemorySegment data = Arena.ofAuto().allocate(bytes, 64);
        for (long i = 0; i < bytes; i++) {
            data.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        ValueLayout.OfShort le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        long scaleField = t == GGMLType.Q6_K ? 208 : 0;
        for (long block = 0; block < bytes; block += t.typeSize) {
            if (t == GGMLType.BF16) {
                data.set(le, block, (short) (Float.floatToIntBits((float) rnd.nextGaussian()) >>> 16));
            } else {
                data.set(le, block + scaleField, Float.floatToFloat16(t.blockSize == 1 ? (float) rnd.nextGaussian()
                        : 0.01f));
                if (t == GGMLType.Q4_K || t == GGMLType.Q5_K) {
                    data.set(le, block + 2, Float.floatToFloat16(0.01f)); // dmin
                }
            }
        }
        WeightTensor matrix = WeightTensor.of(t, data, rows, cols);
        return packed ? pack(matrix) : matrix;
    }

    private WeightTensor pack(WeightTensor source) {
        MemorySegment dst = Arena.ofAuto().allocate(PackedTensor.byteSize(source.type(), rows, cols), 64);
        PackedTensor.pack(source, dst, 0, rows);
        return PackedTensor.view(source.type(), dst, rows, cols);
    }

    @Benchmark
    public float[] matmul() {
        for (WeightTensor matrix : w) {
            Matmul.matmul(matrix, x, batch, out);
        }
        return out;
    }
}
