package dev.nemotron4j.formats.pytorch;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.tensor.GGMLType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader for PyTorch state dicts that executes nothing. It interprets the binary opcodes of protocols 1-5
 * into plain Java values (Long or BigInteger, Double, Boolean, String, byte[], null, {@link Tuple}, ArrayList,
 * LinkedHashMap, LinkedHashSet) and allows exactly these globals, checked by name when the GLOBAL/STACK_GLOBAL/INST
 * opcode is read, never resolved or loaded: {@code collections.OrderedDict} (becomes a LinkedHashMap),
 * {@code torch._utils._rebuild_tensor_v2} and {@code _rebuild_parameter} (become {@link PickledTensor}) and the
 * storage classes {@code torch.{Float,Half,BFloat16}Storage} inside persistent ids
 * {@code ('storage', type, key, location, numel)} (become {@link StorageRef}). Any other global is an
 * {@link UnsafePickleException}; unsupported opcodes and malformed input are {@link ModelFormatException}s.
 */
public final class RestrictedUnpickler {
    private static final int HIGHEST_PROTOCOL = 5;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_BE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final Global ORDERED_DICT = new Global("collections", "OrderedDict");
    private static final Global REBUILD_TENSOR = new Global("torch._utils", "_rebuild_tensor_v2");
    private static final Global REBUILD_PARAMETER = new Global("torch._utils", "_rebuild_parameter");
    private static final Map<Global, GGMLType> STORAGE_TYPES = Map.of(
            new Global("torch", "FloatStorage"), GGMLType.F32,
            new Global("torch", "HalfStorage"), GGMLType.F16,
            new Global("torch", "BFloat16Storage"), GGMLType.BF16);
    private static final Set<Global> ALLOWED;

    static {
        Set<Global> allowed = new LinkedHashSet<>(List.of(ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER));
        allowed.addAll(STORAGE_TYPES.keySet());
        ALLOWED = Collections.unmodifiableSet(allowed);
    }

