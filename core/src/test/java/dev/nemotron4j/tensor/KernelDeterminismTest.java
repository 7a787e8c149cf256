package dev.nemotron4j.tensor;

import dev.nemotron4j.kernels.Attention;
import dev.nemotron4j.kernels.IntGemm;
import dev.nemotron4j.kernels.Silu;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernels give the same bits interpreted as compiled: the same prompt must give the same logits on a model's
 * first request as on its hundredth. A JVM run with {@code -Xint} prints the outputs of every format's kernels, and
 * this JVM, with the kernels hot, must print the same.
 */
class KernelDeterminismTest {
    private static final GGMLType[] TYPES = {GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0,
            GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K};
    /**
     * Rows of a whole packed group plus a tail, wider than the four-row half-float kernel needs: enough sums that
     * one kernel summing its lanes in another order changes some of them.
     */
    private static final int ROWS = 32;
    private static final int COLS = 1280;
    private static final int PROMPT = 69;
    private static final int HEAD_DIM = 64;
    private static final int POSITIONS = 40;

    @Test
    void interpretedKernelsGiveTheBitsOfCompiledOnes() throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xint", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        // The same vector width as this JVM, where a run narrows it (-XX:UseAVX=2, -XX:MaxVectorSize).
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:UseAVX") || a.startsWith("-XX:MaxVectorSize")).forEach(command::add);
        command.add(Kernels.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Kernels kernels = new Kernels();
        for (int i = 0; i < 2000; i++) {
            kernels.run();
        }
        byte[] printed = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), "the interpreted run did not finish");
        String interpreted = new String(printed, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("WARNING")).reduce("", (a, b) -> a + b + "\n");
        assertEquals(0, process.exitValue(), interpreted);
        assertEquals(kernels.run(), interpreted);
    }

    /** Every format's float and integer matmuls, the integer prompt product, the gated SiLU and attention. */
    static final class Kernels {
        private final float[] x = TestTensors.gaussian(2 * COLS, 1);
        /** A prompt for the integer prompt product: a full block of 64 vectors and a partial one. */
        private final float[] prompt = TestTensors.gaussian(PROMPT * COLS, 7);
        private final Q8Activations[] quantized = {new Q8Activations(), new Q8Activations()};
        private final WeightTensor[] tensors = new WeightTensor[TYPES.length];
        private final PackedTensor[] packed = new PackedTensor[TYPES.length];
        private final float[] gate = TestTensors.gaussian(1000, 2);
        private final float[] up = TestTensors.gaussian(1000, 3);
        /** Eight query rows of two heads at positions 32 … 39 of one sequence, as a prompt's last tile. */
        private final float[] queries = TestTensors.gaussian(8 * 2 * HEAD_DIM, 4);
        private final float[][] keys = new float[8][];
        private final float[][] values = new float[8][];
        private final int[] positions = {32, 33, 34, 35, 36, 37, 38, 39};

        Kernels() {
            for (int n = 1; n <= 2; n++) {
                quantized[n - 1].quantize(x, n, COLS);
            }
            for (int i = 0; i < TYPES.length; i++) {
                tensors[i] = TestTensors.random(TYPES[i], ROWS, COLS, TYPES[i].id);
                packed[i] = PackedTensor.packs(TYPES[i]) ? TestTensors.pack(tensors[i]) : null;
            }
            for (int i = 0; i < gate.length; i++) {
                gate[i] *= 40f;
            }
            int stride = Attention.keyStride(POSITIONS);
            float[] keyRows = TestTensors.gaussian(POSITIONS * 2 * HEAD_DIM, 5);
            float[] keyCache = new float[2 * HEAD_DIM * stride];
            for (int j = 0; j < POSITIONS; j++) {
                for (int c = 0; c < 2 * HEAD_DIM; c++) {
                    int at = Attention.keyOffset(c / HEAD_DIM, j, HEAD_DIM, stride) + c % HEAD_DIM * Attention.KEY_BLOCK;
                    keyCache[at] = 3f * keyRows[j * 2 * HEAD_DIM + c];
                }
            }
            Arrays.fill(keys, keyCache);
            Arrays.fill(values, TestTensors.gaussian(POSITIONS * 2 * HEAD_DIM, 6));
        }

        /** The outputs as float bits, a line per kernel. */
        String run() {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < TYPES.length; i++) {
                for (int n = 1; n <= 2; n++) {
                    float[] out = new float[n * ROWS];
                    tensors[i].matmul(x, n, out, 0, ROWS);
                    append(s, TYPES[i] + " float n=" + n, out);
                    if (packed[i] != null) {
                        packed[i].matmul(quantized[n - 1], out, 0, ROWS);
                        append(s, TYPES[i] + " packed n=" + n, out);
                    }
                }
                if (packed[i] != null && IntGemm.supports(packed[i])) {
                    float[] out = new float[PROMPT * ROWS];
                    IntGemm.matmul(packed[i], prompt, PROMPT, out);
                    append(s, TYPES[i] + " prompt", out);
                }
            }
            float[] silu = gate.clone();
            Silu.gate(silu, up, silu.length);
            append(s, "silu", silu);
            float[] attention = new float[queries.length];
            Attention.attendAll(queries, keys, values, positions, 2 * HEAD_DIM, 2, 1, HEAD_DIM, 8, attention);
            append(s, "attention", attention);
            return s.toString();
        }

        public static void main(String[] args) {
            System.out.print(new Kernels().run());
        }
    }

    private static void append(StringBuilder s, String what, float[] values) {
        s.append(what).append(':');
        for (float v : values) {
            s.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(v)));
        }
        s.append('\n');
    }
}
