package dev.nemotron4j.formats.pytorch;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.pytorch.RestrictedUnpickler.PickledTensor;
import dev.nemotron4j.formats.pytorch.RestrictedUnpickler.Tuple;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipFile;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static dev.nemotron4j.formats.FormatTestSupport.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class RestrictedUnpicklerTest {

    @ParameterizedTest
    @CsvSource({"os, system", "builtins, eval", "__builtin__, exec", "posix, system", "subprocess, Popen",
            "torch.storage, _load_from_bytes", "torch, load", "collections, defaultdict"})
    void refusesGlobalsOutsideTheWhitelist(String module, String name) {
        // The dangerous call is fully formed: GLOBAL, arguments, REDUCE. It must be refused at the GLOBAL.
        byte[] viaGlobal = new PickleBuilder().proto(2).global(module, name).str("echo pwned").op(0x85).op('R')
                .op('.').bytes();
        assertFails(UnsafePickleException.class, () -> RestrictedUnpickler.load(viaGlobal, "evil.pkl"),
                "evil.pkl", module + "." + name);
        byte[] viaStackGlobal = new PickleBuilder().proto(4).stackGlobal(module, name).str("echo pwned").op(0x85)
                .op('R').op('.').bytes();
        assertFails(UnsafePickleException.class, () -> RestrictedUnpickler.load(viaStackGlobal, "evil.pkl"),
                module + "." + name);
        byte[] viaInst = new PickleBuilder().proto(2).op('(').str("echo pwned").op('i')
                .raw((module + "\n" + name + "\n").getBytes()).op('.').bytes();
        assertFails(UnsafePickleException.class, () -> RestrictedUnpickler.load(viaInst, "evil.pkl"),
                module + "." + name);
    }

    @Test
    void refusesExtensionRegistry() {
        byte[] ext = new PickleBuilder().proto(2).op(0x82).u8(1).op('.').bytes();
        assertFails(UnsafePickleException.class, () -> RestrictedUnpickler.load(ext, "x.pkl"), "extension registry");
    }

    @Test
    void unknownAndUnsupportedOpcodes() {
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().proto(2).op(0xff).bytes(), "x.pkl"),
                "x.pkl", "unknown", "0xff");
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().op('p').raw("0\n".getBytes()).bytes(), "x.pkl"),
                "PUT");
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().proto(6).bytes(), "x.pkl"), "protocol 6");
    }

    @Test
    void truncatedGoldenPickle() throws Exception {
        byte[] pkl;
        try (ZipFile z = new ZipFile(golden().resolve("tiny-nemotron/hf-pt/pytorch_model.bin").toFile())) {
            pkl = z.getInputStream(z.getEntry("pytorch_model/data.pkl")).readAllBytes();
        }
        assertInstanceOf(Map.class, RestrictedUnpickler.load(pkl, "data.pkl"));
        for (int cut : new int[] {0, 1, 7, 40, pkl.length / 2, pkl.length - 1}) {
            byte[] part = Arrays.copyOf(pkl, cut);
            assertFails(ModelFormatException.class, () -> RestrictedUnpickler.load(part, "data.pkl"),
                    "data.pkl", "truncated");
        }
    }

    @Test
    void malformedStacks() {
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().proto(2).op('t').op('.').bytes(), "x.pkl"),
                "without a MARK");
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().proto(2).op('s').op('.').bytes(), "x.pkl"),
                "empty stack");
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().proto(2).op('h').u8(3).op('.').bytes(), "x.pkl"),
                "memo entry 3");
        assertFails(ModelFormatException.class,
                () -> RestrictedUnpickler.load(new PickleBuilder().proto(2).op('X').i32(1 << 30).bytes(), "x.pkl"),
                "truncated");
        assertFails(ModelFormatException.class, () -> RestrictedUnpickler.load(new PickleBuilder().proto(2)
                .global("torch", "FloatStorage").op(')').op('R').op('.').bytes(), "x.pkl"), "cannot call torch.FloatStorage");
    }

    @Test
    void readsTheValueOpcodes() {
        byte[] p = new PickleBuilder().proto(4).op(0x95).i64(0).op(']').op(0x94).op('(')
                .op(0x88).op(0x89).op('N').op('J').i32(-5).op('M').u8(0x34).u8(0x12)
                .op(0x8a).u8(9).raw(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 1})
                .op('G').raw(new byte[] {0x3f, (byte) 0xf8, 0, 0, 0, 0, 0, 0})
                .op(0x8d).i64(3).raw("hé".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .op('C').u8(2).raw(new byte[] {1, 2})
                .int1(1).int1(2).op(0x86)
                .op('}').shortStr("k").int1(7).op('s')
                .op('e').op('h').u8(0).op('a').op('.').bytes();
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) RestrictedUnpickler.load(p, "x.pkl");
        assertEquals(true, list.get(0));
        assertEquals(false, list.get(1));
        assertNull(list.get(2));
        assertEquals(-5L, list.get(3));
        assertEquals(0x1234L, list.get(4));
        assertEquals(BigInteger.ONE.shiftLeft(64), list.get(5));
        assertEquals(1.5, list.get(6));
        assertEquals("hé", list.get(7));
        assertArrayEquals(new byte[] {1, 2}, (byte[]) list.get(8));
        assertEquals(new Tuple(List.of(1L, 2L)), list.get(9));
        assertEquals(Map.of("k", 7L), list.get(10));
        assertEquals(12, list.size(), "the list appended to itself through the memo");
        assertSame(list, list.get(11));
    }

    @Test
    void rebuildsContiguousTensorsOnly() {
        byte[] ok = new PickleBuilder().proto(2).tensor("HalfStorage", "3", 12, 2, new int[] {2, 5}, new int[] {5, 1})
                .op('.').bytes();
        PickledTensor t = (PickledTensor) RestrictedUnpickler.load(ok, "x.pkl");
        assertEquals(GGMLType.F16, t.storage().type());
        assertEquals("3", t.storage().key());
        assertEquals(2, t.offset());
        assertArrayEquals(new long[] {2, 5}, t.shape());
        byte[] transposed = new PickleBuilder().proto(2)
                .tensor("FloatStorage", "0", 10, 0, new int[] {2, 5}, new int[] {1, 2}).op('.').bytes();
        assertFails(ModelFormatException.class, () -> RestrictedUnpickler.load(transposed, "x.pkl"),
                "not contiguous");
        byte[] tooBig = new PickleBuilder().proto(2)
                .tensor("FloatStorage", "0", 10, 1, new int[] {2, 5}, new int[] {5, 1}).op('.').bytes();
        assertFails(ModelFormatException.class, () -> RestrictedUnpickler.load(tooBig, "x.pkl"), "exceeds its storage");
        byte[] int64 = new PickleBuilder().proto(2)
                .tensor("LongStorage", "0", 10, 0, new int[] {10}, new int[] {1}).op('.').bytes();
        assertFails(UnsafePickleException.class, () -> RestrictedUnpickler.load(int64, "x.pkl"), "torch.LongStorage");
    }
}