    /** A whitelisted global, by name only. */
    public record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A Python tuple. */
    public record Tuple(List<Object> items) {
        public Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }
    }

    /** A storage named by a persistent id: its element type, archive key ({@code data/<key>}) and element count. */
    public record StorageRef(GGMLType type, String key, long numel) {}

    /** A tensor: a contiguous row-major view of {@code storage} starting at element {@code offset}. */
    public record PickledTensor(StorageRef storage, long offset, long[] shape) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    private final MemorySegment in;
    private final String source;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long pos;

    private RestrictedUnpickler(MemorySegment in, String source) {
        this.in = in;
        this.source = source;
    }

    /** Reads the pickle in {@code data}; {@code source} names it in errors (file and entry). */
    public static Object load(MemorySegment data, String source) {
        return new RestrictedUnpickler(data, source).run();
    }

    public static Object load(byte[] data, String source) {
        return load(MemorySegment.ofArray(data), source);
    }

    private Object run() {
        while (true) {
            long at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > HIGHEST_PROTOCOL) {
                        throw error("pickle protocol " + proto + " is not supported (highest " + HIGHEST_PROTOCOL + ")");
                    }
                }
                case 0x95 -> { // FRAME: a length hint only
                    long len = i64();
                    if (len < 0 || len > in.byteSize() - pos) {
                        throw error("frame of " + Long.toUnsignedString(len) + " bytes runs past the end — truncated");
                    }
                }
                case '.' -> { // STOP
                    return pop("STOP");
                }
                case '(' -> marks.add(stack.size()); // MARK
                case '0' -> pop("POP");
                case '1' -> popMark("POP_MARK");
                case '2' -> push(peek("DUP"));
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.get(I32, take(4)));
                case 'K' -> push((long) u8());
                case 'M' -> push((long) (in.get(I16, take(2)) & 0xFFFF));
                case 0x8a -> push(longOf(u8())); // LONG1
                case 0x8b -> push(longOf(length(in.get(I32, take(4)) & 0xFFFFFFFFL, "LONG4"))); // LONG4
                case 'G' -> push(in.get(F64_BE, take(8))); // BINFLOAT
                case 'X' -> push(utf8(in.get(I32, take(4)) & 0xFFFFFFFFL)); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(i64())); // BINUNICODE8
                case 'T' -> push(latin1(in.get(I32, take(4)))); // BINSTRING (signed length)
                case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
                case 'B' -> push(bytes(in.get(I32, take(4)) & 0xFFFFFFFFL)); // BINBYTES
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x8e, 0x96 -> push(bytes(i64())); // BINBYTES8, BYTEARRAY8
                case '}' -> push(new LinkedHashMap<>());
                case ']' -> push(new ArrayList<>());
                case ')' -> push(new Tuple(List.of()));
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 'd' -> push(dictOf(popMark("DICT")));
                case 'l' -> push(new ArrayList<>(popMark("LIST")));
                case 't' -> push(new Tuple(popMark("TUPLE")));
                case 0x85 -> push(new Tuple(popN(1, "TUPLE1")));
                case 0x86 -> push(new Tuple(popN(2, "TUPLE2")));
                case 0x87 -> push(new Tuple(popN(3, "TUPLE3")));
                case 0x91 -> push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark("FROZENSET"))));
                case 'a' -> {
                    Object v = pop("APPEND");
                    list(peek("APPEND"), "APPEND").add(v);
                }
                case 'e' -> {
                    List<Object> items = popMark("APPENDS");
                    list(peek("APPENDS"), "APPENDS").addAll(items);
                }
                case 0x90 -> {
                    List<Object> items = popMark("ADDITEMS");
                    if (!(peek("ADDITEMS") instanceof Set<?>)) {
                        throw error("ADDITEMS on a " + typeName(peek("ADDITEMS")));
                    }
                    @SuppressWarnings("unchecked") Set<Object> set = (Set<Object>) peek("ADDITEMS");
                    set.addAll(items);
                }
                case 's' -> {
                    Object value = pop("SETITEM");
                    Object key = pop("SETITEM");
                    map(peek("SETITEM"), "SETITEM").put(key, value);
                }
                case 'u' -> {
                    List<Object> kv = popMark("SETITEMS");
                    Map<Object, Object> target = map(peek("SETITEMS"), "SETITEMS");
                    target.putAll(dictOf(kv));
                }
                case 'q' -> memo.put((long) u8(), peek("BINPUT"));
                case 'r' -> memo.put(in.get(I32, take(4)) & 0xFFFFFFFFL, peek("LONG_BINPUT"));
                case 0x94 -> memo.put((long) memo.size(), peek("MEMOIZE"));
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(in.get(I32, take(4)) & 0xFFFFFFFFL));
                case 'c' -> push(global(line(), line()));
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop("STACK_GLOBAL");
                    Object module = pop("STACK_GLOBAL");
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings, got " + typeName(module) + " and " + typeName(name));
                    }
                    push(global(m, n));
                }
                case 'i' -> { // INST: module and name lines, arguments since the mark
                    Global g = global(line(), line());
                    push(call(g, popMark("INST")));
                }
                case 'o' -> { // OBJ: class and arguments since the mark
                    List<Object> items = popMark("OBJ");
                    if (items.isEmpty()) {
                        throw error("OBJ without a class");
                    }
                    push(call(items.get(0), items.subList(1, items.size())));
                }
                case 'R' -> {
                    Object args = pop("REDUCE");
                    push(call(pop("REDUCE"), tuple(args, "REDUCE").items()));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                    Object args = pop("NEWOBJ");
                    push(call(pop("NEWOBJ"), tuple(args, "NEWOBJ").items()));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop("NEWOBJ_EX");
                    Object args = pop("NEWOBJ_EX");
                    if (!(kwargs instanceof Map<?, ?> kw) || !kw.isEmpty()) {
                        throw error("NEWOBJ_EX with keyword arguments is not supported");
                    }
                    push(call(pop("NEWOBJ_EX"), tuple(args, "NEWOBJ_EX").items()));
                }
                case 'b' -> { // BUILD: only dicts, whose attributes (e.g. a state dict's _metadata) carry no weights
                    pop("BUILD");
                    if (!(peek("BUILD") instanceof Map<?, ?>)) {
                        throw error("BUILD on a " + typeName(peek("BUILD")) + " is not supported");
                    }
                }
                case 'Q' -> push(persistentLoad(pop("BINPERSID")));
                case 0x82, 0x83, 0x84 -> throw new UnsafePickleException(source + ": pickle uses the copyreg extension"
                        + " registry (opcode EXT at byte " + at + "), which can name any global; refused");
                default -> {
                    String name = opcodeName(op);
                    throw error(name == null ? "unknown pickle opcode 0x" + Integer.toHexString(op)
                            : "unsupported pickle opcode " + name + " (0x" + Integer.toHexString(op) + ")");
                }
            }
        }
    }

    private Global global(String module, String name) {
        Global g = new Global(module, name);
        if (!ALLOWED.contains(g)) {
            throw new UnsafePickleException(source + ": pickle references global " + g + ", which is not allowed"
                    + " (only " + ALLOWED + "); refusing to load it");
        }
        return g;
    }

    private Object call(Object callable, List<Object> args) {
        if (ORDERED_DICT.equals(callable)) {
            if (!args.isEmpty()) {
                throw error("collections.OrderedDict called with arguments " + args + "; expected none");
            }
            return new LinkedHashMap<>();
        }
        if (REBUILD_TENSOR.equals(callable)) {
            return rebuildTensor(args);
        }
        if (REBUILD_PARAMETER.equals(callable)) {
            if (args.size() < 1 || !(args.get(0) instanceof PickledTensor t)) {
                throw error("torch._utils._rebuild_parameter needs a tensor as first argument");
            }
            return t;
        }
        throw error("cannot call " + (callable instanceof Global ? callable : "a " + typeName(callable)));
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private PickledTensor rebuildTensor(List<Object> args) {
        if (args.size() < 4 || args.size() > 7 || !(args.get(0) instanceof StorageRef storage)
                || !(args.get(1) instanceof Long offset)) {
            throw error("torch._utils._rebuild_tensor_v2 called with unexpected arguments " + describe(args));
        }
        long[] shape = longs(args.get(2), "size");
        long[] stride = longs(args.get(3), "stride");
        if (shape.length != stride.length) {
            throw error("tensor size " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride)
                    + " differ in rank");
        }
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            // A dimension of size 1 may have any stride and still be contiguous, as in torch.
            if (shape[i] != 1 && stride[i] != expected) {
                throw error("tensor of size " + Arrays.toString(shape) + " has stride " + Arrays.toString(stride)
                        + ", not contiguous row-major; re-save it with .contiguous()");
            }
            expected = multiply(expected, shape[i]);
        }
        if (offset < 0 || offset > storage.numel() || expected > storage.numel() - offset) {
            throw error("tensor of size " + Arrays.toString(shape) + " at offset " + offset
                    + " exceeds its storage " + storage.key() + " of " + storage.numel() + " elements");
        }
        return new PickledTensor(storage, offset, shape);
    }

    private long[] longs(Object o, String what) {
        List<Object> items = tuple(o, "tensor " + what).items();
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long v) || v < 0) {
                throw error("tensor " + what + " has invalid element " + items.get(i));
            }
            out[i] = v;
        }
        return out;
    }

    /** {@code ('storage', storage class, key, location, numel)} as torch.save writes it. */
    private StorageRef persistentLoad(Object pid) {
        List<Object> t = tuple(pid, "persistent id").items();
        if (t.size() != 5 || !"storage".equals(t.get(0)) || !(t.get(2) instanceof String key)
                || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw error("unsupported persistent id " + describe(t));
        }
        GGMLType type = STORAGE_TYPES.get(t.get(1));
        if (type == null) {
            throw error("storage type " + t.get(1) + " is not supported (only " + STORAGE_TYPES.keySet() + ")");
        }
        return new StorageRef(type, key, numel);
    }

    private long multiply(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw error("tensor size overflows 64 bits");
        }
    }

    private Map<Object, Object> dictOf(List<Object> kv) {
        if (kv.size() % 2 != 0) {
            throw error("odd number of items for a dict");
        }
        Map<Object, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.size(); i += 2) {
            m.put(kv.get(i), kv.get(i + 1));
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object o, String op) {
        if (!(o instanceof LinkedHashMap<?, ?>)) {
            throw error(op + " on a " + typeName(o));
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, String op) {
        if (!(o instanceof ArrayList<?>)) {
            throw error(op + " on a " + typeName(o));
        }
        return (List<Object>) o;
    }

    private Tuple tuple(Object o, String what) {
        if (!(o instanceof Tuple t)) {
            throw error(what + " should be a tuple, got a " + typeName(o));
        }
        return t;
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw error("memo entry " + index + " was never stored");
        }
        return memo.get(index);
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object peek(String op) {
        if (stack.size() <= currentMark()) {
            throw error(op + " on an empty stack — malformed pickle");
        }
        return stack.getLast();
    }

    private Object pop(String op) {
        Object o = peek(op);
        stack.removeLast();
        return o;
    }

    private List<Object> popN(int n, String op) {
        if (stack.size() - currentMark() < n) {
            throw error(op + " needs " + n + " stack items — malformed pickle");
        }
        List<Object> top = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return top;
    }

    private int currentMark() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private List<Object> popMark(String op) {
        if (marks.isEmpty()) {
            throw error(op + " without a MARK — malformed pickle");
        }
        int mark = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(mark, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    private long take(long n) {
        if (n < 0 || n > in.byteSize() - pos) {
            throw error("truncated pickle: needs " + n + " bytes at byte " + pos + ", has " + (in.byteSize() - pos));
        }
        long at = pos;
        pos += n;
        return at;
    }

    private int u8() {
        return in.get(ValueLayout.JAVA_BYTE, take(1)) & 0xFF;
    }

    private long i64() {
        return in.get(I64, take(8));
    }

    private long length(long n, String what) {
        if (n < 0 || n > in.byteSize() - pos || n > Integer.MAX_VALUE - 8) {
            throw error("truncated pickle: " + what + " of " + Long.toUnsignedString(n) + " bytes at byte " + pos
                    + " runs past the end");
        }
        return n;
    }

    private byte[] bytes(long n) {
        return in.asSlice(take(length(n, "data")), n).toArray(ValueLayout.JAVA_BYTE);
    }

    private String utf8(long n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(long n) {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** A newline-terminated ASCII line, as GLOBAL and INST use for module and name. */
    private String line() {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return sb.toString();
            }
            if (sb.length() > 1024) {
                throw error("global name longer than 1024 bytes");
            }
            sb.append((char) c);
        }
    }

    /** Little-endian two's complement integer of {@code n} bytes. */
    private Object longOf(long n) {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static String typeName(Object o) {
        return switch (o) {
            case null -> "None";
            case Tuple _ -> "tuple";
            case Global g -> "global " + g;
            default -> o.getClass().getSimpleName();
        };
    }

    private static String describe(List<Object> items) {
        List<String> names = new ArrayList<>();
        for (Object o : items) {
            names.add(o instanceof String || o instanceof Long ? String.valueOf(o) : typeName(o));
        }
        return names.toString();
    }

    /** Names of the opcodes that exist but that state dicts never need (text protocol 0, out-of-band buffers). */
    private static String opcodeName(int op) {
        return switch (op) {
            case 'I' -> "INT";
            case 'L' -> "LONG";
            case 'S' -> "STRING";
            case 'V' -> "UNICODE";
            case 'F' -> "FLOAT";
            case 'P' -> "PERSID";
            case 'p' -> "PUT";
            case 'g' -> "GET";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            default -> null;
        };
    }

    private ModelFormatException error(String problem) {
        return new ModelFormatException(source + ": " + problem + " (at pickle byte " + pos + ")");
    }
}
