package dev.nemotron4j.formats.pytorch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes byte by byte, so tests can build exactly the (hostile or odd) pickles they need. */
final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBuilder op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleBuilder u8(int v) {
        out.write(v);
        return this;
    }

    PickleBuilder i32(int v) {
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
        return this;
    }

    PickleBuilder i64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    PickleBuilder raw(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    PickleBuilder proto(int p) {
        return op(0x80).u8(p);
    }

    /** BINUNICODE. */
    PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').i32(b.length).raw(b);
    }

    PickleBuilder shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op(0x8c).u8(b.length).raw(b);
    }

    /** BININT1. */
    PickleBuilder int1(int v) {
        return op('K').u8(v);
    }

    PickleBuilder global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    PickleBuilder stackGlobal(String module, String name) {
        return shortStr(module).shortStr(name).op(0x93);
    }

    /** {@code _rebuild_tensor_v2(('storage', torch.<storage>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
    PickleBuilder tensor(String storage, String key, int numel, int offset, int[] size, int[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").op('(');
        op('(').str("storage").global("torch", storage).str(key).str("cpu").op('J').i32(numel).op('t').op('Q');
        op('J').i32(offset);
        op('(');
        for (int s : size) {
            op('J').i32(s);
        }
        op('t').op('(');
        for (int s : stride) {
            op('J').i32(s);
        }
        op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R');
        return op('t').op('R');
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
