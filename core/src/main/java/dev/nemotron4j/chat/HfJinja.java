package dev.nemotron4j.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import jinjava.javax.el.CompositeELResolver;

import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Map;

/**
 * The Jinjava environment set up the way Hugging Face transformers sets up jinja2 for chat templates:
 * {@code trim_blocks} and {@code lstrip_blocks}, loop controls (Jinjava has {@code break}/{@code continue}),
 * {@code raise_exception}, {@code strftime_now}, a Python-compatible {@code tojson}, Python string methods, plus
 * limits so that a hostile template cannot exhaust memory (the render timeout lives in {@link ChatTemplate}).
 */
final class HfJinja {
    /** jinja2's sandbox caps {@code range()} at this many items. */
    static final int MAX_RANGE = 100_000;
    static final long MAX_OUTPUT_BYTES = 64L << 20;

    private static final Jinjava JINJAVA = create();

    private HfJinja() {
    }

    static Jinjava jinjava() {
        return JINJAVA;
    }

    private static Jinjava create() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withMaxOutputSize(MAX_OUTPUT_BYTES)
                .withMaxStringLength(MAX_OUTPUT_BYTES)
                .withRangeLimit(MAX_RANGE)
                .withMaxRenderDepth(10)
                .withEnableRecursiveMacroCalls(false)
                .withLocale(Locale.ROOT)
                // jinja2 behaviour where Jinjava's defaults differ: {{- -}} trims, Python operator precedence,
                // None items survive in loops.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.registerFilter(new ToJson());
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", HfJinja.class, "raiseException",
                String.class));
        jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", HfJinja.class, "strftimeNow",
                String.class));
        return jinjava;
    }

    /** {@code raise_exception(msg)}: templates use it to reject a conversation; the message reaches the caller. */
    public static Object raiseException(String message) {
        throw new TemplateRaised(message);
    }

    /** {@code strftime_now(fmt)}: the local time formatted with a Python strftime pattern (dated system prompts). */
    public static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format, Locale.ENGLISH);
    }

    /** Carries a {@code raise_exception} message through Jinjava's error wrapping. */
    static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message, null, false, false);
        }
    }

    /** {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)} as in transformers. */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ensureAscii = option(args, kwargs, 0, "ensure_ascii");
            Object indent = option(args, kwargs, 1, "indent");
            Object separators = option(args, kwargs, 2, "separators");
            Object sortKeys = option(args, kwargs, 3, "sort_keys");
            String indentText = switch (indent) {
                case null -> null;
                case Number n -> " ".repeat(n.intValue());
                default -> indent.toString();
            };
            String itemSeparator = null;
            String keySeparator = null;
            if (separators instanceof java.util.List<?> pair && pair.size() == 2) {
                itemSeparator = String.valueOf(pair.get(0));
                keySeparator = String.valueOf(pair.get(1));
            }
            return PythonJson.dumps(var, indentText, itemSeparator, keySeparator,
                    Boolean.TRUE.equals(sortKeys), Boolean.TRUE.equals(ensureAscii));
        }

        private static Object option(Object[] args, Map<String, Object> kwargs, int position, String name) {
            if (kwargs.containsKey(name)) {
                return kwargs.get(name);
            }
            return args != null && position < args.length ? args[position] : null;
        }
    }
}
