package dev.nemotron4j.bench;

import dev.nemotron4j.kernels.Silu;
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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/** The gated SiLU of one Minitron-8B MLP row (16384 values): vector exponentials against the scalar reference. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SiluBenchmark {
    @Param({"vector", "scalar"})
    public String kernel;

    private final float[] source = new float[16384];
    private final float[] gate = new float[16384];
    private final float[] up = new float[16384];

    @Setup
    public void setUp() {
        Random random = new Random(1);
        for (int i = 0; i < source.length; i++) {
            source[i] = (float) random.nextGaussian() * 4f;
            up[i] = (float) random.nextGaussian();
        }
    }

    @Benchmark
    public float[] gate() {
        System.arraycopy(source, 0, gate, 0, gate.length);
        if (kernel.equals("vector")) {
            Silu.gate(gate, up, gate.length);
        } else {
            Silu.gateScalar(gate, up, 0, gate.length);
        }
        return gate;
    }
}
