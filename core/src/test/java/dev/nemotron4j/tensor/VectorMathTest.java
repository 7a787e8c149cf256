package dev.nemotron4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorMathTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    @Test
    void theHalvingsAddTheLanesInTheScalarReferencesOrder() {
        Random random = new Random(3);
        float[] lanes = new float[F.length()];
        int orderMatters = 0;
        for (int trial = 0; trial < 2000; trial++) {
            float sequential = 0f;
            for (int i = 0; i < lanes.length; i++) {
                lanes[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7)));
                sequential += lanes[i];
            }
            FloatVector v = FloatVector.fromArray(F, lanes, 0);
            for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
                v = v.add(v.rearrange(halving));
            }
            float sum = v.lane(0);
            assertEquals(VectorMath.sumScalar(lanes), sum, 0f, "trial " + trial);
            if (sum != sequential) {
                orderMatters++;
            }
        }
        assertTrue(orderMatters > 100, "the data should tell the orders apart: " + orderMatters);
    }

    @Test
    void fourVectorsFoldedTogetherGiveTheSumsOfTheirHalvings() {
        Random random = new Random(5);
        int lanes = F.length();
        for (int trial = 0; trial < 500; trial++) {
            float[][] v = new float[4][lanes];
            FloatVector[] a = new FloatVector[4];
            for (int k = 0; k < 4; k++) {
                for (int i = 0; i < lanes; i++) {
                    v[k][i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7)));
                }
                a[k] = FloatVector.fromArray(F, v[k], 0);
            }
            FloatVector a01 = a[0].blend(a[1], VectorMath.UPPER_HALF)
                    .add(a[1].blend(a[0], VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
            FloatVector a23 = a[2].blend(a[3], VectorMath.UPPER_HALF)
                    .add(a[3].blend(a[2], VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
            FloatVector sums = a01.blend(a23, VectorMath.ODD_QUARTERS)
                    .add(a23.blend(a01, VectorMath.ODD_QUARTERS).rearrange(VectorMath.HALVINGS[1]));
            for (int h = 2; h < VectorMath.HALVINGS.length; h++) {
                sums = sums.add(sums.rearrange(VectorMath.HALVINGS[h]));
            }
            int[] lane = {0, lanes / 2, lanes / 4, 3 * lanes / 4};
            for (int k = 0; k < 4; k++) {
                assertEquals(VectorMath.sumScalar(v[k]), sums.lane(lane[k]), 0f, "trial " + trial + " vector " + k);
            }
        }
    }

    @Test
    void expIsWithinTwoUlpOfMathExpOverTheWholeRange() {
        Random random = new Random(4);
        float[] x = new float[F.length() * 4000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (random.nextFloat() * 2f - 1f) * 110f;
        }
        float[] edges = {0f, -0f, 1f, -1f, 88.72f, 88.7228f, 88.73f, 88.8f, 89f, 1000f, -87.33f, -87.34f, -100f,
                -103.9f, -104f, -105f, -1000f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
                0.34657359f, -0.34657359f, 1e-8f};
        System.arraycopy(edges, 0, x, 0, edges.length);
        float[] e = x.clone();
        VectorMath.expInPlace(e, 0, e.length, 0f);
        for (int i = 0; i < x.length; i++) {
            float expected = (float) Math.exp(x[i]);
            float ulp = Math.max(Math.ulp(expected), Float.MIN_VALUE);
            if (Float.isInfinite(expected)) {
                assertEquals(expected, e[i], "exp(" + x[i] + ")");
            } else {
                assertTrue(Math.abs(e[i] - expected) <= 2 * ulp, "exp(" + x[i] + ") = " + e[i] + ", not " + expected);
            }
        }
        float[] nan = new float[F.length()];
        Arrays.fill(nan, Float.NaN);
        VectorMath.expInPlace(nan, 0, nan.length, 0f);
        assertTrue(Float.isNaN(nan[0]), "exp(NaN) = " + nan[0]);
    }

    @Test
    void expSubtractsTheShiftFirstAndTakesOnlyWholeVectors() {
        float[] a = new float[3 * F.length()];
        for (int i = 0; i < a.length; i++) {
            a[i] = i * 0.25f;
        }
        float[] shifted = a.clone();
        VectorMath.expInPlace(shifted, F.length(), 3 * F.length(), 5f);
        for (int i = 0; i < a.length; i++) {
            float expected = i < F.length() ? a[i] : (float) Math.exp(a[i] - 5f);
            assertEquals(expected, shifted[i], 2 * Math.ulp(expected), "value " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> VectorMath.expInPlace(a, 0, F.length() + 1, 0f));
    }
}
