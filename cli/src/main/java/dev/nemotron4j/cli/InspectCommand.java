package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFArray;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.model.LoadOptions;
import dev.nemotron4j.model.Model;
import dev.nemotron4j.model.ModelConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model's architecture, hyper-parameters, parameter count, tensors and metadata.")
final class InspectCommand implements Callable<Integer> {
    /** Metadata arrays longer than this are summarised (vocabularies hold 100k+ entries). */
    private static final int ARRAY_PREVIEW = 8;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true,
            description = "GGUF file, HF model directory, a weights file in one, or a Hugging Face name owner/name")
    String model;

    @Option(names = "--json", description = "print one JSON object for machine use")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (Model m = Model.load(ModelOptions.resolve(model), LoadOptions.DEFAULT.withPack(false))) {
            ObjectNode report = report(m);
            PrintWriter out = spec.commandLine().getOut();
            ObjectMapper mapper = new ObjectMapper();
            if (json) {
                out.println(mapper.writeValueAsString(report));
            } else {
                printReadable(out, report, m);
            }
            out.flush();
        }
        return 0;
    }

    private static ObjectNode report(Model m) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("path", m.file().path().toString());
        root.put("format", m.file() instanceof GGUFFile ? "gguf" : "hf");
        root.put("architecture", m.config().architecture());
        ObjectNode config = root.putObject("config");
        for (RecordComponent c : ModelConfig.class.getRecordComponents()) {
            try {
                config.putPOJO(c.getName(), c.getAccessor().invoke(m.config()).toString());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        root.put("parameters", m.parameterCount());
        Map<String, long[]> byType = new TreeMap<>();
        ArrayNode tensors = root.putArray("tensors");
        for (TensorEntry t : m.file().tensors().values()) {
            long bytes = t.data().byteSize();
            ObjectNode node = tensors.addObject();
            node.put("name", t.name());
            node.put("type", t.type().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            node.put("bytes", bytes);
            long[] agg = byType.computeIfAbsent(t.type().name(), k -> new long[2]);
            agg[0]++;
            agg[1] += bytes;
        }
        ObjectNode types = root.putObject("tensor_types");
        byType.forEach((type, agg) -> types.putObject(type).put("count", agg[0]).put("bytes", agg[1]));
        if (m.file() instanceof GGUFFile gguf) {
            ObjectNode md = root.putObject("metadata");
            gguf.metadata().forEach((key, value) -> md.set(key, metadataJson(mapper, value)));
        } else if (m.hfConfig() != null) {
            root.set("hf_config", m.hfConfig());
        }
        return root;
    }

    private static JsonNode metadataJson(ObjectMapper mapper, Object value) {
        if (value instanceof GGUFArray array) {
            int n = array.length();
            ArrayNode items = mapper.createArrayNode();
            for (int i = 0; i < Math.min(n, ARRAY_PREVIEW); i++) {
                items.add(metadataJson(mapper, Array.get(array.values(), i)));
            }
            if (n <= ARRAY_PREVIEW) {
                return items;
            }
            ObjectNode summary = mapper.createObjectNode();
            summary.put("array_of", array.elementType().name());
            summary.put("length", n);
            summary.set("first", items);
            return summary;
        }
        return mapper.valueToTree(value);
    }

    private static void printReadable(PrintWriter out, ObjectNode r, Model m) throws Exception {
        out.printf("model         %s (%s)%n", r.get("path").asText(), r.get("format").asText());
        out.printf("architecture  %s%n", r.get("architecture").asText());
        out.printf("parameters    %,d%n", r.get("parameters").asLong());
        out.println();
        out.println("hyper-parameters");
        r.get("config").properties().forEach(e -> out.printf("  %-15s %s%n", e.getKey(), e.getValue().asText()));
        out.println();
        out.println("tensor types");
        r.get("tensor_types").properties().forEach(e -> out.printf("  %-6s %5d tensors  %,15d bytes%n", e.getKey(),
                e.getValue().get("count").asLong(), e.getValue().get("bytes").asLong()));
        out.println();
        out.println("tensors");
        for (JsonNode t : r.get("tensors")) {
            out.printf("  %-48s %-5s %-20s %,14d bytes%n", t.get("name").asText(), t.get("type").asText(),
                    t.get("shape").toString(), t.get("bytes").asLong());
        }
        out.println();
        if (r.has("metadata")) {
            out.println("metadata");
            r.get("metadata").properties().forEach(e -> out.printf("  %-45s %s%n", e.getKey(), e.getValue()));
        } else if (r.has("hf_config")) {
            out.println("config.json");
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(m.hfConfig()).indent(2).stripTrailing());
        }
    }
}
