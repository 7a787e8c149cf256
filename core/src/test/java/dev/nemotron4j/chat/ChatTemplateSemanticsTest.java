package dev.nemotron4j.chat;

import dev.nemotron4j.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Jinja behaviour that Hugging Face chat templates rely on, checked against what jinja2 + transformers give. */
class ChatTemplateSemanticsTest {
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("  Hello World  "));

    private static String render(String source) {
        return render(source, Map.of());
    }

    private static String render(String source, Map<String, Object> extra) {
        return ChatTemplate.compile(source, "<s>", "</s>").render(HELLO, null, null, true, extra);
    }

    @Test
    void trimBlocksAndLstripBlocks() {
        assertEquals("a\n  x\nb", render("a\n  {% if true %}\n  x\n  {% endif %}\nb"));
    }

    @Test
    void explicitWhitespaceControl() {
        assertEquals("axb", render("a\n  {%- if true -%}\n  x\n  {%- endif %}\nb"));
        assertEquals("a|b", render("a  {{- '|' -}}  b"));
    }

    @Test
    void stringLiteralEscapesAndNewlines() {
        assertEquals("a\nb\tc'd", render("{{ 'a\\nb\\tc\\'d' }}"));
        assertEquals("x\ny", render("{{ 'x\ny' }}"));
    }

    @Test
    void messageItemAndAttributeAccess() {
        assertEquals("user|Hello World|Hello World",
                render("{{ messages[0]['role'] }}|{{ messages[0]['content'].strip() }}|{{ messages[0].content.strip() }}"));
    }

    @Test
    void specialTokenVariables() {
        assertEquals("<s>|</s>", render("{{ bos_token }}|{{ eos_token }}"));
        assertEquals("[BOS]", render("{{ bos_token }}", Map.of("bos_token", "[BOS]")));
    }

    @Test
    void pythonStringMethods() {
        String s = "{% set s = messages[0].content %}";
        assertEquals("  HELLO WORLD  |  hello world  |Hello World  |  Hello World",
                render(s + "{{ s.upper() }}|{{ s.lower() }}|{{ s.lstrip() }}|{{ s.rstrip() }}"));
        assertEquals("yes|yes|no", render(s + "{{ 'yes' if s.startswith('  He') else 'no' }}|"
                + "{{ 'yes' if s.endswith(('x', 'd  ')) else 'no' }}|{{ 'yes' if s.strip().startswith('World') else 'no' }}"));
        assertEquals("[Hello][World]|[a][b,c]", render(s + "{% for w in s.split() %}[{{ w }}]{% endfor %}|"
                + "{% for w in 'a,b,c'.split(',', 1) %}[{{ w }}]{% endfor %}"));
        assertEquals("They'Re Bill'S Friends|Hexxo|hello|a-b|Abc", render("{{ \"they're bill's friends\".title() }}|"
                + "{{ 'Hello'.replace('l', 'x') }}|{{ 'xxhelloxx'.strip('x') }}|{{ '-'.join(['a', 'b']) }}|"
                + "{{ 'aBC'.capitalize() }}"));
    }

    @Test
    void stripUsesPythonWhitespace() {
        assertEquals("[x]", render("[{{ '\u00a0\u3000 x\u2007\u0085'.strip() }}]"));
    }

    @Test
    void dictItemsAndGet() {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("b", 1);
        tool.put("a", 2);
        assertEquals("b=1;a=2;|2|none", render("{% for k, v in t.items() %}{{ k }}={{ v }};{% endfor %}|"
                + "{{ t.get('a') }}|{{ t.get('zz', 'none') }}", Map.of("t", tool)));
    }

    @Test
    void loopControlsAndLoopVariable() {
        assertEquals("13", render("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}"
                + "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"));
        assertEquals("0:first,1:last,", render("{% for m in ['a', 'b'] %}{{ loop.index0 }}:"
                + "{{ 'first' if loop.first else 'last' }},{% endfor %}"));
    }

    @Test
    void namespaceAssignmentInLoops() {
        assertEquals("2", render("{% set ns = namespace(n=0) %}{% for m in [1, 2] %}{% set ns.n = ns.n + 1 %}"
                + "{% endfor %}{{ ns.n }}"));
    }

    @Test
    void undefinedAndNone() {
        assertEquals("[]|undefined|none|defined", render("[{{ nope }}]|{{ 'defined' if nope is defined else 'undefined' }}"
                + "|{{ 'none' if tools is none else 'tools' }}|{{ 'defined' if add_generation_prompt is defined else '' }}"));
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("zeta", "Grüße \"quoted\" <b>&</b> 😀\n");
        value.put("alpha", List.of(1, 2.5, 1e-05, 1e16, 100.0, true));
        value.put("none", null);
        assertEquals("{\"zeta\": \"Grüße \\\"quoted\\\" <b>&</b> 😀\\n\", \"alpha\": [1, 2.5, 1e-05, 1e+16, 100.0, true], "
                + "\"none\": null}", render("{{ v|tojson }}", Map.of("v", value)));
        assertEquals("{\n  \"zeta\": \"Gr\\u00fc\\u00dfe \\\"quoted\\\" <b>&</b> \\ud83d\\ude00\\n\",\n  \"alpha\": [\n    1,\n"
                        + "    2.5,\n    1e-05,\n    1e+16,\n    100.0,\n    true\n  ],\n  \"none\": null\n}",
                render("{{ v|tojson(indent=2, ensure_ascii=true) }}", Map.of("v", value)));
        assertEquals("{\"alpha\": [1, 2.5, 1e-05, 1e+16, 100.0, true], \"none\": null, \"zeta\": \"Grüße \\\"quoted\\\" <b>&</b> 😀\\n\"}",
                render("{{ v|tojson(sort_keys=true) }}", Map.of("v", value)));
    }

    @Test
    void raiseExceptionCarriesTheTemplateMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(
                "{% if messages[0]['role'] != 'system' %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"));
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void syntaxErrorsNameTheLine() {
        ChatTemplateException unclosed = assertThrows(ChatTemplateException.class,
                () -> ChatTemplate.compile("line one\n{% for m in messages %}{{ m.content }}"));
        assertTrue(unclosed.getMessage().contains("line 2"), unclosed.getMessage());
        assertTrue(unclosed.getMessage().contains("endfor"), unclosed.getMessage());
        ChatTemplateException badTag = assertThrows(ChatTemplateException.class, () -> ChatTemplate.compile("{% frobnicate %}"));
        assertTrue(badTag.getMessage().contains("frobnicate"), badTag.getMessage());
        ChatTemplateException badExpression = assertThrows(ChatTemplateException.class, () -> render("x\n{{ foo( }}"));
        assertTrue(badExpression.getMessage().contains("line 2"), badExpression.getMessage());
    }

    @Test
    void runawayTemplatesAreStopped() {
        ChatTemplate endless = ChatTemplate.compile(
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                .withRenderTimeout(Duration.ofMillis(300));
        ChatTemplateException timeout = assertThrows(ChatTemplateException.class, () -> endless.render(HELLO, true));
        assertTrue(timeout.getMessage().contains("did not finish"), timeout.getMessage());
        ChatTemplateException huge = assertThrows(ChatTemplateException.class, () -> render(
                "{% for i in range(100000) %}{% for j in range(1000) %}0123456789{% endfor %}{% endfor %}"));
        assertTrue(huge.getMessage().toLowerCase().contains("limit"), huge.getMessage());
    }

    @Test
    void extrasCannotReplaceRequestVariables() {
        assertThrows(InvalidInputException.class, () -> render("x", Map.of("messages", List.of())));
    }
}
